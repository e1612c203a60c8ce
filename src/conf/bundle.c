/* bundle.c: a walk's bundle, read and written.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include <string.h>

#include "bundle.h"
#include "error.h"
#include "loadctx.h"
#include "snapshot.h"

static void
bundle_layer_free(VnBundleLayer *l)
{
    if (!l)
        return;
    vn_layer_free(l->layer);
    g_free(l->guest);
    g_free(l->mac);
    g_free(l->reason);
    g_free(l);
}

static void
bundle_leaf_free(VnBundleLeaf *l)
{
    if (!l)
        return;
    g_free(l->guest);
    g_free(l->reason);
    g_free(l);
}

void
vn_bundle_free(VnBundle *bundle)
{
    if (!bundle)
        return;
    g_ptr_array_unref(bundle->layers);
    g_ptr_array_unref(bundle->leaves);
    g_free(bundle);
}

gboolean
vn_bundle_is_bundle(const VnJson *root)
{
    return g_strcmp0(vn_json_get_string(root, "format"), VN_BUNDLE_FORMAT) == 0;
}

/* A member that is an integer index in [0, @below), into *@out. */
static gboolean
get_index(const VnJson *obj, const char *key, guint below, guint *out)
{
    gint64 v;

    if (!vn_json_get_int(obj, key, &v) || v < 0 || v >= below)
        return FALSE;
    *out = (guint)v;
    return TRUE;
}

/* Whether the full snapshot @snap lists a guest named @name. */
static gboolean
snapshot_has_guest(const VnJson *snap, const char *name)
{
    const VnJson *guests = vn_json_get(snap, "guests");

    for (guint i = 0; i < vn_json_length(guests); i++)
        if (g_strcmp0(vn_json_get_string(vn_json_index(guests, i), "name"),
                      name) == 0)
            return TRUE;
    return FALSE;
}

static gboolean
usable_name(const char *s)
{
    return s && *s && strlen(s) <= 255;
}

static gboolean
check_layer(Ctx *c, const VnJson *layers, guint i, GHashTable *seen)
{
    const VnJson *l = vn_json_index(layers, i);
    const VnJson *snap = vn_json_get(l, "snapshot");
    const VnJson *part = vn_json_get(l, "partial");
    const VnJson *guest = vn_json_get(l, "guest");
    const VnJson *p = vn_json_get(l, "parent");
    const char *gname, *mac;
    guint parent;
    char *key;

    if (!l || l->type != VN_JSON_OBJECT)
        return bad(c, "layer %u is not an object", i);
    if ((snap != NULL) == (part != NULL))
        return bad(c, "layer %u: give \"snapshot\" or \"partial\", one of "
                      "them", i);
    if ((snap && snap->type != VN_JSON_OBJECT) ||
        (part && part->type != VN_JSON_OBJECT))
        return bad(c, "layer %u: its snapshot is not an object", i);
    if (part) {
        const VnJson *ifaces = vn_json_get(part, "interfaces");

        if (!vn_json_get_string(part, "reason"))
            return bad(c, "layer %u: a partial layer without its reason", i);
        if (!ifaces || ifaces->type != VN_JSON_ARRAY)
            return bad(c, "layer %u: a partial layer without its "
                          "\"interfaces\" list", i);
    }
    if (i == 0) {
        if ((p && p->type != VN_JSON_NULL) || guest)
            return bad(c, "layer 0 is where the walk started: it has no "
                          "parent and no guest");
        if (!snap)
            return bad(c, "layer 0 is partial; the walk starts from a full "
                          "snapshot");
        return TRUE;
    }
    if (!get_index(l, "parent", i, &parent))
        return bad(c, "layer %u: \"parent\" is not the index of an earlier "
                      "layer", i);
    if (!vn_json_get(vn_json_index(layers, parent), "snapshot"))
        return bad(c, "layer %u: its parent, layer %u, is partial and has "
                      "no guests", i, parent);
    gname = vn_json_get_string(guest, "name");
    if (!guest || guest->type != VN_JSON_OBJECT || !usable_name(gname))
        return bad(c, "layer %u: no guest name", i);
    mac = vn_json_get_string(guest, "mac");
    if (vn_json_get(guest, "mac") && vn_json_get(guest, "mac")->type !=
        VN_JSON_NULL) {
        g_autofree char *norm = vn_mac_normalize(mac);

        if (!norm)
            return bad(c, "layer %u: guest '%s': its mac is not a MAC "
                          "address", i, gname);
    }
    if (!snapshot_has_guest(vn_json_get(vn_json_index(layers, parent),
                                        "snapshot"), gname))
        return bad(c, "layer %u: layer %u has no guest '%s'", i, parent,
                   gname);
    key = g_strdup_printf("%u/%s", parent, gname);
    if (!g_hash_table_add(seen, key))
        return bad(c, "layer %u: guest '%s' of layer %u is given twice", i,
                   gname, parent);
    return TRUE;
}

