/* xtsave.c: iptables-legacy-save's text: rules, tables, the model.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include <netdb.h>
#include <string.h>
#include <netinet/in.h>
#include <linux/netfilter.h>

#include "error.h"
#include "xtsave.h"

/* ------------------------------------------------------------------ */
/* the text of a rule                                                  */

/* A value as iptables-save writes it (libxtables xtables_save_string()):
 * bare when it is only [A-Za-z0-9_-], else in double quotes with \ before
 * each " \ and '. */
static void
append_value(GString *s, const char *v)
{
    static const char bare[] = "_-0123456789abcdefghijklmnopqrstuvwxyz"
                               "ABCDEFGHIJKLMNOPQRSTUVWXYZ";
    gsize n = strspn(v, bare);

    if (n > 0 && v[n] == '\0') {
        g_string_append(s, v);
        return;
    }
    g_string_append_c(s, '"');
    for (const char *p = v; *p; p++) {
        if (*p == '"' || *p == '\\' || *p == '\'')
            g_string_append_c(s, '\\');
        g_string_append_c(s, *p);
    }
    g_string_append_c(s, '"');
}

/* A rule's words as iptables-restore splits them (add_param_to_argv()):
 * blanks separate, double quotes group, and inside quotes a backslash
 * takes the next character as it is. */
static GPtrArray *
split_spec(const char *spec)
{
    GPtrArray *words = g_ptr_array_new_with_free_func(g_free);
    g_autoptr(GString) w = g_string_new(NULL);
    gboolean quoted = FALSE, word = FALSE;

    for (const char *p = spec; *p; p++) {
        if (quoted) {
            if (*p == '\\' && p[1])
                g_string_append_c(w, *++p);
            else if (*p == '"')
                quoted = FALSE;
            else
                g_string_append_c(w, *p);
            continue;
        }
        if (*p == '"') {
            quoted = word = TRUE;
        } else if (*p == ' ' || *p == '\t' || *p == '\n') {
            if (word)
                g_ptr_array_add(words, g_strdup(w->str));
            g_string_truncate(w, 0);
            word = FALSE;
        } else {
            g_string_append_c(w, *p);
            word = TRUE;
        }
    }
    if (word)
        g_ptr_array_add(words, g_strdup(w->str));
    return words;
}

char *
vn_xt_rule_spec(const VnRule *rule)
{
    GString *s = g_string_new(NULL);
    g_autofree char *comment = vn_rule_comment(rule);
    char b[VN_CIDR_STRLEN];

    /* iptables-save's order: -s -d -i -o, the matches, the target; an
     * address always with its prefix, none for /0 */
    if (rule->src.prefix)
        g_string_append_printf(s, "-s %s ", vn_cidr_format(&rule->src, TRUE, b));
    if (rule->dst.prefix)
        g_string_append_printf(s, "-d %s ", vn_cidr_format(&rule->dst, TRUE, b));
    if (rule->kind == VN_RULE_OUT)
        g_string_append_printf(s, "-i %s ", rule->bridge);
    else if (rule->kind == VN_RULE_IN)
        g_string_append_printf(s, "-o %s ", rule->bridge);
    g_string_append(s, "-m comment --comment ");
    append_value(s, comment);
    g_string_append(s, " -j ACCEPT");
    return g_string_free(s, FALSE);
}

/* ------------------------------------------------------------------ */
/* iptables-legacy-save's output                                       */

static void
xt_chain_free(VnXtChain *c)
{
    g_free(c->name);
    g_free(c->policy);
    g_ptr_array_unref(c->rules);
    g_free(c);
}

static void
xt_table_free(VnXtTable *t)
{
    g_free(t->name);
    g_ptr_array_unref(t->chains);
    g_free(t);
}

void
vn_xt_ruleset_free(VnXtRuleset *rs)
{
    if (!rs)
        return;
    g_ptr_array_unref(rs->tables);
    g_free(rs);
}

static VnXtChain *
table_chain(const VnXtTable *t, const char *name)
{
    for (guint i = 0; t && i < t->chains->len; i++) {
        VnXtChain *c = t->chains->pdata[i];

        if (strcmp(c->name, name) == 0)
            return c;
    }
    return NULL;
}

static const VnXtTable *
ruleset_table(const VnXtRuleset *rs, const char *name)
{
    for (guint i = 0; rs && i < rs->tables->len; i++) {
        const VnXtTable *t = rs->tables->pdata[i];

        if (strcmp(t->name, name) == 0)
            return t;
    }
    return NULL;
}

