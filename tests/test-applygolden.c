/* test-applygolden.c: golden tests of the applier's decisions, without
 * root: each folder of tests/golden/apply/ is one hook event on a host
 * described in text, and the expected operations.
 *
 *   args        "DRIVER NAME OP SUBOP", as libvirt passes them
 *   stdin.xml   what libvirt writes to the hook's stdin
 *   state/      the state directory (ledgers, the kept network XML,
 *               `intact`); copied, never written
 *   host        the kernel as the hook would find it, one item a line:
 *                 backend NAME ip|ip6    in the forward path (iptables,
 *                                        nftables, firewalld)
 *                 chain NAME FAMILY TABLE CHAIN
 *                 rule HANDLE COMMENT    in the chain above ("-": none)
 *               firewalld: `chain firewalld FAMILY POLICY -` is the policy
 *               (virt-nest's, when present), its rules `rule 0 COMMENT`:
 *               the rich rules virt-nest added for those comments
 *                 link INDEX NAME
 *                 route DST [via GW] dev NAME proto N
 *   expected    the operations, one line each (vn_op_describe), and the
 *               refusal when there is one
 *
 * The backends answer from that description (a VnFwBackendClass of the
 * test's own); everything else, the planner and the applier's decisions,
 * is the hook's own code. Execution is what the netns tests prove.
 * VN_REGENERATE=1 rewrites every expected file; review the diff like code.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>
#include <linux/netfilter.h>
#include <linux/rtnetlink.h>

#include "testutil.h"
#include "apply.h"
#include "error.h"
#include "firewalld.h"
#include "hookevent.h"
#include "ops.h"

typedef struct {
    VnFwBackend backend;
    int family;
    char *table, *chain;
    GArray *handles;        /* guint64 */
    GPtrArray *comments;    /* char *, NULL for none */
} FxChain;

typedef struct {
    gboolean active[2][VN_FW_N_BACKENDS];
    GPtrArray *chains;      /* FxChain */
} Fixture;

static Fixture *fx;         /* the case being rendered */

static void
fx_chain_free(FxChain *c)
{
    g_free(c->table);
    g_free(c->chain);
    g_array_unref(c->handles);
    g_ptr_array_unref(c->comments);
    g_free(c);
}

static int
family_of(const char *s)
{
    return g_strcmp0(s, "ip6") == 0 ? NFPROTO_IPV6 : NFPROTO_IPV4;
}

static FxChain *
fx_find(VnFwBackend b, int family, const char *table, const char *chain)
{
    for (guint i = 0; i < fx->chains->len; i++) {
        FxChain *c = fx->chains->pdata[i];

        if (c->backend == b && c->family == family &&
            !g_strcmp0(c->table, table) && !g_strcmp0(c->chain, chain))
            return c;
    }
    return NULL;
}

static gboolean
fx_place(VnFwBackend b, const VnRule *rule, VnFwEntry **out)
{
    g_autofree char *comment = vn_rule_comment(rule);
    VnChainRef c;

    *out = NULL;
    vn_fw_chain_ref(b, rule->kind, rule->src.family, &c);
    if (fx_find(b, c.family, c.table, c.chain))
        *out = vn_fw_entry_new(b, c.family, c.table, c.chain, comment);
    return TRUE;
}

static int
fx_exists(VnFw *fw, const VnFwEntry *e, GError **error)
{
    FxChain *c = fx_find(e->backend, e->family, e->table, e->chain);

    for (guint i = 0; c && i < c->handles->len; i++) {
        /* firewalld's rules have no handle: by comment */
        if (e->backend == VN_FW_FIREWALLD) {
            if (!g_strcmp0(c->comments->pdata[i], e->comment))
                return 1;
        } else if (g_array_index(c->handles, guint64, i) == e->handle) {
            return g_strcmp0(c->comments->pdata[i], e->comment) == 0;
        }
    }
    return 0;
}

/* The rich rule of a fixture's firewalld rule, from its comment
 * "virt-nest NET KIND SRC>DST". */
