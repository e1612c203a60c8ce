/* picture.c: Mermaid and Graphviz pictures, node by node.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include <string.h>

#include "escape.h"
#include "facts.h"
#include "picture.h"

VnPic *
vn_pic_new(gboolean dot)
{
    VnPic *pic = g_new0(VnPic, 1);

    pic->dot = dot;
    pic->ids = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    pic->taken = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    pic->marks = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    pic->tips = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
    pic->bold = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    if (dot)
        pic->out = g_string_new("digraph virt_nest {\n"
                                "  rankdir=TB;\n"
                                "  compound=true;\n"
                                "  node [fontname=\"Helvetica\", fontsize=10];\n"
                                "  edge [fontname=\"Helvetica\", fontsize=9, "
                                "arrowhead=none];\n");
    else
        /* mermaid.js wraps a label at 200 pixels, a MAC and address line
         * and the firewall badge among them, and the doctor's legend (84
         * columns, nestview.c): wide enough for those.
         * Not the elk renderer ("defaultRenderer": "elk"): the mermaid
         * bundle (mermaid 11) has no elk layout without the separate
         * @mermaid-js/layout-elk and falls back to dagre, so the picture
         * would be one thing where it is tested and another elsewhere. */
        pic->out = g_string_new("%%{init: {\"flowchart\": "
                                "{\"wrappingWidth\": 800}}}%%\n"
                                "flowchart TB\n");
    return pic;
}

void
vn_pic_free(VnPic *pic)
{
    if (!pic)
        return;
    if (pic->out)
        g_string_free(pic->out, TRUE);
    g_hash_table_unref(pic->ids);
    g_hash_table_unref(pic->taken);
    g_hash_table_unref(pic->marks);
    g_hash_table_unref(pic->tips);
    g_hash_table_unref(pic->bold);
    g_free(pic);
}

char *
vn_pic_finish(VnPic *pic)
{
    char *text;

    static const char *const defs[] = {
        [VN_PIC_DIM] = "  classDef vnDim stroke:#9ca3af,color:#6b7280,"
                       "stroke-dasharray:3 3\n",
        [VN_PIC_PATH] = "  classDef vnPath stroke-width:3px\n",
        [VN_PIC_DEAD] = "  classDef vnDead stroke:#dc2626,stroke-width:3px,"
                        "color:#b91c1c\n",
    };

    if (pic->dot)
        g_string_append(pic->out, "}\n");
    for (guint m = VN_PIC_DIM; !pic->dot && m <= VN_PIC_DEAD; m++)
        if (pic->classes & (1u << m))
            g_string_append(pic->out, defs[m]);
    text = g_string_free(g_steal_pointer(&pic->out), FALSE);
    vn_pic_free(pic);
    return text;
}

/* letters, digits and '_' only */
static void
append_id_part(GString *s, const char *part)
{
    for (const char *p = part; p && *p; p++)
        g_string_append_c(s, g_ascii_isalnum(*p) ? *p : '_');
}

const char *
vn_pic_id(VnPic *pic, const char *kind, const char *name)
{
    g_autofree char *key = g_strdup_printf("%s\036%s", kind, name ? name : "");
    const char *id = g_hash_table_lookup(pic->ids, key);
    g_autoptr(GString) base = NULL;
    char *fresh;

    if (id)
        return id;
    base = g_string_new(NULL);
    append_id_part(base, kind);
    g_string_append_c(base, '_');
    append_id_part(base, name);
    fresh = g_strdup(base->str);
    /* "br-1" and "br_1" are two bridges: the second is br_1_2 */
    for (guint n = 2; g_hash_table_contains(pic->taken, fresh); n++) {
        g_free(fresh);
        fresh = g_strdup_printf("%s_%u", base->str, n);
    }
    g_hash_table_add(pic->taken, fresh);
    g_hash_table_insert(pic->ids, g_steal_pointer(&key), fresh);
    return fresh;
}

/* One character of a label in Graphviz's double-quoted strings: '\' starts
 * an escape there (\n, \l, \N, ...), and labels take HTML entities. */