gboolean
vn_bundle_check(const VnJson *root, const char *name, GError **error)
{
    Ctx c = { "bundle", name, error };
    g_autoptr(GHashTable) seen = g_hash_table_new_full(g_str_hash,
                                                       g_str_equal, g_free,
                                                       NULL);
    const VnJson *layers, *leaves;
    gint64 version;

    if (!root || root->type != VN_JSON_OBJECT || !vn_bundle_is_bundle(root))
        return bad(&c, "not a virt-nest bundle; make one with 'virt-nest "
                       "status --json --host --walk'");
    if (!vn_json_get_int(root, "version", &version) || version < 1)
        return bad(&c, "no version");
    if (version > VN_BUNDLE_VERSION)
        return bad(&c, "version %" G_GINT64_FORMAT " is newer than this "
                       "virt-nest reads (%d); update virt-nest here",
                   version, VN_BUNDLE_VERSION);
    layers = vn_json_get(root, "layers");
    if (!layers || layers->type != VN_JSON_ARRAY || !vn_json_length(layers))
        return bad(&c, "no \"layers\" list");
    if (vn_json_length(layers) > VN_BUNDLE_MAX_LAYERS)
        return bad(&c, "%u layers, more than %d", vn_json_length(layers),
                   VN_BUNDLE_MAX_LAYERS);
    for (guint i = 0; i < vn_json_length(layers); i++)
        if (!check_layer(&c, layers, i, seen))
            return FALSE;
    leaves = vn_json_get(root, "leaves");
    if (leaves && leaves->type != VN_JSON_ARRAY)
        return bad(&c, "\"leaves\" is not a list");
    if (vn_json_length(leaves) > VN_BUNDLE_MAX_LEAVES)
        return bad(&c, "%u leaves, more than %d", vn_json_length(leaves),
                   VN_BUNDLE_MAX_LEAVES);
    for (guint i = 0; i < vn_json_length(leaves); i++) {
        const VnJson *lf = vn_json_index(leaves, i);
        guint parent;

        if (!get_index(lf, "parent", vn_json_length(layers), &parent) ||
            !vn_json_get(vn_json_index(layers, parent), "snapshot"))
            return bad(&c, "leaf %u: \"parent\" is not the index of a full "
                           "layer", i);
        if (!usable_name(vn_json_get_string(lf, "guest")) ||
            !vn_json_get_string(lf, "reason"))
            return bad(&c, "leaf %u: a guest name and a reason are needed",
                       i);
    }
    return TRUE;
}

/* The partial layer of @part, as vn_agent_layer() makes it. */
static VnLayer *
read_partial(Ctx *c, guint i, const char *guest, const VnJson *part)
{
    const VnJson *list = vn_json_get(part, "interfaces");
    g_autoptr(GPtrArray) ifaces = vn_agent_ifaces_new();

    if (vn_json_length(list) > VN_AGENT_MAX_IFACES) {
        bad(c, "layer %u: more than %d interfaces", i, VN_AGENT_MAX_IFACES);
        return NULL;
    }
    for (guint k = 0; k < vn_json_length(list); k++) {
        const VnJson *j = vn_json_index(list, k);
        const VnJson *addrs = vn_json_get(j, "addresses");
        g_autoptr(GError) err = NULL;
        g_autoptr(VnAgentIface) ai = NULL;

        ai = vn_agent_iface_new(vn_json_get_string(j, "name"),
                                vn_json_get_string(j, "mac"), &err);
        for (guint a = 0; ai && a < vn_json_length(addrs); a++) {
            const VnJson *aj = vn_json_index(addrs, a);
            VnCidr cidr;

            if (aj->type != VN_JSON_STRING ||
                !vn_cidr_parse(aj->string, VN_CIDR_ANY, &cidr, &err)) {
                if (!err)
                    g_set_error(&err, VN_ERROR, VN_ERROR_INVALID,
                                "an address is not a string");
                g_clear_pointer(&ai, vn_agent_iface_free);
                break;
            }
            if (ai->addrs->len >= VN_AGENT_MAX_ADDRS) {
                g_set_error(&err, VN_ERROR, VN_ERROR_INVALID,
                            "more than %d addresses", VN_AGENT_MAX_ADDRS);
                g_clear_pointer(&ai, vn_agent_iface_free);
                break;
            }
            g_array_append_val(ai->addrs, cidr);
        }
        if (!ai) {
            bad(c, "layer %u: interface %u: %s", i, k, err->message);
            return NULL;
        }
        g_ptr_array_add(ifaces, g_steal_pointer(&ai));
    }
    return vn_agent_layer(guest, ifaces, vn_json_get_string(part, "reason"));
}

