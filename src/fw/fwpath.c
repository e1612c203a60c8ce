/* fwpath.c: an exception's traffic through the whole firewall.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include <string.h>
#include <netinet/in.h>
#include <linux/netfilter.h>
#include <linux/rtnetlink.h>

#include "fwpath.h"

void
vn_fw_path_clear(VnFwPath *path)
{
    g_clear_pointer(&path->packet, g_free);
    g_clear_pointer(&path->decided, g_free);
}

const VnHostRoute *
vn_host_route_to(const VnHost *host, const VnCidr *addr)
{
    const VnHostRoute *best = NULL;

    for (guint i = 0; host && i < host->routes->len; i++) {
        const VnHostRoute *r = host->routes->pdata[i];

        if (r->dst.family != addr->family || r->table != RT_TABLE_MAIN ||
            r->type != RTN_UNICAST || !vn_cidr_contains(&r->dst, addr))
            continue;
        if (!best || r->dst.prefix > best->dst.prefix ||
            (r->dst.prefix == best->dst.prefix && r->priority < best->priority))
            best = r;
    }
    return best;
}

/* An address inside @subnet that stands for any of them: the middle one
 * (the first is usually the host's own bridge address). */
static VnCidr
sample(const VnCidr *subnet)
{
    VnCidr net = vn_cidr_network(subnet), out;
    guint64 size = vn_cidr_size(subnet);

    if (!vn_cidr_add(&net, size > 2 ? (gint64)(size / 2) : 0, &out))
        out = net;
    out.prefix = (guint8)vn_cidr_max_prefix(out.family);
    return out;
}

static const char *
link_to(const VnHost *host, const VnCidr *addr)
{
    const VnHostRoute *r = vn_host_route_to(host, addr);
    const VnLink *l = r ? vn_host_find_link(host, r->oif) : NULL;

    return l ? l->name : NULL;
}

static gboolean
is_ours(const VnFwRule *r)
{
    return r && r->comment && vn_rule_comment_is_ours(r->comment);
}

static char *
decided_text(const VnFwResult *res)
{
    const VnFwChain *c = res->chain ? res->chain : res->base;
    g_autofree char *d = NULL;

    if (!c)
        return NULL;
    if (!res->rule)
        return g_strdup_printf("the %s policy of %s %s %s",
                               c->policy_drop ? "drop" : "accept",
                               vn_fw_family_to_string(c->family), c->table,
                               c->name);
    d = vn_fw_rule_describe(res->rule);
    return g_strdup_printf("%s %s %s: %s", vn_fw_family_to_string(c->family),
                           c->table, c->name, d);
}

/* Does a base chain like @base hold one of virt-nest's rules for @comment? */
static gboolean
holds_ours(GPtrArray *chains, const VnFwChain *base, const char *comment)
{
    for (guint i = 0; base && i < chains->len; i++) {
        const VnFwChain *c = chains->pdata[i];

        if (c->family != base->family || g_strcmp0(c->table, base->table))
            continue;
        for (guint j = 0; j < c->rules->len; j++) {
            const VnFwRule *r = c->rules->pdata[j];

            if (g_strcmp0(r->comment, comment) == 0)
                return TRUE;
        }
    }
    return FALSE;
}

static gboolean
stopped(const VnRule *rule, const VnFwResult *res)
{
    if (rule->kind == VN_RULE_NAT)
        return res->verdict == VN_FW_MASQUERADE || res->verdict == VN_FW_SNAT;
    return res->verdict == VN_FW_DROP || res->verdict == VN_FW_REJECT;
}

void
vn_fw_path_check(const VnHost *host, const VnRule *rule, VnFwPath *out)
{
    static const guint8 protos[] = { IPPROTO_TCP, IPPROTO_ICMP };
    VnCidr src = sample(&rule->src), dst = sample(&rule->dst);
    g_autofree char *comment = vn_rule_comment(rule);
    const char *in = rule->kind == VN_RULE_OUT ? rule->bridge
                                               : link_to(host, &src);
    const char *outl = rule->kind == VN_RULE_IN ? rule->bridge
                                                : link_to(host, &dst);
    gboolean nat = rule->kind == VN_RULE_NAT;
    char s[VN_CIDR_STRLEN], d[VN_CIDR_STRLEN];

    memset(out, 0, sizeof(*out));
    if (!host || !host->firewall) {
        out->state = VN_FW_PATH_UNKNOWN;
        return;
    }
    out->state = VN_FW_PATH_PASSES;
    for (guint i = 0; i < G_N_ELEMENTS(protos); i++) {
        VnPacket p = { src, dst, protos[i], in, outl, VN_CT_NEW };
        VnFwResult res;
        gboolean worse;

        if (src.family == AF_INET6 && protos[i] == IPPROTO_ICMP)
            p.proto = IPPROTO_ICMPV6;
        vn_fw_eval(host->firewall, nat ? "postrouting" : "forward",
                   nat ? "nat" : "filter", &p, NULL, &res);
        if (res.too_complex) {
            /* more than VN_FW_EVAL_BUDGET rule evaluations: no verdict */
            out->state = VN_FW_PATH_UNKNOWN;
            vn_fw_result_clear(&res);
            return;
        }
        worse = stopped(rule, &res) && out->state == VN_FW_PATH_PASSES;
        if (worse || !out->packet) {
            g_free(out->packet);
            g_free(out->decided);
            out->packet = g_strdup_printf("%s %s -> %s%s%s%s%s",
                                          p.proto == IPPROTO_TCP ? "tcp" : "icmp",
                                          vn_cidr_format(&src, FALSE, s),
                                          vn_cidr_format(&dst, FALSE, d),
                                          p.iif ? " in " : "", p.iif ? p.iif : "",
                                          p.oif ? " out " : "", p.oif ? p.oif : "");
            out->decided = decided_text(&res);
            out->by_us = is_ours(res.rule);
            out->unknown = res.unknown->len;
            if (worse) {
                out->state = VN_FW_PATH_STOPPED;
                out->in_our_chain = holds_ours(host->firewall, res.base,
                                               comment);
            }
        }
        vn_fw_result_clear(&res);
    }
}
