/* handfix.c: the user's own fixes that virt-nest makes unnecessary.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include <string.h>
#include <linux/netfilter.h>

#include "handfix.h"

const char *const vn_hand_fix_paths[] = {
    "etc/wsl.conf",
    "etc/rc.local",
    "etc/network/if-up.d/",
    "etc/NetworkManager/dispatcher.d/",
    "etc/iptables/rules.v4",
    "etc/iptables/rules.v6",
    NULL,
};

void
vn_hand_fix_free(VnHandFix *fix)
{
    if (!fix)
        return;
    g_free(fix->where);
    g_free(fix->text);
    g_free(fix->what);
    g_free(fix->fix);
    g_free(fix);
}

static void
add(GPtrArray *out, char *where, const char *text, char *what, char *fix)
{
    VnHandFix *f = g_new0(VnHandFix, 1);

    f->where = where;
    f->text = g_strdup(text);
    f->what = what;
    f->fix = fix;
    g_ptr_array_add(out, f);
}

/* ------------------------------------------------------------------ */
/* in the firewall                                                     */

static gboolean
iface_fits(const char *iface, gboolean neg, gboolean prefix, const char *bridge)
{
    return !iface || (!neg && !prefix && g_strcmp0(iface, bridge) == 0);
}

/* @r lets exactly @x's traffic through, and only that much more. */
static gboolean
duplicates(const VnFwRule *r, const VnRule *x)
{
    return r->verdict == VN_FW_ACCEPT && !r->opaque && !r->ct_state &&
           !r->l4proto && !r->src_neg && !r->dst_neg &&
           !(r->comment && vn_rule_comment_is_ours(r->comment)) &&
           vn_cidr_equal(&r->src, &x->src) && vn_cidr_equal(&r->dst, &x->dst) &&
           iface_fits(r->iif, r->iif_neg, r->iif_prefix, x->bridge) &&
           iface_fits(r->oif, r->oif_neg, r->oif_prefix, x->bridge);
}

static char *
removal(const VnFwChain *c, const VnFwRule *r, const char *spec)
{
    gboolean xt = g_strcmp0(c->table, "filter") == 0 &&
                  (c->family == NFPROTO_IPV4 || c->family == NFPROTO_IPV6);

    if (xt)
        return g_strdup_printf("%s -D %s %s",
                               c->family == NFPROTO_IPV6 ? "ip6tables"
                                                         : "iptables",
                               c->name, spec);
    return g_strdup_printf("nft delete rule %s %s %s handle %" G_GUINT64_FORMAT,
                           vn_fw_family_to_string(c->family), c->table,
                           c->name, r->handle);
}

void
vn_hand_fixes_in_firewall(const VnPlan *plan, GPtrArray *chains,
                          GPtrArray *out)
{
    for (guint i = 0; chains && i < chains->len; i++) {
        const VnFwChain *c = chains->pdata[i];

        /* firewalld's chains of policy virt-nest hold the rich rules
         * virt-nest added there (fw/firewalld.h): not a hand fix */
        if (c->family == NFPROTO_INET && g_strcmp0(c->table, "firewalld") == 0 &&
            (!strcmp(c->name, "filter_FWD_policy_virt-nest") ||
             g_str_has_prefix(c->name, "filter_FWD_policy_virt-nest_")))
            continue;
        for (guint j = 0; j < c->rules->len; j++) {
            const VnFwRule *r = c->rules->pdata[j];

            for (guint k = 0; k < plan->rules->len; k++) {
                const VnRule *x = plan->rules->pdata[k];
                g_autofree char *spec = NULL;

                if (x->kind == VN_RULE_NAT || !duplicates(r, x))
                    continue;
                spec = vn_fw_rule_describe(r);
                add(out, g_strdup_printf("%s %s %s",
                                         vn_fw_family_to_string(c->family),
                                         c->table, c->name),
                    spec,
                    g_strdup_printf("accepts what virt-nest's exception for "
                                    "network '%s' accepts", x->network),
                    removal(c, r, spec));
                break;
            }
        }
    }
}

/* ------------------------------------------------------------------ */
/* in boot-time files                                                  */

/* The commands of one line: split at ;, && and ||, outer quotes gone
 * (wsl.conf: command = "sleep 5 && ip route add ..."). */
static GPtrArray *
commands(const char *line)
{
    GPtrArray *out = g_ptr_array_new_with_free_func(g_free);
    g_autofree char *s = g_strdup(line);
    const char *eq;

    /* a key = value line (wsl.conf): the value */
    if ((eq = strchr(s, '=')) && g_str_has_prefix(g_strstrip(s), "command")) {
        char *v = g_strdup(eq + 1);

        g_free(s);
        s = v;
    }
    g_strdelimit(s, "\"'`", ' ');
    {
        g_auto(GStrv) parts = g_regex_split_simple("\\s*(?:;|&&|\\|\\|)\\s*", s,
                                                   0, 0);

        for (guint i = 0; parts[i]; i++) {
            char *p = g_strstrip(g_strdup(parts[i]));

            if (*p)
                g_ptr_array_add(out, p);
            else
                g_free(p);
        }
    }
    return out;
}

static gboolean
cidr_token(const char *t, VnCidr *out)
{
    return vn_cidr_parse(t, VN_CIDR_SUBNET, out, NULL);
}

