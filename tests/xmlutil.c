/* xmlutil.c: libxml2 glue.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include <string.h>
#include <libxml/parser.h>

#include "error.h"
#include "xmlutil.h"

xmlDoc *
vn_xml_read(const char *xml, gssize len, const char *what, GError **error)
{
    xmlParserCtxt *ctxt;
    xmlDoc *doc;

    if (!xml) {
        g_set_error(error, VN_ERROR, VN_ERROR_INVALID, "%s XML: no input",
                    what);
        return NULL;
    }
    if (len < 0)
        len = (gssize)strlen(xml);
    if (len == 0) {
        g_set_error(error, VN_ERROR, VN_ERROR_INVALID, "%s XML: empty input",
                    what);
        return NULL;
    }
    ctxt = xmlNewParserCtxt();
    if (!ctxt) {
        g_set_error(error, VN_ERROR, VN_ERROR_FAILED, "out of memory");
        return NULL;
    }
    doc = xmlCtxtReadMemory(ctxt, xml, (int)len, NULL, NULL,
                            XML_PARSE_NONET | XML_PARSE_NOERROR |
                            XML_PARSE_NOWARNING | XML_PARSE_NOCDATA);
    if (!doc || !ctxt->wellFormed) {
        const xmlError *e = xmlCtxtGetLastError(ctxt);
        g_autofree char *msg = g_strdup(e && e->message ? e->message
                                                       : "not well-formed");

        g_strchomp(msg);
        g_set_error(error, VN_ERROR, VN_ERROR_INVALID,
                    "%s XML is malformed: line %d: %s", what,
                    e ? e->line : 0, msg);
        xmlFreeDoc(doc);
        doc = NULL;
    }
    xmlFreeParserCtxt(ctxt);
    return doc;
}
