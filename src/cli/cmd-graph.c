/* cmd-graph.c: virt-nest graph: the whole nest from one snapshot per layer,
 * as one picture.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "bundle.h"
#include "cli.h"
#include "json.h"
#include "nestview.h"
#include "snapshot.h"
#include "stitch.h"

/* What a bundle says of one of its layers: stitching by MAC must agree. */
typedef struct {
    const VnLayer *parent;  /* the parent's layer, borrowed */
    char *guest;
    int parent_index;
} Claim;

static void
claim_free(Claim *c)
{
    g_free(c->guest);
    g_free(c);
}

/* The layers of @bundle into @layers, each named in @names, with what it
 * says of each into @claims; the guests the walk did not enter, one line
 * each on stderr. */
static void
add_bundle(const char *command, VnBundle *bundle, const char *name,
           GPtrArray *layers, GPtrArray *names, GHashTable *claims)
{
    guint base = layers->len;

    for (guint i = 0; i < bundle->layers->len; i++) {
        VnBundleLayer *bl = bundle->layers->pdata[i];

        if (bl->guest) {
            Claim *c = g_new0(Claim, 1);

            /* parents come first: theirs is already in @layers */
            c->parent = layers->pdata[base + (guint)bl->parent];
            c->guest = g_strdup(bl->guest);
            c->parent_index = bl->parent;
            g_hash_table_insert(claims, bl->layer, c);
        }
        g_ptr_array_add(layers, g_steal_pointer(&bl->layer));
        if (!bl->guest)
            g_ptr_array_add(names, g_strdup_printf("%s#%u", name, i));
        else if (!bl->reason)
            g_ptr_array_add(names, g_strdup_printf("%s#%u (guest %s)", name,
                                                   i, bl->guest));
        else
            g_ptr_array_add(names, g_strdup_printf(
                "%s#%u (guest %s, partial: %s)", name, i, bl->guest,
                bl->reason));
    }
    for (guint i = 0; i < bundle->leaves->len; i++) {
        const VnBundleLeaf *lf = bundle->leaves->pdata[i];

        vn_cli_error("%s: %s#%d: guest '%s' was not entered: %s", command,
                     name, lf->parent, lf->guest, lf->reason);
    }
}

/* One file: a snapshot or a bundle, into @layers and @names. */
static gboolean
load_one(const char *command, const char *path, GPtrArray *layers,
         GPtrArray *names, GHashTable *claims)
{
    g_autoptr(GError) err = NULL;
    g_autofree char *text = NULL;
    g_autoptr(VnJson) root = NULL;
    g_autoptr(VnBundle) bundle = NULL;
    VnLayer *l;
    gsize len;

    if (!g_file_get_contents(path, &text, &len, &err)) {
        vn_cli_error("%s: snapshot %s: %s; take one on each layer with "
                     "'virt-nest status --json --host > FILE', or all of "
                     "them with --walk", command, path, err->message);
        return FALSE;
    }
    root = len <= VN_BUNDLE_MAX_BYTES ? vn_json_parse(text, (gssize)len, NULL)
                                      : NULL;
    if (root && vn_bundle_is_bundle(root)) {
        if (!(bundle = vn_bundle_parse(text, (gssize)len, path, &err))) {
            vn_cli_error("%s: %s", command, err->message);
            return FALSE;
        }
        add_bundle(command, bundle, path, layers, names, claims);
        return TRUE;
    }
    if (!(l = vn_snapshot_parse(text, (gssize)len, path, &err))) {
        vn_cli_error("%s: %s", command, err->message);
        return FALSE;
    }
    g_ptr_array_add(layers, l);
    g_ptr_array_add(names, g_strdup(path));
    return TRUE;
}

/* Stitch; then every layer a bundle tied to a guest must hang off that
 * guest of that layer, by its MACs: a bundle's word is checked, not
 * taken. */
static VnNest *
stitch(const char *command, GPtrArray *layers, GPtrArray *names,
       GHashTable *claims)
{
    g_autoptr(GError) err = NULL;
    g_autoptr(VnNest) nest = vn_nest_stitch(layers, names, &err);

    if (!nest) {
        vn_cli_error("%s: %s", command, err->message);
        return NULL;
    }
    for (guint i = 0; i < nest->layers->len; i++) {
        const VnNestLayer *nl = nest->layers->pdata[i];
        const Claim *c = g_hash_table_lookup(claims, nl->layer);

        if (!c)
            continue;
        if (!nl->parent || nl->parent->layer != c->parent ||
            !nl->guest || g_strcmp0(nl->guest->name, c->guest) != 0) {
            vn_cli_error("%s: %s says it is guest '%s' of layer %d, but "
                         "its MACs tie it to %s%s%s", command, nl->source,
                         c->guest, c->parent_index,
                         nl->parent ? nl->parent->source : "no layer",
                         nl->guest ? ", guest " : "",
                         nl->guest ? nl->guest->name : "");
            return NULL;
        }
    }
    return g_steal_pointer(&nest);
}

