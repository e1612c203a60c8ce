/* leases.h: libvirt's DHCP lease status files.
 *
 * libvirt's leaseshelper keeps /var/lib/libvirt/dnsmasq/<bridge>.status: a
 * JSON array of {"ip-address", "mac-address", "hostname", "client-id",
 * "expiry-time", "iaid", "server-duid"}.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <glib.h>

#include "model.h"

G_BEGIN_DECLS

/**
 * vn_leases_parse:
 * @text: the content of a lease status file
 * @len: its length, or -1
 * @bridge: the bridge the file belongs to (stored in each lease)
 * @leases: (inout): VnLease array to append to
 * @error: names the problem
 *
 * Entries without an address or MAC (IPv6 DUID-only leases) are skipped.
 * An empty file is an empty list.
 */
gboolean vn_leases_parse(const char *text, gssize len, const char *bridge,
                         GPtrArray *leases, GError **error);

/**
 * vn_leases_load:
 * @dir: the directory of the status files (VN_LEASES_DIR by default)
 * @bridge: the bridge whose <bridge>.status to read
 * @leases: (inout): VnLease array to append to
 * @error: set on unreadable or malformed files; a missing file is no error
 */
gboolean vn_leases_load(const char *dir, const char *bridge,
                        GPtrArray *leases, GError **error);

G_END_DECLS
