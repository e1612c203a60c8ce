/* bundle.h: a walk's bundle: the snapshots of every layer of a nest that
 * `virt-nest status --json --host --walk` collected through the guest
 * agents, each tied to its parent layer and to its guest there.
 *
 *   { "format": "virt-nest-bundle", "version": 1,
 *     "layers": [
 *       { "parent": null, "snapshot": { ...status --json... } },
 *       { "parent": 0, "guest": { "name": "debian",
 *                                 "mac": "52:54:00:fc:38:e0" },
 *         "snapshot": { ... } },
 *       { "parent": 0, "guest": { "name": "rhel", "mac": ... },
 *         "partial": { "reason": "guest-exec is disabled in the guest's "
 *                                "agent",
 *                      "interfaces": [ { "name": "eth0", "mac": ...,
 *                                        "addresses": [ "10.0.0.5/24" ] }
 *                                    ] } } ],
 *     "leaves": [ { "parent": 0, "guest": "win11",
 *                   "reason": "no agent: ..." } ] }
 *
 * The first layer is where the walk started; every other names an earlier
 * one as its parent (so there is no cycle) and one of that parent's
 * guests. A partial layer is what the guest's agent alone told
 * (agentlayer.h). A leaf is a guest the walk did not enter, and why.
 *
 * Bundles come from guests, whose users control them: the reader is
 * strict and bounded (VN_BUNDLE_MAX_*).
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <glib.h>

#include "agentlayer.h"
#include "json.h"
#include "model.h"

G_BEGIN_DECLS

#define VN_BUNDLE_FORMAT "virt-nest-bundle"
#define VN_BUNDLE_VERSION 1
/* The most a bundle may hold, read or written: far above a real nest. */
#define VN_BUNDLE_MAX_BYTES (64 * 1024 * 1024)
#define VN_BUNDLE_MAX_LAYERS 256
#define VN_BUNDLE_MAX_LEAVES 4096
/* The most layers a walk enters below the first (--walk-depth). */
#define VN_BUNDLE_MAX_DEPTH 16

/* One layer of a bundle. */
typedef struct {
    VnLayer *layer;         /* the snapshot, or the agent's partial layer */
    int parent;             /* index of its parent layer; -1 for the first */
    char *guest;            /* its domain on the parent; NULL for the first */
    char *mac;              /* that domain's uplink MAC, NULL if not told */
    char *reason;           /* a partial layer: why; NULL for a snapshot */
} VnBundleLayer;

/* A guest the walk did not enter. */
typedef struct {
    int parent;
    char *guest;
    char *reason;
} VnBundleLeaf;

typedef struct {
    GPtrArray *layers;      /* VnBundleLayer, in the bundle's order */
    GPtrArray *leaves;      /* VnBundleLeaf */
} VnBundle;

void vn_bundle_free(VnBundle *bundle);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VnBundle, vn_bundle_free)

/* TRUE when @root is a bundle (its "format"), not a status snapshot. */
gboolean vn_bundle_is_bundle(const VnJson *root);

/**
 * vn_bundle_check:
 * @root: a parsed bundle
 * @name: what to call it in messages
 * @error: names @name, the layer by index and the problem: another
 *   format, a newer version, a parent that is not an earlier full
 *   snapshot, a guest that parent does not have, a guest given twice,
 *   too many layers
 *
 * The bundle's structure, without reading its snapshots.
 */
gboolean vn_bundle_check(const VnJson *root, const char *name,
                         GError **error);

/**
 * vn_bundle_parse:
 * @text: the JSON `virt-nest status --json --walk` printed
 * @len: its length, or -1
 * @name: what to call it in messages (the file name)
 * @error: as vn_bundle_check(), or a snapshot inside it that
 *   vn_snapshot_parse() refuses, or a text over VN_BUNDLE_MAX_BYTES
 *
 * Returns: (transfer full): the bundle, or NULL.
 */
VnBundle *vn_bundle_parse(const char *text, gssize len, const char *name,
                          GError **error);

/* Builds a bundle: the walk's. */
typedef struct VnBundleBuilder VnBundleBuilder;

/* A bundle whose first layer is @snapshot (transfer full), a parsed
 * status snapshot. */
VnBundleBuilder *vn_bundle_builder_new(VnJson *snapshot);
void vn_bundle_builder_free(VnBundleBuilder *b);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VnBundleBuilder, vn_bundle_builder_free)

/* How many layers so far (the next layer's index). */
guint vn_bundle_builder_count(const VnBundleBuilder *b);

/**
 * vn_bundle_builder_add:
 * @b: the builder
 * @parent: the index of the layer @guest runs on
 * @guest: the domain's name there
 * @mac: (nullable): its uplink MAC
 * @inner: (transfer full): what virt-nest printed inside the guest, parsed:
 *   a status snapshot, or a bundle (vn_bundle_check() passed) whose layers
 *   are taken in with their parents renumbered
 * @error: a bundle that would grow past VN_BUNDLE_MAX_LAYERS
 */
gboolean vn_bundle_builder_add(VnBundleBuilder *b, guint parent,
                               const char *guest, const char *mac,
                               VnJson *inner, GError **error);

/* A partial layer for @guest: what its agent told (@ifaces: VnAgentIface,
 * borrowed) and why no more. */
gboolean vn_bundle_builder_add_partial(VnBundleBuilder *b, guint parent,
                                       const char *guest, const char *mac,
                                       GPtrArray *ifaces, const char *reason,
                                       GError **error);

/* A guest of layer @parent not entered, and why. */
void vn_bundle_builder_add_leaf(VnBundleBuilder *b, guint parent,
                                const char *guest, const char *reason);

/* Returns: (transfer full): the bundle's JSON text, with a final
 * newline. */
char *vn_bundle_builder_finish(VnBundleBuilder *b);

G_END_DECLS
