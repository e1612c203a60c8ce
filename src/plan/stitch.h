/* stitch.h: the whole nest from one snapshot per layer.
 *
 * A guest's interface has a MAC (52:54:00:..); on the host below, its TAP
 * has the same MAC with the first byte fe. The layer inside that guest has
 * a link with the guest MAC. Matching them ties each snapshot to the layer
 * it runs in, the way the seed's reader matched vnet0's fe:54:00:fc:38:e0
 * with enp1s0's 52:54:00:fc:38:e0 by eye.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <glib.h>

#include "model.h"

G_BEGIN_DECLS

typedef struct VnNestLayer VnNestLayer;

struct VnNestLayer {
    VnLayer *layer;             /* owned */
    char *source;               /* where it came from, for messages */
    char *name;                 /* "L0", "L1", ...; "L1:guest" for siblings */
    guint level;                /* 0 for the outermost */
    VnNestLayer *parent;        /* the layer it runs in; NULL for L0 */
    /* how it hangs off its parent, all borrowed */
    const VnGuest *guest;       /* the guest on the parent, if it is known */
    const VnIface *guest_iface; /* its interface */
    const VnLink *uplink;       /* this layer's link with the guest MAC */
    const VnLink *tap;          /* the parent's TAP, if its host was read */
    const VnLink *bridge;       /* the bridge that TAP is a port of */
    GPtrArray *children;        /* VnNestLayer, borrowed */
};

typedef struct {
    GPtrArray *layers;          /* VnNestLayer, outermost first, then by level */
} VnNest;

/**
 * vn_nest_stitch:
 * @layers: (transfer full) (element-type VnLayer): one per snapshot
 * @sources: (element-type utf8): their names, in step
 * @error: names the snapshot and the problem: a layer given twice, a
 *   snapshot that is no guest of any other and has none of them as guest,
 *   a layer that hangs off two others, no host view
 *
 * Returns: (transfer full): the nest, or NULL.
 */
VnNest *vn_nest_stitch(GPtrArray *layers, GPtrArray *sources, GError **error);
void vn_nest_free(VnNest *nest);

/* The layer with @addr as one of its host addresses, or NULL. */
VnNestLayer *vn_nest_find_address(const VnNest *nest, const VnCidr *addr,
                                  const VnLink **link);

/* The child of @l whose uplink hangs off the bridge (or TAP) @link of @l. */
GPtrArray *vn_nest_children_on(const VnNestLayer *l, const VnLink *link);

/* A host link's first address of @family that is not link-local. */
gboolean vn_link_address(const VnHost *host, const VnLink *link, int family,
                         VnCidr *out);

/* TRUE when @a is one of the host's addresses (host bits compared). */
gboolean vn_host_has_address(const VnHost *host, const VnCidr *a,
                             const VnLink **link);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(VnNest, vn_nest_free)

G_END_DECLS