VnBundle *
vn_bundle_parse(const char *text, gssize len, const char *name,
                GError **error)
{
    Ctx c = { "bundle", name, error };
    g_autoptr(GError) err = NULL;
    g_autoptr(VnJson) root = NULL;
    g_autoptr(VnBundle) b = NULL;
    const VnJson *layers, *leaves;
    gsize n = len < 0 ? strlen(text) : (gsize)len;

    if (n > VN_BUNDLE_MAX_BYTES) {
        bad(&c, "%" G_GSIZE_FORMAT " bytes, more than %d", n,
            VN_BUNDLE_MAX_BYTES);
        return NULL;
    }
    if (!(root = vn_json_parse(text, (gssize)n, &err))) {
        bad(&c, "%s", err->message);
        return NULL;
    }
    if (!vn_bundle_check(root, name, error))
        return NULL;
    b = g_new0(VnBundle, 1);
    b->layers = g_ptr_array_new_with_free_func(
        (GDestroyNotify)bundle_layer_free);
    b->leaves = g_ptr_array_new_with_free_func(
        (GDestroyNotify)bundle_leaf_free);
    layers = vn_json_get(root, "layers");
    for (guint i = 0; i < vn_json_length(layers); i++) {
        const VnJson *l = vn_json_index(layers, i);
        const VnJson *guest = vn_json_get(l, "guest");
        const VnJson *part = vn_json_get(l, "partial");
        VnBundleLayer *bl = g_new0(VnBundleLayer, 1);
        guint parent = 0;

        g_ptr_array_add(b->layers, bl);
        bl->parent = get_index(l, "parent", i, &parent) ? (int)parent : -1;
        bl->guest = g_strdup(vn_json_get_string(guest, "name"));
        bl->mac = vn_mac_normalize(vn_json_get_string(guest, "mac"));
        if (part) {
            bl->reason = g_strdup(vn_json_get_string(part, "reason"));
            bl->layer = read_partial(&c, i, bl->guest, part);
        } else {
            g_autofree char *what = g_strdup_printf("%s, layer %u", name, i);

            bl->layer = vn_snapshot_read(vn_json_get(l, "snapshot"), what,
                                         error);
        }
        if (!bl->layer)
            return NULL;
    }
    leaves = vn_json_get(root, "leaves");
    for (guint i = 0; i < vn_json_length(leaves); i++) {
        const VnJson *lf = vn_json_index(leaves, i);
        VnBundleLeaf *leaf = g_new0(VnBundleLeaf, 1);
        guint parent = 0;

        get_index(lf, "parent", b->layers->len, &parent);
        leaf->parent = (int)parent;
        leaf->guest = g_strdup(vn_json_get_string(lf, "guest"));
        leaf->reason = g_strdup(vn_json_get_string(lf, "reason"));
        g_ptr_array_add(b->leaves, leaf);
    }
    return g_steal_pointer(&b);
}

/* The writer: JSON values out again, two-space indented as
 * vn_json_writer writes them. */

static void
put_string(GString *s, const char *v)
{
    g_string_append_c(s, '"');
    for (const char *p = v; *p; p++) {
        guchar ch = (guchar)*p;

        if (ch == '"' || ch == '\\')
            g_string_append_printf(s, "\\%c", ch);
        else if (ch == '\n')
            g_string_append(s, "\\n");
        else if (ch == '\t')
            g_string_append(s, "\\t");
        else if (ch < 0x20)
            g_string_append_printf(s, "\\u%04x", ch);
        else
            g_string_append_c(s, (char)ch);
    }
    g_string_append_c(s, '"');
}

static void
put_indent(GString *s, int depth)
{
    g_string_append_c(s, '\n');
    for (int i = 0; i < depth; i++)
        g_string_append(s, "  ");
}

