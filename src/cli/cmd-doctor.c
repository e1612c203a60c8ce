/* cmd-doctor.c: virt-nest doctor: walk a packet and its reply across the
 * layers, from their snapshots or on the live layer.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include <getopt.h>
#include <netinet/in.h>
#include <stdio.h>
#include <linux/rtnetlink.h>

#include "cli.h"
#include "discover.h"
#include "doctor.h"
#include "hostread.h"
#include "nftread.h"
#include "routeget.h"
#include "stitch.h"

static void
doctor_usage(FILE *f)
{
    fprintf(f,
            "Usage: virt-nest doctor --from ADDR --to ADDR [--tcp | --udp]\n"
            "                        [--size BYTES] [--json] [--color[=WHEN]]\n"
            "                        SNAPSHOT...\n"
            "       virt-nest doctor [-c URI] --from ADDR --to ADDR\n"
            "                        [--tcp | --udp] [--size BYTES]\n"
            "                        [--json] [--color[=WHEN]]\n"
            "       virt-nest doctor --from ADDR --to ADDR ... --walk\n"
            "                        [-c URI] [--walk-depth N]\n"
            "                        [--walk-timeout SEC]\n\n"
            "Walk a packet from ADDR to ADDR and its reply, hop by hop across\n"
            "the layers: routes, ip_forward, rp_filter, the firewall (which\n"
            "rule decides, in which table and chain), NAT and MTU. Name the\n"
            "first hop where it dies, why, and the fix.\n\n"
            "With no snapshots, the live layer alone (the kernel's own route\n"
            "lookups; libvirt at LIBVIRT_DEFAULT_URI or -c). A snapshot\n"
            "may be a bundle of 'status --walk'; with --walk, doctor walks\n"
            "the nest from this layer through the guest agents itself.\n\n"
            "      --from ADDR     where the packet starts: an address of a layer\n"
            "      --to ADDR       where it goes\n"
            "      --tcp, --udp    a TCP or UDP packet (default: ICMP echo)\n"
            "      --size BYTES    a packet of this size that must not be\n"
            "                      fragmented (default: MTU not checked)\n"
            "      --json          JSON for programs (see virt-nest(1))\n"
            "      --color[=WHEN]  colour the text: auto (a terminal, NO_COLOR\n"
            "                      unset, TERM not dumb; the default), always,\n"
            "                      never\n"
            "  -c, --connect URI   libvirt URI for the live layer, or for\n"
            "                      --walk\n"
            "      --walk          walk the nest from this layer (see "
            "'status --walk')\n"
            "      --walk-depth N  layers below this one to enter (default "
            "%d)\n"
            "      --walk-timeout SEC  seconds per guest (default %d)\n"
            "  -h, --help          show this help\n", VN_WALK_DEPTH,
            VN_WALK_TIMEOUT);
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
    VnDiscoverOptions dopts = { uri, NULL, VN_HOST_YES, VN_AGENTS_NO, NULL };
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

/* The command line of doctor. */
typedef struct {
    const char *from;
    const char *to;
    const char *uri;
    gboolean json;
    gboolean walk;
    VnWalkOptions wo;
    VnColor color;              /* --color */
    VnDoctorQuery q;
} DoctorArgs;

int
vn_cli_parse_size(const char *command, const char *arg, guint *size)
{
    char *end;
    guint64 v = g_ascii_strtoull(arg, &end, 10);

    if (*end || v < 28 || v > 65535) {
        vn_cli_error("%s: --size %s: give a packet size in bytes, 28 to "
                     "65535", command, arg);
        return VN_EXIT_USAGE;
    }
    *size = (guint)v;
    return VN_EXIT_OK;
}

int
vn_cli_parse_proto(const char *command, gboolean tcp, guint8 *proto)
{
    guint8 p = tcp ? IPPROTO_TCP : IPPROTO_UDP;

    if (*proto && *proto != p) {
        vn_cli_error("%s: --tcp and --udp exclude each other", command);
        return VN_EXIT_USAGE;
    }
    *proto = p;
    return VN_EXIT_OK;
}

