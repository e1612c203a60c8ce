/* cmd-graph.c: virt-nest graph: the whole nest from one snapshot per layer,
 * as one picture.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include <getopt.h>
#include <stdio.h>

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

static void
graph_usage(FILE *f)
{
    fprintf(f,
            "Usage: virt-nest graph [--json | --mermaid | --dot | --svg] SNAPSHOT...\n"
            "       virt-nest graph [--json | --mermaid | --dot | --svg]\n"
            "                       --walk [-c URI] [--walk-depth N]\n"
            "                       [--walk-timeout SEC]\n\n"
            "Stitch the layers of a nest together from one snapshot per layer\n"
            "('virt-nest status --json --host' on each; a bundle of 'status\n"
            "--walk' counts for all its layers), or from the walk through the\n"
            "guest agents that --walk does, and show them as one\n"
            "picture: links, bridges, TAPs and guests per layer, the wire from\n"
            "each TAP to the guest inside, NAT boundaries, and the routes and\n"
            "exceptions that cross layers.\n\n"
            "      --json          JSON for programs (see virt-nest(1))\n"
            "      --mermaid       a Mermaid flowchart\n"
            "      --dot           a Graphviz digraph\n"
            "      --svg           that digraph laid out as SVG (Graphviz's "
            "library)\n"
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
    enum { OPT_JSON = 256, OPT_MERMAID, OPT_DOT, OPT_SVG };
    static const struct option opts[] = {
        { "json", no_argument, NULL, OPT_JSON },
        { "mermaid", no_argument, NULL, OPT_MERMAID },
        { "dot", no_argument, NULL, OPT_DOT },
        { "svg", no_argument, NULL, OPT_SVG },
        { "connect", required_argument, NULL, 'c' },
        VN_CLI_WALK_OPTIONS,
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    char *(*render)(const VnNest *) = vn_graph_text;
    gboolean svg = FALSE, walk = FALSE;
    VnWalkOptions wo = { 0 };
    const char *uri = NULL;
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
            walk = TRUE;
            /* fall through */
        case VN_CLI_OPT_WALK_DEPTH:
        case VN_CLI_OPT_WALK_TIMEOUT:
            if (!vn_cli_walk_option("graph", c, optarg, &wo, &rc))
                return rc;
            break;
        case OPT_JSON:
            render = vn_graph_json;
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
        case 'h':
            graph_usage(stdout);
            return VN_EXIT_OK;
        default:
            vn_cli_bad_option("graph", "c:h", argv);
            return VN_EXIT_USAGE;
        }
    }
    if (nformats > 1) {
        vn_cli_error("graph: --json, --mermaid, --dot and --svg exclude "
                     "each other");
        return VN_EXIT_USAGE;
    }
    if (!vn_cli_walk_check("graph", walk, &wo, &rc))
        return rc;
    if (walk && optind < argc) {
        vn_cli_error("graph: --walk collects the snapshots itself; leave out "
                     "'%s'", argv[optind]);
        return VN_EXIT_USAGE;
    }
    if (uri && !walk) {
        vn_cli_error("graph: -c is for --walk; snapshots name their own "
                     "layers");
        return VN_EXIT_USAGE;
    }
    if (!walk && optind >= argc) {
        vn_cli_error("graph: give the snapshots of the layers, each from "
                     "'virt-nest status --json --host', or --walk");
        return VN_EXIT_USAGE;
    }
    if (walk) {
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
    text = render(nest);
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
