/* fwmodel.c: a host's firewall as virt-nest can evaluate it.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include <string.h>
#include <netinet/in.h>
#include <linux/netfilter.h>

#include "fwmodel.h"

static const char *const verdicts[] = {
    [VN_FW_CONTINUE] = "continue", [VN_FW_ACCEPT] = "accept",
    [VN_FW_DROP] = "drop", [VN_FW_REJECT] = "reject", [VN_FW_JUMP] = "jump",
    [VN_FW_GOTO] = "goto", [VN_FW_RETURN] = "return",
    [VN_FW_MASQUERADE] = "masquerade", [VN_FW_SNAT] = "snat",
    [VN_FW_DNAT] = "dnat",
};

const char *
vn_fw_verdict_to_string(VnFwVerdict v)
{
    return v < G_N_ELEMENTS(verdicts) ? verdicts[v] : "?";
}

gboolean
vn_fw_verdict_from_string(const char *s, VnFwVerdict *out)
{
    for (guint i = 0; s && i < G_N_ELEMENTS(verdicts); i++) {
        if (strcmp(s, verdicts[i]) == 0) {
            *out = (VnFwVerdict)i;
            return TRUE;
        }
    }
    return FALSE;
}

VnFwRule *
vn_fw_rule_new(void)
{
    return g_new0(VnFwRule, 1);
}

void
vn_fw_rule_free(VnFwRule *r)
{
    if (!r)
        return;
    g_free(r->iif);
    g_free(r->oif);
    g_free(r->target);
    g_free(r->comment);
    g_free(r->opaque);
    g_free(r);
}

VnFwChain *
vn_fw_chain_new(void)
{
    VnFwChain *c = g_new0(VnFwChain, 1);

    c->rules = g_ptr_array_new_with_free_func((GDestroyNotify)vn_fw_rule_free);
    return c;
}

void
vn_fw_chain_free(VnFwChain *c)
{
    if (!c)
        return;
    g_free(c->table);
    g_free(c->name);
    g_free(c->hook);
    g_free(c->type);
    g_ptr_array_unref(c->rules);
    g_free(c);
}

const char *
vn_fw_family_to_string(int family)
{
    switch (family) {
    case NFPROTO_IPV4:
        return "ip";
    case NFPROTO_IPV6:
        return "ip6";
    case NFPROTO_INET:
        return "inet";
    }
    return "?";
}

int
vn_fw_family_from_string(const char *s)
{
    if (g_strcmp0(s, "ip") == 0)
        return NFPROTO_IPV4;
    if (g_strcmp0(s, "ip6") == 0)
        return NFPROTO_IPV6;
    if (g_strcmp0(s, "inet") == 0)
        return NFPROTO_INET;
    return -1;
}

static const char *
proto_name(guint8 p)
{
    switch (p) {
    case IPPROTO_TCP:
        return "tcp";
    case IPPROTO_UDP:
        return "udp";
    case IPPROTO_ICMP:
        return "icmp";
    case IPPROTO_ICMPV6:
        return "ipv6-icmp";
    }
    return NULL;
}

char *
vn_fw_rule_describe(const VnFwRule *r)
{
    GString *s = g_string_new(NULL);
    char buf[VN_CIDR_STRLEN];

#define SEP() do { if (s->len) g_string_append_c(s, ' '); } while (0)
    if (!vn_cidr_is_empty(&r->src)) {
        SEP();
        g_string_append_printf(s, "%s-s %s", r->src_neg ? "! " : "",
                               vn_cidr_format(&r->src, TRUE, buf));
    }
    if (!vn_cidr_is_empty(&r->dst)) {
        SEP();
        g_string_append_printf(s, "%s-d %s", r->dst_neg ? "! " : "",
                               vn_cidr_format(&r->dst, TRUE, buf));
    }
    if (r->iif) {
        SEP();
        g_string_append_printf(s, "%s-i %s%s", r->iif_neg ? "! " : "", r->iif,
                               r->iif_prefix ? "+" : "");
    }
    if (r->oif) {
        SEP();
        g_string_append_printf(s, "%s-o %s%s", r->oif_neg ? "! " : "", r->oif,
                               r->oif_prefix ? "+" : "");
    }
    if (r->l4proto) {
        const char *n = proto_name(r->l4proto);

        SEP();
        if (n)
            g_string_append_printf(s, "%s-p %s", r->l4proto_neg ? "! " : "", n);
        else
            g_string_append_printf(s, "%s-p %u", r->l4proto_neg ? "! " : "",
                                   r->l4proto);
    }
    if (r->ct_state) {
        static const struct { guint bit; const char *name; } st[] = {
            { VN_CT_INVALID, "INVALID" }, { VN_CT_NEW, "NEW" },
            { VN_CT_RELATED, "RELATED" }, { VN_CT_ESTABLISHED, "ESTABLISHED" },
            { VN_CT_UNTRACKED, "UNTRACKED" },
        };
        gboolean first = TRUE;

        SEP();
        g_string_append(s, "-m conntrack --ctstate ");
        for (guint i = 0; i < G_N_ELEMENTS(st); i++) {
            if (r->ct_state & st[i].bit) {
                g_string_append_printf(s, "%s%s", first ? "" : ",", st[i].name);
                first = FALSE;
            }
        }
    }
    if (r->nfproto) {
        SEP();
        g_string_append(s, r->nfproto == NFPROTO_IPV6 ? "-6" : "-4");
    }
    if (r->ct_status) {
        SEP();
        g_string_append_printf(s, "-m conntrack --ctstatus 0x%x", r->ct_status);
    }
    if (r->comment) {
        SEP();
        g_string_append_printf(s, "-m comment --comment \"%s\"", r->comment);
    }
    if (r->opaque) {
        SEP();
        g_string_append_printf(s, "[%s]", r->opaque);
    }
    SEP();
    switch (r->verdict) {
    case VN_FW_CONTINUE:
        g_string_append(s, "(no verdict)");
        break;
    case VN_FW_JUMP:
        g_string_append_printf(s, "-j %s", r->target);
        break;
    case VN_FW_GOTO:
        g_string_append_printf(s, "-g %s", r->target);
        break;
    default: {
        g_autofree char *up = g_ascii_strup(vn_fw_verdict_to_string(r->verdict), -1);

        g_string_append_printf(s, "-j %s", up);
    }
    }
#undef SEP
    return g_string_free(s, FALSE);
}
