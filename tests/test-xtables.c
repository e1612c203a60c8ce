/* test-xtables.c: legacy xtables, without a kernel: the exceptions as
 * iptables-legacy-save prints them, its output in the firewall model, and
 * the evaluator with legacy chains beside nf_tables ones.
 *
 * The expected specs are what iptables-legacy-save 1.8.9 printed for the
 * rules the backend inserts (tests/netns/hook-nest.sh legacy proves the
 * backend finds them again by that text). The model of libvirt 9.0's rules
 * is compared with tests/golden/xtables/; VN_REGENERATE=1 rewrites it. */
#include "config.h"

#include <netinet/in.h>
#include <linux/netfilter.h>
#include <string.h>

#include "testutil.h"
#include "fweval.h"
#include "layerplan.h"
#include "layerview.h"
#include "snapshot.h"
#include "vnconfig.h"
#include "xtables.h"

static VnRule *
mkrule(VnRuleKind kind, const char *network, const char *src, const char *dst)
{
    VnRule *r = g_new0(VnRule, 1);

    r->kind = kind;
    r->network = g_strdup(network);
    r->bridge = g_strdup("virbr0");
    assert_true(vn_cidr_parse(src, VN_CIDR_SUBNET, &r->src, NULL));
    assert_true(vn_cidr_parse(dst, VN_CIDR_SUBNET, &r->dst, NULL));
    return r;
}

static void
spec_is(VnRuleKind kind, const char *network, const char *src,
        const char *dst, const char *want)
{
    VnRule *r = mkrule(kind, network, src, dst);
    g_autofree char *spec = vn_xt_rule_spec(r);
    g_autofree char *comment = vn_rule_comment(r);
    g_autofree char *back = vn_xt_spec_comment(spec);

    assert_string_equal(spec, want);
    /* the comment comes back out of the quoting */
    assert_string_equal(back, comment);
    vn_rule_free(r);
}

static void
specs(void **state)
{
    spec_is(VN_RULE_IN, "default", "192.168.122.0/24", "192.168.124.0/24",
            "-s 192.168.122.0/24 -d 192.168.124.0/24 -o virbr0 -m comment "
            "--comment \"virt-nest default in 192.168.122.0/24>192.168.124.0/24\" "
            "-j ACCEPT");
    spec_is(VN_RULE_OUT, "default", "192.168.124.0/24", "192.168.122.0/24",
            "-s 192.168.124.0/24 -d 192.168.122.0/24 -i virbr0 -m comment "
            "--comment \"virt-nest default out 192.168.124.0/24>192.168.122.0/24\" "
            "-j ACCEPT");
    spec_is(VN_RULE_NAT, "default", "192.168.124.0/24", "192.168.122.0/24",
            "-s 192.168.124.0/24 -d 192.168.122.0/24 -m comment "
            "--comment \"virt-nest default nat 192.168.124.0/24>192.168.122.0/24\" "
            "-j ACCEPT");
    spec_is(VN_RULE_IN, "default", "fd00::/64", "fd01::/64",
            "-s fd00::/64 -d fd01::/64 -o virbr0 -m comment "
            "--comment \"virt-nest default in fd00::/64>fd01::/64\" -j ACCEPT");
    /* a host address keeps its /32, as iptables-save prints it */
    spec_is(VN_RULE_IN, "n", "10.0.0.1/32", "192.168.124.0/24",
            "-s 10.0.0.1/32 -d 192.168.124.0/24 -o virbr0 -m comment "
            "--comment \"virt-nest n in 10.0.0.1/32>192.168.124.0/24\" -j ACCEPT");
    /* libvirt allows quotes and backslashes in network names; the
     * comment escapes them (vn_rule_comment), so none reaches iptables */
    spec_is(VN_RULE_NAT, "a\"b\\c'd", "192.168.124.0/24", "192.168.122.0/24",
            "-s 192.168.124.0/24 -d 192.168.122.0/24 -m comment "
            "--comment \"virt-nest a%22b%5Cc%27d nat 192.168.124.0/24>192.168.122.0/24\" "
            "-j ACCEPT");
}

