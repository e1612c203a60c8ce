/* cmd-graph.c: virt-nest graph and virt-nest doctor: the whole nest from
 * one snapshot per layer.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include <getopt.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <linux/rtnetlink.h>

#include "cli.h"
#include "discover.h"
#include "doctor.h"
#include "error.h"
#include "nftread.h"
#include "nestview.h"
#include "hostread.h"
#include "routeget.h"
#include "snapshot.h"
#include "stitch.h"

/* The nest from the snapshot files; NULL after printing why. */
static VnNest *
load_nest(const char *command, int n, char **paths)
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
            "Usage: virt-nest graph [--json | --mermaid | --dot] SNAPSHOT...\n\n"
            "Stitch the layers of a nest together from one snapshot per layer\n"
            "('virt-nest status --json --host' on each) and show them as one\n"
            "picture: links, bridges, TAPs and guests per layer, the wire from\n"
            "each TAP to the guest inside, NAT boundaries, and the routes and\n"
            "exceptions that cross layers.\n\n"
            "      --json          JSON for programs (see virt-nest(1))\n"
            "      --mermaid       a Mermaid flowchart\n"
            "      --dot           a Graphviz digraph\n"
            "  -h, --help          show this help\n");
}

int
vn_cmd_graph(int argc, char **argv)
{
    enum { OPT_JSON = 256, OPT_MERMAID, OPT_DOT };
    static const struct option opts[] = {
        { "json", no_argument, NULL, OPT_JSON },
        { "mermaid", no_argument, NULL, OPT_MERMAID },
        { "dot", no_argument, NULL, OPT_DOT },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    char *(*render)(const VnNest *) = vn_graph_text;
    int nformats = 0, c;
    g_autoptr(VnNest) nest = NULL;
    g_autofree char *text = NULL;

    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
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
        case 'h':
            graph_usage(stdout);
            return VN_EXIT_OK;
        default:
            vn_cli_bad_option("graph", "h", argv);
            return VN_EXIT_USAGE;
        }
    }
    if (nformats > 1) {
        vn_cli_error("graph: --json, --mermaid and --dot exclude each other");
        return VN_EXIT_USAGE;
    }
    if (optind >= argc) {
        vn_cli_error("graph: give the snapshots of the layers, each from "
                     "'virt-nest status --json --host'");
        return VN_EXIT_USAGE;
    }
    if (!(nest = load_nest("graph", argc - optind, argv + optind)))
        return VN_EXIT_FAILURE;
    text = render(nest);
    fputs(text, stdout);
    return VN_EXIT_OK;
}

static void
doctor_usage(FILE *f)
{
    fprintf(f,
            "Usage: virt-nest doctor --from ADDR --to ADDR [--tcp | --udp]\n"
            "                        [--size BYTES] [--json] [SNAPSHOT...]\n\n"
            "Walk a packet from ADDR to ADDR and its reply, hop by hop across\n"
            "the layers: routes, ip_forward, rp_filter, the firewall (which\n"
            "rule decides, in which table and chain), NAT and MTU. Name the\n"
            "first hop where it dies, why, and the fix.\n\n"
            "With no snapshots, the live layer alone (the kernel's own route\n"
            "lookups; libvirt at LIBVIRT_DEFAULT_URI or -c).\n\n"
            "      --from ADDR     where the packet starts: an address of a layer\n"
            "      --to ADDR       where it goes\n"
            "      --tcp, --udp    a TCP or UDP packet (default: ICMP echo)\n"
            "      --size BYTES    a packet of this size that must not be\n"
            "                      fragmented (default: MTU not checked)\n"
            "      --json          JSON for programs (see virt-nest(1))\n"
            "  -c, --connect URI   libvirt URI for the live layer\n"
            "  -h, --help          show this help\n");
}

static gboolean
kernel_lookup(const VnNestLayer *layer, const VnCidr *dst, int *oif,
              VnCidr *gateway, char **text, gpointer data)
{
    VnRouteGet rg;
    g_autoptr(GError) err = NULL;
    const VnLink *l;
    char b[VN_CIDR_STRLEN];
    GString *s;

    (void)data;
    /* an output lookup: for a forwarded packet it differs only under
     * policy routing by input interface */
    if (!vn_route_get(dst, &rg, &err)) {
        *text = g_strdup(err ? err->message : "no route");
        return FALSE;
    }
    if (rg.type != RTN_UNICAST || !rg.oif) {
        *text = g_strdup_printf("the kernel's route is of type %u", rg.type);
        return FALSE;
    }
    *oif = rg.oif;
    *gateway = rg.gateway;
    l = vn_host_find_link(layer->layer->host, rg.oif);
    s = g_string_new("the kernel: ");
    g_string_append_printf(s, "%s", vn_cidr_format(dst, FALSE, b));
    if (!vn_cidr_is_empty(&rg.gateway))
        g_string_append_printf(s, " via %s", vn_cidr_format(&rg.gateway, FALSE, b));
    g_string_append_printf(s, " dev %s", l ? l->name : "?");
    if (rg.table != RT_TABLE_MAIN)
        g_string_append_printf(s, " table %u", rg.table);
    *text = g_string_free(s, FALSE);
    return TRUE;
}