static void
dot_char(GString *s, char c)
{
    switch (c) {
    case '\n': g_string_append(s, "\\n"); break;
    case '"': g_string_append(s, "\\\""); break;
    case '\\': g_string_append(s, "\\\\"); break;
    case '&': g_string_append(s, "&amp;"); break;
    default: g_string_append_c(s, c);
    }
}

/* One character of a Mermaid label in "...": Mermaid's entity codes for
 * what would end the string, start an entity or markup, or turn the label
 * into a markdown string. */
static void
mermaid_char(GString *s, char c)
{
    switch (c) {
    case '\n': g_string_append(s, "<br/>"); break;
    case '"': g_string_append(s, "#quot;"); break;
    case '<': g_string_append(s, "#lt;"); break;
    case '>': g_string_append(s, "#gt;"); break;
    case '#': g_string_append(s, "#35;"); break;
    case '&': g_string_append(s, "#38;"); break;
    case '`': g_string_append(s, "#96;"); break;
    default: g_string_append_c(s, c);
    }
}

char *
vn_pic_label(const VnPic *pic, const char *text)
{
    void (*put)(GString *, char) = pic->dot ? dot_char : mermaid_char;
    GString *s = g_string_new(NULL);
    g_autoptr(GString) safe = g_string_new(NULL);

    /* line by line, in one pass: a label may have tens of thousands */
    for (const char *line = text; line; ) {
        const char *end = line;
        g_autofree char *one = NULL;

        while (*end && *end != '\n')
            end++;
        one = g_strndup(line, end - line);
        g_string_truncate(safe, 0);
        vn_escape_text_append(safe, one);
        for (const char *p = safe->str; *p; p++)
            put(s, *p);
        if (*end == '\n')
            put(s, '\n');
        line = *end ? end + 1 : NULL;
    }
    return g_string_free(s, FALSE);
}

void
vn_pic_cluster_begin(VnPic *pic, const char *id, const char *title)
{
    g_autofree char *t = vn_pic_label(pic, title);

    if (pic->dot)
        g_string_append_printf(pic->out, "  subgraph cluster_%s {\n"
                               "    label=\"%s\";\n", id, t);
    else
        g_string_append_printf(pic->out, "  subgraph %s[\"%s\"]\n"
                               "    direction TB\n", id, t);
}

void
vn_pic_cluster_end(VnPic *pic)
{
    g_string_append(pic->out, pic->dot ? "  }\n" : "  end\n");
}

void
vn_pic_mark(VnPic *pic, const char *id, VnPicMark mark, const char *tooltip)
{
    g_hash_table_insert(pic->marks, g_strdup(id), GINT_TO_POINTER(mark));
    if (tooltip)
        g_hash_table_insert(pic->tips, g_strdup(id), g_strdup(tooltip));
}

static char *
edge_key(const char *a, const char *b)
{
    return g_strdup_printf("%s\036%s", a, b);
}

void
vn_pic_bold_edge(VnPic *pic, const char *a, const char *b)
{
    g_hash_table_add(pic->bold, edge_key(a, b));
    g_hash_table_add(pic->bold, edge_key(b, a));
}

static gboolean
is_bold(const VnPic *pic, const char *a, const char *b)
{
    g_autofree char *k = edge_key(a, b);

    return g_hash_table_contains(pic->bold, k);
}

/* @text, cut to VN_PIC_MAX_LINES lines. transfer full. */
static char *
bounded(const char *text)
{
    guint lines = 1, kept = 1;
    const char *cut = NULL;

    for (const char *p = text; *p; p++)
        lines += *p == '\n';
    if (lines <= VN_PIC_MAX_LINES)
        return g_strdup(text);
    /* the first VN_PIC_MAX_LINES - 1 lines, then how many more */
    for (cut = text; kept < VN_PIC_MAX_LINES; cut++)
        kept += *cut == '\n';
    return g_strdup_printf("%.*s… %u more lines (text view)",
                           (int)(cut - text), text,
                           lines - (VN_PIC_MAX_LINES - 1));
}

