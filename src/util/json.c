/* json.c: a small JSON reader and writer (RFC 8259).
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "json.h"

#define MAX_DEPTH 64

void
vn_json_free(VnJson *json)
{
    if (!json)
        return;
    g_free(json->string);
    g_free(json->key);
    if (json->items)
        g_ptr_array_unref(json->items);
    g_free(json);
}

typedef struct {
    const char *p;
    const char *start;
    const char *end;
    GError **error;
} Reader;

static gboolean
fail(Reader *r, const char *what)
{
    g_set_error(r->error, VN_ERROR, VN_ERROR_INVALID,
                "JSON: offset %ld: %s", (long)(r->p - r->start), what);
    return FALSE;
}

static void
skip_ws(Reader *r)
{
    while (r->p < r->end &&
           (*r->p == ' ' || *r->p == '\t' || *r->p == '\n' || *r->p == '\r'))
        r->p++;
}

static int
hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

static gboolean
read_hex4(Reader *r, gunichar *out)
{
    gunichar v = 0;

    if (r->end - r->p < 4)
        return fail(r, "short \\u escape");
    for (int i = 0; i < 4; i++) {
        int h = hexval(r->p[i]);

        if (h < 0)
            return fail(r, "bad \\u escape");
        v = (v << 4) | (gunichar)h;
    }
    r->p += 4;
    *out = v;
    return TRUE;
}

static char *
read_string(Reader *r)
{
    GString *s = g_string_new(NULL);

    r->p++;     /* opening quote */
    while (r->p < r->end && *r->p != '"') {
        char c = *r->p++;

        if ((unsigned char)c < 0x20) {
            fail(r, "control character in string");
            goto bad;
        }
        if (c != '\\') {
            g_string_append_c(s, c);
            continue;
        }
        if (r->p >= r->end) {
            fail(r, "unterminated escape");
            goto bad;
        }
        c = *r->p++;
        switch (c) {
        case '"': case '\\': case '/':
            g_string_append_c(s, c);
            break;
        case 'b': g_string_append_c(s, '\b'); break;
        case 'f': g_string_append_c(s, '\f'); break;
        case 'n': g_string_append_c(s, '\n'); break;
        case 'r': g_string_append_c(s, '\r'); break;
        case 't': g_string_append_c(s, '\t'); break;
        case 'u': {
            gunichar u;

            if (!read_hex4(r, &u))
                goto bad;
            if (u >= 0xd800 && u < 0xdc00) {
                gunichar lo;

                if (r->end - r->p < 2 || r->p[0] != '\\' || r->p[1] != 'u') {
                    fail(r, "lone surrogate");
                    goto bad;
                }
                r->p += 2;
                if (!read_hex4(r, &lo))
                    goto bad;
                if (lo < 0xdc00 || lo > 0xdfff) {
                    fail(r, "bad surrogate pair");
                    goto bad;
                }
                u = 0x10000 + ((u - 0xd800) << 10) + (lo - 0xdc00);
            } else if (u >= 0xdc00 && u <= 0xdfff) {
                fail(r, "lone surrogate");
                goto bad;
            }
            g_string_append_unichar(s, u);
            break;
        }
        default:
            fail(r, "unknown escape");
            goto bad;
        }
    }
    if (r->p >= r->end) {
        fail(r, "unterminated string");
        goto bad;
    }
    r->p++;
    if (!g_utf8_validate(s->str, (gssize)s->len, NULL)) {
        fail(r, "string is not UTF-8");
        goto bad;
    }
    return g_string_free(s, FALSE);
bad:
    g_string_free(s, TRUE);
    return NULL;
}

static VnJson *read_value(Reader *r, int depth);

static VnJson *
new_node(VnJsonType type)
{
    VnJson *j = g_new0(VnJson, 1);

    j->type = type;
    if (type == VN_JSON_ARRAY || type == VN_JSON_OBJECT)
        j->items = g_ptr_array_new_with_free_func((GDestroyNotify)vn_json_free);
    return j;
}

static VnJson *
read_container(Reader *r, int depth, gboolean object)
{
    g_autoptr(VnJson) j = new_node(object ? VN_JSON_OBJECT : VN_JSON_ARRAY);
    char close = object ? '}' : ']';

    r->p++;
    skip_ws(r);
    if (r->p < r->end && *r->p == close) {
        r->p++;
        return g_steal_pointer(&j);
    }
    for (;;) {
        g_autofree char *key = NULL;
        VnJson *v;

        skip_ws(r);
        if (object) {
            if (r->p >= r->end || *r->p != '"') {
                fail(r, "expected a member name");
                return NULL;
            }
            if (!(key = read_string(r)))
                return NULL;
            skip_ws(r);
            if (r->p >= r->end || *r->p != ':') {
                fail(r, "expected ':'");
                return NULL;
            }
            r->p++;
        }
        if (!(v = read_value(r, depth + 1)))
            return NULL;
        v->key = g_steal_pointer(&key);
        g_ptr_array_add(j->items, v);
        skip_ws(r);
        if (r->p < r->end && *r->p == ',') {
            r->p++;
            continue;
        }
        if (r->p < r->end && *r->p == close) {
            r->p++;
            return g_steal_pointer(&j);
        }
        fail(r, object ? "expected ',' or '}'" : "expected ',' or ']'");
        return NULL;
    }
}