static char *
fx_rich_rule(const char *comment)
{
    g_auto(GStrv) w = g_strsplit(comment, " ", 4);
    g_auto(GStrv) sd = NULL;
    VnRule r = { 0 };

    assert_int_equal(g_strv_length(w), 4);
    sd = g_strsplit(w[3], ">", 2);
    r.network = w[1];
    r.kind = !strcmp(w[2], "in") ? VN_RULE_IN : VN_RULE_OUT;
    assert_true(vn_cidr_parse(sd[0], VN_CIDR_SUBNET, &r.src, NULL));
    assert_true(vn_cidr_parse(sd[1], VN_CIDR_SUBNET, &r.dst, NULL));
    return vn_firewalld_rich_rule(&r);
}

static gboolean
fx_list(VnFwBackend b, int family, const char *prefix, GPtrArray *out)
{
    for (guint i = 0; i < fx->chains->len; i++) {
        FxChain *c = fx->chains->pdata[i];

        for (guint j = 0; c->backend == b && c->family == family &&
                          j < c->handles->len; j++) {
            const char *cm = c->comments->pdata[j];
            VnFwEntry *e;

            if (!cm || (prefix ? !g_str_has_prefix(cm, prefix)
                               : !vn_rule_comment_is_ours(cm)))
                continue;
            e = vn_fw_entry_new(b, family, c->table, c->chain, cm);
            e->handle = g_array_index(c->handles, guint64, j);
            if (b == VN_FW_FIREWALLD)
                e->spec = fx_rich_rule(cm);
            g_ptr_array_add(out, e);
        }
    }
    return TRUE;
}

static int
fx_preceded(VnFw *fw, const VnFwEntry *e, GError **error)
{
    FxChain *c = fx_find(e->backend, e->family, e->table, e->chain);

    for (guint i = 0; c && i < c->handles->len; i++) {
        if (g_array_index(c->handles, guint64, i) == e->handle)
            return 0;
        if (!vn_rule_comment_is_ours(c->comments->pdata[i]))
            return 1;
    }
    return 0;
}

static gboolean
fx_commit(VnFw *fw, GPtrArray *changes, GError **error)
{
    fail_msg("a dry run committed");
    return FALSE;
}

static int
ipt_detect(VnFw *fw, int family, GError **error)
{
    return fx->active[family == NFPROTO_IPV6][VN_FW_IPTABLES];
}

static int
nft_detect(VnFw *fw, int family, GError **error)
{
    return fx->active[family == NFPROTO_IPV6][VN_FW_NFTABLES];
}

static gboolean
ipt_place(VnFw *fw, const VnRule *r, VnFwEntry **out, GError **error)
{
    return fx_place(VN_FW_IPTABLES, r, out);
}

static gboolean
nft_place(VnFw *fw, const VnRule *r, VnFwEntry **out, GError **error)
{
    return fx_place(VN_FW_NFTABLES, r, out);
}

static gboolean
ipt_list(VnFw *fw, int family, const char *prefix, GPtrArray *out,
         GError **error)
{
    return fx_list(VN_FW_IPTABLES, family, prefix, out);
}

static gboolean
nft_list(VnFw *fw, int family, const char *prefix, GPtrArray *out,
         GError **error)
{
    return fx_list(VN_FW_NFTABLES, family, prefix, out);
}

/* firewalld: the entry the real backend places (firewalld.c's rich
 * rule), when the host has virt-nest's policy */
static int
fwd_detect(VnFw *fw, int family, GError **error)
{
    return fx->active[family == NFPROTO_IPV6][VN_FW_FIREWALLD];
}

static gboolean
fwd_place(VnFw *fw, const VnRule *r, VnFwEntry **out, GError **error)
{
    g_autofree char *comment = vn_rule_comment(r);
    int family = r->src.family == AF_INET6 ? NFPROTO_IPV6 : NFPROTO_IPV4;

    *out = NULL;
    if (r->kind == VN_RULE_NAT)
        return TRUE;
    if (!fx_find(VN_FW_FIREWALLD, family, VN_FIREWALLD_POLICY, NULL)) {
        /* as firewalld.c: the start goes on without firewalld's share */
        vn_fw_note(fw, "firewalld runs without virt-nest's policy");
        return TRUE;
    }
    *out = vn_fw_entry_new(VN_FW_FIREWALLD, family, VN_FIREWALLD_POLICY, NULL,
                           comment);
    (*out)->spec = vn_firewalld_rich_rule(r);
    return TRUE;
}

static gboolean
fwd_list(VnFw *fw, int family, const char *prefix, GPtrArray *out,
         GError **error)
{
    return fx_list(VN_FW_FIREWALLD, family, prefix, out);
}