/* Graphviz attributes of a node's mark and tooltip. */
static void
dot_mark(GString *out, const VnPic *pic, const char *id, VnPicMark mark)
{
    const char *tip = g_hash_table_lookup(pic->tips, id);
    static const char *const attrs[] = {
        [VN_PIC_PLAIN] = "",
        [VN_PIC_DIM] = ", color=\"#9ca3af\", fontcolor=\"#6b7280\"",
        [VN_PIC_PATH] = ", penwidth=2.5",
        [VN_PIC_DEAD] = (", color=\"#dc2626\", fontcolor=\"#b91c1c\", "
                         "penwidth=3"),
    };

    g_string_append(out, attrs[mark]);
    if (tip) {
        g_autofree char *t = vn_pic_label(pic, tip);

        g_string_append_printf(out, ", tooltip=\"%s\"", t);
    }
}

void
vn_pic_node(VnPic *pic, const char *id, VnPicShape shape, const char *text)
{
    g_autofree char *cut = bounded(text);
    g_autofree char *label = vn_pic_label(pic, cut);
    VnPicMark mark = GPOINTER_TO_INT(g_hash_table_lookup(pic->marks, id));
    static const char *const classes[] = {
        [VN_PIC_PLAIN] = "", [VN_PIC_DIM] = ":::vnDim",
        [VN_PIC_PATH] = ":::vnPath", [VN_PIC_DEAD] = ":::vnDead",
    };

    if (pic->dot) {
        static const char *const shapes[] = {
            [VN_PIC_BRIDGE] = "box, style=\"rounded,filled\", fillcolor=\"#dbeafe\"",
            [VN_PIC_TAP] = "box, style=filled, fillcolor=\"#f1f5f9\"",
            [VN_PIC_GUEST] = "box3d, style=filled, fillcolor=\"#dcfce7\"",
            [VN_PIC_SUBNET] = "folder, style=filled, fillcolor=\"#fef9c3\"",
            [VN_PIC_LINK] = "box, style=dashed",
            [VN_PIC_OUTSIDE] = "ellipse, style=filled, fillcolor=\"#e5e7eb\"",
            [VN_PIC_NOTE] = "note, style=filled, fillcolor=\"#fff7ed\"",
        };
        g_string_append_printf(pic->out, "    %s [label=\"%s\", shape=%s",
                               id, label, shapes[shape]);
        dot_mark(pic->out, pic, id, mark);
        g_string_append(pic->out, "];\n");
    } else {
        static const char *const open[] = {
            [VN_PIC_BRIDGE] = "([", [VN_PIC_TAP] = "[", [VN_PIC_GUEST] = "[[",
            [VN_PIC_SUBNET] = "[/", [VN_PIC_LINK] = "[",
            [VN_PIC_OUTSIDE] = "{{", [VN_PIC_NOTE] = ">",
        };
        static const char *const close[] = {
            [VN_PIC_BRIDGE] = "])", [VN_PIC_TAP] = "]", [VN_PIC_GUEST] = "]]",
            [VN_PIC_SUBNET] = "/]", [VN_PIC_LINK] = "]",
            [VN_PIC_OUTSIDE] = "}}", [VN_PIC_NOTE] = "]",
        };
        g_string_append_printf(pic->out, "    %s%s\"%s\"%s%s\n", id,
                               open[shape], label, close[shape],
                               classes[mark]);
        pic->classes |= 1u << mark;
    }
}

void
vn_pic_edge(VnPic *pic, const char *from, const char *to, const char *label,
            gboolean dashed)
{
    g_autofree char *l = label ? vn_pic_label(pic, label) : NULL;
    gboolean bold = is_bold(pic, from, to);
    /* Mermaid's thick links have no dashed form */
    const char *arrow = bold ? (dashed ? "==>" : "===")
                             : (dashed ? "-.->" : "---");

    if (pic->dot) {
        g_autoptr(GString) a = g_string_new(NULL);

        if (l)
            g_string_append_printf(a, ", label=\"%s\"", l);
        if (dashed)
            g_string_append(a, ", style=dashed, arrowhead=normal");
        if (bold)
            g_string_append(a, ", penwidth=2.5");
        g_string_append_printf(pic->out, "    %s -> %s", from, to);
        if (a->len)
            g_string_append_printf(pic->out, " [%s]", a->str + 2);
        g_string_append(pic->out, ";\n");
    } else if (l) {
        g_string_append_printf(pic->out, "    %s %s|\"%s\"| %s\n", from,
                               arrow, l, to);
    } else {
        g_string_append_printf(pic->out, "    %s %s %s\n", from, arrow, to);
    }
}