static VnJson *
read_number(Reader *r)
{
    const char *s = r->p;
    g_autofree char *text = NULL;
    VnJson *j;

    if (r->p < r->end && *r->p == '-')
        r->p++;
    if (r->p >= r->end || !g_ascii_isdigit(*r->p)) {
        fail(r, "bad number");
        return NULL;
    }
    if (*r->p == '0')
        r->p++;
    else
        while (r->p < r->end && g_ascii_isdigit(*r->p))
            r->p++;
    if (r->p < r->end && *r->p == '.') {
        r->p++;
        if (r->p >= r->end || !g_ascii_isdigit(*r->p)) {
            fail(r, "bad fraction");
            return NULL;
        }
        while (r->p < r->end && g_ascii_isdigit(*r->p))
            r->p++;
    }
    if (r->p < r->end && (*r->p == 'e' || *r->p == 'E')) {
        r->p++;
        if (r->p < r->end && (*r->p == '+' || *r->p == '-'))
            r->p++;
        if (r->p >= r->end || !g_ascii_isdigit(*r->p)) {
            fail(r, "bad exponent");
            return NULL;
        }
        while (r->p < r->end && g_ascii_isdigit(*r->p))
            r->p++;
    }
    text = g_strndup(s, (gsize)(r->p - s));
    j = new_node(VN_JSON_NUMBER);
    j->number = g_ascii_strtod(text, NULL);
    j->string = g_steal_pointer(&text);
    return j;
}

static gboolean
literal(Reader *r, const char *word)
{
    gsize n = strlen(word);

    if ((gsize)(r->end - r->p) < n || memcmp(r->p, word, n) != 0)
        return FALSE;
    r->p += n;
    return TRUE;
}

static VnJson *
read_value(Reader *r, int depth)
{
    VnJson *j;

    if (depth > MAX_DEPTH) {
        fail(r, "nested too deeply");
        return NULL;
    }
    skip_ws(r);
    if (r->p >= r->end) {
        fail(r, "unexpected end");
        return NULL;
    }
    switch (*r->p) {
    case '{':
        return read_container(r, depth, TRUE);
    case '[':
        return read_container(r, depth, FALSE);
    case '"': {
        char *s = read_string(r);

        if (!s)
            return NULL;
        j = new_node(VN_JSON_STRING);
        j->string = s;
        return j;
    }
    case 't':
    case 'f':
        if (literal(r, "true") || literal(r, "false")) {
            j = new_node(VN_JSON_BOOL);
            j->boolean = r->p[-1] == 'e' && r->p[-2] == 'u';
            return j;
        }
        break;
    case 'n':
        if (literal(r, "null"))
            return new_node(VN_JSON_NULL);
        break;
    default:
        if (*r->p == '-' || g_ascii_isdigit(*r->p))
            return read_number(r);
        break;
    }
    fail(r, "unexpected character");
    return NULL;
}

VnJson *
vn_json_parse(const char *text, gssize len, GError **error)
{
    Reader r;
    g_autoptr(VnJson) j = NULL;

    if (len < 0)
        len = (gssize)strlen(text);
    r.p = r.start = text;
    r.end = text + len;
    r.error = error;
    if (!(j = read_value(&r, 0)))
        return NULL;
    skip_ws(&r);
    if (r.p != r.end) {
        fail(&r, "trailing data");
        return NULL;
    }
    return g_steal_pointer(&j);
}

const VnJson *
vn_json_get(const VnJson *obj, const char *key)
{
    if (!obj || obj->type != VN_JSON_OBJECT)
        return NULL;
    for (guint i = 0; i < obj->items->len; i++) {
        const VnJson *m = obj->items->pdata[i];

        if (g_strcmp0(m->key, key) == 0)
            return m;
    }
    return NULL;
}

const char *
vn_json_get_string(const VnJson *obj, const char *key)
{
    const VnJson *m = vn_json_get(obj, key);

    return m && m->type == VN_JSON_STRING ? m->string : NULL;
}

gboolean
vn_json_get_int(const VnJson *obj, const char *key, gint64 *out)
{
    const VnJson *m = vn_json_get(obj, key);

    if (!m || m->type != VN_JSON_NUMBER)
        return FALSE;
    return g_ascii_string_to_signed(m->string, 10, G_MININT64, G_MAXINT64,
                                    out, NULL);
}

gboolean
vn_json_get_bool(const VnJson *obj, const char *key, gboolean *out)
{
    const VnJson *m = vn_json_get(obj, key);

    if (!m || m->type != VN_JSON_BOOL)
        return FALSE;
    *out = m->boolean;
    return TRUE;
}