static VnFwRule *
parse(const char *spec)
{
    return vn_xt_rule_parse(spec, NFPROTO_IPV4, NULL);
}

static void
rules(void **state)
{
    VnFwRule *r;

    r = parse("-d 192.168.124.0/24 -o virbr0 -m conntrack --ctstate "
              "RELATED,ESTABLISHED -j ACCEPT");
    assert_cidr_str(&r->dst, "192.168.124.0/24");
    assert_string_equal(r->oif, "virbr0");
    assert_false(r->oif_prefix);
    assert_int_equal(r->ct_state, VN_CT_RELATED | VN_CT_ESTABLISHED);
    assert_int_equal(r->verdict, VN_FW_ACCEPT);
    assert_null(r->opaque);
    vn_fw_rule_free(r);

    r = parse("-s 10.0.0.0/8 ! -d 10.1.0.0/16 ! -i vir+ -p gre -j DROP");
    assert_cidr_str(&r->src, "10.0.0.0/8");
    assert_false(r->src_neg);
    assert_true(r->dst_neg);
    assert_string_equal(r->iif, "vir");
    assert_true(r->iif_neg);
    assert_true(r->iif_prefix);
    assert_int_equal(r->l4proto, 47);
    assert_int_equal(r->verdict, VN_FW_DROP);
    assert_null(r->opaque);
    vn_fw_rule_free(r);

    r = parse("-o virbr0 -j REJECT --reject-with icmp-port-unreachable");
    assert_int_equal(r->verdict, VN_FW_REJECT);
    assert_null(r->opaque);
    vn_fw_rule_free(r);

    r = parse("-s 192.168.124.0/24 ! -d 192.168.124.0/24 -p tcp -j MASQUERADE "
              "--to-ports 1024-65535");
    assert_int_equal(r->verdict, VN_FW_MASQUERADE);
    assert_int_equal(r->l4proto, IPPROTO_TCP);
    assert_true(r->dst_neg);
    vn_fw_rule_free(r);

    /* what the model lacks is opaque, said as iptables says it */
    r = parse("-i virbr0 -p udp -m udp --dport 53 -j ACCEPT");
    assert_string_equal(r->opaque, "-m udp --dport 53");
    assert_int_equal(r->verdict, VN_FW_ACCEPT);
    vn_fw_rule_free(r);
    r = parse("-m conntrack ! --ctstate INVALID -m comment --comment \"x y\" "
              "-j ACCEPT");
    assert_string_equal(r->opaque, "-m conntrack ! --ctstate INVALID");
    assert_string_equal(r->comment, "x y");
    vn_fw_rule_free(r);
    r = parse("-s 10.0.2.0/255.0.255.0 -j DROP");
    assert_string_equal(r->opaque, "-s 10.0.2.0/255.0.255.0");
    assert_true(vn_cidr_is_empty(&r->src));
    vn_fw_rule_free(r);
    r = parse("-s 10.0.0.0/255.255.0.0 -m state --state NEW -j NFQUEUE "
              "--queue-num 1");
    assert_cidr_str(&r->src, "10.0.0.0/16");
    assert_int_equal(r->ct_state, VN_CT_NEW);
    assert_string_equal(r->opaque, "-j NFQUEUE");
    vn_fw_rule_free(r);
    /* targets without a verdict of their own */
    r = parse("-o virbr0 -p udp -m udp --dport 68 -j CHECKSUM --checksum-fill");
    assert_int_equal(r->verdict, VN_FW_CONTINUE);
    assert_string_equal(r->opaque, "-m udp --dport 68");
    vn_fw_rule_free(r);
    /* somebody else's comment with quotes, as xtables_save_string()
     * escapes them */
    r = parse("-m comment --comment \"a\\\"b\\\\c\\'d e\" -j ACCEPT");
    assert_string_equal(r->comment, "a\"b\\c'd e");
    vn_fw_rule_free(r);
    /* a comment that looks like an option is still the comment */
    r = parse("-m comment --comment \"--dport 9\" -j ACCEPT");
    assert_string_equal(r->comment, "--dport 9");
    assert_null(r->opaque);
    vn_fw_rule_free(r);
    r = parse("-g LIBVIRT_FWI");
    assert_int_equal(r->verdict, VN_FW_GOTO);
    assert_string_equal(r->target, "LIBVIRT_FWI");
    vn_fw_rule_free(r);
}