static const VnFwBackendClass fwd_class = {
    .backend = VN_FW_FIREWALLD, .detect = fwd_detect, .place = fwd_place,
    .exists = fx_exists, .list = fwd_list, .preceded = fx_preceded,
    .commit = fx_commit,
};

static const VnFwBackendClass ipt_class = {
    .backend = VN_FW_IPTABLES, .detect = ipt_detect, .place = ipt_place,
    .exists = fx_exists, .list = ipt_list, .preceded = fx_preceded,
    .commit = fx_commit,
};

static const VnFwBackendClass nft_class = {
    .backend = VN_FW_NFTABLES, .detect = nft_detect, .place = nft_place,
    .exists = fx_exists, .list = nft_list, .preceded = fx_preceded,
    .commit = fx_commit,
};

/* The `host` file: the fixture's chains, and the host's links and
 * routes. */
static VnHost *
load_host(const char *dir, Fixture *f)
{
    g_autofree char *path = g_build_filename(dir, "host", NULL);
    g_autofree char *text = NULL;
    g_auto(GStrv) lines = NULL;
    VnHost *h = vn_host_new();
    FxChain *cur = NULL;

    if (!g_file_get_contents(path, &text, NULL, NULL))
        fail_msg("%s: no host file", dir);
    lines = g_strsplit(text, "\n", -1);
    for (guint n = 0; lines[n]; n++) {
        g_auto(GStrv) w = g_strsplit(g_strstrip(lines[n]), " ", 6);
        VnFwBackend b;

        if (!w[0] || !*w[0] || *w[0] == '#')
            continue;
        if (!strcmp(w[0], "backend")) {
            assert_true(vn_fw_backend_from_string(w[1], &b));
            f->active[family_of(w[2]) == NFPROTO_IPV6][b] = TRUE;
        } else if (!strcmp(w[0], "chain")) {
            cur = g_new0(FxChain, 1);
            assert_true(vn_fw_backend_from_string(w[1], &cur->backend));
            cur->family = family_of(w[2]);
            cur->table = g_strdup(w[3]);
            cur->chain = g_strcmp0(w[4], "-") ? g_strdup(w[4]) : NULL;
            cur->handles = g_array_new(FALSE, FALSE, sizeof(guint64));
            cur->comments = g_ptr_array_new_with_free_func(g_free);
            g_ptr_array_add(f->chains, cur);
        } else if (!strcmp(w[0], "rule")) {
            g_autofree char *rest = g_strjoinv(" ", w + 2);
            guint64 handle = g_ascii_strtoull(w[1], NULL, 10);

            assert_non_null(cur);
            g_array_append_val(cur->handles, handle);
            g_ptr_array_add(cur->comments,
                            strcmp(rest, "-") ? g_strdup(rest) : NULL);
        } else if (!strcmp(w[0], "link")) {
            VnLink *l = g_new0(VnLink, 1);

            l->ifindex = atoi(w[1]);
            l->name = g_strdup(w[2]);
            g_ptr_array_add(h->links, l);
        } else if (!strcmp(w[0], "route")) {
            g_auto(GStrv) r = g_strsplit(lines[n], " ", -1);
            VnHostRoute *hr = g_new0(VnHostRoute, 1);

            assert_true(vn_cidr_parse(r[1], VN_CIDR_SUBNET, &hr->dst, NULL));
            hr->type = RTN_UNICAST;
            hr->table = RT_TABLE_MAIN;
            hr->scope = RT_SCOPE_UNIVERSE;
            for (guint i = 2; r[i] && r[i + 1]; i += 2) {
                if (!strcmp(r[i], "via"))
                    assert_true(vn_cidr_parse(r[i + 1], VN_CIDR_ADDRESS,
                                              &hr->gateway, NULL));
                else if (!strcmp(r[i], "dev"))
                    hr->oif = vn_host_find_link_by_name(h, r[i + 1])->ifindex;
                else if (!strcmp(r[i], "proto"))
                    hr->protocol = (guint8)atoi(r[i + 1]);
            }
            g_ptr_array_add(h->routes, hr);
        } else {
            fail_msg("%s:%u: what is '%s'?", path, n + 1, w[0]);
        }
    }
    return h;
}

