/* plandefine.h: `virt-nest plan --apply`, over the libvirt API.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <glib.h>
#include <libvirt/libvirt.h>

#include "nestalloc.h"

G_BEGIN_DECLS

/**
 * vn_nest_apply:
 * @conn: this layer, read-write
 * @plan: the plan
 * @done: (element-type utf8): one line per change is appended
 * @error: names the object and libvirt's message
 *
 * Adds the guest's DHCP reservation to its network (live when the network
 * runs, and persistent), and sets the guest's <nest:guest> metadata when
 * the guest exists (live when it runs, persistent when it is).
 */
gboolean vn_nest_apply(virConnectPtr conn, const VnNestPlan *plan,
                       GPtrArray *done, GError **error);

/**
 * vn_nest_apply_inner:
 * @conn: the layer inside the guest (e.g. qemu+ssh://ADDRESS/system)
 *
 * Defines level 1's network there, in place of the network of that name
 * (its UUID is kept), and starts it when it is not running.
 */
gboolean vn_nest_apply_inner(virConnectPtr conn, const VnNestPlan *plan,
                             GPtrArray *done, GError **error);

/* The <guest> element virDomainSetMetadata() takes for the namespace
 * (no prefix: libvirt adds it). transfer full. */
char *vn_nest_bare_metadata(GArray *routes);

G_END_DECLS
