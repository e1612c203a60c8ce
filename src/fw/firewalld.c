/* firewalld.c: the firewalld backend, over D-Bus (GDBus). firewalld.h
 * says what goes where, and why.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <linux/netfilter.h>
#include <gio/gio.h>

#include "error.h"
#include "firewalld.h"

#define FWD_NAME "org.fedoraproject.FirewallD1"
#define FWD_PATH "/org/fedoraproject/FirewallD1"
#define FWD_POLICY_IFACE FWD_NAME ".policy"
/* firewalld answers in well under a second; a hung daemon must not hang
 * libvirt, which waits for its hooks */
#define FWD_TIMEOUT_MS 10000

/* ------------------------------------------------------------------ */
/* rich rules                                                          */

/* The priority that stands for @comment: -1 .. -32000. */
static int
comment_priority(const char *comment)
{
    return -1 - (int)(g_str_hash(comment) % 32000u);
}

static char *
rich_rule(const char *comment, int family, const char *src, const char *dst)
{
    return g_strdup_printf("rule priority=\"%d\" family=\"%s\" source "
                           "address=\"%s\" destination address=\"%s\" accept",
                           comment_priority(comment),
                           family == NFPROTO_IPV6 ? "ipv6" : "ipv4", src, dst);
}

char *
vn_firewalld_rich_rule(const VnRule *rule)
{
    char s[VN_CIDR_STRLEN], d[VN_CIDR_STRLEN];
    g_autofree char *comment = vn_rule_comment(rule);

    return rich_rule(comment, rule->src.family == AF_INET6 ? NFPROTO_IPV6
                                                           : NFPROTO_IPV4,
                     vn_cidr_format(&rule->src, TRUE, s),
                     vn_cidr_format(&rule->dst, TRUE, d));
}

/* The family, source and destination of a rule in the form above; FALSE
 * for any other rule. */
static gboolean
parse_rich_rule(const char *text, int *family, char *src, char *dst)
{
    char fam[8];
    int prio, n = 0;

    if (sscanf(text, "rule priority=\"%d\" family=\"%7[a-z0-9]\" source "
               "address=\"%48[0-9a-fA-F.:/]\" destination "
               "address=\"%48[0-9a-fA-F.:/]\" accept%n",
               &prio, fam, src, dst, &n) != 4 || text[n] != '\0')
        return FALSE;
    if (!strcmp(fam, "ipv4"))
        *family = NFPROTO_IPV4;
    else if (!strcmp(fam, "ipv6"))
        *family = NFPROTO_IPV6;
    else
        return FALSE;
    return TRUE;
}

/* ------------------------------------------------------------------ */
/* the daemon                                                          */

typedef struct {
    GDBusConnection *bus;
    char *bus_error;        /* why there is no bus, or NULL */
    gboolean asked;         /* the policy's rules were asked for */
    gboolean running;       /* firewalld answered */
    gboolean has_policy;    /* it knows VN_FIREWALLD_POLICY */
    char *why;              /* what it said when it did not answer */
    GPtrArray *rules;       /* char*: the policy's runtime rich rules */
} Fwd;

static void
fwd_forget(Fwd *f)
{
    f->asked = f->running = f->has_policy = FALSE;
    g_clear_pointer(&f->why, g_free);
    g_clear_pointer(&f->rules, g_ptr_array_unref);
}

static void
fwd_free(Fwd *f)
{
    fwd_forget(f);
    g_clear_object(&f->bus);
    g_free(f->bus_error);
    g_free(f);
}

static Fwd *
fwd_of(VnFw *fw)
{
    Fwd *f = vn_fw_get_data(fw, VN_FW_FIREWALLD);

    if (!f) {
        f = g_new0(Fwd, 1);
        vn_fw_set_data(fw, VN_FW_FIREWALLD, f, (GDestroyNotify)fwd_free);
    }
    return f;
}

