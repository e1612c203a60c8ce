/* hostread.h: the host part of a layer, read over rtnetlink.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <glib.h>

#include "model.h"

G_BEGIN_DECLS

/**
 * vn_host_read:
 * @error: names the failing netlink request
 *
 * Reads the links, addresses and main-table routes of the current network
 * namespace.
 *
 * Returns: (transfer full): the host, or NULL with @error set.
 */
VnHost *vn_host_read(GError **error);

/* TRUE if @subnet overlaps an address or a directly connected route of
 * @host; *what then describes the first one found (transfer full). */
gboolean vn_host_overlaps(const VnHost *host, const VnCidr *subnet,
                          char **what);

G_END_DECLS
