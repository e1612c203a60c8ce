/* xml.c: libvirt's XML, read with libxml2 into a small tree.
 *
 * libxml2 parses; this file only builds the VnXmlNode tree its callers
 * walk, and holds libxml2 to what libvirt writes: UTF-8, no DOCTYPE (so no
 * entity is ever declared, expanded or loaded: XML_PARSE_NOENT and
 * XML_PARSE_DTDLOAD stay off, and the parse stops at "<!DOCTYPE"), no
 * network (XML_PARSE_NONET), at most VN_XML_MAX_SIZE bytes and MAX_DEPTH
 * levels (libxml2's own limits stay on: XML_PARSE_HUGE never).
 *
 * The hook runs on every event of every network and guest, and most
 * events are no concern of virt-nest's: they are decided with libc alone
 * and must not pay for loading libxml2 and what Debian's links in (ICU's
 * libicuuc and libicudata, libstdc++, liblzma, libz). Measured on the
 * 2-CPU bench machine (posix_spawn, 300 runs, medians, a parse of one
 * network's XML): /bin/true 0.77 ms; linked with Debian's libxml2.so
 * 1.60 ms; dlopen()ing it on the first parse costs the same ~0.9 ms on
 * the work path; libxml2.a linked in statically with ICU's converters
 * left out (hooks/noicu.c: the reader refuses what is not UTF-8 before
 * libxml2 sees it, so libxml2 never asks ICU for a converter) 0.87 ms,
 * and a 1.8 MB binary whose libxml2 pages are read only when a document
 * is parsed. So the static hook (meson option static_hook, the default)
 * links libxml2 that way; the CLI and the library link the shared one,
 * which libvirt has loaded already.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include <string.h>
#include <libxml/parser.h>
#include <libxml/tree.h>

#include "error.h"
#include "xml.h"

#define MAX_DEPTH 256

/* libxml2 keeps global state (its dictionaries, its error handler) that
 * must be set up once before the first parse. */