guint
vn_json_length(const VnJson *arr)
{
    return arr && arr->items ? arr->items->len : 0;
}

const VnJson *
vn_json_index(const VnJson *arr, guint i)
{
    return arr && arr->items && i < arr->items->len ? arr->items->pdata[i]
                                                    : NULL;
}

/* ------------------------------------------------------------------ */
/* writer                                                              */

struct _VnJsonWriter {
    GString *out;
    int depth;
    gboolean first;         /* nothing written yet at this depth */
};

VnJsonWriter *
vn_json_writer_new(void)
{
    VnJsonWriter *w = g_new0(VnJsonWriter, 1);

    w->out = g_string_new(NULL);
    w->first = TRUE;
    return w;
}

void
vn_json_writer_free(VnJsonWriter *w)
{
    if (!w)
        return;
    if (w->out)
        g_string_free(w->out, TRUE);
    g_free(w);
}

/* Characters a terminal acts on, or a reader is fooled by, besides C0:
 * C1 controls, bidirectional and zero-width format characters, line and
 * paragraph separators. JSON allows them raw; \uXXXX reads the same. */
static gboolean
needs_u_escape(gunichar c)
{
    switch (g_unichar_type(c)) {
    case G_UNICODE_CONTROL:
    case G_UNICODE_FORMAT:
    case G_UNICODE_LINE_SEPARATOR:
    case G_UNICODE_PARAGRAPH_SEPARATOR:
        return TRUE;
    default:
        return FALSE;
    }
}

/* A JSON string: valid UTF-8 out whatever comes in (a kernel link name
 * may be any bytes; each byte that is no UTF-8 becomes U+FFFD). */
static void
put_string(GString *out, const char *s)
{
    const char *p = s, *end = s + strlen(s);

    g_string_append_c(out, '"');
    while (p < end) {
        gunichar c = g_utf8_get_char_validated(p, end - p);

        if (c == (gunichar)-1 || c == (gunichar)-2) {
            g_string_append(out, "\\ufffd");
            p++;
            continue;
        }
        switch (c) {
        case '"': g_string_append(out, "\\\""); break;
        case '\\': g_string_append(out, "\\\\"); break;
        case '\n': g_string_append(out, "\\n"); break;
        case '\r': g_string_append(out, "\\r"); break;
        case '\t': g_string_append(out, "\\t"); break;
        default:
            if (c < 0x20 || (c >= 0x7f && c <= 0xffff && needs_u_escape(c)))
                g_string_append_printf(out, "\\u%04x", c);
            else
                g_string_append_len(out, p, g_utf8_next_char(p) - p);
        }
        p = g_utf8_next_char(p);
    }
    g_string_append_c(out, '"');
}

static void
prefix(VnJsonWriter *w, const char *key)
{
    if (w->depth > 0) {
        g_string_append(w->out, w->first ? "\n" : ",\n");
        for (int i = 0; i < w->depth; i++)
            g_string_append(w->out, "  ");
    }
    w->first = FALSE;
    if (key) {
        put_string(w->out, key);
        g_string_append(w->out, ": ");
    }
}

static void
open_container(VnJsonWriter *w, const char *key, char c)
{
    prefix(w, key);
    g_string_append_c(w->out, c);
    w->depth++;
    w->first = TRUE;
}

static void
close_container(VnJsonWriter *w, char c)
{
    w->depth--;
    if (!w->first) {
        g_string_append_c(w->out, '\n');
        for (int i = 0; i < w->depth; i++)
            g_string_append(w->out, "  ");
    }
    g_string_append_c(w->out, c);
    w->first = FALSE;
}

void
vn_json_begin_object(VnJsonWriter *w, const char *key)
{
    open_container(w, key, '{');
}

void
vn_json_end_object(VnJsonWriter *w)
{
    close_container(w, '}');
}

void
vn_json_begin_array(VnJsonWriter *w, const char *key)
{
    open_container(w, key, '[');
}

void
vn_json_end_array(VnJsonWriter *w)
{
    close_container(w, ']');
}

void
vn_json_string(VnJsonWriter *w, const char *key, const char *value)
{
    prefix(w, key);
    if (value)
        put_string(w->out, value);
    else
        g_string_append(w->out, "null");
}

void
vn_json_int(VnJsonWriter *w, const char *key, gint64 value)
{
    prefix(w, key);
    g_string_append_printf(w->out, "%" G_GINT64_FORMAT, value);
}

void
vn_json_bool(VnJsonWriter *w, const char *key, gboolean value)
{
    prefix(w, key);
    g_string_append(w->out, value ? "true" : "false");
}

void
vn_json_null(VnJsonWriter *w, const char *key)
{
    prefix(w, key);
    g_string_append(w->out, "null");
}

char *
vn_json_writer_finish(VnJsonWriter *w)
{
    g_string_append_c(w->out, '\n');
    return g_string_free(g_steal_pointer(&w->out), FALSE);
}
