/* svgwrite.c: an SVG of a picture's dot text, through Graphviz's C
 * library (libgvc/cgraph): no dot binary, no browser. Linked into the
 * command only; the hook and libvirt-nest.so never load Graphviz.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include <graphviz/cgraph.h>
#include <graphviz/gvc.h>

#include "cli.h"
#include "error.h"

char *
vn_cli_svg_from_dot(const char *dot, GError **error)
{
    GVC_t *gvc;
    Agraph_t *g;
    char *data = NULL;
    VN_GV_LENGTH_T len = 0;     /* unsigned int in Graphviz 2.x */
    char *svg = NULL;

    /* gvContext() loads the plugins listed in Graphviz's config6a
     * (Debian's libgvc6 writes it when installed): dot's layout and the
     * core's SVG renderer. */
    if (!(gvc = gvContext())) {
        g_set_error(error, VN_ERROR, VN_ERROR_FAILED,
                    "Graphviz: no context; is libgvc6 installed?");
        return NULL;
    }
    if (!(g = agmemread(dot))) {
        g_set_error(error, VN_ERROR, VN_ERROR_FAILED,
                    "Graphviz: the picture's dot text does not parse");
        gvFreeContext(gvc);
        return NULL;
    }
    if (gvLayout(gvc, g, "dot") != 0) {
        g_set_error(error, VN_ERROR, VN_ERROR_FAILED,
                    "Graphviz: no 'dot' layout plugin; reinstall libgvc6 "
                    "(its config6a lists the plugins)");
    } else {
        if (gvRenderData(gvc, g, "svg", &data, &len) != 0 || !data)
            g_set_error(error, VN_ERROR, VN_ERROR_FAILED,
                        "Graphviz: no 'svg' renderer plugin; reinstall "
                        "libgvc6 (its config6a lists the plugins)");
        else
            svg = g_strndup(data, len);
        if (data)
            gvFreeRenderData(data);
        gvFreeLayout(gvc, g);
    }
    agclose(g);
    gvFreeContext(gvc);
    return svg;
}