const VnXtChain *
vn_xt_ruleset_chain(const VnXtRuleset *rs, const char *table,
                    const char *chain)
{
    return table_chain(ruleset_table(rs, table), chain);
}

static gboolean G_GNUC_PRINTF(3, 4)
parse_error(GError **error, guint line, const char *fmt, ...)
{
    va_list ap;
    g_autofree char *m = NULL;

    va_start(ap, fmt);
    m = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    g_set_error(error, VN_ERROR, VN_ERROR_INVALID,
                "iptables-legacy-save, line %u: %s", line, m);
    return FALSE;
}

/* ":NAME POLICY [p:b]" */
static gboolean
parse_chain_line(VnXtTable *t, const char *l, guint n, GError **error)
{
    g_auto(GStrv) w = g_strsplit_set(l + 1, " \t", -1);
    VnXtChain *c;

    if (!w[0] || !*w[0] || !w[1])
        return parse_error(error, n, "a chain without a policy: %s", l);
    c = g_new0(VnXtChain, 1);
    c->name = g_strdup(w[0]);
    c->policy = strcmp(w[1], "-") ? g_strdup(w[1]) : NULL;
    c->rules = g_ptr_array_new_with_free_func(g_free);
    g_ptr_array_add(t->chains, c);
    return TRUE;
}

/* "[p:b] -A NAME SPEC" or "-A NAME SPEC" */
static gboolean
parse_rule_line(VnXtTable *t, const char *l, guint n, GError **error)
{
    const char *p = l, *name, *end;
    g_autofree char *chain = NULL;
    VnXtChain *c;

    if (*p == '[') {
        if (!(p = strchr(p, ']')))
            return parse_error(error, n, "unclosed counters: %s", l);
        p++;
        while (*p == ' ')
            p++;
    }
    if (!g_str_has_prefix(p, "-A "))
        return parse_error(error, n, "not a rule: %s", l);
    name = p + 3;
    end = name + strcspn(name, " ");
    chain = g_strndup(name, (gsize)(end - name));
    if (!(c = table_chain(t, chain)))
        return parse_error(error, n, "a rule of chain %s, which is not "
                           "declared: %s", chain, l);
    while (*end == ' ')
        end++;
    g_ptr_array_add(c->rules, g_strdup(end));
    return TRUE;
}

VnXtRuleset *
vn_xt_ruleset_parse(const char *text, int family, GError **error)
{
    g_autoptr(VnXtRuleset) rs = g_new0(VnXtRuleset, 1);
    g_auto(GStrv) lines = g_strsplit(text ? text : "", "\n", -1);
    VnXtTable *t = NULL;

    rs->family = family;
    rs->tables = g_ptr_array_new_with_free_func((GDestroyNotify)xt_table_free);
    for (guint i = 0; lines[i]; i++) {
        char *l = g_strstrip(lines[i]);

        if (!*l || *l == '#')
            continue;
        if (*l == '*') {
            t = g_new0(VnXtTable, 1);
            t->name = g_strdup(l + 1);
            t->chains = g_ptr_array_new_with_free_func((GDestroyNotify)xt_chain_free);
            g_ptr_array_add(rs->tables, t);
        } else if (!t) {
            parse_error(error, i + 1, "outside a table: %s", l);
            return NULL;
        } else if (strcmp(l, "COMMIT") == 0) {
            t = NULL;
        } else if (*l == ':') {
            if (!parse_chain_line(t, l, i + 1, error))
                return NULL;
        } else if (!parse_rule_line(t, l, i + 1, error)) {
            return NULL;
        }
    }
    return g_steal_pointer(&rs);
}

/* ------------------------------------------------------------------ */
/* a rule in the firewall model                                        */

typedef struct {
    VnFwRule *r;
    int family;
    GPtrArray *w;           /* the words */
    guint i;                /* the next word */
    GString *opaque;
} Rp;

static const char *
word(Rp *p)
{
    return p->i < p->w->len ? p->w->pdata[p->i++] : NULL;
}

static const char *
peek(const Rp *p)
{
    return p->i < p->w->len ? p->w->pdata[p->i] : NULL;
}

static void
opaque(Rp *p, const char *fmt, ...) G_GNUC_PRINTF(2, 3);

static void
opaque(Rp *p, const char *fmt, ...)
{
    va_list ap;

    if (p->opaque->len)
        g_string_append(p->opaque, ", ");
    va_start(ap, fmt);
    g_string_append_vprintf(p->opaque, fmt, ap);
    va_end(ap);
}