void
vn_pic_edge_up(VnPic *pic, const char *from, const char *to,
               const char *label)
{
    g_autofree char *l = NULL;

    l = label ? vn_pic_label(pic, label) : NULL;
    if (!pic->dot) {
        /* Mermaid ranks by the edge's direction and has no arrow for the
         * other end only: @to first, a dotted line, "↑" in the label */
        const char *line = is_bold(pic, from, to) ? "===" : "-.-";

        if (l)
            g_string_append_printf(pic->out, "    %s %s|\"↑ %s\"| %s\n", to,
                                   line, l, from);
        else
            g_string_append_printf(pic->out, "    %s %s %s\n", to, line, from);
        return;
    }
    g_string_append_printf(pic->out, "    %s -> %s [", to, from);
    if (l)
        g_string_append_printf(pic->out, "label=\"%s\", ", l);
    g_string_append_printf(pic->out,
                           "style=dashed, dir=back, arrowtail=normal%s];\n",
                           is_bold(pic, from, to) ? ", penwidth=2.5" : "");
}

/* ------------------------------------------------------------------ */
/* the nodes both views draw                                           */

void
vn_pic_network_text(GString *t, const VnNetwork *net, const VnHost *host,
                    const VnLink *bridge)
{
    char b[VN_CIDR_STRLEN];

    g_string_append_printf(t, "%s · network %s, %s%s",
                           net->bridge ? net->bridge : "(no bridge)", net->name,
                           net->forward_mode, net->active ? "" : ", inactive");
    if (bridge) {
        g_autoptr(GString) a = g_string_new(NULL);
        g_auto(GStrv) addrs = NULL;
        guint n;

        vn_view_link_addresses(a, host, bridge, "\036");
        addrs = g_strsplit(a->str, "\036", -1);
        n = g_strv_length(addrs);
        /* addrs[0] is empty: each address comes after the separator */
        for (guint i = 1; i < n && i <= 2; i++)
            g_string_append_printf(t, "\n%s", addrs[i]);
        if (n > 3)
            g_string_append_printf(t, " +%u more", n - 3);
    } else {
        for (guint i = 0; i < net->ips->len && i < 2; i++)
            g_string_append_printf(t, "\n%s", vn_cidr_format(
                &((VnNetIp *)net->ips->pdata[i])->address, TRUE, b));
        if (net->ips->len > 2)
            g_string_append_printf(t, " +%u more", net->ips->len - 2);
    }
    /* one line however many: two named, the rest counted */
    for (guint i = 0; net->nest && i < net->peers->len && i < 2; i++)
        g_string_append_printf(t, "%s%s", i ? ", " :
                               net->peers->len > 1 ? "\npeers " : "\npeer ",
                               vn_cidr_format(&g_array_index(net->peers,
                                                             VnCidr, i),
                                              TRUE, b));
    if (net->nest && net->peers->len > 2)
        g_string_append_printf(t, " +%u more", net->peers->len - 2);
}

void
vn_pic_guest_text(GString *t, const VnLayerIndex *index, const VnGuest *guest,
                  gint64 now)
{
    g_string_append_printf(t, "guest %s\n%s", guest->name, guest->state);
    for (guint i = 0; i < guest->ifaces->len; i++) {
        const VnIface *f = guest->ifaces->pdata[i];
        VnGuestAddr ga;
        char b[VN_CIDR_STRLEN];

        g_string_append_printf(t, "\n%s", f->mac ? f->mac : "?");
        if (vn_layer_index_iface_address(index, guest, f, now, AF_INET, &ga) ||
            vn_layer_index_iface_address(index, guest, f, now, AF_INET6, &ga))
            g_string_append_printf(t, " %s (%s)",
                                   vn_cidr_format(&ga.address, FALSE, b),
                                   vn_source_to_string(ga.source));
    }
}

void
vn_pic_tap_text(GString *t, const char *tap, const char *mac)
{
    g_string_append_printf(t, "%s (TAP)\n%s", tap, mac ? mac : "");
}
