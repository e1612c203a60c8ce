/* fwpath.h: what this host's whole firewall does to the traffic one
 * exception is for: every base chain of every table at the hook (legacy
 * xtables too, where read), as the kernel runs them.
 *
 * Pure: the host (links, routes, firewall model) and the rule in, the
 * verdict of the whole path out, with the rule that decides it.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <glib.h>

#include "fweval.h"
#include "layerplan.h"
#include "model.h"

G_BEGIN_DECLS

typedef enum {
    VN_FW_PATH_PASSES,      /* every base chain lets it through */
    VN_FW_PATH_STOPPED,     /* a base chain drops, rejects or (NAT)
                             * rewrites it */
    VN_FW_PATH_UNKNOWN,     /* the host's firewall was not read, or is
                             * too complex to evaluate (fweval.h) */
} VnFwPathState;

typedef struct {
    VnFwPathState state;
    char *packet;           /* "tcp 192.168.122.128 -> 192.168.124.128 in
                             * enp1s0 out virbr0" */
    char *decided;          /* the deciding rule and where it is:
                             * "ip filter LIBVIRT_FWI: -o virbr0 -j REJECT",
                             * or the policy; NULL when nothing decided */
    gboolean by_us;         /* the deciding rule (for PASSES, the first
                             * that accepted) is virt-nest's */
    gboolean in_our_chain;  /* STOPPED in a base chain that holds one of
                             * virt-nest's rules for this exception:
                             * something above them catches it */
    guint unknown;          /* rules that might have matched but could not
                             * be evaluated */
} VnFwPath;

void vn_fw_path_clear(VnFwPath *path);

/**
 * vn_fw_path_check:
 * @host: the host, with its firewall read (host->firewall)
 * @rule: the exception
 * @out: (out caller-allocates): the verdict; clear with vn_fw_path_clear
 *
 * The exception's traffic, a new TCP connection and an ICMP echo between
 * an address of each of its subnets, in on the link the host routes the
 * source to and out on the one it routes the destination to, through the
 * forward hook (VN_RULE_IN, VN_RULE_OUT) or the NAT postrouting hook
 * (VN_RULE_NAT: STOPPED when something still masquerades it). The worse
 * of the two protocols is reported.
 */
void vn_fw_path_check(const VnHost *host, const VnRule *rule, VnFwPath *out);

/* The route @host's main table takes to @addr (longest prefix, lowest
 * metric), or NULL. Borrowed from @host. */
const VnHostRoute *vn_host_route_to(const VnHost *host, const VnCidr *addr);

G_END_DECLS