/* "-s 10.0.0.0/8", "-s 10.0.2.0/255.0.255.0" (a mask that is no prefix:
 * opaque) */
static void
parse_addr(Rp *p, const char *opt, const char *v, gboolean neg, VnCidr *out,
           gboolean *out_neg)
{
    g_autofree char *a = g_strdup(v ? v : "");
    char *slash = strchr(a, '/');
    guint8 prefix;

    if (vn_cidr_parse(a, VN_CIDR_ANY, out, NULL) &&
        out->family == (p->family == NFPROTO_IPV6 ? AF_INET6 : AF_INET)) {
        *out = vn_cidr_network(out);
        *out_neg = neg;
        return;
    }
    if (slash && p->family == NFPROTO_IPV4 &&
        vn_cidr_prefix_from_netmask(slash + 1, &prefix)) {
        g_autofree char *c = NULL;

        *slash = '\0';
        c = g_strdup_printf("%s/%u", a, prefix);
        if (vn_cidr_parse(c, VN_CIDR_ANY, out, NULL)) {
            *out = vn_cidr_network(out);
            *out_neg = neg;
            return;
        }
    }
    memset(out, 0, sizeof(*out));
    opaque(p, "%s%s %s", neg ? "! " : "", opt, v ? v : "");
}

/* "-i virbr0", "-o virbr+" */
static void
parse_iface(const char *v, gboolean neg, char **name, gboolean *out_neg,
            gboolean *prefix)
{
    gsize n = v ? strlen(v) : 0;

    g_free(*name);
    *prefix = n > 0 && v[n - 1] == '+';
    *name = g_strndup(v ? v : "", *prefix ? n - 1 : n);
    *out_neg = neg;
}

static void
parse_proto(Rp *p, const char *v, gboolean neg)
{
    static const struct { const char *name; guint8 num; } known[] = {
        { "tcp", IPPROTO_TCP }, { "udp", IPPROTO_UDP },
        { "icmp", IPPROTO_ICMP }, { "ipv6-icmp", IPPROTO_ICMPV6 },
        { "icmpv6", IPPROTO_ICMPV6 }, { "sctp", IPPROTO_SCTP },
        { "udplite", IPPROTO_UDPLITE }, { "gre", IPPROTO_GRE },
        { "esp", IPPROTO_ESP }, { "ah", IPPROTO_AH }, { "all", 0 },
    };
    guint64 n;

    for (guint k = 0; v && k < G_N_ELEMENTS(known); k++) {
        if (g_ascii_strcasecmp(v, known[k].name) == 0) {
            p->r->l4proto = known[k].num;
            p->r->l4proto_neg = neg && known[k].num;
            return;
        }
    }
    if (v && g_ascii_string_to_unsigned(v, 10, 0, 255, &n, NULL)) {
        p->r->l4proto = (guint8)n;
        p->r->l4proto_neg = neg && n;
        return;
    }
    {
        /* what iptables-save printed from /etc/protocols */
        struct protoent *pe = v ? getprotobyname(v) : NULL;

        if (pe && pe->p_proto >= 0 && pe->p_proto <= 255) {
            p->r->l4proto = (guint8)pe->p_proto;
            p->r->l4proto_neg = neg && pe->p_proto;
            return;
        }
    }
    opaque(p, "%s-p %s", neg ? "! " : "", v ? v : "");
}

/* "RELATED,ESTABLISHED" as VN_CT_*; 0 for a state the model lacks */
static guint
ct_states(const char *v)
{
    static const struct { const char *name; guint bit; } st[] = {
        { "INVALID", VN_CT_INVALID }, { "ESTABLISHED", VN_CT_ESTABLISHED },
        { "RELATED", VN_CT_RELATED }, { "NEW", VN_CT_NEW },
        { "UNTRACKED", VN_CT_UNTRACKED },
    };
    g_auto(GStrv) names = g_strsplit(v ? v : "", ",", -1);
    guint mask = 0;

    for (guint i = 0; names[i]; i++) {
        guint bit = 0;

        for (guint k = 0; k < G_N_ELEMENTS(st); k++)
            if (strcmp(names[i], st[k].name) == 0)
                bit = st[k].bit;
        if (!bit)
            return 0;
        mask |= bit;
    }
    return mask;
}

static gboolean
ends_match(const char *w)
{
    return !w || !strcmp(w, "-m") || !strcmp(w, "-j") || !strcmp(w, "-g");
}

