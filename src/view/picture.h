/* picture.h: Mermaid and Graphviz pictures, node by node, for status and
 * graph.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct {
    GString *out;
    gboolean dot;           /* Graphviz; else Mermaid */
} VnPic;

typedef enum {
    VN_PIC_BRIDGE,
    VN_PIC_TAP,
    VN_PIC_GUEST,
    VN_PIC_SUBNET,
    VN_PIC_LINK,
} VnPicShape;

/* A node id: @kind, '_', then @name with everything but letters and
 * digits as '_'. */
char *vn_pic_id(const char *kind, const char *name);

/* Escape a label; lines are separated by '\n' in @text. */
char *vn_pic_label(const VnPic *pic, const char *text);

void vn_pic_node(VnPic *pic, const char *id, VnPicShape shape,
                 const char *text);
void vn_pic_edge(VnPic *pic, const char *from, const char *to,
                 const char *label, gboolean dashed);

G_END_DECLS
