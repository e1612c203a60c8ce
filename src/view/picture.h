/* picture.h: Mermaid and Graphviz pictures for status and graph: the
 * syntax of each (document, clusters, nodes, edges, ids, labels and their
 * escaping) and the nodes both views draw (a libvirt network's bridge, a
 * guest, a TAP).
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <glib.h>

#include "layerindex.h"
#include "model.h"

G_BEGIN_DECLS

typedef struct {
    GString *out;
    gboolean dot;           /* Graphviz; else Mermaid */
    GHashTable *ids;        /* "kind\036name" -> the id it was given */
    GHashTable *taken;      /* ids given */
} VnPic;

typedef enum {
    VN_PIC_BRIDGE,
    VN_PIC_TAP,
    VN_PIC_GUEST,
    VN_PIC_SUBNET,
    VN_PIC_LINK,
} VnPicShape;

/* A picture with its header written: "flowchart TB", or a digraph with
 * the house fonts. */
VnPic *vn_pic_new(gboolean dot);

/* Closes the picture and frees @pic; returns its text (transfer full). */
char *vn_pic_finish(VnPic *pic);
void vn_pic_free(VnPic *pic);

/**
 * vn_pic_id:
 * The node id of the object @name of @kind ("net", "L1 link", ...): the
 * two with everything but ASCII letters and digits as '_', and a number
 * after it when another object already has that id. The same object
 * always gets the same id in one picture.
 * Returns: (transfer none): owned by @pic.
 */
const char *vn_pic_id(VnPic *pic, const char *kind, const char *name);

/* The label of @text in the picture's syntax: control bytes visible (as
 * vn_escape_text() does), then quotes, backslashes, entities and markup
 * escaped; '\n' in @text separates lines. transfer full. */
char *vn_pic_label(const VnPic *pic, const char *text);

/* A subgraph @id (a Graphviz cluster) titled @title, up to
 * vn_pic_cluster_end(). */
void vn_pic_cluster_begin(VnPic *pic, const char *id, const char *title);
void vn_pic_cluster_end(VnPic *pic);

/* A node @id of @shape with the label @text (lines separated by '\n'). */
void vn_pic_node(VnPic *pic, const char *id, VnPicShape shape,
                 const char *text);

/* A dashed edge with an arrow from @from to @to and a label or NULL,
 * with @to drawn above @from: dot gets it as "@to -> @from" with
 * dir=back, so that its ranks put @to first (a bridge's way out above
 * the bridge, as the wire that enters the layer); Mermaid as
 * vn_pic_edge() draws it. */
void vn_pic_edge_up(VnPic *pic, const char *from, const char *to,
                    const char *label);

/* An edge, with a label or NULL; dashed ones have an arrow. */
void vn_pic_edge(VnPic *pic, const char *from, const char *to,
                 const char *label, gboolean dashed);

/* The nodes both views draw: their text, lines separated by '\n'. */

/* A libvirt network's bridge: "virbr0 · network default, nat" (", inactive"
 * when it is), its addresses (the bridge's on the host when @bridge is
 * given, else the network's <ip>s), and a line "peer SUBNET" for each of
 * its <nest:peer>s. */
void vn_pic_network_text(GString *t, const VnNetwork *net, const VnHost *host,
                         const VnLink *bridge);

/* A guest: "guest NAME", its state, and for each interface its MAC and
 * address (metadata, reservation or lease, IPv4 first), looked up in
 * @index, the index of the guest's layer. @now: for lease expiry, 0 to
 * take every lease. */
void vn_pic_guest_text(GString *t, const VnLayerIndex *index,
                       const VnGuest *guest, gint64 now);

/* A TAP: "vnet0 (TAP)" and its MAC. */
void vn_pic_tap_text(GString *t, const char *tap, const char *mac);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(VnPic, vn_pic_free)

G_END_DECLS
