/* stitch.h: the whole nest from one snapshot per layer.
 *
 * A guest's interface has a MAC (52:54:00:..); on the host below, its TAP
 * has the same MAC with the first byte fe. The layer inside that guest has
 * a link with the guest MAC. Matching them ties each snapshot to the layer
 * it runs in, the way the seed's reader matched vnet0's fe:54:00:fc:38:e0
 * with enp1s0's 52:54:00:fc:38:e0 by eye.
 *
 * Snapshots come from other layers, whose users control them: stitching
 * costs time in proportion to their size (every lookup below is by hash),
 * and a layer larger than VN_NEST_MAX_* is refused.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <glib.h>

#include "layerindex.h"
#include "model.h"

G_BEGIN_DECLS

/* The most of each kind of object one layer's snapshot may hold: far
 * above a real host, low enough that what graph and doctor do per object
 * stays quick. Routes and firewall rules are looked at one by one only. */
#define VN_NEST_MAX_OBJECTS 65536       /* links, addresses, networks,
                                         * DHCP reservations, guests,
                                         * their interfaces, leases */
#define VN_NEST_MAX_GUEST_IFACES 1024   /* interfaces of one guest */
#define VN_NEST_MAX_RULES 1048576       /* routes; firewall chains, rules */

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
    VnLayerIndex *index;        /* its objects by hash */
    GHashTable *children_by_tap;    /* private */
};

typedef struct {
    GPtrArray *layers;          /* VnNestLayer, outermost first, then by level */
    GHashTable *by_address;     /* private: host address -> its layer */
} VnNest;

/**
 * vn_nest_stitch:
 * @layers: (transfer full) (element-type VnLayer): one per snapshot
 * @sources: (element-type utf8): their names, in step
 * @error: names the snapshot and the problem: a layer given twice, a
 *   snapshot that is no guest of any other and has none of them as guest,
 *   a layer that hangs off two others, no host view, too many objects
 *
 * Returns: (transfer full): the nest, or NULL.
 */
VnNest *vn_nest_stitch(GPtrArray *layers, GPtrArray *sources, GError **error);
void vn_nest_free(VnNest *nest);

/* The layer with @addr as one of its host addresses (host bits compared,
 * the prefix not), or NULL; @link: (out) (optional): the link it is on. */
VnNestLayer *vn_nest_find_address(const VnNest *nest, const VnCidr *addr,
                                  const VnLink **link);

/* The children of @l whose uplink hangs off the bridge (or TAP) @link of
 * @l. (transfer container) */
GPtrArray *vn_nest_children_on(const VnNestLayer *l, const VnLink *link);

/* The child of @l that hangs off its TAP @link, or NULL. */
const VnNestLayer *vn_nest_layer_child_on_tap(const VnNestLayer *l,
                                              const VnLink *link);

/* TRUE when @a is one of @l's host addresses (host bits compared);
 * @link: (out) (optional): the link it is on. By hash. */
gboolean vn_nest_layer_has_address(const VnNestLayer *l, const VnCidr *a,
                                   const VnLink **link);

/* @l's first address of @family on @link that is not link-local. */
gboolean vn_nest_layer_link_address(const VnNestLayer *l, const VnLink *link,
                                    int family, VnCidr *out);

/* A host link's first address of @family that is not link-local. */
gboolean vn_link_address(const VnHost *host, const VnLink *link, int family,
                         VnCidr *out);

/* TRUE when @a is one of the host's addresses (host bits compared). */
gboolean vn_host_has_address(const VnHost *host, const VnCidr *a,
                             const VnLink **link);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(VnNest, vn_nest_free)

G_END_DECLS
