/* json.h: a small JSON reader and writer.
 *
 * virt-nest reads libvirt's lease status files and its own snapshots, and
 * writes `status --json`; neither needs more than this.
 *
 * Not json-glib (issue 10 asked), measured with json-glib 1.6.6: linking
 * it loads GObject, GIO and GModule and registers their types, 1.64 ms
 * for a process that does nothing against 0.60 ms with GLib alone (+1.0
 * ms on every hook event that reads a lease file); it parses a 10 kB
 * plan 2.4x and a 10 MB snapshot 2.9x slower than this reader (0.073 vs
 * 0.031 ms, 200 vs 70 ms); and the hook links GLib statically, which a
 * json-glib linked against the shared GLib cannot share. Snapshots from
 * other hosts, which may be hostile, are bounded here as they would not be
 * there: a nesting limit of 64, control characters and invalid UTF-8 refused,
 * and a libFuzzer target
 * (tests/fuzz/fuzz-json.c, fuzz-state.c).
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef enum {
    VN_JSON_NULL,
    VN_JSON_BOOL,
    VN_JSON_NUMBER,
    VN_JSON_STRING,
    VN_JSON_ARRAY,
    VN_JSON_OBJECT,
} VnJsonType;

typedef struct _VnJson VnJson;
struct _VnJson {
    VnJsonType type;
    gboolean boolean;
    double number;
    char *string;           /* STRING; also the raw text of a NUMBER */
    GPtrArray *items;       /* ARRAY: VnJson*; OBJECT: VnJson* with key */
    char *key;              /* the member name when inside an OBJECT */
};

void vn_json_free(VnJson *json);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VnJson, vn_json_free)

/**
 * vn_json_parse:
 * @text: JSON text
 * @len: its length, or -1 if NUL-terminated
 * @error: set with the offset and the problem
 *
 * Returns: (transfer full): the value, or NULL with @error set.
 */
VnJson *vn_json_parse(const char *text, gssize len, GError **error);

/* Members and items; borrowed, NULL when absent or of another type. */
const VnJson *vn_json_get(const VnJson *obj, const char *key);
const char *vn_json_get_string(const VnJson *obj, const char *key);
gboolean vn_json_get_int(const VnJson *obj, const char *key, gint64 *out);
gboolean vn_json_get_bool(const VnJson *obj, const char *key, gboolean *out);
guint vn_json_length(const VnJson *arr);
const VnJson *vn_json_index(const VnJson *arr, guint i);

/* A streaming writer with two-space indentation, keys in the order written. */
typedef struct _VnJsonWriter VnJsonWriter;

VnJsonWriter *vn_json_writer_new(void);
void vn_json_writer_free(VnJsonWriter *w);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VnJsonWriter, vn_json_writer_free)

void vn_json_begin_object(VnJsonWriter *w, const char *key);
void vn_json_end_object(VnJsonWriter *w);
void vn_json_begin_array(VnJsonWriter *w, const char *key);
void vn_json_end_array(VnJsonWriter *w);
/* @key is NULL inside arrays. A NULL @value writes null. */
void vn_json_string(VnJsonWriter *w, const char *key, const char *value);
void vn_json_int(VnJsonWriter *w, const char *key, gint64 value);
void vn_json_bool(VnJsonWriter *w, const char *key, gboolean value);
void vn_json_null(VnJsonWriter *w, const char *key);
/* Returns: (transfer full): the text, with a final newline. */
char *vn_json_writer_finish(VnJsonWriter *w);

G_END_DECLS
