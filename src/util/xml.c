/* xml.c: a small, strict XML reader for libvirt's XML.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include <string.h>

#include "error.h"
#include "xml.h"

#define MAX_DEPTH 256

typedef struct {
    char *prefix;           /* NULL: the default namespace */
    char *uri;
    int depth;
} NsDecl;

typedef struct {
    const char *p;
    const char *start;
    const char *end;
    int line;
    const char *what;
    GError **error;
    GArray *ns;             /* NsDecl, a stack */
} Reader;

static gboolean G_GNUC_PRINTF(2, 3)
fail(Reader *r, const char *fmt, ...)
{
    va_list ap;
    g_autofree char *msg = NULL;

    if (r->error && *r->error)
        return FALSE;
    va_start(ap, fmt);
    msg = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    g_set_error(r->error, VN_ERROR, VN_ERROR_INVALID,
                "%s XML is malformed: line %d: %s", r->what, r->line, msg);
    return FALSE;
}

static void
attr_clear(VnXmlAttr *a)
{
    g_free(a->name);
    g_free(a->prefix);
    g_free(a->ns);
    g_free(a->value);
}

void
vn_xml_free(VnXmlNode *node)
{
    while (node) {
        VnXmlNode *next = node->next;

        vn_xml_free(node->children);
        g_free(node->name);
        g_free(node->prefix);
        g_free(node->ns);
        g_free(node->text);
        if (node->attrs)
            g_array_unref(node->attrs);
        g_free(node);
        node = next;
    }
}

static gboolean
at(Reader *r, const char *s)
{
    gsize n = strlen(s);

    return (gsize)(r->end - r->p) >= n && memcmp(r->p, s, n) == 0;
}

static void
advance(Reader *r, gsize n)
{
    for (gsize i = 0; i < n && r->p < r->end; i++, r->p++)
        if (*r->p == '\n')
            r->line++;
}

static gboolean
is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static void
skip_space(Reader *r)
{
    while (r->p < r->end && is_space(*r->p))
        advance(r, 1);
}

static gboolean
name_start(unsigned char c)
{
    return g_ascii_isalpha(c) || c == '_' || c == ':' || c >= 0x80;
}

static gboolean
name_char(unsigned char c)
{
    return name_start(c) || g_ascii_isdigit(c) || c == '-' || c == '.';
}

static char *
read_name(Reader *r)
{
    const char *s = r->p;

    if (r->p >= r->end || !name_start((unsigned char)*r->p)) {
        fail(r, "a name was expected");
        return NULL;
    }
    while (r->p < r->end && name_char((unsigned char)*r->p))
        r->p++;
    return g_strndup(s, (gsize)(r->p - s));
}

/* A comment, from "<!--": "--" may only end it. */
static gboolean
skip_comment(Reader *r)
{
    advance(r, 4);
    while (r->p < r->end) {
        if (at(r, "--")) {
            if (!at(r, "-->"))
                return fail(r, "'--' inside a comment");
            advance(r, 3);
            return TRUE;
        }
        advance(r, 1);
    }
    return fail(r, "unterminated comment");
}

/* A processing instruction other than the XML declaration. */
static gboolean
skip_pi(Reader *r)
{
    g_autofree char *target = NULL;

    advance(r, 2);
    if (!(target = read_name(r)))
        return FALSE;
    if (g_ascii_strcasecmp(target, "xml") == 0)
        return fail(r, "an XML declaration is only allowed at the start");
    if (!at(r, "?>") && (r->p >= r->end || !is_space(*r->p)))
        return fail(r, "bad processing instruction <?%s", target);
    while (r->p < r->end) {
        if (at(r, "?>")) {
            advance(r, 2);
            return TRUE;
        }
        advance(r, 1);
    }
    return fail(r, "unterminated processing instruction");
}

/* Skip to just after @term; FALSE if it never comes. */
static gboolean
skip_past(Reader *r, const char *term, const char *what)
{
    while (r->p < r->end) {
        if (at(r, term)) {
            advance(r, strlen(term));
            return TRUE;
        }
        advance(r, 1);
    }
    return fail(r, "unterminated %s", what);
}