static char *
model_text(GPtrArray *chains)
{
    GString *s = g_string_new(NULL);

    for (guint i = 0; i < chains->len; i++) {
        const VnFwChain *c = chains->pdata[i];

        g_string_append_printf(s, "%s%s %s %s", c->legacy ? "legacy " : "",
                               vn_fw_family_to_string(c->family), c->table,
                               c->name);
        if (c->hook)
            g_string_append_printf(s, " (hook %s, type %s, priority %d, "
                                   "policy %s)", c->hook, c->type,
                                   c->priority, c->policy_drop ? "drop"
                                                               : "accept");
        g_string_append_c(s, '\n');
        for (guint j = 0; j < c->rules->len; j++) {
            const VnFwRule *r = c->rules->pdata[j];
            g_autofree char *d = vn_fw_rule_describe(r);

            g_string_append_printf(s, "  %" G_GUINT64_FORMAT ": %s\n",
                                   r->handle, d);
        }
    }
    return g_string_free(s, FALSE);
}

static GPtrArray *
libvirt_model(const char *sed_from, const char *sed_to)
{
    g_autofree char *text = vn_test_read("rules/libvirt9-nat-122.iptables");
    g_autoptr(GError) err = NULL;
    g_autoptr(VnXtRuleset) rs = NULL;
    GPtrArray *chains =
        g_ptr_array_new_with_free_func((GDestroyNotify)vn_fw_chain_free);

    if (sed_from) {
        g_auto(GStrv) parts = g_strsplit(text, sed_from, -1);

        g_free(text);
        text = g_strjoinv(sed_to, parts);
    }
    rs = vn_xt_ruleset_parse(text, NFPROTO_IPV4, &err);
    assert_null(err);
    vn_xt_ruleset_model(rs, chains);
    return chains;
}

static void
model(void **state)
{
    g_autoptr(GPtrArray) chains = libvirt_model(NULL, NULL);
    g_autofree char *got = model_text(chains);
    g_autofree char *path = g_build_filename(VN_TEST_GOLDEN, "xtables",
                                             "libvirt9-nat-122.model", NULL);
    g_autofree char *want = NULL;

    if (g_strcmp0(g_getenv("VN_REGENERATE"), "1") == 0) {
        assert_true(g_file_set_contents(path, got, -1, NULL));
        return;
    }
    if (!g_file_get_contents(path, &want, NULL, NULL) || strcmp(want, got)) {
        print_error("%s differs (VN_REGENERATE=1 rewrites it); got:\n%s\n",
                    path, got);
        fail();
    }
}

static void
bad_input(void **state)
{
    g_autoptr(GError) err = NULL;
    g_autoptr(VnXtRuleset) rs = NULL;

    rs = vn_xt_ruleset_parse("-A FORWARD -j ACCEPT\n", NFPROTO_IPV4, &err);
    assert_null(rs);
    assert_error_contains(err, "line 1: outside a table");
    g_clear_error(&err);
    rs = vn_xt_ruleset_parse("*filter\n:FORWARD ACCEPT [0:0]\n-A INPUT -j DROP\n",
                             NFPROTO_IPV4, &err);
    assert_null(rs);
    assert_error_contains(err, "line 3: a rule of chain INPUT");
    g_clear_error(&err);
    /* with counters (-c), and empty */
    rs = vn_xt_ruleset_parse("# x\n*filter\n:FORWARD DROP [9:99]\n"
                             "[1:84] -A FORWARD -j ACCEPT\nCOMMIT\n",
                             NFPROTO_IPV4, &err);
    assert_null(err);
    assert_string_equal(((VnXtChain *)vn_xt_ruleset_chain(rs, "filter",
                                                          "FORWARD"))->policy,
                        "DROP");
    assert_string_equal(vn_xt_ruleset_chain(rs, "filter", "FORWARD")->rules->pdata[0],
                        "-j ACCEPT");
    vn_xt_ruleset_free(g_steal_pointer(&rs));
    rs = vn_xt_ruleset_parse("", NFPROTO_IPV4, &err);
    assert_non_null(rs);
    assert_int_equal(rs->tables->len, 0);
}

