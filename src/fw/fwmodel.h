/* fwmodel.h: a host's firewall as virt-nest can evaluate it: the chains
 * of the nftables ruleset (iptables-nft's included) and of legacy xtables
 * (iptables-legacy), each rule reduced to what decides a forwarded
 * packet's fate.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <glib.h>

#include "cidr.h"

G_BEGIN_DECLS

/* conntrack states, as the kernel numbers them for ct state and
 * -m conntrack --ctstate */
#define VN_CT_INVALID     (1u << 0)
#define VN_CT_ESTABLISHED (1u << 1)
#define VN_CT_RELATED     (1u << 2)
#define VN_CT_NEW         (1u << 3)
#define VN_CT_UNTRACKED   (1u << 6)

typedef enum {
    VN_FW_CONTINUE,         /* no verdict: counter, log, comment, CHECKSUM */
    VN_FW_ACCEPT,
    VN_FW_DROP,
    VN_FW_REJECT,
    VN_FW_JUMP,
    VN_FW_GOTO,
    VN_FW_RETURN,
    VN_FW_MASQUERADE,
    VN_FW_SNAT,
    VN_FW_DNAT,
} VnFwVerdict;

const char *vn_fw_verdict_to_string(VnFwVerdict v);
gboolean vn_fw_verdict_from_string(const char *s, VnFwVerdict *out);

typedef struct {
    char *iif;              /* NULL: any interface */
    gboolean iif_neg;
    gboolean iif_prefix;    /* "virbr+": every name that starts so */
    char *oif;
    gboolean oif_neg;
    gboolean oif_prefix;
    VnCidr src;             /* empty: any */
    gboolean src_neg;
    VnCidr dst;
    gboolean dst_neg;
    guint8 l4proto;         /* 0: any */
    gboolean l4proto_neg;
    guint ct_state;         /* 0: any; else a mask of VN_CT_* */
    guint ct_status;        /* 0: any; else the rule needs one of these
                             * IPS_* bits (ct status dnat: 1 << 5), which
                             * a new connection's first packet that was
                             * not rewritten never has */
    int nfproto;            /* 0: any; NFPROTO_IPV4 or NFPROTO_IPV6 in an
                             * inet table (meta nfproto, what ip6 daddr
                             * implies there) */
    VnFwVerdict verdict;
    char *target;           /* the chain of a jump or goto */
    char *comment;
    guint64 handle;         /* nf_tables: the rule handle; legacy: the
                             * rule's position in its chain, from 1 */
    char *opaque;           /* NULL, or what virt-nest could not evaluate */
} VnFwRule;

typedef struct {
    int family;             /* NFPROTO_IPV4, NFPROTO_IPV6 or NFPROTO_INET */
    gboolean legacy;        /* a chain of legacy xtables (iptables-legacy),
                             * not of nf_tables: its own registration at
                             * the hook, its own namespace of tables */
    char *table;
    char *name;
    char *hook;             /* "forward", "postrouting", ...; NULL: a regular chain */
    char *type;             /* "filter", "nat", "route" */
    int priority;
    gboolean policy_drop;
    GPtrArray *rules;       /* VnFwRule, in order */
} VnFwChain;

VnFwRule *vn_fw_rule_new(void);
void vn_fw_rule_free(VnFwRule *rule);
VnFwChain *vn_fw_chain_new(void);
void vn_fw_chain_free(VnFwChain *chain);

/* "ip", "ip6", "inet" */
const char *vn_fw_family_to_string(int family);
int vn_fw_family_from_string(const char *s);

/* The rule in iptables terms: "-o virbr0 -j REJECT". transfer full. */
char *vn_fw_rule_describe(const VnFwRule *rule);

G_END_DECLS