static GHashTable *
claims_new(void)
{
    return g_hash_table_new_full(NULL, NULL, NULL, (GDestroyNotify)claim_free);
}

VnNest *
vn_cli_load_nest(const char *command, int n, char **paths)
{
    g_autoptr(GPtrArray) layers = g_ptr_array_new_with_free_func(
        (GDestroyNotify)vn_layer_free);
    g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func(g_free);
    g_autoptr(GHashTable) claims = claims_new();

    for (int i = 0; i < n; i++)
        if (!load_one(command, paths[i], layers, names, claims))
            return NULL;
    return stitch(command, layers, names, claims);
}

VnNest *
vn_cli_bundle_nest(const char *command, const char *text, const char *name)
{
    g_autoptr(GPtrArray) layers = g_ptr_array_new_with_free_func(
        (GDestroyNotify)vn_layer_free);
    g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func(g_free);
    g_autoptr(GHashTable) claims = claims_new();
    g_autoptr(GError) err = NULL;
    g_autoptr(VnBundle) bundle = vn_bundle_parse(text, -1, name, &err);

    if (!bundle) {
        vn_cli_error("%s: %s", command, err->message);
        return NULL;
    }
    add_bundle(command, bundle, name, layers, names, claims);
    return stitch(command, layers, names, claims);
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
            "SNAPSHOT...\n"
            "       virt-nest graph [OPTIONS] --walk [-c URI] [--walk-depth N]\n"
            "                       [--walk-timeout SEC]\n\n"
            "Stitch the layers of a nest together from one snapshot per layer\n"
            "('virt-nest status --json --host' on each; a bundle of 'status\n"
            "--walk' counts for all its layers), or from the walk through the\n"
            "guest agents that --walk does, and show them as one picture,\n"
            "top-down: the outside world, then each layer in the one\n"
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
            "      --walk          walk the nest from this layer (see "
            "'status --walk')\n"
            "  -c, --connect URI   libvirt URI of this layer, for --walk\n"
            "      --walk-depth N  layers below this one to enter (default "
            "%d)\n"
            "      --walk-timeout SEC  seconds per guest (default %d)\n"
            "  -h, --help          show this help\n", VN_WALK_DEPTH,
            VN_WALK_TIMEOUT);
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
        { "connect", required_argument, NULL, 'c' },
        VN_CLI_WALK_OPTIONS,
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    char *(*render)(const VnNest *, const VnGraphOptions *) = NULL;
    char *(*plain)(const VnNest *) = vn_graph_text;
    VnGraphOptions gopts = { 0 };
    VnDoctorQuery q = { 0 };
    const char *from = NULL, *to = NULL;
    gboolean svg = FALSE, html = FALSE, walk = FALSE, agent_walk = FALSE;
    VnWalkOptions wo = { 0 };
    const char *uri = NULL;
    g_autoptr(VnDoctor) doc = NULL;
    int nformats = 0, c, rc;
    g_autoptr(VnNest) nest = NULL;
    g_autofree char *text = NULL;

    optind = 1;
    opterr = 0;
    while ((c = vn_cli_getopt(argc, argv, "c:h", opts)) != -1) {
        switch (c) {
        case 'c':
            uri = optarg;
            break;
        case VN_CLI_OPT_WALK:
            agent_walk = TRUE;
            /* fall through */
        case VN_CLI_OPT_WALK_DEPTH:
        case VN_CLI_OPT_WALK_TIMEOUT:
            if (!vn_cli_walk_option("graph", c, optarg, &wo, &rc))
                return rc;
            break;
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
            if (vn_cli_parse_proto("graph", c == OPT_TCP, &q.proto) !=
                VN_EXIT_OK)
                return VN_EXIT_USAGE;
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
            vn_cli_bad_option("graph", "c:h", argv);
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
    if (!vn_cli_walk_check("graph", agent_walk, &wo, &rc))
        return rc;
    if (agent_walk && optind < argc) {
        vn_cli_error("graph: --walk collects the snapshots itself; leave out "
                     "'%s'", argv[optind]);
        return VN_EXIT_USAGE;
    }
    if (uri && !agent_walk) {
        vn_cli_error("graph: -c is for --walk; snapshots name their own "
                     "layers");
        return VN_EXIT_USAGE;
    }
    if (!agent_walk && optind >= argc) {
        vn_cli_error("graph: give the snapshots of the layers, each from "
                     "'virt-nest status --json --host', or --walk");
        return VN_EXIT_USAGE;
    }
    if (agent_walk) {
        g_autoptr(GError) err = NULL;
        g_autofree char *bundle = vn_cli_walk(uri, TRUE, &wo, &err);

        if (!bundle) {
            vn_cli_error("graph: --walk: %s", err->message);
            return VN_EXIT_FAILURE;
        }
        nest = vn_cli_bundle_nest("graph", bundle, "the walk");
    } else {
        nest = vn_cli_load_nest("graph", argc - optind, argv + optind);
    }
    if (!nest)
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
