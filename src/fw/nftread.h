/* nftread.h: read this host's nftables ruleset into the firewall model.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <glib.h>

#include "fwmodel.h"
#include "model.h"

G_BEGIN_DECLS

/* Every chain of every ip, ip6 and inet table, with its rules, and the
 * chains of legacy xtables (xtables.h) when its tables are in use.
 * (element-type VnFwChain) */
GPtrArray *vn_fw_read(GError **error);

/* Add the forwarding path to @host: ip_forward, rp_filter (all and per
 * link), and the firewall. For status and doctor; the hooks never read
 * it. */
gboolean vn_host_read_forwarding(VnHost *host, GError **error);

G_END_DECLS