/* The options; VN_EXIT_OK to go on, else the exit status (-1: --help). */
static int
parse_options(int argc, char **argv, DoctorArgs *a)
{
    enum { OPT_FROM = 256, OPT_TO, OPT_TCP, OPT_UDP, OPT_SIZE, OPT_JSON,
           OPT_COLOR };
    static const struct option opts[] = {
        { "from", required_argument, NULL, OPT_FROM },
        { "to", required_argument, NULL, OPT_TO },
        { "tcp", no_argument, NULL, OPT_TCP },
        { "udp", no_argument, NULL, OPT_UDP },
        { "size", required_argument, NULL, OPT_SIZE },
        { "json", no_argument, NULL, OPT_JSON },
        { "color", optional_argument, NULL, OPT_COLOR },
        { "connect", required_argument, NULL, 'c' },
        VN_CLI_WALK_OPTIONS,
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    int c, rc;

    optind = 1;
    opterr = 0;
    while ((c = vn_cli_getopt(argc, argv, "c:h", opts)) != -1) {
        switch (c) {
        case OPT_FROM: a->from = optarg; break;
        case OPT_TO: a->to = optarg; break;
        case OPT_TCP:
        case OPT_UDP:
            if (vn_cli_parse_proto("doctor", c == OPT_TCP, &a->q.proto) !=
                VN_EXIT_OK)
                return VN_EXIT_USAGE;
            break;
        case OPT_SIZE:
            if (vn_cli_parse_size("doctor", optarg, &a->q.size) != VN_EXIT_OK)
                return VN_EXIT_USAGE;
            break;
        case OPT_JSON: a->json = TRUE; break;
        case OPT_COLOR:
            if (!vn_cli_color_parse(optarg, &a->color)) {
                vn_cli_error("doctor: --color=%s: give auto, always or never",
                             optarg);
                return VN_EXIT_USAGE;
            }
            break;
        case 'c': a->uri = optarg; break;
        case VN_CLI_OPT_WALK:
            a->walk = TRUE;
            /* fall through */
        case VN_CLI_OPT_WALK_DEPTH:
        case VN_CLI_OPT_WALK_TIMEOUT:
            if (!vn_cli_walk_option("doctor", c, optarg, &a->wo, &rc))
                return rc;
            break;
        case 'h':
            doctor_usage(stdout);
            return -1;
        default:
            vn_cli_bad_option("doctor", "c:h", argv);
            return VN_EXIT_USAGE;
        }
    }
    if (!vn_cli_walk_check("doctor", a->walk, &a->wo, &rc))
        return rc;
    return VN_EXIT_OK;
}

int
vn_cli_doctor_query(const char *command, const char *from, const char *to,
                    VnDoctorQuery *q)
{
    if (!from || !to) {
        vn_cli_error("%s: give --from ADDR and --to ADDR", command);
        return VN_EXIT_USAGE;
    }
    if (!vn_cidr_parse(from, VN_CIDR_ADDRESS, &q->from, NULL)) {
        vn_cli_error("%s: --from %s: not an IPv4 or IPv6 address", command,
                     from);
        return VN_EXIT_USAGE;
    }
    if (!vn_cidr_parse(to, VN_CIDR_ADDRESS, &q->to, NULL)) {
        vn_cli_error("%s: --to %s: not an IPv4 or IPv6 address", command, to);
        return VN_EXIT_USAGE;
    }
    if (q->from.family != q->to.family) {
        vn_cli_error("%s: --from and --to are of different families; "
                     "give two IPv4 or two IPv6 addresses", command);
        return VN_EXIT_USAGE;
    }
    if (vn_cidr_equal(&q->from, &q->to)) {
        vn_cli_error("%s: --from and --to are the same address (%s); "
                     "give the two ends of the way", command, from);
        return VN_EXIT_USAGE;
    }
    if (!q->proto)
        q->proto = q->from.family == AF_INET6 ? IPPROTO_ICMPV6 : IPPROTO_ICMP;
    return VN_EXIT_OK;
}

/* The way dies, or cannot be told. */
static gboolean
fails(const VnWalk *w)
{
    return w->result == VN_WALK_DIES || w->result == VN_WALK_TOO_COMPLEX;
}

int
vn_cmd_doctor(int argc, char **argv)
{
    DoctorArgs a = { 0 };
    g_autoptr(VnNest) nest = NULL;
    g_autoptr(VnDoctor) doc = NULL;
    g_autoptr(GError) err = NULL;
    g_autofree char *text = NULL;
    int rc;

    if ((rc = parse_options(argc, argv, &a)) != VN_EXIT_OK)
        return rc < 0 ? VN_EXIT_OK : rc;
    if ((rc = vn_cli_doctor_query("doctor", a.from, a.to, &a.q)) !=
        VN_EXIT_OK)
        return rc;
    if (a.walk && optind < argc) {
        vn_cli_error("doctor: --walk collects the snapshots itself; leave "
                     "out '%s'", argv[optind]);
        return VN_EXIT_USAGE;
    }
    if (a.walk) {
        g_autofree char *bundle = vn_cli_walk(a.uri, TRUE, &a.wo, &err);

        if (!bundle) {
            vn_cli_error("doctor: --walk: %s", err->message);
            return VN_EXIT_FAILURE;
        }
        nest = vn_cli_bundle_nest("doctor", bundle, "the walk");
    } else if (optind < argc) {
        if (a.uri) {
            vn_cli_error("doctor: -c is for the live layer; leave it out with "
                         "snapshots");
            return VN_EXIT_USAGE;
        }
        nest = vn_cli_load_nest("doctor", argc - optind, argv + optind);
    } else {
        nest = live_nest(a.uri);
        a.q.lookup = kernel_lookup;
    }
    if (!nest)
        return VN_EXIT_FAILURE;
    if (!(doc = vn_doctor_run(nest, &a.q, &err))) {
        vn_cli_error("doctor: %s", err->message);
        return VN_EXIT_FAILURE;
    }
    text = a.json ? vn_doctor_json(doc, &a.q) : vn_doctor_text(doc, &a.q);
    if (!a.json && vn_cli_color_on(a.color)) {
        char *colored = vn_cli_color_doctor(text);

        g_free(text);
        text = colored;
    }
    fputs(text, stdout);
    /* it dies, or a firewall on the way is too complex to say */
    return fails(&doc->there) || fails(&doc->back) ? VN_EXIT_FAILURE
                                                   : VN_EXIT_OK;
}