static void
put_value(GString *s, const VnJson *v, int depth)
{
    gboolean object;

    switch (v->type) {
    case VN_JSON_NULL:
        g_string_append(s, "null");
        return;
    case VN_JSON_BOOL:
        g_string_append(s, v->boolean ? "true" : "false");
        return;
    case VN_JSON_NUMBER:
        g_string_append(s, v->string);
        return;
    case VN_JSON_STRING:
        put_string(s, v->string);
        return;
    case VN_JSON_ARRAY:
    case VN_JSON_OBJECT:
        break;
    }
    object = v->type == VN_JSON_OBJECT;
    g_string_append_c(s, object ? '{' : '[');
    for (guint i = 0; i < v->items->len; i++) {
        const VnJson *m = v->items->pdata[i];

        if (i)
            g_string_append_c(s, ',');
        put_indent(s, depth + 1);
        if (object) {
            put_string(s, m->key);
            g_string_append(s, ": ");
        }
        put_value(s, m, depth + 1);
    }
    if (v->items->len)
        put_indent(s, depth);
    g_string_append_c(s, object ? '}' : ']');
}

/* One layer of the bundle being built; its JSON borrowed from the
 * builder's roots. */
typedef struct {
    int parent;
    char *guest;
    char *mac;
    const char *kind;       /* "snapshot" or "partial" */
    const VnJson *body;
} Entry;

typedef struct {
    guint parent;
    char *guest;
    char *reason;
} Leaf;

struct VnBundleBuilder {
    GPtrArray *roots;       /* VnJson, owned */
    GArray *entries;        /* Entry */
    GArray *leaves;         /* Leaf */
};

static void
entry_clear(Entry *e)
{
    g_free(e->guest);
    g_free(e->mac);
}

static void
leaf_clear(Leaf *l)
{
    g_free(l->guest);
    g_free(l->reason);
}

VnBundleBuilder *
vn_bundle_builder_new(VnJson *snapshot)
{
    VnBundleBuilder *b = g_new0(VnBundleBuilder, 1);
    Entry e = { -1, NULL, NULL, "snapshot", snapshot };

    b->roots = g_ptr_array_new_with_free_func((GDestroyNotify)vn_json_free);
    b->entries = g_array_new(FALSE, TRUE, sizeof(Entry));
    g_array_set_clear_func(b->entries, (GDestroyNotify)entry_clear);
    b->leaves = g_array_new(FALSE, TRUE, sizeof(Leaf));
    g_array_set_clear_func(b->leaves, (GDestroyNotify)leaf_clear);
    g_ptr_array_add(b->roots, snapshot);
    g_array_append_val(b->entries, e);
    return b;
}

void
vn_bundle_builder_free(VnBundleBuilder *b)
{
    if (!b)
        return;
    g_array_unref(b->entries);
    g_array_unref(b->leaves);
    g_ptr_array_unref(b->roots);
    g_free(b);
}

guint
vn_bundle_builder_count(const VnBundleBuilder *b)
{
    return b->entries->len;
}

static gboolean
room_for(VnBundleBuilder *b, guint n, const char *guest, GError **error)
{
    if (b->entries->len + n <= VN_BUNDLE_MAX_LAYERS)
        return TRUE;
    g_set_error(error, VN_ERROR, VN_ERROR_REFUSED,
                "domain '%s': its layers would make the bundle larger than "
                "%d layers", guest, VN_BUNDLE_MAX_LAYERS);
    return FALSE;
}

gboolean
vn_bundle_builder_add(VnBundleBuilder *b, guint parent, const char *guest,
                      const char *mac, VnJson *inner, GError **error)
{
    const VnJson *layers = vn_json_get(inner, "layers");
    const VnJson *leaves = vn_json_get(inner, "leaves");
    guint base = b->entries->len;

    g_ptr_array_add(b->roots, inner);
    if (!vn_bundle_is_bundle(inner)) {
        Entry e = { (int)parent, g_strdup(guest), g_strdup(mac), "snapshot",
                    inner };

        if (!room_for(b, 1, guest, error))
            return FALSE;
        g_array_append_val(b->entries, e);
        return TRUE;
    }
    if (!room_for(b, vn_json_length(layers), guest, error))
        return FALSE;
    for (guint i = 0; i < vn_json_length(layers); i++) {
        const VnJson *l = vn_json_index(layers, i);
        const VnJson *g = vn_json_get(l, "guest");
        const VnJson *part = vn_json_get(l, "partial");
        Entry e = { 0 };
        gint64 p = 0;

        if (i == 0) {
            e.parent = (int)parent;
            e.guest = g_strdup(guest);
            e.mac = g_strdup(mac);
        } else {
            vn_json_get_int(l, "parent", &p);
            e.parent = (int)(base + p);
            e.guest = g_strdup(vn_json_get_string(g, "name"));
            e.mac = g_strdup(vn_json_get_string(g, "mac"));
        }
        e.kind = part ? "partial" : "snapshot";
        e.body = part ? part : vn_json_get(l, "snapshot");
        g_array_append_val(b->entries, e);
    }
    for (guint i = 0; i < vn_json_length(leaves); i++) {
        const VnJson *lf = vn_json_index(leaves, i);
        gint64 p = 0;

        vn_json_get_int(lf, "parent", &p);
        vn_bundle_builder_add_leaf(b, base + (guint)p,
                                   vn_json_get_string(lf, "guest"),
                                   vn_json_get_string(lf, "reason"));
    }
    return TRUE;
}