static VnPacket
packet(const char *src, const char *dst, const char *iif, const char *oif,
       guint ct)
{
    VnPacket p = { .proto = IPPROTO_ICMP, .iif = iif, .oif = oif, .ct = ct };

    assert_true(vn_cidr_parse(src, VN_CIDR_ADDRESS, &p.src, NULL));
    assert_true(vn_cidr_parse(dst, VN_CIDR_ADDRESS, &p.dst, NULL));
    return p;
}

/* An empty iptables-nft filter FORWARD with an accept of virt-nest's, the
 * way the hook without a legacy backend left it. */
static void
add_nft_accept(GPtrArray *chains)
{
    VnFwChain *c = vn_fw_chain_new();
    VnFwRule *r = vn_fw_rule_new();

    c->family = NFPROTO_IPV4;
    c->table = g_strdup("filter");
    c->name = g_strdup("FORWARD");
    c->hook = g_strdup("forward");
    c->type = g_strdup("filter");
    r->handle = 2;
    r->oif = g_strdup("virbr0");
    r->verdict = VN_FW_ACCEPT;
    r->comment = g_strdup("virt-nest default in 192.168.122.0/24>192.168.124.0/24");
    g_ptr_array_add(c->rules, r);
    g_ptr_array_add(chains, c);
    /* and a regular chain of the same name as a legacy one: never the
     * legacy jump's target */
    c = vn_fw_chain_new();
    c->family = NFPROTO_IPV4;
    c->table = g_strdup("filter");
    c->name = g_strdup("LIBVIRT_FWI");
    r = vn_fw_rule_new();
    r->verdict = VN_FW_ACCEPT;
    g_ptr_array_add(c->rules, r);
    g_ptr_array_add(chains, c);
}

