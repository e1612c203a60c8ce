/* picture.c: Mermaid and Graphviz pictures, node by node.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include "picture.h"

/* A node id: letters, digits and '_' only. */
char *
vn_pic_id(const char *kind, const char *name)
{
    GString *s = g_string_new(kind);

    g_string_append_c(s, '_');
    for (const char *p = name; p && *p; p++)
        g_string_append_c(s, g_ascii_isalnum(*p) ? *p : '_');
    return g_string_free(s, FALSE);
}


/* Escape a label; lines are separated by '\n' in @text. */
char *
vn_pic_label(const VnPic *pic, const char *text)
{
    GString *s = g_string_new(NULL);

    for (const char *p = text; *p; p++) {
        if (*p == '\n')
            g_string_append(s, pic->dot ? "\\n" : "<br/>");
        else if (*p == '"')
            g_string_append(s, pic->dot ? "\\\"" : "#quot;");
        else if (!pic->dot && *p == '<')
            g_string_append(s, "#lt;");
        else if (!pic->dot && *p == '>')
            g_string_append(s, "#gt;");
        else
            g_string_append_c(s, *p);
    }
    return g_string_free(s, FALSE);
}


void
vn_pic_node(VnPic *pic, const char *id, VnPicShape shape, const char *text)
{
    g_autofree char *label = vn_pic_label(pic, text);

    if (pic->dot) {
        static const char *const shapes[] = {
            [VN_PIC_BRIDGE] = "box, style=\"rounded,filled\", fillcolor=\"#dbeafe\"",
            [VN_PIC_TAP] = "box, style=filled, fillcolor=\"#f1f5f9\"",
            [VN_PIC_GUEST] = "box3d, style=filled, fillcolor=\"#dcfce7\"",
            [VN_PIC_SUBNET] = "folder, style=filled, fillcolor=\"#fef9c3\"",
            [VN_PIC_LINK] = "box, style=dashed",
        };
        g_string_append_printf(pic->out, "    %s [label=\"%s\", shape=%s];\n",
                               id, label, shapes[shape]);
    } else {
        static const char *const open[] = {
            [VN_PIC_BRIDGE] = "([", [VN_PIC_TAP] = "[", [VN_PIC_GUEST] = "[[",
            [VN_PIC_SUBNET] = "[/", [VN_PIC_LINK] = "[",
        };
        static const char *const close[] = {
            [VN_PIC_BRIDGE] = "])", [VN_PIC_TAP] = "]", [VN_PIC_GUEST] = "]]",
            [VN_PIC_SUBNET] = "/]", [VN_PIC_LINK] = "]",
        };
        g_string_append_printf(pic->out, "    %s%s\"%s\"%s\n", id, open[shape],
                               label, close[shape]);
    }
}

void
vn_pic_edge(VnPic *pic, const char *from, const char *to, const char *label,
         gboolean dashed)
{
    g_autofree char *l = label ? vn_pic_label(pic, label) : NULL;

    if (pic->dot) {
        g_string_append_printf(pic->out, "    %s -> %s", from, to);
        if (l || dashed)
            g_string_append_printf(pic->out, " [%s%s%s%s%s]",
                                   l ? "label=\"" : "", l ? l : "",
                                   l ? "\"" : "", l && dashed ? ", " : "",
                                   dashed ? "style=dashed, arrowhead=normal"
                                          : "");
        g_string_append(pic->out, ";\n");
    } else if (l) {
        g_string_append_printf(pic->out, "    %s %s|\"%s\"| %s\n", from,
                               dashed ? "-.->" : "---", l, to);
    } else {
        g_string_append_printf(pic->out, "    %s %s %s\n", from,
                               dashed ? "-.->" : "---", to);
    }
}

