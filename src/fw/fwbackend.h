/* fwbackend.h: the firewall backends: where an exception must go to beat the
 * REJECT it is for.
 *
 *   iptables   libvirt runs iptables (iptables-nft): the head of
 *              ip/ip6 filter FORWARD, above libvirt's LIBVIRT_FW* jumps;
 *              NAT exemptions at the head of ip/ip6 nat POSTROUTING
 *   nftables   libvirt's own nftables backend: the head of its base chain
 *              ip/ip6 libvirt_network forward; NAT at the head of guest_nat
 *   none       no firewall: nothing to beat, nothing installed
 *
 * An accept in a table of our own would not help: a packet must be
 * accepted by every base chain it crosses.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <glib.h>

#include "nftables.h"
#include "layerplan.h"

G_BEGIN_DECLS

typedef enum {
    VN_FW_NONE,
    VN_FW_IPTABLES,
    VN_FW_NFTABLES,
} VnFwBackend;

const char *vn_fw_backend_to_string(VnFwBackend backend);

/* The chain a rule of @kind and @family (AF_INET/AF_INET6) goes into;
 * FALSE for VN_FW_NONE. */
gboolean vn_fw_chain(VnFwBackend backend, VnRuleKind kind, int family,
                     VnNftChain *out);

/**
 * vn_fw_detect:
 * @nft: an open socket
 * @backend: (out): what libvirt uses here
 * @error: set when the rules live in legacy iptables, which virt-nest
 *   cannot write, with the fix
 *
 * VIRT_NEST_FIREWALL=iptables|nftables|none forces a backend (for tests).
 * Otherwise: libvirt's table ip libvirt_network means nftables; ip filter
 * FORWARD means iptables-nft; legacy iptables tables are an error; nothing
 * means none.
 */
gboolean vn_fw_detect(VnNft *nft, VnFwBackend *backend, GError **error);

G_END_DECLS