/* "-m NAME [[!] --opt [value]]...": the words up to the next -m, -j, -g */
static void
parse_match(Rp *p, const char *name)
{
    g_autoptr(GString) rest = g_string_new(NULL);
    gboolean understood = TRUE;

    while (!ends_match(peek(p))) {
        const char *w = word(p);
        gboolean neg = FALSE;
        const char *v;

        if (!strcmp(w, "!")) {
            neg = TRUE;
            if (ends_match(peek(p)))
                break;
            w = word(p);
        }
        g_string_append_printf(rest, " %s%s", neg ? "! " : "", w);
        /* an option's value, if it has one; a comment always has one,
         * whatever it looks like */
        if (!strcmp(name, "comment") && !strcmp(w, "--comment"))
            v = word(p);
        else
            v = peek(p) && strncmp(peek(p), "--", 2) && strcmp(peek(p), "!") &&
                !ends_match(peek(p)) ? word(p) : NULL;
        if (v)
            g_string_append_printf(rest, " %s", v);
        if (!strcmp(name, "comment") && !strcmp(w, "--comment") && !neg) {
            g_free(p->r->comment);
            p->r->comment = g_strdup(v ? v : "");
        } else if ((!strcmp(name, "conntrack") && !strcmp(w, "--ctstate")) ||
                   (!strcmp(name, "state") && !strcmp(w, "--state"))) {
            guint mask = ct_states(v);

            if (neg || !mask)
                understood = FALSE;
            else
                p->r->ct_state = mask;
        } else {
            understood = FALSE;
        }
    }
    if (!understood)
        opaque(p, "-m %s%s", name, rest->str);
}

/* targets that change nothing about the packet's fate */
static gboolean
passive_target(const char *t)
{
    static const char *const names[] = {
        "CHECKSUM", "LOG", "NFLOG", "ULOG", "MARK", "CONNMARK", "SECMARK",
        "CONNSECMARK", "CT", "NOTRACK", "TCPMSS", "TOS", "TTL", "HL", "DSCP",
        "ECN", "CLASSIFY", "AUDIT", "TRACE", "SET", "IDLETIMER", "LED",
    };

    for (guint i = 0; i < G_N_ELEMENTS(names); i++)
        if (!strcmp(t, names[i]))
            return TRUE;
    return FALSE;
}

static void
parse_target(Rp *p, const char *t, gboolean go, const VnXtTable *table)
{
    static const struct { const char *name; VnFwVerdict v; } verdicts[] = {
        { "ACCEPT", VN_FW_ACCEPT }, { "DROP", VN_FW_DROP },
        { "REJECT", VN_FW_REJECT }, { "RETURN", VN_FW_RETURN },
        { "MASQUERADE", VN_FW_MASQUERADE }, { "SNAT", VN_FW_SNAT },
        { "DNAT", VN_FW_DNAT }, { "REDIRECT", VN_FW_DNAT },
    };
    VnFwRule *r = p->r;

    /* the target's own options (--reject-with, --to-ports, ...) */
    while (peek(p))
        word(p);
    if (!t)
        return;
    if (go || table_chain(table, t)) {
        r->verdict = go ? VN_FW_GOTO : VN_FW_JUMP;
        g_free(r->target);
        r->target = g_strdup(t);
        return;
    }
    for (guint i = 0; i < G_N_ELEMENTS(verdicts); i++) {
        if (!strcmp(t, verdicts[i].name)) {
            r->verdict = verdicts[i].v;
            return;
        }
    }
    if (!passive_target(t))
        opaque(p, "-j %s", t);
}