/* This layer, live. libvirt is optional: the walk needs the host. */
static VnNest *
live_nest(const char *uri)
{
    VnDiscoverOptions dopts = { uri, NULL, VN_HOST_YES };
    g_autoptr(GError) err = NULL;
    g_autoptr(GPtrArray) layers = g_ptr_array_new_with_free_func(
        (GDestroyNotify)vn_layer_free);
    g_autoptr(GPtrArray) sources = g_ptr_array_new();
    VnLayer *layer = vn_discover(&dopts, &err);
    VnNest *nest;

    if (!layer) {
        fprintf(stderr, "virt-nest: doctor: libvirt: %s; going on with the "
                "host alone\n", err->message);
        g_clear_error(&err);
        layer = vn_layer_new(NULL);
        if (!(layer->host = vn_host_read(&err))) {
            vn_cli_error("doctor: %s", err->message);
            vn_layer_free(layer);
            return NULL;
        }
        if (!vn_host_read_forwarding(layer->host, &err)) {
            layer->host->firewall_error = g_strdup(err->message);
            g_clear_error(&err);
        }
    }
    g_ptr_array_add(layers, layer);
    g_ptr_array_add(sources, (gpointer)"this host");
    nest = vn_nest_stitch(layers, sources, &err);
    if (nest) {
        /* the live layer is where we are, whatever its level in the nest */
        VnNestLayer *l = nest->layers->pdata[0];

        g_free(l->name);
        l->name = g_strdup(l->layer->host->hostname ?
                           l->layer->host->hostname : "this host");
    }
    return nest;
}

int
vn_cmd_doctor(int argc, char **argv)
{
    enum { OPT_FROM = 256, OPT_TO, OPT_TCP, OPT_UDP, OPT_SIZE, OPT_JSON };
    static const struct option opts[] = {
        { "from", required_argument, NULL, OPT_FROM },
        { "to", required_argument, NULL, OPT_TO },
        { "tcp", no_argument, NULL, OPT_TCP },
        { "udp", no_argument, NULL, OPT_UDP },
        { "size", required_argument, NULL, OPT_SIZE },
        { "json", no_argument, NULL, OPT_JSON },
        { "connect", required_argument, NULL, 'c' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    const char *from = NULL, *to = NULL, *uri = NULL;
    gboolean json = FALSE;
    VnDoctorQuery q = { 0 };
    g_autoptr(VnNest) nest = NULL;
    g_autoptr(VnDoctor) doc = NULL;
    g_autoptr(GError) err = NULL;
    g_autofree char *text = NULL;
    int c;

    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "c:h", opts, NULL)) != -1) {
        switch (c) {
        case OPT_FROM:
            from = optarg;
            break;
        case OPT_TO:
            to = optarg;
            break;
        case OPT_TCP:
            q.proto = IPPROTO_TCP;
            break;
        case OPT_UDP:
            q.proto = IPPROTO_UDP;
            break;
        case OPT_SIZE: {
            char *end;
            guint64 v = g_ascii_strtoull(optarg, &end, 10);

            if (*end || v < 28 || v > 65535) {
                vn_cli_error("doctor: --size %s: give a packet size in bytes, "
                             "28 to 65535", optarg);
                return VN_EXIT_USAGE;
            }
            q.size = (guint)v;
            break;
        }
        case OPT_JSON:
            json = TRUE;
            break;
        case 'c':
            uri = optarg;
            break;
        case 'h':
            doctor_usage(stdout);
            return VN_EXIT_OK;
        default:
            vn_cli_bad_option("doctor", "c:h", argv);
            return VN_EXIT_USAGE;
        }
    }
    if (!from || !to) {
        vn_cli_error("doctor: give --from ADDR and --to ADDR");
        return VN_EXIT_USAGE;
    }
    if (!vn_cidr_parse(from, VN_CIDR_ADDRESS, &q.from, NULL)) {
        vn_cli_error("doctor: --from %s: not an IPv4 or IPv6 address", from);
        return VN_EXIT_USAGE;
    }
    if (!vn_cidr_parse(to, VN_CIDR_ADDRESS, &q.to, NULL)) {
        vn_cli_error("doctor: --to %s: not an IPv4 or IPv6 address", to);
        return VN_EXIT_USAGE;
    }
    if (!q.proto)
        q.proto = q.from.family == AF_INET6 ? IPPROTO_ICMPV6 : IPPROTO_ICMP;
    if (optind < argc) {
        if (uri) {
            vn_cli_error("doctor: -c is for the live layer; leave it out with "
                         "snapshots");
            return VN_EXIT_USAGE;
        }
        nest = load_nest("doctor", argc - optind, argv + optind);
    } else {
        nest = live_nest(uri);
        q.lookup = kernel_lookup;
    }
    if (!nest)
        return VN_EXIT_FAILURE;
    if (!(doc = vn_doctor_run(nest, &q, &err))) {
        vn_cli_error("doctor: %s", err->message);
        return VN_EXIT_FAILURE;
    }
    text = json ? vn_doctor_json(doc, &q) : vn_doctor_text(doc, &q);
    fputs(text, stdout);
    return doc->there.result == VN_WALK_DIES ||
           doc->back.result == VN_WALK_DIES ? VN_EXIT_FAILURE : VN_EXIT_OK;
}