/* Append the text from @s to @e to @out, expanding references. */
static gboolean
decode(Reader *r, const char *s, const char *e, GString *out, gboolean attr)
{
    while (s < e) {
        const char *amp;

        if (*s != '&') {
            if (*s == '<')
                return fail(r, "'<' in %s", attr ? "an attribute value" : "text");
            if (!attr && *s == ']' && e - s >= 3 && s[1] == ']' && s[2] == '>')
                return fail(r, "']]>' in text");
            if (attr && (*s == '\t' || *s == '\n' || *s == '\r'))
                g_string_append_c(out, ' ');    /* attribute value normalization */
            else
                g_string_append_c(out, *s);
            s++;
            continue;
        }
        amp = s;
        while (s < e && *s != ';')
            s++;
        if (s >= e)
            return fail(r, "unterminated reference");
        s++;
        if (!strncmp(amp, "&lt;", 4))
            g_string_append_c(out, '<');
        else if (!strncmp(amp, "&gt;", 4))
            g_string_append_c(out, '>');
        else if (!strncmp(amp, "&amp;", 5))
            g_string_append_c(out, '&');
        else if (!strncmp(amp, "&quot;", 6))
            g_string_append_c(out, '"');
        else if (!strncmp(amp, "&apos;", 6))
            g_string_append_c(out, '\'');
        else if (amp[1] == '#') {
            gboolean hex = amp[2] == 'x';
            const char *d = amp + (hex ? 3 : 2);
            guint64 v = 0;

            if (d >= s - 1)
                return fail(r, "empty character reference");
            for (; d < s - 1; d++) {
                int x = hex ? g_ascii_xdigit_value(*d) : g_ascii_digit_value(*d);

                if (x < 0 || v > 0x10ffff)
                    return fail(r, "bad character reference");
                v = v * (hex ? 16 : 10) + (guint64)x;
            }
            if (v == 0 || v > 0x10ffff || (v >= 0xd800 && v <= 0xdfff))
                return fail(r, "bad character reference");
            g_string_append_unichar(out, (gunichar)v);
        } else {
            g_autofree char *name = g_strndup(amp, (gsize)(s - amp));

            return fail(r, "unknown entity %s", name);
        }
    }
    return TRUE;
}

static const char *
lookup_ns(Reader *r, const char *prefix)
{
    for (guint i = r->ns->len; i-- > 0;) {
        const NsDecl *d = &g_array_index(r->ns, NsDecl, i);

        if (g_strcmp0(d->prefix, prefix) == 0)
            return d->uri && *d->uri ? d->uri : NULL;
    }
    if (g_strcmp0(prefix, "xml") == 0)
        return "http://www.w3.org/XML/1998/namespace";
    return NULL;
}

static void
split_qname(const char *qname, char **prefix, char **local)
{
    const char *colon = strchr(qname, ':');

    /* PREFIX:LOCAL with NCNames on both sides; anything else stays whole */
    if (colon && colon != qname && colon[1] && !strchr(colon + 1, ':')) {
        *prefix = g_strndup(qname, (gsize)(colon - qname));
        *local = g_strdup(colon + 1);
    } else {
        *prefix = NULL;
        *local = g_strdup(qname);
    }
}

static void
pop_ns(Reader *r, int depth)
{
    while (r->ns->len) {
        NsDecl *d = &g_array_index(r->ns, NsDecl, r->ns->len - 1);

        if (d->depth < depth)
            break;
        g_free(d->prefix);
        g_free(d->uri);
        g_array_set_size(r->ns, r->ns->len - 1);
    }
}

static VnXmlNode *read_element(Reader *r, VnXmlNode *parent, int depth);

