/* walk.h: the walk: this layer's snapshot and, through every running
 * guest's QEMU agent, the snapshot `virt-nest status --json --host --walk`
 * takes inside it, recursively, as one bundle (bundle.h).
 *
 * Each guest costs at most its time (VnWalkOptions.timeout): every agent
 * command carries libvirt's timeout, and the guest's work runs in a
 * thread of its own that the walk leaves behind when the time is up (an
 * agent that hangs inside libvirt after guest-sync, whose wait libvirt
 * does not bound, cannot hang the walk; libvirt commit 95f5ac9a).
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <glib.h>
#include <libvirt/libvirt.h>

#include "json.h"
#include "model.h"

G_BEGIN_DECLS

#define VN_WALK_DEPTH 4
#define VN_WALK_TIMEOUT 10
/* What one guest may print: its base64 in guest-exec-status's answer must
 * fit libvirt's RPC strings (REMOTE_STRING_MAX, 4 MiB) */
#define VN_WALK_MAX_OUTPUT 3000000
#define VN_WALK_MAX_TIMEOUT 3600

typedef struct {
    guint depth;            /* layers below this one to enter: 1 and more */
    guint timeout;          /* seconds per guest, its own walk included */
    gsize max_output;       /* bytes one guest may print */
    const char *command;    /* virt-nest inside the guests (searched in
                             * the agent's PATH): NULL for "virt-nest" */
} VnWalkOptions;

/**
 * vn_walk:
 * @conn: a read-write connection (agent commands need one), borrowed
 * @layer: this layer, discovered on @conn
 * @self: (transfer full): this layer's `status --json --host`, parsed
 * @opts: the bounds
 * @error: set only when the bundle cannot be made at all
 *
 * Every running guest of @layer becomes a layer of the bundle (its
 * snapshot, or its bundle, from inside), a partial layer (what its agent
 * told, and why no more: guest-exec disabled, virt-nest not installed,
 * no answer in time, too much output) or a leaf (no agent, and why).
 *
 * Returns: (transfer full): the bundle's JSON text.
 */
char *vn_walk(virConnectPtr conn, const VnLayer *layer, VnJson *self,
              const VnWalkOptions *opts, GError **error);

G_END_DECLS