static void
init_once(void)
{
    static gsize once;

    if (g_once_init_enter(&once)) {
        xmlInitParser();
        g_once_init_leave(&once, 1);
    }
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

/* A name libxml2 kept whole because its prefix is bound to nothing
 * ("nest:guest" without xmlns:nest) is split, as a reader of names
 * expects: PREFIX:LOCAL, both non-empty, one colon. */
static void
split_name(const xmlChar *qname, const xmlNs *ns, char **prefix, char **local)
{
    const char *q = (const char *)qname;
    const char *colon = strchr(q, ':');

    if (ns) {
        *prefix = g_strdup((const char *)ns->prefix);
        *local = g_strdup(q);
    } else if (colon && colon != q && colon[1] && !strchr(colon + 1, ':')) {
        *prefix = g_strndup(q, (gsize)(colon - q));
        *local = g_strdup(colon + 1);
    } else {
        *prefix = NULL;
        *local = g_strdup(q);
    }
}

/* The namespace URI of @ns, NULL for none (or xmlns=""). */
static char *
ns_uri(const xmlNs *ns)
{
    return ns && ns->href && *ns->href ? g_strdup((const char *)ns->href)
                                       : NULL;
}

/* The character data directly in @list (text and CDATA), joined. */
static char *
text_of(const xmlNode *list)
{
    GString *s = NULL;

    for (const xmlNode *c = list; c; c = c->next) {
        if ((c->type == XML_TEXT_NODE || c->type == XML_CDATA_SECTION_NODE) &&
            c->content) {
            if (!s)
                s = g_string_new(NULL);
            g_string_append(s, (const char *)c->content);
        }
    }
    return s ? g_string_free(s, FALSE) : NULL;
}

static VnXmlNode *
convert(const xmlNode *x, VnXmlNode *parent)
{
    VnXmlNode *node = g_new0(VnXmlNode, 1);
    VnXmlNode **tail = &node->children;

    split_name(x->name, x->ns, &node->prefix, &node->name);
    node->ns = ns_uri(x->ns);
    node->parent = parent;
    node->line = (int)MIN(xmlGetLineNo(x), G_MAXINT);
    node->attrs = g_array_new(FALSE, TRUE, sizeof(VnXmlAttr));
    g_array_set_clear_func(node->attrs, (GDestroyNotify)attr_clear);
    for (const xmlAttr *a = x->properties; a; a = a->next) {
        VnXmlAttr b = { 0 };

        split_name(a->name, a->ns, &b.prefix, &b.name);
        b.ns = ns_uri(a->ns);
        b.value = text_of(a->children);
        if (!b.value)
            b.value = g_strdup("");
        g_array_append_val(node->attrs, b);
    }
    node->text = text_of(x->children);
    if (node->text && !*node->text)
        g_clear_pointer(&node->text, g_free);
    for (const xmlNode *c = x->children; c; c = c->next) {
        if (c->type != XML_ELEMENT_NODE)
            continue;
        *tail = convert(c, node);
        tail = &(*tail)->next;
    }
    return node;
}

/* The deepest element nesting under @x (1 for a leaf), stopping past
 * @limit. */
static int
depth_of(const xmlNode *x, int limit)
{
    int deepest = 0;

    for (const xmlNode *c = x->children; c && deepest <= limit; c = c->next) {
        int d;

        if (c->type != XML_ELEMENT_NODE)
            continue;
        d = depth_of(c, limit - 1);     /* once: MAX() evaluates twice */
        deepest = MAX(deepest, d);
    }
    return deepest + 1;
}

/* What the SAX callbacks below saw, in the context's _private. */
typedef struct {
    int doctype;            /* the line of a DOCTYPE declaration, or 0 */
    char *first;            /* libxml2's first fatal error */
    int first_line;
} ParseState;

/* SAX: a DOCTYPE declaration. Nothing of it is parsed further: no
 * internal subset, no entity declared. */
static void
refuse_doctype(void *ctx, const xmlChar *name, const xmlChar *external_id,
               const xmlChar *system_id)
{
    xmlParserCtxtPtr ctxt = ctx;
    ParseState *st = ctxt->_private;

    st->doctype = ctxt->input ? MAX(ctxt->input->line, 1) : 1;
    xmlStopParser(ctxt);
}

/* libxml2's message, on one line: some quote the document across lines
 * ("CData section not finished\nx</"). */
static char *
one_line(const char *msg)
{
    char *s = g_strchomp(g_strdup(msg));

    for (char *p = s; *p; p++)
        if ((unsigned char)*p < 0x20 || *p == 0x7f)
            *p = ' ';
    return s;
}

/* libxml2 keeps only its last error, often a consequence of the first
 * ("Extra content at the end of the document" after a bad attribute). */
static void
keep_first_error(void *ctx, xmlErrorPtr e)
{
    xmlParserCtxtPtr ctxt = ctx;
    ParseState *st = ctxt->_private;

    if (!st->first && e && e->level == XML_ERR_FATAL && e->message) {
        st->first = one_line(e->message);
        st->first_line = MAX(e->line, 1);
    }
}

static void G_GNUC_PRINTF(4, 5)
malformed(GError **error, const char *what, int line, const char *fmt, ...)
{
    va_list ap;
    g_autofree char *msg = NULL;

    va_start(ap, fmt);
    msg = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    g_set_error(error, VN_ERROR, VN_ERROR_INVALID,
                "%s XML is malformed: line %d: %s", what, line, msg);
}

/* The line of the first of @text's bytes at @at. */
static int
line_at(const char *text, gsize at)
{
    int line = 1;

    for (gsize i = 0; i < at; i++)
        line += text[i] == '\n';
    return line;
}

/* What libxml2 never sees: no input, no element, more than the bound,
 * NUL bytes, anything but UTF-8. */
static gboolean
check_input(const char *text, gsize len, const char *what, GError **error)
{
    const char *nul, *bad;
    gboolean blank = TRUE;

    if (len > VN_XML_MAX_SIZE) {
        g_set_error(error, VN_ERROR, VN_ERROR_INVALID,
                    "%s XML is %" G_GSIZE_FORMAT " bytes, more than the %d "
                    "MiB libvirt's XML for one object never reaches; check "
                    "where it comes from", what, len, VN_XML_MAX_SIZE >> 20);
        return FALSE;
    }
    if (!memchr(text, '<', len)) {
        for (gsize i = 0; i < len; i++)
            blank = blank && g_ascii_isspace(text[i]);
        g_set_error(error, VN_ERROR, VN_ERROR_INVALID, "%s XML: %s", what,
                    blank ? "empty input" : "no element");
        return FALSE;
    }
    if ((nul = memchr(text, '\0', len))) {
        malformed(error, what, line_at(text, (gsize)(nul - text)),
                  "a NUL byte in the document");
        return FALSE;
    }
    if (!g_utf8_validate(text, (gssize)len, &bad)) {
        malformed(error, what, line_at(text, (gsize)(bad - text)),
                  "the document is not UTF-8");
        return FALSE;
    }
    return TRUE;
}

/* libvirt writes a carriage return in a name or value as it is (its
 * virBufferEscapeString() leaves it), and an XML parser turns it into a
 * newline (line-end normalization; a space in an attribute value): the
 * network libvirt calls "a\rb" in the hook's argv would read as "a\nb".
 * So a raw CR in an element's text or in a quoted value becomes "&#13;",
 * which the parser keeps as a CR; one between attributes, a space; one
 * outside the root element stays. Only called when the text holds a CR;
 * it takes the markup as libvirt writes it (no '>' inside a comment). */
static char *
keep_carriage_returns(const char *text, gsize len, gsize *out_len)
{
    GString *out = g_string_sized_new(len + 32);
    enum { TEXT, OPEN, CLOSE, OTHER } tag = TEXT;
    guint depth = 0;
    char quote = 0;

    for (gsize i = 0; i < len; i++) {
        char c = text[i];

        if (c != '\r')
            g_string_append_c(out, c);
        else if (quote || (tag == TEXT && depth > 0))
            g_string_append(out, "&#13;");      /* in a value or an element */
        else
            g_string_append_c(out, tag == TEXT ? c : ' ');
        if (quote) {
            quote = c == quote ? 0 : quote;
        } else if (tag == TEXT) {
            if (c == '<' && i + 1 < len)
                tag = text[i + 1] == '/' ? CLOSE
                    : text[i + 1] == '!' || text[i + 1] == '?' ? OTHER : OPEN;
        } else if (tag != OTHER && (c == '"' || c == '\'')) {
            quote = c;
        } else if (c == '>') {
            if (tag == OPEN && text[i - 1] != '/')
                depth++;
            else if (tag == CLOSE && depth > 0)
                depth--;
            tag = TEXT;
        }
    }
    *out_len = out->len;
    return g_string_free(out, FALSE);
}

VnXmlNode *
vn_xml_parse(const char *text, gssize len, const char *what, GError **error)
{
    g_autofree char *kept = NULL;
    gsize kept_len = 0;
    xmlParserCtxtPtr ctxt;
    xmlDocPtr doc;
    const xmlNode *root = NULL;
    g_autoptr(GError) err = NULL;
    ParseState st = { 0 };
    VnXmlNode *tree = NULL;

    if (!text) {
        g_set_error(error, VN_ERROR, VN_ERROR_INVALID, "%s XML: no input",
                    what);
        return NULL;
    }
    if (len < 0)
        len = (gssize)strlen(text);
    if (!check_input(text, (gsize)len, what, error))
        return NULL;
    if (memchr(text, '\r', (gsize)len)) {
        kept = keep_carriage_returns(text, (gsize)len, &kept_len);
        if (kept_len > G_MAXINT) {
            g_set_error(error, VN_ERROR, VN_ERROR_INVALID,
                        "%s XML: too large", what);
            return NULL;
        }
        text = kept;
        len = (gssize)kept_len;
    }
    init_once();
    if (!(ctxt = xmlNewParserCtxt())) {
        g_set_error(error, VN_ERROR, VN_ERROR_FAILED, "%s XML: out of memory",
                    what);
        return NULL;
    }
    ctxt->_private = &st;
    ctxt->sax->internalSubset = refuse_doctype;
    ctxt->sax->serror = keep_first_error;
    /* no XML_PARSE_NOENT (entities are never substituted), no
     * XML_PARSE_DTDLOAD, no XML_PARSE_HUGE */
    doc = xmlCtxtReadMemory(ctxt, text, (int)len, NULL, NULL,
                          XML_PARSE_NONET | XML_PARSE_NOERROR |
                          XML_PARSE_NOWARNING | XML_PARSE_BIG_LINES);
    if (st.doctype) {
        malformed(&err, what, st.doctype,
                  "DOCTYPE declarations are not accepted");
    } else if (!doc || !ctxt->wellFormed) {
        const xmlError *e = xmlCtxtGetLastError(ctxt);
        g_autofree char *msg = one_line(e && e->message ? e->message
                                                       : "not well-formed");

        if (st.first)
            malformed(&err, what, st.first_line, "%s", st.first);
        else
            malformed(&err, what, e ? MAX(e->line, 1) : 1, "%s", msg);
    } else {
        for (root = doc->children; root && root->type != XML_ELEMENT_NODE;)
            root = root->next;
        if (!root)
            malformed(&err, what, 1, "no root element");
        else if (doc->encoding &&
                 g_ascii_strcasecmp((const char *)doc->encoding, "UTF-8") &&
                 g_ascii_strcasecmp((const char *)doc->encoding, "US-ASCII"))
            malformed(&err, what, 1, "unsupported encoding %s: libvirt "
                      "writes UTF-8", (const char *)doc->encoding);
        else if (depth_of(root, MAX_DEPTH) > MAX_DEPTH)
            malformed(&err, what, (int)xmlGetLineNo(root),
                      "elements nested deeper than %d", MAX_DEPTH);
    }
    if (!err)
        tree = convert(root, NULL);
    if (doc)
        xmlFreeDoc(doc);
    xmlFreeParserCtxt(ctxt);
    g_free(st.first);
    if (err)
        g_propagate_error(error, g_steal_pointer(&err));
    return tree;
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
