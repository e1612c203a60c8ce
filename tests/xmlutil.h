/* xmlutil.h: libxml2 for the schema test (the product parses with xml.c).
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <glib.h>
#include <libxml/tree.h>

G_BEGIN_DECLS

G_DEFINE_AUTOPTR_CLEANUP_FUNC(xmlDoc, xmlFreeDoc)

/* Parse @xml (no network access, no entities). On failure the error names
 * @what, the line and libxml2's message. */
xmlDoc *vn_xml_read(const char *xml, gssize len, const char *what,
                    GError **error);

G_END_DECLS