/* Content up to the end tag of @node. */
static gboolean
read_content(Reader *r, VnXmlNode *node, const char *qname, int depth)
{
    GString *text = g_string_new(NULL);
    VnXmlNode **tail = &node->children;
    gboolean ok = FALSE;

    for (;;) {
        const char *s = r->p;

        while (r->p < r->end && *r->p != '<')
            advance(r, 1);
        if (!decode(r, s, r->p, text, FALSE))
            goto out;
        if (r->p >= r->end) {
            fail(r, "<%s> is not closed", qname);
            goto out;
        }
        if (at(r, "</")) {
            g_autofree char *name = NULL;

            advance(r, 2);
            if (!(name = read_name(r)))
                goto out;
            if (r->p >= r->end) {
                fail(r, "<%s> is not closed", qname);
                goto out;
            }
            if (strcmp(name, qname) != 0) {
                fail(r, "</%s> closes <%s>", name, qname);
                goto out;
            }
            skip_space(r);
            if (r->p >= r->end || *r->p != '>') {
                fail(r, "'>' expected after </%s", name);
                goto out;
            }
            advance(r, 1);
            ok = TRUE;
            goto out;
        }
        if (at(r, "<!--")) {
            if (!skip_comment(r))
                goto out;
        } else if (at(r, "<![CDATA[")) {
            const char *cs;

            advance(r, 9);
            cs = r->p;
            if (!skip_past(r, "]]>", "CDATA section"))
                goto out;
            g_string_append_len(text, cs, r->p - 3 - cs);
        } else if (at(r, "<?")) {
            if (!skip_pi(r))
                goto out;
        } else if (at(r, "<!")) {
            fail(r, "declarations are not allowed inside elements");
            goto out;
        } else {
            VnXmlNode *child = read_element(r, node, depth + 1);

            if (!child)
                goto out;
            *tail = child;
            tail = &child->next;
        }
    }
out:
    if (ok && text->len)
        node->text = g_string_free(text, FALSE);
    else
        g_string_free(text, TRUE);
    return ok;
}

static VnXmlNode *
read_element(Reader *r, VnXmlNode *parent, int depth)
{
    g_autoptr(VnXmlNode) node = g_new0(VnXmlNode, 1);
    g_autofree char *qname = NULL;
    g_autoptr(GArray) raw = g_array_new(FALSE, TRUE, sizeof(VnXmlAttr));
    gboolean empty = FALSE;

    g_array_set_clear_func(raw, (GDestroyNotify)attr_clear);
    if (depth > MAX_DEPTH) {
        fail(r, "elements nested too deeply");
        return NULL;
    }
    node->line = r->line;
    node->parent = parent;
    advance(r, 1);      /* '<' */
    if (!(qname = read_name(r)))
        return NULL;

    /* attributes */
    for (;;) {
        g_autofree char *aname = NULL;
        GString *value;
        char quote;
        const char *s;
        VnXmlAttr a = { 0 };
        gboolean had_space = r->p < r->end && is_space(*r->p);

        skip_space(r);
        if (r->p >= r->end) {
            fail(r, "<%s is not closed", qname);
            return NULL;
        }
        if (*r->p == '>') {
            advance(r, 1);
            break;
        }
        if (at(r, "/>")) {
            advance(r, 2);
            empty = TRUE;
            break;
        }
        if (!had_space) {
            fail(r, "a space is needed between attributes of <%s>", qname);
            return NULL;
        }
        if (!(aname = read_name(r)))
            return NULL;
        skip_space(r);
        if (r->p >= r->end || *r->p != '=') {
            fail(r, "attribute %s of <%s> has no value", aname, qname);
            return NULL;
        }
        advance(r, 1);
        skip_space(r);
        if (r->p >= r->end || (*r->p != '"' && *r->p != '\'')) {
            fail(r, "the value of %s is not quoted", aname);
            return NULL;
        }
        quote = *r->p;
        advance(r, 1);
        s = r->p;
        while (r->p < r->end && *r->p != quote)
            advance(r, 1);
        if (r->p >= r->end) {
            fail(r, "unterminated value of %s", aname);
            return NULL;
        }
        value = g_string_new(NULL);
        if (!decode(r, s, r->p, value, TRUE)) {
            g_string_free(value, TRUE);
            return NULL;
        }
        advance(r, 1);
        for (guint i = 0; i < raw->len; i++) {
            if (strcmp(g_array_index(raw, VnXmlAttr, i).name, aname) == 0) {
                g_string_free(value, TRUE);
                fail(r, "attribute %s appears twice in <%s>", aname, qname);
                return NULL;
            }
        }
        a.name = g_steal_pointer(&aname);
        a.value = g_string_free(value, FALSE);
        g_array_append_val(raw, a);
    }

    /* namespace declarations first, then resolve names */
    for (guint i = 0; i < raw->len; i++) {
        VnXmlAttr *a = &g_array_index(raw, VnXmlAttr, i);
        NsDecl d = { NULL, NULL, depth };

        if (strcmp(a->name, "xmlns") == 0)
            d.uri = g_strdup(a->value);
        else if (g_str_has_prefix(a->name, "xmlns:") && a->name[6]) {
            d.prefix = g_strdup(a->name + 6);
            d.uri = g_strdup(a->value);
        } else
            continue;
        g_array_append_val(r->ns, d);
    }
    split_qname(qname, &node->prefix, &node->name);
    if (node->prefix || !strchr(node->name, ':'))
        node->ns = g_strdup(lookup_ns(r, node->prefix));
    node->attrs = g_array_new(FALSE, TRUE, sizeof(VnXmlAttr));
    g_array_set_clear_func(node->attrs, (GDestroyNotify)attr_clear);
    for (guint i = 0; i < raw->len; i++) {
        VnXmlAttr *a = &g_array_index(raw, VnXmlAttr, i);
        VnXmlAttr b = { 0 };

        if (strcmp(a->name, "xmlns") == 0 || g_str_has_prefix(a->name, "xmlns:"))
            continue;
        split_qname(a->name, &b.prefix, &b.name);
        if (b.prefix)
            b.ns = g_strdup(lookup_ns(r, b.prefix));
        b.value = g_steal_pointer(&a->value);
        g_array_append_val(node->attrs, b);
    }
    if (!empty && !read_content(r, node, qname, depth)) {
        pop_ns(r, depth);
        return NULL;
    }
    pop_ns(r, depth);
    return g_steal_pointer(&node);
}

