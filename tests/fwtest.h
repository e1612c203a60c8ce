/* fwtest.h: firewall models for the tests, built from iptables-like
 * words, and libvirt 9.0's forward chains.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <netinet/in.h>
#include <string.h>
#include <linux/netfilter.h>

#include "testutil.h"
#include "fweval.h"

static inline GPtrArray *
fw_new(void)
{
    return g_ptr_array_new_with_free_func((GDestroyNotify)vn_fw_chain_free);
}

static inline VnFwChain *
chain(GPtrArray *fw, int family, const char *table, const char *name,
      const char *hook, const char *type, int prio, gboolean drop)
{
    VnFwChain *c = vn_fw_chain_new();

    c->family = family;
    c->table = g_strdup(table);
    c->name = g_strdup(name);
    c->hook = g_strdup(hook);
    c->type = g_strdup(type);
    c->priority = prio;
    c->policy_drop = drop;
    g_ptr_array_add(fw, c);
    return c;
}

/* A rule from a few iptables-like words: -i -o -s -d -p --ct (mask) -j. */
static inline VnFwRule *
rule(VnFwChain *c, const char *spec)
{
    g_auto(GStrv) w = g_strsplit(spec, " ", -1);
    VnFwRule *r = vn_fw_rule_new();
    gboolean neg = FALSE;

    r->handle = c->rules->len + 1;
    for (guint i = 0; w[i]; i++) {
        const char *a = w[i], *v = w[i + 1];

        if (!strcmp(a, "!")) {
            neg = TRUE;
            continue;
        }
        if (!strcmp(a, "-i") || !strcmp(a, "-o")) {
            gboolean pre = g_str_has_suffix(v, "+");
            char *name = g_strndup(v, strlen(v) - (pre ? 1 : 0));

            if (a[1] == 'i') {
                r->iif = name;
                r->iif_neg = neg;
                r->iif_prefix = pre;
            } else {
                r->oif = name;
                r->oif_neg = neg;
                r->oif_prefix = pre;
            }
        } else if (!strcmp(a, "-s")) {
            assert_true(vn_cidr_parse(v, VN_CIDR_SUBNET, &r->src, NULL));
            r->src_neg = neg;
        } else if (!strcmp(a, "-d")) {
            assert_true(vn_cidr_parse(v, VN_CIDR_SUBNET, &r->dst, NULL));
            r->dst_neg = neg;
        } else if (!strcmp(a, "-p")) {
            r->l4proto = !strcmp(v, "tcp") ? IPPROTO_TCP : IPPROTO_ICMP;
            r->l4proto_neg = neg;
        } else if (!strcmp(a, "--ct")) {
            r->ct_state = !strcmp(v, "new") ? VN_CT_NEW
                                            : VN_CT_ESTABLISHED | VN_CT_RELATED;
        } else if (!strcmp(a, "--opaque")) {
            r->opaque = g_strdup(v);
        } else if (!strcmp(a, "-j") || !strcmp(a, "-g")) {
            g_autofree char *lower = g_ascii_strdown(v, -1);

            if (!vn_fw_verdict_from_string(lower, &r->verdict)) {
                r->verdict = a[1] == 'g' ? VN_FW_GOTO : VN_FW_JUMP;
                r->target = g_strdup(v);
            }
        } else {
            fail_msg("bad word %s", a);
        }
        i++;
        neg = FALSE;
    }
    g_ptr_array_add(c->rules, r);
    return r;
}

static inline VnPacket
pkt(const char *src, const char *dst, const char *iif, const char *oif,
    guint ct)
{
    VnPacket p = { { 0 }, { 0 }, IPPROTO_ICMP, iif, oif, ct };

    assert_true(vn_cidr_parse(src, VN_CIDR_ADDRESS, &p.src, NULL));
    assert_true(vn_cidr_parse(dst, VN_CIDR_ADDRESS, &p.dst, NULL));
    return p;
}

/* libvirt 9.0's forward chains for virbr0 on 192.168.124.0/24 */
static inline GPtrArray *
libvirt9(void)
{
    GPtrArray *fw = fw_new();
    VnFwChain *fwd = chain(fw, NFPROTO_IPV4, "filter", "FORWARD", "forward",
                           "filter", 0, FALSE);
    VnFwChain *fwi = chain(fw, NFPROTO_IPV4, "filter", "LIBVIRT_FWI", NULL,
                           NULL, 0, FALSE);
    VnFwChain *fwo = chain(fw, NFPROTO_IPV4, "filter", "LIBVIRT_FWO", NULL,
                           NULL, 0, FALSE);
    VnFwChain *fwx = chain(fw, NFPROTO_IPV4, "filter", "LIBVIRT_FWX", NULL,
                           NULL, 0, FALSE);

    rule(fwd, "-j LIBVIRT_FWX");
    rule(fwd, "-j LIBVIRT_FWI");
    rule(fwd, "-j LIBVIRT_FWO");
    rule(fwx, "-i virbr0 -o virbr0 -j ACCEPT");
    rule(fwi, "-d 192.168.124.0/24 -o virbr0 --ct est -j ACCEPT");
    rule(fwi, "-o virbr0 -j REJECT");
    rule(fwo, "-s 192.168.124.0/24 -i virbr0 -j ACCEPT");
    rule(fwo, "-i virbr0 -j REJECT");
    return fw;
}

