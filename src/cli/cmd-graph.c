/* cmd-graph.c: virt-nest graph: the whole nest from one snapshot per layer,
 * as one picture.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include <getopt.h>
#include <stdio.h>

#include "cli.h"
#include "nestview.h"
#include "snapshot.h"
#include "stitch.h"

VnNest *
vn_cli_load_nest(const char *command, int n, char **paths)
{
    g_autoptr(GPtrArray) layers = g_ptr_array_new_with_free_func(
        (GDestroyNotify)vn_layer_free);
    g_autoptr(GPtrArray) sources = g_ptr_array_new();
    g_autoptr(GError) err = NULL;
    VnNest *nest;

    for (int i = 0; i < n; i++) {
        VnLayer *l = vn_snapshot_load(paths[i], &err);

        if (!l) {
            vn_cli_error("%s: %s", command, err->message);
            return NULL;
        }
        g_ptr_array_add(layers, l);
        g_ptr_array_add(sources, paths[i]);
    }
    if (!(nest = vn_nest_stitch(layers, sources, &err))) {
        vn_cli_error("%s: %s", command, err->message);
        return NULL;
    }
    return nest;
}

static void
graph_usage(FILE *f)
{
    fprintf(f,
            "Usage: virt-nest graph [--json | --mermaid | --dot | --svg]\n"
            "                       [--all-links] SNAPSHOT...\n\n"
            "Stitch the layers of a nest together from one snapshot per layer\n"
            "('virt-nest status --json --host' on each) and show them as one\n"
            "picture, top-down: the outside world, then each layer in the one\n"
            "that holds it, its uplink above its bridges above its TAPs; the\n"
            "wire from each TAP to the guest inside, NAT boundaries, and the\n"
            "routes and exceptions that cross layers.\n\n"
            "      --json          JSON for programs (see virt-nest(1))\n"
            "      --mermaid       a Mermaid flowchart\n"
            "      --dot           a Graphviz digraph\n"
            "      --svg           that digraph laid out as SVG (Graphviz's "
            "library)\n"
            "      --all-links     draw links unrelated to the nest too, "
            "dimmed\n"
            "  -h, --help          show this help\n");
}

int
vn_cmd_graph(int argc, char **argv)
{
    enum { OPT_JSON = 256, OPT_MERMAID, OPT_DOT, OPT_SVG, OPT_ALL_LINKS };
    static const struct option opts[] = {
        { "json", no_argument, NULL, OPT_JSON },
        { "mermaid", no_argument, NULL, OPT_MERMAID },
        { "dot", no_argument, NULL, OPT_DOT },
        { "svg", no_argument, NULL, OPT_SVG },
        { "all-links", no_argument, NULL, OPT_ALL_LINKS },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    char *(*render)(const VnNest *, const VnGraphOptions *) = NULL;
    char *(*plain)(const VnNest *) = vn_graph_text;
    VnGraphOptions gopts = { 0 };
    gboolean svg = FALSE;
    int nformats = 0, c;
    g_autoptr(VnNest) nest = NULL;
    g_autofree char *text = NULL;

    optind = 1;
    opterr = 0;
    while ((c = vn_cli_getopt(argc, argv, "h", opts)) != -1) {
        switch (c) {
        case OPT_JSON:
            plain = vn_graph_json;
            nformats++;
            break;
        case OPT_MERMAID:
            render = vn_graph_mermaid;
            nformats++;
            break;
        case OPT_DOT:
            render = vn_graph_dot;
            nformats++;
            break;
        case OPT_SVG:
            render = vn_graph_dot;
            svg = TRUE;
            nformats++;
            break;
        case OPT_ALL_LINKS:
            gopts.all_links = TRUE;
            break;
        case 'h':
            graph_usage(stdout);
            return VN_EXIT_OK;
        default:
            vn_cli_bad_option("graph", "h", argv);
            return VN_EXIT_USAGE;
        }
    }
    if (nformats > 1) {
        vn_cli_error("graph: --json, --mermaid, --dot and --svg exclude "
                     "each other");
        return VN_EXIT_USAGE;
    }
    if (gopts.all_links && !render) {
        vn_cli_error("graph: --all-links is for the pictures; give it with "
                     "--mermaid, --dot or --svg");
        return VN_EXIT_USAGE;
    }
    if (optind >= argc) {
        vn_cli_error("graph: give the snapshots of the layers, each from "
                     "'virt-nest status --json --host'");
        return VN_EXIT_USAGE;
    }
    if (!(nest = vn_cli_load_nest("graph", argc - optind, argv + optind)))
        return VN_EXIT_FAILURE;
    text = render ? render(nest, &gopts) : plain(nest);
    if (svg) {
        g_autoptr(GError) err = NULL;
        char *image = vn_cli_svg_from_dot(text, &err);

        if (!image) {
            vn_cli_error("graph: --svg: %s", err->message);
            return VN_EXIT_FAILURE;
        }
        g_free(text);
        text = image;
    }
    fputs(text, stdout);
    fflush(stdout);
    return VN_EXIT_OK;
}