/* One pseudo-attribute of the XML declaration: S NAME = "VALUE". */
static char *
decl_attr(Reader *r, const char *name, gboolean required)
{
    const char *save = r->p;
    char quote;
    const char *s;

    skip_space(r);
    if (!at(r, name) || r->p == save) {
        r->p = save;
        if (required)
            fail(r, "the XML declaration lacks %s", name);
        return NULL;
    }
    advance(r, strlen(name));
    skip_space(r);
    if (r->p >= r->end || *r->p != '=') {
        fail(r, "bad XML declaration");
        return NULL;
    }
    advance(r, 1);
    skip_space(r);
    if (r->p >= r->end || (*r->p != '"' && *r->p != '\'')) {
        fail(r, "bad XML declaration");
        return NULL;
    }
    quote = *r->p;
    advance(r, 1);
    s = r->p;
    while (r->p < r->end && *r->p != quote && *r->p != '<')
        advance(r, 1);
    if (r->p >= r->end || *r->p != quote) {
        fail(r, "bad XML declaration");
        return NULL;
    }
    advance(r, 1);
    return g_strndup(s, (gsize)(r->p - 1 - s));
}

/* <?xml version="1.x" encoding="UTF-8" standalone="yes"?> */
static gboolean
read_xml_decl(Reader *r)
{
    g_autofree char *version = NULL, *encoding = NULL, *standalone = NULL;

    if (!at(r, "<?xml") || (r->end - r->p > 5 && !is_space(r->p[5]) &&
                            r->p[5] != '?'))
        return TRUE;
    advance(r, 5);
    if (!(version = decl_attr(r, "version", TRUE)))
        return FALSE;
    {
        /* as libxml2: DIGITS '.' DIGITS* */
        const char *v = version;

        while (g_ascii_isdigit(*v))
            v++;
        if (v == version || *v != '.')
            return fail(r, "bad XML version %s", version);
        for (v++; g_ascii_isdigit(*v); v++)
            ;
        if (*v)
            return fail(r, "bad XML version %s", version);
    }
    encoding = decl_attr(r, "encoding", FALSE);
    if (r->error && *r->error)
        return FALSE;
    if (encoding && g_ascii_strcasecmp(encoding, "UTF-8") != 0 &&
        g_ascii_strcasecmp(encoding, "US-ASCII") != 0)
        return fail(r, "unsupported encoding %s: libvirt writes UTF-8",
                    encoding);
    standalone = decl_attr(r, "standalone", FALSE);
    if (r->error && *r->error)
        return FALSE;
    if (standalone && strcmp(standalone, "yes") && strcmp(standalone, "no"))
        return fail(r, "bad XML declaration");
    skip_space(r);
    if (!at(r, "?>"))
        return fail(r, "bad XML declaration");
    advance(r, 2);
    return TRUE;
}