gboolean
vn_bundle_builder_add_partial(VnBundleBuilder *b, guint parent,
                              const char *guest, const char *mac,
                              GPtrArray *ifaces, const char *reason,
                              GError **error)
{
    g_autoptr(VnJsonWriter) w = vn_json_writer_new();
    g_autofree char *text = NULL;
    VnJson *part;
    Entry e = { (int)parent, NULL, NULL, "partial", NULL };

    if (!room_for(b, 1, guest, error))
        return FALSE;
    vn_json_begin_object(w, NULL);
    vn_json_string(w, "reason", reason);
    vn_json_begin_array(w, "interfaces");
    for (guint i = 0; i < ifaces->len; i++) {
        const VnAgentIface *ai = ifaces->pdata[i];

        vn_json_begin_object(w, NULL);
        vn_json_string(w, "name", ai->name);
        vn_json_string(w, "mac", ai->mac);
        vn_json_begin_array(w, "addresses");
        for (guint k = 0; k < ai->addrs->len; k++) {
            char buf[VN_CIDR_STRLEN];

            vn_json_string(w, NULL,
                           vn_cidr_format(&g_array_index(ai->addrs, VnCidr, k),
                                          TRUE, buf));
        }
        vn_json_end_array(w);
        vn_json_end_object(w);
    }
    vn_json_end_array(w);
    vn_json_end_object(w);
    text = vn_json_writer_finish(w);
    part = vn_json_parse(text, -1, error);
    if (!part)
        return FALSE;
    g_ptr_array_add(b->roots, part);
    e.guest = g_strdup(guest);
    e.mac = g_strdup(mac);
    e.body = part;
    g_array_append_val(b->entries, e);
    return TRUE;
}

void
vn_bundle_builder_add_leaf(VnBundleBuilder *b, guint parent,
                           const char *guest, const char *reason)
{
    Leaf l = { parent, g_strdup(guest), g_strdup(reason) };

    if (b->leaves->len < VN_BUNDLE_MAX_LEAVES)
        g_array_append_val(b->leaves, l);
    else
        leaf_clear(&l);
}

char *
vn_bundle_builder_finish(VnBundleBuilder *b)
{
    GString *s = g_string_new("{\n  \"format\": ");

    put_string(s, VN_BUNDLE_FORMAT);
    g_string_append_printf(s, ",\n  \"version\": %d,\n  \"layers\": [",
                           VN_BUNDLE_VERSION);
    for (guint i = 0; i < b->entries->len; i++) {
        const Entry *e = &g_array_index(b->entries, Entry, i);

        g_string_append(s, i ? ",\n    {" : "\n    {");
        if (e->parent < 0) {
            g_string_append(s, "\n      \"parent\": null");
        } else {
            g_string_append_printf(s, "\n      \"parent\": %d,\n"
                                      "      \"guest\": {\n"
                                      "        \"name\": ", e->parent);
            put_string(s, e->guest ? e->guest : "");
            g_string_append(s, ",\n        \"mac\": ");
            if (e->mac)
                put_string(s, e->mac);
            else
                g_string_append(s, "null");
            g_string_append(s, "\n      }");
        }
        g_string_append_printf(s, ",\n      \"%s\": ", e->kind);
        put_value(s, e->body, 3);
        g_string_append(s, "\n    }");
    }
    g_string_append(s, "\n  ],\n  \"leaves\": [");
    for (guint i = 0; i < b->leaves->len; i++) {
        const Leaf *l = &g_array_index(b->leaves, Leaf, i);

        g_string_append_printf(s, "%s\n    {\n      \"parent\": %u,\n"
                                  "      \"guest\": ", i ? "," : "",
                               l->parent);
        put_string(s, l->guest ? l->guest : "");
        g_string_append(s, ",\n      \"reason\": ");
        put_string(s, l->reason ? l->reason : "");
        g_string_append(s, "\n    }");
    }
    g_string_append(s, b->leaves->len ? "\n  ]\n}\n" : "]\n}\n");
    return g_string_free(s, FALSE);
}
