/* snapshot.h: a layer from `virt-nest status --json`, taken on another
 * host and copied here.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <glib.h>

#include "json.h"
#include "model.h"

G_BEGIN_DECLS

/**
 * vn_snapshot_parse:
 * @text: the JSON `virt-nest status --json` printed
 * @len: its length, or -1
 * @name: what to call it in messages (the file name)
 * @error: names @name and the problem: not a snapshot, a newer version,
 *   a malformed member
 *
 * Returns: (transfer full): the layer: networks, guests, leases, and the
 * host when the snapshot has one.
 */
VnLayer *vn_snapshot_parse(const char *text, gssize len, const char *name,
                           GError **error);

/* The same, from its parsed JSON (@root borrowed): a snapshot inside a
 * bundle (bundle.h). */
VnLayer *vn_snapshot_read(const VnJson *root, const char *name,
                          GError **error);

VnLayer *vn_snapshot_load(const char *path, GError **error);

G_END_DECLS
