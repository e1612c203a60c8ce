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

/* No node of a picture is taller than this many lines: a longer text is
 * cut, its last line saying how many more the text view has. */
#define VN_PIC_MAX_LINES 6

typedef enum {
    VN_PIC_PLAIN,
    VN_PIC_DIM,             /* unrelated to the nest: grey */
    VN_PIC_PATH,            /* on the packet's way: bold */
    VN_PIC_DEAD,            /* where the packet dies: red */
} VnPicMark;

typedef struct {
    GString *out;
    gboolean dot;           /* Graphviz; else Mermaid */
    GHashTable *ids;        /* "kind\036name" -> the id it was given */
    GHashTable *taken;      /* ids given */
    GHashTable *marks;      /* node id -> VnPicMark, set before the node
                             * is drawn (vn_pic_mark) */
    GHashTable *tips;       /* node id -> its tooltip */
    GHashTable *bold;       /* "from\036to" of edges drawn bold */
    guint classes;          /* 1 << VnPicMark used, for Mermaid's
                             * classDefs */
} VnPic;

typedef enum {
    VN_PIC_BRIDGE,
    VN_PIC_TAP,
    VN_PIC_GUEST,
    VN_PIC_SUBNET,
    VN_PIC_LINK,
    VN_PIC_OUTSIDE,         /* the world beyond the outermost layer */
    VN_PIC_NOTE,            /* a legend */
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

/* Draw the node @id, when it comes, with @mark and @tooltip (or NULL);
 * a later mark of the node wins. */
void vn_pic_mark(VnPic *pic, const char *id, VnPicMark mark,
                 const char *tooltip);

/* Draw the edge between the nodes @a and @b, either way, bold. */
void vn_pic_bold_edge(VnPic *pic, const char *a, const char *b);

/* A node @id of @shape with the label @text (lines separated by '\n'),
 * at most VN_PIC_MAX_LINES of them, marked as vn_pic_mark() said. */
void vn_pic_node(VnPic *pic, const char *id, VnPicShape shape,
                 const char *text);

/* A dashed edge with an arrow from @from to @to and a label or NULL,
 * with @to drawn above @from: dot gets it as "@to -> @from" with
 * dir=back, so that its ranks put @to first (a bridge's way out above
 * the bridge, as the wire that enters the layer); Mermaid as "@to -.-
 * @from", a dotted line with "↑" before the label, for the same reason. */
void vn_pic_edge_up(VnPic *pic, const char *from, const char *to,
                    const char *label);

/* An edge, with a label or NULL; dashed ones have an arrow. */
void vn_pic_edge(VnPic *pic, const char *from, const char *to,
                 const char *label, gboolean dashed);

/* The nodes both views draw: their text, lines separated by '\n'. */

/* A libvirt network's bridge: "virbr0 · network default, nat" (", inactive"
 * when it is), its addresses (the bridge's on the host when @bridge is
 * given, else the network's <ip>s; two, then "+N more"), and its
 * <nest:peer>s in one line: "peer SUBNET", "peers A, B", "peers A, B +3
 * more". */
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