static GDBusConnection *
fwd_bus(Fwd *f)
{
    g_autoptr(GError) err = NULL;
    g_autofree char *addr = NULL;

    if (f->bus || f->bus_error)
        return f->bus;
    /* a connection of our own, not the process-wide singleton: the hook
     * and the command close it with the run */
    addr = g_dbus_address_get_for_bus_sync(G_BUS_TYPE_SYSTEM, NULL, &err);
    if (addr)
        f->bus = g_dbus_connection_new_for_address_sync(addr,
                     G_DBUS_CONNECTION_FLAGS_AUTHENTICATION_CLIENT |
                     G_DBUS_CONNECTION_FLAGS_MESSAGE_BUS_CONNECTION,
                     NULL, NULL, &err);
    if (!f->bus)
        f->bus_error = g_strdup(err->message);
    return f->bus;
}

static GVariant *
fwd_call(Fwd *f, const char *method, GVariant *args, const GVariantType *reply,
         GError **error)
{
    return g_dbus_connection_call_sync(fwd_bus(f), FWD_NAME, FWD_PATH,
                                       FWD_POLICY_IFACE, method, args, reply,
                                       G_DBUS_CALL_FLAGS_NO_AUTO_START,
                                       FWD_TIMEOUT_MS, NULL, error);
}

/* firewalld's own name for a D-Bus error it sent: "INVALID_POLICY: x". */
static gboolean
fwd_error_is(const GError *err, const char *code)
{
    const char *msg = err->message;
    const char *p = strstr(msg, code);

    return p && (p == msg || p[-1] == ' ' || p[-1] == ':');
}

/* Ask firewalld once per run for the policy's rules. Not being able to
 * ask is not an error here: what needs the answer (place, commit) says
 * why, with the fix. */
static void
fwd_ask(Fwd *f)
{
    g_autoptr(GError) err = NULL;
    g_autoptr(GVariant) reply = NULL;
    g_autoptr(GVariant) settings = NULL;
    g_autoptr(GVariant) rules = NULL;

    if (f->asked)
        return;
    f->asked = TRUE;
    f->rules = g_ptr_array_new_with_free_func(g_free);
    if (!fwd_bus(f)) {
        f->why = g_strdup_printf("the system bus cannot be reached (%s)",
                                 f->bus_error);
        return;
    }
    reply = fwd_call(f, "getPolicySettings",
                     g_variant_new("(s)", VN_FIREWALLD_POLICY),
                     G_VARIANT_TYPE("(a{sv})"), &err);
    if (!reply) {
        if (fwd_error_is(err, "INVALID_POLICY")) {
            f->running = TRUE;
            return;
        }
        g_dbus_error_strip_remote_error(err);
        f->why = g_strdup(err->message);
        return;
    }
    f->running = f->has_policy = TRUE;
    settings = g_variant_get_child_value(reply, 0);
    rules = g_variant_lookup_value(settings, "rich_rules",
                                   G_VARIANT_TYPE_STRING_ARRAY);
    for (gsize i = 0; rules && i < g_variant_n_children(rules); i++) {
        const char *r = NULL;

        g_variant_get_child(rules, i, "&s", &r);
        g_ptr_array_add(f->rules, g_strdup(r));
    }
}

static gboolean
fwd_has_rule(Fwd *f, const char *spec)
{
    for (guint i = 0; f->rules && i < f->rules->len; i++)
        if (!strcmp(f->rules->pdata[i], spec))
            return TRUE;
    return FALSE;
}

/* FALSE with the fix when firewalld cannot take virt-nest's rules. */
static gboolean
fwd_usable(Fwd *f, GError **error)
{
    fwd_ask(f);
    if (!f->running) {
        g_set_error(error, VN_ERROR, VN_ERROR_FAILED,
                    "firewalld's table inet firewalld rejects forwarded "
                    "traffic, but firewalld does not answer on the system "
                    "bus: %s; start firewalld (or delete its table: nft "
                    "delete table inet firewalld)", f->why);
        return FALSE;
    }
    if (!f->has_policy) {
        g_set_error(error, VN_ERROR, VN_ERROR_FAILED,
                    "firewalld runs without virt-nest's policy '%s': "
                    "install /usr/lib/firewalld/policies/%s.xml (package "
                    "virt-nest) and run 'firewall-cmd --reload'",
                    VN_FIREWALLD_POLICY, VN_FIREWALLD_POLICY);
        return FALSE;
    }
    return TRUE;
}