static char *
render(const char *dir)
{
    g_autofree char *args_path = g_build_filename(dir, "args", NULL);
    g_autofree char *xml_path = g_build_filename(dir, "stdin.xml", NULL);
    g_autofree char *state = g_build_filename(dir, "state", NULL);
    g_autofree char *tmp = g_dir_make_tmp("vn-applygolden.XXXXXX", NULL);
    g_autofree char *args_text = NULL, *xml = NULL, *cp = NULL;
    g_auto(GStrv) args = NULL;
    g_autoptr(GError) err = NULL;
    g_autoptr(VnApply) apply = NULL;
    Fixture f = { { { 0 } }, g_ptr_array_new_with_free_func((GDestroyNotify)fx_chain_free) };
    GString *out = g_string_new(NULL);
    VnHookPlan hp = { 0 };
    VnConfig config;
    VnHookEnv env;
    VnHookAction action;
    VnHost *host;
    gsize len = 0;
    gboolean ok;

    if (!g_file_get_contents(args_path, &args_text, NULL, NULL) ||
        !g_file_get_contents(xml_path, &xml, &len, NULL))
        fail_msg("%s: needs args and stdin.xml", dir);
    args = g_strsplit(g_strstrip(args_text), " ", -1);
    assert_int_equal(g_strv_length(args), 4);
    assert_non_null(tmp);
    /* the applier reads the state; a copy keeps the case untouched */
    cp = g_strdup_printf("cp -a '%s/.' '%s' 2>/dev/null || true", state, tmp);
    assert_int_equal(system(cp), 0);
    fx = &f;
    host = load_host(dir, &f);
    assert_true(vn_config_load("/nonexistent", &config, &err));

    apply = vn_apply_new(tmp);
    vn_apply_set_dry_run(apply, TRUE);
    vn_apply_set_host(apply, host);
    vn_fw_set_class(vn_apply_fw(apply), VN_FW_IPTABLES, &ipt_class);
    vn_fw_set_class(vn_apply_fw(apply), VN_FW_NFTABLES, &nft_class);
    vn_fw_set_class(vn_apply_fw(apply), VN_FW_LEGACY, NULL);
    vn_fw_set_class(vn_apply_fw(apply), VN_FW_FIREWALLD, &fwd_class);

    memset(&env, 0, sizeof(env));
    env.state_dir = tmp;
    env.libvirt_network_dir = "/nonexistent";
    env.leases_dir = "/nonexistent";
    env.config = &config;
    env.host = host;
    env.now = 1795543000;
    action = vn_hook_action(args[0], args[2], args[3]);
    g_string_append_printf(out, "$ %s %s %s %s -\n", args[0], args[1],
                           args[2], args[3]);
    ok = vn_hook_plan(args[0], args[1], action, xml, len, &env, &hp, &err);
    if (ok && action != VN_HOOK_NOTHING && action != VN_HOOK_CHECK)
        ok = hp.network ? vn_apply_network(apply, hp.name, hp.plan->rules, &err)
                        : vn_apply_domain(apply, hp.name, hp.plan->routes,
                                          hp.subnets, &err);
    vn_hook_plan_clear(&hp);
    if (!ok) {
        g_string_append_printf(out, "refused: %s\n", err->message);
    } else {
        GPtrArray *ops = vn_apply_ops(apply);
        GPtrArray *changes = vn_apply_changes(apply);

        for (guint i = 0; i < ops->len; i++) {
            const VnOp *op = ops->pdata[i];
            g_autofree char *d = vn_op_describe(op);

            g_string_append_printf(out, "%s: %s\n", op->object, d);
        }
        /* what the changes add beyond the operations (adoptions) */
        for (guint i = 0; i < changes->len; i++)
            if (strstr(changes->pdata[i], ": adopt rule "))
                g_string_append_printf(out, "note %s\n",
                                       (char *)changes->pdata[i]);
        if (!ops->len)
            g_string_append(out, "nothing to change\n");
    }
    cp = (g_free(cp), g_strdup_printf("rm -rf '%s'", tmp));
    assert_int_equal(system(cp), 0);
    g_ptr_array_unref(f.chains);
    fx = NULL;
    return g_string_free(out, FALSE);
}

static void
cases(void **state)
{
    vn_test_golden("apply", render, 8);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(cases),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
