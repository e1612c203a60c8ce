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
 * @inner: (nullable): the layer inside the guest (--connect-inner, e.g.
 *   qemu+ssh://ADDRESS/system), where level 1's network is defined
 * @plan: the plan
 * @done: (element-type utf8): one line per change made is appended
 * @unchanged: (element-type utf8): one line per part that is in place
 *   already (an earlier run's) is appended
 * @undone: (element-type utf8): on failure, one line per change of this
 *   run that was undone
 * @error: names the object and carries libvirt's own message
 *
 * Checks everything on both connections first (the network, the guest,
 * reservations in the way, the networks inside), then adds the guest's
 * DHCP reservation (live when the network runs, and persistent), sets its
 * <nest:guest> metadata when it exists (live when it runs, persistent when
 * it is), and defines level 1's network inside (its UUID kept when one of
 * that name is there) and starts it. What is in place already is left as
 * it is. When a change fails, the earlier ones are undone, @done is
 * emptied and FALSE is returned.
 */
gboolean vn_nest_apply(virConnectPtr conn, virConnectPtr inner,
                       const VnNestPlan *plan, GPtrArray *done,
                       GPtrArray *unchanged, GPtrArray *undone,
                       GError **error);

/* The <guest> element virDomainSetMetadata() takes for the namespace
 * (no prefix: libvirt adds it). transfer full. */
char *vn_nest_bare_metadata(GArray *routes);

G_END_DECLS