static void
evaluate(void **state)
{
    g_autoptr(GPtrArray) chains = libvirt_model("192.168.122.", "192.168.124.");
    VnPacket in = packet("192.168.122.1", "192.168.124.91", "enp1s0", "virbr0",
                         VN_CT_NEW);
    VnPacket back = packet("192.168.124.91", "192.168.122.1", "virbr0",
                           "enp1s0", VN_CT_ESTABLISHED);
    VnPacket nat = packet("192.168.124.91", "192.168.122.1", "virbr0",
                          "enp1s0", VN_CT_NEW);
    VnFwResult res;
    g_autoptr(VnXtRuleset) rs = NULL;
    g_autoptr(GPtrArray) fixed =
        g_ptr_array_new_with_free_func((GDestroyNotify)vn_fw_chain_free);
    g_autofree char *text = NULL;
    VnRule *rules[3];

    /* L1 of the seed's nest before the fix: the nft accept matches, the
     * legacy REJECT decides */
    add_nft_accept(chains);
    vn_fw_eval(chains, "forward", "filter", &in, NULL, &res);
    assert_int_equal(res.verdict, VN_FW_REJECT);
    assert_true(res.base->legacy);
    assert_true(res.chain->legacy);
    assert_string_equal(res.chain->name, "LIBVIRT_FWI");
    assert_int_equal(res.rule->handle, 2);
    vn_fw_result_clear(&res);
    vn_fw_eval(chains, "forward", "filter", &back, NULL, &res);
    assert_int_equal(res.verdict, VN_FW_ACCEPT);
    vn_fw_result_clear(&res);
    vn_fw_eval(chains, "postrouting", "nat", &nat, NULL, &res);
    assert_int_equal(res.verdict, VN_FW_MASQUERADE);
    assert_true(res.chain->legacy);
    vn_fw_result_clear(&res);

    /* after the fix: the exceptions at the heads, from their specs, as
     * the backend inserts them */
    rules[0] = mkrule(VN_RULE_IN, "default", "192.168.122.0/24", "192.168.124.0/24");
    rules[1] = mkrule(VN_RULE_OUT, "default", "192.168.124.0/24", "192.168.122.0/24");
    rules[2] = mkrule(VN_RULE_NAT, "default", "192.168.124.0/24", "192.168.122.0/24");
    {
        g_autofree char *t = vn_test_read("rules/libvirt9-nat-122.iptables");
        g_auto(GStrv) parts = g_strsplit(t, "192.168.122.", -1);

        text = g_strjoinv("192.168.124.", parts);
    }
    rs = vn_xt_ruleset_parse(text, NFPROTO_IPV4, NULL);
    assert_non_null(rs);
    for (guint k = 3; k-- > 0;) {
        VnXtChain *c = (VnXtChain *)vn_xt_ruleset_chain(rs, k < 2 ? "filter" : "nat",
                                                        k < 2 ? "FORWARD"
                                                              : "POSTROUTING");

        assert_non_null(c);
        g_ptr_array_insert(c->rules, 0, vn_xt_rule_spec(rules[k]));
        vn_rule_free(rules[k]);
    }
    vn_xt_ruleset_model(rs, fixed);
    vn_fw_eval(fixed, "forward", "filter", &in, NULL, &res);
    assert_int_equal(res.verdict, VN_FW_ACCEPT);
    assert_true(vn_rule_comment_is_ours(res.rule->comment));
    assert_string_equal(res.chain->name, "FORWARD");
    vn_fw_result_clear(&res);
    vn_fw_eval(fixed, "postrouting", "nat", &nat, NULL, &res);
    assert_int_equal(res.verdict, VN_FW_ACCEPT);
    assert_non_null(res.rule);
    assert_true(vn_rule_comment_is_ours(res.rule->comment));
    vn_fw_result_clear(&res);
    (void)state;
}

/* A legacy chain in a snapshot reads back as one. */
static void
snapshot(void **state)
{
    g_autoptr(VnLayer) layer = vn_layer_new("test:///x");
    g_autoptr(VnLayer) again = NULL;
    g_autoptr(VnPlan) plan = NULL;
    g_autoptr(GError) err = NULL;
    g_autofree char *json = NULL;
    g_autofree char *json2 = NULL;
    VnConfig config;
    VnStatus st = { 0 };
    guint legacy = 0;

    layer->host = vn_host_new();
    layer->host->firewall = libvirt_model(NULL, NULL);
    add_nft_accept(layer->host->firewall);
    vn_config_init(&config);
    plan = vn_plan_layer(layer, &config, 0);
    st.layer = layer;
    st.plan = plan;
    json = vn_status_json(&st);
    assert_non_null(strstr(json, "\"legacy\": true"));
    again = vn_snapshot_parse(json, -1, "x.json", &err);
    assert_null(err);
    for (guint i = 0; i < again->host->firewall->len; i++) {
        const VnFwChain *c = again->host->firewall->pdata[i];

        legacy += c->legacy;
        if (!strcmp(c->name, "FORWARD"))
            assert_int_equal(c->legacy, c->rules->len != 1);
    }
    assert_int_equal(legacy, layer->host->firewall->len - 2);
    st.layer = again;
    json2 = vn_status_json(&st);
    assert_string_equal(json, json2);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(specs),
        cmocka_unit_test(rules),
        cmocka_unit_test(model),
        cmocka_unit_test(bad_input),
        cmocka_unit_test(evaluate),
        cmocka_unit_test(snapshot),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