static const VnRoute *
route_added(const VnPlan *plan, char **argv)
{
    gboolean ip = FALSE, route = FALSE, addish = FALSE;

    for (guint i = 0; argv[i]; i++) {
        const char *t = argv[i];
        VnCidr c;

        if (g_str_has_suffix(t, "/ip") || strcmp(t, "ip") == 0)
            ip = TRUE;
        else if (!strcmp(t, "route") || (ip && (!strcmp(t, "r") || !strcmp(t, "ro"))))
            route = TRUE;
        else if (route && (!strcmp(t, "add") || !strcmp(t, "a") ||
                           !strcmp(t, "replace") || !strcmp(t, "append")))
            addish = TRUE;
        else if (addish && cidr_token(t, &c)) {
            for (guint k = 0; k < plan->routes->len; k++) {
                const VnRoute *r = plan->routes->pdata[k];

                if (vn_cidr_equal(&r->dst, &c))
                    return r;
            }
        }
    }
    return NULL;
}

typedef struct {
    char op;                /* 'I', 'A', 'D' */
    const char *chain;
    VnCidr src, dst;
    const char *iif, *oif, *target;
} XtLine;

/* An iptables command, or an iptables-save line. */
static gboolean
xt_parse(char **argv, XtLine *x)
{
    gboolean iptables = FALSE;

    memset(x, 0, sizeof(*x));
    for (guint i = 0; argv[i]; i++) {
        const char *t = argv[i], *v = argv[i + 1];

        if (strstr(t, "iptables"))
            iptables = TRUE;
        if (!v)
            break;
        if (!strcmp(t, "-I") || !strcmp(t, "--insert") || !strcmp(t, "-A") ||
            !strcmp(t, "--append") || !strcmp(t, "-D") || !strcmp(t, "--delete")) {
            x->op = t[1] == '-' ? (char)g_ascii_toupper(t[2]) : t[1];
            x->chain = v;
        } else if (!strcmp(t, "-s") || !strcmp(t, "--source")) {
            cidr_token(v, &x->src);
        } else if (!strcmp(t, "-d") || !strcmp(t, "--destination")) {
            cidr_token(v, &x->dst);
        } else if (!strcmp(t, "-i") || !strcmp(t, "--in-interface")) {
            x->iif = v;
        } else if (!strcmp(t, "-o") || !strcmp(t, "--out-interface")) {
            x->oif = v;
        } else if (!strcmp(t, "-j") || !strcmp(t, "--jump")) {
            x->target = v;
        }
    }
    /* iptables-save's lines start with -A and name no binary */
    return (iptables || (argv[0] && !strcmp(argv[0], "-A"))) && x->op &&
           g_strcmp0(x->chain, "FORWARD") == 0;
}

static void
scan_command(const char *where, const char *cmd, const VnPlan *plan,
             GPtrArray *out)
{
    g_auto(GStrv) argv = g_strsplit_set(cmd, " \t", -1);
    g_autoptr(GPtrArray) words = g_ptr_array_new();
    const VnRoute *route;
    XtLine x;

    for (guint i = 0; argv[i]; i++)
        if (*argv[i])
            g_ptr_array_add(words, argv[i]);
    g_ptr_array_add(words, NULL);
    if ((route = route_added(plan, (char **)words->pdata))) {
        char d[VN_CIDR_STRLEN];

        add(out, g_strdup(where), cmd,
            g_strdup_printf("adds the route to %s at boot; virt-nest installs "
                            "it when domain '%s' starts",
                            vn_cidr_format(&route->dst, TRUE, d), route->guest),
            g_strdup_printf("remove `%s` from %s", cmd, where));
        return;
    }
    if (!xt_parse((char **)words->pdata, &x))
        return;
    for (guint k = 0; k < plan->rules->len; k++) {
        const VnRule *r = plan->rules->pdata[k];

        if (r->kind == VN_RULE_NAT)
            continue;
        if (x.op != 'D' && g_strcmp0(x.target, "ACCEPT") == 0 &&
            vn_cidr_equal(&x.src, &r->src) && vn_cidr_equal(&x.dst, &r->dst) &&
            (!x.iif || !g_strcmp0(x.iif, r->bridge)) &&
            (!x.oif || !g_strcmp0(x.oif, r->bridge))) {
            add(out, g_strdup(where), cmd,
                g_strdup_printf("accepts at boot what virt-nest's exception "
                                "for network '%s' accepts", r->network),
                g_strdup_printf("remove `%s` from %s", cmd, where));
            return;
        }
        if (x.op == 'D' && g_strcmp0(x.target, "REJECT") == 0 &&
            (!g_strcmp0(x.oif, r->bridge) || !g_strcmp0(x.iif, r->bridge))) {
            add(out, g_strdup(where), cmd,
                g_strdup_printf("deletes libvirt's REJECT on %s at boot; "
                                "virt-nest's exceptions for network '%s' "
                                "make that unnecessary, and libvirt puts it "
                                "back at every reload", r->bridge, r->network),
                g_strdup_printf("remove `%s` from %s", cmd, where));
            return;
        }
    }
}

void
vn_hand_fixes_in_text(const char *path, const char *text, const VnPlan *plan,
                      GPtrArray *out)
{
    g_auto(GStrv) lines = NULL;

    if (!text || (!plan->routes->len && !plan->rules->len))
        return;
    lines = g_strsplit(text, "\n", -1);
    for (guint n = 0; lines[n]; n++) {
        const char *l = lines[n];
        g_autoptr(GPtrArray) cmds = NULL;
        g_autofree char *where = NULL;

        while (*l == ' ' || *l == '\t')
            l++;
        if (*l == '#' || !*l)
            continue;
        where = g_strdup_printf("%s:%u", path, n + 1);
        cmds = commands(l);
        for (guint i = 0; i < cmds->len; i++)
            scan_command(where, cmds->pdata[i], plan, out);
    }
}
