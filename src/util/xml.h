/* xml.h: libvirt's XML as a small tree, read with libxml2.
 *
 * libvirt's XML is machine-written: elements, attributes, namespaces,
 * text, comments. vn_xml_parse() reads it with libxml2 (loaded on first
 * use, see xml.c), strictly: well-formed XML 1.0 with namespaces, UTF-8,
 * no DOCTYPE (so there are no entities to expand, and nothing is ever
 * loaded from elsewhere), no network, at most VN_XML_MAX_SIZE bytes and
 * 256 levels. Both the CLI and the hook parse through it.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* libvirt's XML for one network or guest is far below a megabyte; more
 * is refused (the hook reads no more from its stdin either). */
#define VN_XML_MAX_SIZE (4 << 20)

typedef struct {
    char *name;             /* local name */
    char *prefix;           /* NULL without one */
    char *ns;               /* the namespace URI of a prefixed name, or NULL */
    char *value;
} VnXmlAttr;

typedef struct _VnXmlNode VnXmlNode;
struct _VnXmlNode {
    char *name;             /* local name */
    char *prefix;           /* NULL without one */
    char *ns;               /* the namespace URI, NULL without one (or unbound) */
    GArray *attrs;          /* VnXmlAttr, in document order */
    char *text;             /* the character data directly inside, joined */
    VnXmlNode *parent;
    VnXmlNode *children;    /* first child element */
    VnXmlNode *next;        /* next sibling element */
    int line;
};

/**
 * vn_xml_parse:
 * @text: the document
 * @len: its length, or -1 if NUL-terminated
 * @what: what the document is, for messages ("network", "domain")
 * @error: "WHAT XML is malformed: line N: PROBLEM" (PROBLEM in libxml2's
 *   words), or "WHAT XML: empty input" and the like
 *
 * Returns: (transfer full): the root element, or NULL for anything but a
 * whole well-formed document, @error or not; free with vn_xml_free().
 */
VnXmlNode *vn_xml_parse(const char *text, gssize len, const char *what,
                        GError **error);

void vn_xml_free(VnXmlNode *root);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VnXmlNode, vn_xml_free)

/* The value of the attribute @name without a prefix, or NULL. Borrowed. */
const char *vn_xml_attr(const VnXmlNode *node, const char *name);

/* The first child element called @name, in no namespace. */
VnXmlNode *vn_xml_child(const VnXmlNode *node, const char *name);

/* TRUE if @node is called @name and is in no namespace. */
gboolean vn_xml_is(const VnXmlNode *node, const char *name);

G_END_DECLS
