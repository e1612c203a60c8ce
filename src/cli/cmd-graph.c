/* cmd-graph.c: virt-nest graph: the whole nest from one snapshot per layer,
 * as one picture.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include <getopt.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

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

/* @text with what HTML would take for markup escaped, in <pre>. */
static void
html_pre(GString *o, const char *text)
{
    g_autofree char *t = g_markup_escape_text(text, -1);

    g_string_append_printf(o, "<pre>%s</pre>\n", t);
}

/* One page for a browser, with nothing to fetch: the SVG Graphviz drew
 * (its XML prolog and DTD line left out, as HTML takes SVG inline), the
 * doctor's walk when there is one, and the text view. No script; the
 * page's Content-Security-Policy allows no other resource either. */
static char *
html_page(const VnNest *nest, const char *svg, const VnDoctor *doc,
          const VnDoctorQuery *q)
{
    GString *o = g_string_new(NULL);
    const char *start = strstr(svg, "<svg");
    g_autofree char *text = vn_graph_text(nest);

    g_string_append(o,
                    "<!DOCTYPE html>\n"
                    "<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
                    "<meta http-equiv=\"Content-Security-Policy\" "
                    "content=\"default-src 'none'; style-src "
                    "'unsafe-inline'\">\n"
                    "<title>virt-nest graph</title>\n"
                    "<style>body{font-family:Helvetica,sans-serif;margin:1em}"
                    "pre{background:#f6f8fa;padding:.6em;overflow:auto}"
                    "</style>\n</head><body>\n"
                    "<h1>virt-nest graph</h1>\n<h2>The nest</h2>\n");
    g_string_append(o, start ? start : svg);
    if (doc) {
        g_autofree char *walk = vn_doctor_text(doc, q);

        g_string_append(o, "<h2>Doctor</h2>\n");
        html_pre(o, walk);
    }
    g_string_append(o, "<h2>Text view</h2>\n");
    html_pre(o, text);
    g_string_append(o, "</body></html>\n");
    return g_string_free(o, FALSE);
}

static void
graph_usage(FILE *f)
{
    fprintf(f,
            "Usage: virt-nest graph [--json | --mermaid | --dot | --svg | "
            "--html]\n"
            "                       [--all-links] [--from ADDR --to ADDR\n"
            "                       [--tcp | --udp] [--size BYTES]] "
            "SNAPSHOT...\n\n"
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
            "      --html          one self-contained page: the SVG, the "
            "doctor's walk\n"
            "                      (with --from/--to) and the text view\n"
            "      --all-links     draw links unrelated to the nest too, "
            "dimmed\n"
            "      --from ADDR, --to ADDR, --tcp, --udp, --size BYTES\n"
            "                      walk a packet as 'virt-nest doctor' does "
            "and draw\n"
            "                      its way in bold, where it dies in red "
            "with the fix\n"
            "                      (a tooltip and a legend)\n"
            "  -h, --help          show this help\n");
}

int
vn_cmd_graph(int argc, char **argv)
{
    enum { OPT_JSON = 256, OPT_MERMAID, OPT_DOT, OPT_SVG, OPT_HTML,
           OPT_ALL_LINKS,
           OPT_FROM, OPT_TO, OPT_TCP, OPT_UDP, OPT_SIZE };
    static const struct option opts[] = {
        { "json", no_argument, NULL, OPT_JSON },
        { "mermaid", no_argument, NULL, OPT_MERMAID },
        { "dot", no_argument, NULL, OPT_DOT },
        { "svg", no_argument, NULL, OPT_SVG },
        { "html", no_argument, NULL, OPT_HTML },
        { "all-links", no_argument, NULL, OPT_ALL_LINKS },
        { "from", required_argument, NULL, OPT_FROM },
        { "to", required_argument, NULL, OPT_TO },
        { "tcp", no_argument, NULL, OPT_TCP },
        { "udp", no_argument, NULL, OPT_UDP },
        { "size", required_argument, NULL, OPT_SIZE },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    char *(*render)(const VnNest *, const VnGraphOptions *) = NULL;
    char *(*plain)(const VnNest *) = vn_graph_text;
    VnGraphOptions gopts = { 0 };
    VnDoctorQuery q = { 0 };
    const char *from = NULL, *to = NULL;
    gboolean svg = FALSE, html = FALSE, walk = FALSE;
    g_autoptr(VnDoctor) doc = NULL;
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
        case OPT_HTML:
            render = vn_graph_dot;
            svg = html = TRUE;
            nformats++;
            break;
        case OPT_ALL_LINKS:
            gopts.all_links = TRUE;
            break;
        case OPT_FROM:
            from = optarg;
            walk = TRUE;
            break;
        case OPT_TO:
            to = optarg;
            walk = TRUE;
            break;
        case OPT_TCP:
        case OPT_UDP:
            if (q.proto && q.proto != (c == OPT_TCP ? IPPROTO_TCP
                                                    : IPPROTO_UDP)) {
                vn_cli_error("graph: --tcp and --udp exclude each other");
                return VN_EXIT_USAGE;
            }
            q.proto = c == OPT_TCP ? IPPROTO_TCP : IPPROTO_UDP;
            walk = TRUE;
            break;
        case OPT_SIZE:
            if (vn_cli_parse_size("graph", optarg, &q.size) != VN_EXIT_OK)
                return VN_EXIT_USAGE;
            walk = TRUE;
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
        vn_cli_error("graph: --json, --mermaid, --dot, --svg and --html "
                     "exclude each other");
        return VN_EXIT_USAGE;
    }
    if (gopts.all_links && !render) {
        vn_cli_error("graph: --all-links is for the pictures; give it with "
                     "--mermaid, --dot, --svg or --html");
        return VN_EXIT_USAGE;
    }
    if (walk && !render) {
        vn_cli_error("graph: --from and --to draw the walk on a picture; "
                     "give --mermaid, --dot, --svg or --html (or run "
                     "'virt-nest doctor' for it as text)");
        return VN_EXIT_USAGE;
    }
    if (walk && vn_cli_doctor_query("graph", from, to, &q) != VN_EXIT_OK)
        return VN_EXIT_USAGE;
    if (optind >= argc) {
        vn_cli_error("graph: give the snapshots of the layers, each from "
                     "'virt-nest status --json --host'");
        return VN_EXIT_USAGE;
    }
    if (!(nest = vn_cli_load_nest("graph", argc - optind, argv + optind)))
        return VN_EXIT_FAILURE;
    if (walk) {
        g_autoptr(GError) err = NULL;

        /* the doctor's own engine: the picture says what it says */
        if (!(doc = vn_doctor_run(nest, &q, &err))) {
            vn_cli_error("graph: %s", err->message);
            return VN_EXIT_FAILURE;
        }
        gopts.doctor = doc;
        gopts.query = &q;
    }
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
    if (html) {
        char *page = html_page(nest, text, doc, &q);

        g_free(text);
        text = page;
    }
    fputs(text, stdout);
    fflush(stdout);
    return VN_EXIT_OK;
}
