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

G_END_DECLS