/* ------------------------------------------------------------------ */
/* the backend                                                         */

static int
fwd_detect(VnFw *fw, int family, GError **error)
{
    (void)family;           /* inet: both families */
    return vn_fw_firewalld_table(fw, error);
}

static gboolean
fwd_place(VnFw *fw, const VnRule *rule, VnFwEntry **out, GError **error)
{
    Fwd *f = fwd_of(fw);
    g_autofree char *comment = NULL;
    g_autoptr(GError) why = NULL;

    (void)error;
    *out = NULL;
    /* firewalld does not masquerade libvirt's networks: libvirt does,
     * in the tables the other backends exempt from */
    if (rule->kind == VN_RULE_NAT)
        return TRUE;
    if (!fwd_usable(f, &why)) {
        /* a start is never refused for the firewall's sake: the rest goes
         * in, status says what firewalld still stops and the fix, and
         * reconcile (virt-nest watch, on firewalld's reload) adds the
         * rich rules once the policy is there */
        vn_fw_note(fw, why->message);
        return TRUE;
    }
    comment = vn_rule_comment(rule);
    *out = vn_fw_entry_new(VN_FW_FIREWALLD,
                           rule->src.family == AF_INET6 ? NFPROTO_IPV6
                                                        : NFPROTO_IPV4,
                           VN_FIREWALLD_POLICY, NULL, comment);
    (*out)->spec = vn_firewalld_rich_rule(rule);
    return TRUE;
}

static int
fwd_exists(VnFw *fw, const VnFwEntry *e, GError **error)
{
    Fwd *f = fwd_of(fw);

    (void)error;
    if (!e->spec || g_strcmp0(e->table, VN_FIREWALLD_POLICY) != 0)
        return 0;
    fwd_ask(f);
    /* no firewalld, or no policy: no rule of ours either */
    return fwd_has_rule(f, e->spec) ? 1 : 0;
}

/* A network's rules, by the priority their comments give them. A rule's
 * network cannot be told without its name: with @prefix NULL (any of
 * virt-nest's) nothing is listed, and the ledger alone knows them. The
 * runtime configuration lives no longer than the daemon, and a reload
 * empties it, so nothing outlives its ledger by more than that. */
static gboolean
fwd_list(VnFw *fw, int family, const char *prefix, GPtrArray *out,
         GError **error)
{
    static const VnRuleKind kinds[] = { VN_RULE_IN, VN_RULE_OUT };
    Fwd *f = fwd_of(fw);

    (void)error;
    if (!prefix)
        return TRUE;
    fwd_ask(f);
    for (guint i = 0; f->rules && i < f->rules->len; i++) {
        const char *r = f->rules->pdata[i];
        char src[64], dst[64];
        int fam;

        if (!parse_rich_rule(r, &fam, src, dst) || fam != family)
            continue;
        for (guint k = 0; k < G_N_ELEMENTS(kinds); k++) {
            g_autofree char *comment =
                g_strdup_printf("%s%s %s>%s", prefix,
                                vn_rule_kind_to_string(kinds[k]), src, dst);
            g_autofree char *spec = rich_rule(comment, fam, src, dst);
            VnFwEntry *e;

            if (strcmp(spec, r) != 0)
                continue;
            e = vn_fw_entry_new(VN_FW_FIREWALLD, fam, VN_FIREWALLD_POLICY,
                                NULL, comment);
            e->spec = g_strdup(r);
            g_ptr_array_add(out, e);
        }
    }
    return TRUE;
}

