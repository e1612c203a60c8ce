/* xtables.h: legacy xtables, the tables of the iptables-legacy binaries,
 * on this host.
 *
 * On a host whose iptables alternative is iptables-legacy, libvirt's
 * REJECTs live in legacy xtables, a registration at the netfilter hooks
 * of its own that no nftables accept reaches. virt-nest puts its
 * exceptions there too, the way libvirt itself does on such a host: it
 * runs the binaries (iptables-legacy-restore --noflush, one block per
 * table, which the kernel replaces whole), with the same comment
 * (-m comment) as everywhere else. The backend is vn_fw_legacy_class
 * (fwbackend.h); the text of rules and tables is xtsave.h's.
 *
 * What the kernel has is asked without a process: /proc/net/ip_tables_names
 * (ip6_tables_names) lists the tables of this network namespace, and
 * IPT_SO_GET_ENTRIES says what each holds. iptables-legacy-save runs only
 * where a rule's text is needed (to find virt-nest's rules, to compare or
 * remove them, for doctor); a host without legacy tables costs one failed
 * open().
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <glib.h>

#include "xtsave.h"

G_BEGIN_DECLS

/**
 * vn_xt_read:
 * @chains: (element-type VnFwChain): where this host's legacy chains go
 * @error: set when legacy tables are in use but cannot be read (the
 *   binaries are missing, or they fail), with the fix
 *
 * Reads the legacy tables of both families, if any are in use: no
 * process starts when /proc/net/ip_tables_names and ip6_tables_names list
 * none (or only tables with nothing in them).
 */
gboolean vn_xt_read(GPtrArray *chains, GError **error);

G_END_DECLS
