/* fweval.h: what a firewall does to one packet at one hook.
 *
 * Pure: the chains (fwmodel.h) and a packet in, the verdict out, with the
 * chain and rule that decided it.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <glib.h>

#include "fwmodel.h"

G_BEGIN_DECLS

typedef struct {
    VnCidr src;             /* host addresses (/32, /128) */
    VnCidr dst;
    guint8 proto;           /* IPPROTO_ICMP, IPPROTO_TCP, ... */
    const char *iif;        /* NULL: none (output, postrouting of a local packet) */
    const char *oif;        /* NULL: none (input) */
    guint ct;               /* VN_CT_NEW, or VN_CT_ESTABLISHED for replies */
} VnPacket;

/* Rule evaluations one packet may cost at one hook. A real ruleset's
 * path is a few thousand rules (kube-proxy's largest, some tens of
 * thousands); jumps that loop back, which no kernel loads but a snapshot
 * can hold, cost k^16 and more. */
#define VN_FW_EVAL_BUDGET 1000000

typedef struct {
    VnFwVerdict verdict;    /* ACCEPT, DROP or REJECT; for NAT hooks also
                             * MASQUERADE, SNAT, DNAT; CONTINUE (no
                             * verdict) when too_complex */
    gboolean too_complex;   /* the budget ran out before a verdict; base is
                             * the base chain it ran out in */
    guint64 evaluated;      /* rule evaluations this packet cost */
    const VnFwChain *base;  /* the base chain that decided */
    const VnFwChain *chain; /* the chain of the deciding rule (or the base) */
    const VnFwRule *rule;   /* the deciding rule; NULL for a chain policy;
                             * for ACCEPT the first rule that accepted, or
                             * NULL when no rule did (policy accept) */
    GPtrArray *unknown;     /* VnFwRule: rules that might have matched but
                             * could not be evaluated (opaque) */
    GPtrArray *unknown_chains;  /* their chains, in step */
} VnFwResult;

void vn_fw_result_clear(VnFwResult *r);
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(VnFwResult, vn_fw_result_clear)

/**
 * vn_fw_eval:
 * @chains: (element-type VnFwChain): the host's firewall
 * @hook: "forward", "postrouting", ...
 * @type: "filter" or "nat"
 * @pkt: the packet
 * @budget: (inout) (nullable): rule evaluations left for a larger task
 *   (all the packets of one doctor run), less what this packet cost;
 *   NULL: VN_FW_EVAL_BUDGET for this packet alone
 * @out: (out caller-allocates): the result; clear it with
 *   vn_fw_result_clear()
 *
 * Runs @pkt through every base chain of @type at @hook of the matching
 * families, by priority: it is accepted only when every one of them
 * accepts it. For "nat", the first NAT verdict wins. One packet costs at
 * most VN_FW_EVAL_BUDGET rule evaluations (and no more than *@budget):
 * past that, @out->too_complex is set and there is no verdict.
 */
void vn_fw_eval(GPtrArray *chains, const char *hook, const char *type,
                const VnPacket *pkt, guint64 *budget, VnFwResult *out);

/* TRUE if @rule's evaluable parts match @pkt (opaque parts aside). */
gboolean vn_fw_rule_matches(const VnFwRule *rule, const VnPacket *pkt);

G_END_DECLS