/* A policy of virt-nest's own, before the zones: nothing of anybody
 * else's comes first in it. What other policies and zones do to the
 * traffic is fwpath's (status reads table inet firewalld whole). */
static int
fwd_preceded(VnFw *fw, const VnFwEntry *e, GError **error)
{
    (void)fw;
    (void)e;
    (void)error;
    return 0;
}

/* The policy's rules as @rules, in one setPolicySettings call (only its
 * rich_rules key: firewalld adds and removes the difference). */
static gboolean
fwd_set_rules(Fwd *f, GPtrArray *rules, GError **error)
{
    g_autoptr(GVariant) reply = NULL;
    g_autoptr(GError) err = NULL;
    GVariantBuilder as, dict;

    g_variant_builder_init(&as, G_VARIANT_TYPE_STRING_ARRAY);
    for (guint i = 0; i < rules->len; i++)
        g_variant_builder_add(&as, "s", (const char *)rules->pdata[i]);
    g_variant_builder_init(&dict, G_VARIANT_TYPE_VARDICT);
    g_variant_builder_add(&dict, "{sv}", "rich_rules",
                          g_variant_builder_end(&as));
    reply = fwd_call(f, "setPolicySettings",
                     g_variant_new("(sa{sv})", VN_FIREWALLD_POLICY, &dict),
                     NULL, &err);
    if (!reply) {
        g_dbus_error_strip_remote_error(err);
        g_set_error(error, VN_ERROR, VN_ERROR_FAILED,
                    "firewalld policy %s refused the change: %s",
                    VN_FIREWALLD_POLICY, err->message);
        return FALSE;
    }
    return TRUE;
}

static void
remove_rule(GPtrArray *rules, const char *spec)
{
    for (guint i = rules->len; i-- > 0;)
        if (!strcmp(rules->pdata[i], spec))
            g_ptr_array_remove_index(rules, i);
}

static gboolean
fwd_commit(VnFw *fw, GPtrArray *changes, GError **error)
{
    Fwd *f = fwd_of(fw);
    g_autoptr(GPtrArray) want = g_ptr_array_new_with_free_func(g_free);
    gboolean insert = FALSE;
    gboolean ok;

    /* what firewalld has now, not what an earlier step of the run saw */
    fwd_forget(f);
    for (guint i = 0; i < changes->len; i++)
        insert = insert || ((VnFwChange *)changes->pdata[i])->insert;
    if (insert ? !fwd_usable(f, error) : (fwd_ask(f), !f->has_policy))
        return !insert;     /* deletions: nothing of ours is there */
    for (guint i = 0; i < f->rules->len; i++)
        g_ptr_array_add(want, g_strdup(f->rules->pdata[i]));
    for (guint i = 0; i < changes->len; i++) {
        const VnFwChange *ch = changes->pdata[i];
        const VnFwEntry *e = ch->entry;
        g_autofree char *built = NULL;
        const char *spec = e->spec;

        if (!spec && ch->rule)
            spec = built = vn_firewalld_rich_rule(ch->rule);
        if (!spec) {
            g_set_error(error, VN_ERROR, VN_ERROR_FAILED,
                        "rule \"%s\": a firewalld entry without its rich "
                        "rule", e->comment);
            return FALSE;
        }
        remove_rule(want, spec);
        if (ch->insert)
            g_ptr_array_add(want, g_strdup(spec));
    }
    ok = fwd_set_rules(f, want, error);
    if (!ok && f->rules) {
        /* firewalld applies the difference rule by rule: put back what
         * it had, best effort */
        fwd_set_rules(f, f->rules, NULL);
    }
    fwd_forget(f);
    return ok;
}

const VnFwBackendClass vn_fw_firewalld_class = {
    .backend = VN_FW_FIREWALLD,
    .detect = fwd_detect,
    .place = fwd_place,
    .exists = fwd_exists,
    .list = fwd_list,
    .preceded = fwd_preceded,
    .commit = fwd_commit,
};