/* Prolog, epilog: comments, PIs, whitespace. */
static gboolean
skip_misc(Reader *r)
{
    for (;;) {
        skip_space(r);
        if (at(r, "<!--")) {
            if (!skip_comment(r))
                return FALSE;
        } else if (at(r, "<?")) {
            if (!skip_pi(r))
                return FALSE;
        } else if (at(r, "<!DOCTYPE") || at(r, "<!doctype")) {
            return fail(r, "DOCTYPE declarations are not accepted");
        } else {
            return TRUE;
        }
    }
}

VnXmlNode *
vn_xml_parse(const char *text, gssize len, const char *what, GError **error)
{
    Reader r = { 0 };
    VnXmlNode *root = NULL;

    if (!text) {
        g_set_error(error, VN_ERROR, VN_ERROR_INVALID, "%s XML: no input",
                    what);
        return NULL;
    }
    if (len < 0)
        len = (gssize)strlen(text);
    r.p = r.start = text;
    r.end = text + len;
    r.line = 1;
    r.what = what;
    r.error = error;
    r.ns = g_array_new(FALSE, FALSE, sizeof(NsDecl));
    if (len >= 3 && memcmp(text, "\xef\xbb\xbf", 3) == 0)
        r.p += 3;
    if (!memchr(text, '<', (gsize)len)) {
        gboolean blank = TRUE;

        for (gssize i = 0; i < len; i++)
            blank = blank && is_space(text[i]);
        g_set_error(error, VN_ERROR, VN_ERROR_INVALID, "%s XML: %s", what,
                    blank ? "empty input" : "no element");
        goto out;
    }
    if (memchr(text, '\0', (gsize)len)) {
        fail(&r, "a NUL byte in the document");
        goto out;
    }
    if (!g_utf8_validate(text, len, NULL)) {
        fail(&r, "the document is not UTF-8");
        goto out;
    }
    for (gssize i = 0; i < len; i++) {
        unsigned char c = (unsigned char)text[i];

        if (c < 0x20 && c != '\t' && c != '\n' && c != '\r') {
            r.line = 1;
            for (gssize k = 0; k < i; k++)
                r.line += text[k] == '\n';
            fail(&r, "control character 0x%02x", c);
            goto out;
        }
    }
    if (!read_xml_decl(&r) || !skip_misc(&r))
        goto out;
    if (r.p >= r.end || *r.p != '<') {
        fail(&r, "the document does not start with an element");
        goto out;
    }
    if (!(root = read_element(&r, NULL, 0)))
        goto out;
    if (!skip_misc(&r))
        goto out;
    if (r.p < r.end) {
        fail(&r, "extra content after the root element <%s>", root->name);
        g_clear_pointer(&root, vn_xml_free);
    }
out:
    if (!root && error && !*error)
        fail(&r, "not well-formed");
    pop_ns(&r, 0);
    g_array_unref(r.ns);
    if (root && error && *error)
        g_clear_pointer(&root, vn_xml_free);
    return root;
}

const char *
vn_xml_attr(const VnXmlNode *node, const char *name)
{
    for (guint i = 0; node && node->attrs && i < node->attrs->len; i++) {
        const VnXmlAttr *a = &g_array_index(node->attrs, VnXmlAttr, i);

        if (!a->prefix && strcmp(a->name, name) == 0)
            return a->value;
    }
    return NULL;
}

gboolean
vn_xml_is(const VnXmlNode *node, const char *name)
{
    return node && !node->ns && !node->prefix && strcmp(node->name, name) == 0;
}

VnXmlNode *
vn_xml_child(const VnXmlNode *node, const char *name)
{
    for (VnXmlNode *c = node ? node->children : NULL; c; c = c->next)
        if (vn_xml_is(c, name))
            return c;
    return NULL;
}