VnFwRule *
vn_xt_rule_parse(const char *spec, int family, const VnXtTable *table)
{
    g_autoptr(GPtrArray) words = split_spec(spec ? spec : "");
    Rp p = { vn_fw_rule_new(), family, words, 0, g_string_new(NULL) };
    const char *w;

    while ((w = word(&p))) {
        gboolean neg = FALSE;

        if (!strcmp(w, "!")) {
            neg = TRUE;
            if (!(w = word(&p)))
                break;
        }
        if (!strcmp(w, "-s") || !strcmp(w, "--source"))
            parse_addr(&p, "-s", word(&p), neg, &p.r->src, &p.r->src_neg);
        else if (!strcmp(w, "-d") || !strcmp(w, "--destination"))
            parse_addr(&p, "-d", word(&p), neg, &p.r->dst, &p.r->dst_neg);
        else if (!strcmp(w, "-i") || !strcmp(w, "--in-interface"))
            parse_iface(word(&p), neg, &p.r->iif, &p.r->iif_neg,
                        &p.r->iif_prefix);
        else if (!strcmp(w, "-o") || !strcmp(w, "--out-interface"))
            parse_iface(word(&p), neg, &p.r->oif, &p.r->oif_neg,
                        &p.r->oif_prefix);
        else if (!strcmp(w, "-p") || !strcmp(w, "--protocol"))
            parse_proto(&p, word(&p), neg);
        else if (!strcmp(w, "-m") || !strcmp(w, "--match")) {
            const char *m = word(&p);

            parse_match(&p, m ? m : "?");
        } else if (!strcmp(w, "-j") || !strcmp(w, "--jump"))
            parse_target(&p, word(&p), FALSE, table);
        else if (!strcmp(w, "-g") || !strcmp(w, "--goto"))
            parse_target(&p, word(&p), TRUE, table);
        else
            opaque(&p, "%s%s", neg ? "! " : "", w);
    }
    if (p.opaque->len)
        p.r->opaque = g_string_free(p.opaque, FALSE);
    else
        g_string_free(p.opaque, TRUE);
    return p.r;
}

char *
vn_xt_spec_comment(const char *spec)
{
    g_autoptr(GPtrArray) w = NULL;

    /* most rules have no comment: no splitting for them */
    if (!spec || !strstr(spec, "--comment"))
        return NULL;
    w = split_spec(spec);
    for (guint i = 0; i + 3 < w->len; i++)
        if (!strcmp(w->pdata[i], "-m") && !strcmp(w->pdata[i + 1], "comment") &&
            !strcmp(w->pdata[i + 2], "--comment"))
            return g_strdup(w->pdata[i + 3]);
    return NULL;
}

/* ------------------------------------------------------------------ */
/* the model: the built-in chains at their hooks                       */

static const struct {
    const char *table, *chain, *hook, *type;
    int priority;
} builtins[] = {
    /* NF_IP_PRI_* and NF_IP6_PRI_*: the same numbers for both */
    { "raw", "PREROUTING", "prerouting", "filter", -300 },
    { "raw", "OUTPUT", "output", "filter", -300 },
    { "mangle", "PREROUTING", "prerouting", "filter", -150 },
    { "mangle", "INPUT", "input", "filter", -150 },
    { "mangle", "FORWARD", "forward", "filter", -150 },
    { "mangle", "OUTPUT", "output", "route", -150 },
    { "mangle", "POSTROUTING", "postrouting", "filter", -150 },
    { "nat", "PREROUTING", "prerouting", "nat", -100 },
    { "nat", "OUTPUT", "output", "nat", -100 },
    { "nat", "INPUT", "input", "nat", 100 },
    { "nat", "POSTROUTING", "postrouting", "nat", 100 },
    { "filter", "INPUT", "input", "filter", 0 },
    { "filter", "FORWARD", "forward", "filter", 0 },
    { "filter", "OUTPUT", "output", "filter", 0 },
    { "security", "INPUT", "input", "filter", 50 },
    { "security", "FORWARD", "forward", "filter", 50 },
    { "security", "OUTPUT", "output", "filter", 50 },
};

void
vn_xt_ruleset_model(const VnXtRuleset *rs, GPtrArray *chains)
{
    for (guint i = 0; i < rs->tables->len; i++) {
        const VnXtTable *t = rs->tables->pdata[i];

        for (guint j = 0; j < t->chains->len; j++) {
            const VnXtChain *xc = t->chains->pdata[j];
            VnFwChain *c = vn_fw_chain_new();

            c->family = rs->family;
            c->legacy = TRUE;
            c->table = g_strdup(t->name);
            c->name = g_strdup(xc->name);
            for (guint k = 0; xc->policy && k < G_N_ELEMENTS(builtins); k++) {
                if (strcmp(builtins[k].table, t->name) ||
                    strcmp(builtins[k].chain, xc->name))
                    continue;
                c->hook = g_strdup(builtins[k].hook);
                c->type = g_strdup(builtins[k].type);
                c->priority = builtins[k].priority;
                c->policy_drop = strcmp(xc->policy, "DROP") == 0;
            }
            for (guint k = 0; k < xc->rules->len; k++) {
                VnFwRule *r = vn_xt_rule_parse(xc->rules->pdata[k],
                                               rs->family, t);

                r->handle = k + 1;
                g_ptr_array_add(c->rules, r);
            }
            g_ptr_array_add(chains, c);
        }
    }
}
