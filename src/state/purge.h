/* purge.h: take back everything virt-nest installed on this host, for
 * `virt-nest uninstall-hooks --purge` (which the Debian package runs when
 * it is removed).
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/**
 * vn_state_purge:
 * @dir: the state directory
 * @changes: (element-type utf8): one line is appended for each route, rule
 *   and file removed
 * @error: what failed; the state directory is then kept
 *
 * Removes, in this order:
 *   1. what the ledgers record, as the hooks remove it when an object
 *      stops (rules by handle, every copy; routes by destination, next
 *      hop and tag; adopted hand-made routes get their own protocol back);
 *   2. whatever else carries virt-nest's tag, whoever recorded it (a lost
 *      state directory, rules put back by iptables-persistent): every rule
 *      with a comment of virt-nest's that a firewall backend in this
 *      host's forward path lists (vn_apply_sweep, keeping no network), and
 *      every route of the main table with virt-nest's protocol number;
 *      each all or nothing (state/ops.h);
 *   3. the state directory: lock, intact, network/NAME.xml,
 *      network/NAME.state, domain/NAME.state and temporary files. A file
 *      of another name is an error and stays, with its directories.
 *
 * The caller makes sure no hook runs any more (removes them first): a
 * hook that ran afterwards would install again. Takes the state lock.
 */
gboolean vn_state_purge(const char *dir, GPtrArray *changes, GError **error);

G_END_DECLS
