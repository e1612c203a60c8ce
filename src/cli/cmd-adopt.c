/* cmd-adopt.c: virt-nest adopt.
 *
 * On this layer: the nested subnets a running guest's agent reports (or
 * the ones named with --subnet), checked as the hook checks them, become
 * the guest's <nest:guest> metadata (virDomainSetMetadata), and reconcile
 * installs their routes at once. On the layer inside the guest: the peer
 * metadata of the network with that subnet, written by `virt-nest adopt
 * --peer` run there through the agent's guest-exec.
 *
 * The agent's answer is the guest's word: it is proposed from, and written
 * only when the user runs adopt; the hook routes on metadata alone.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <libvirt/virterror.h>

#include "adopt.h"
#include "agent.h"
#include "agentlayer.h"
#include "cli.h"
#include "discover.h"
#include "error.h"
#include "escape.h"
#include "layerplan.h"
#include "libvirtxml.h"
#include "propose.h"
#include "vnconfig.h"

/* Where virt-nest is inside the guest, for guest-exec (which takes a
 * path). */
#define VN_GUEST_VIRT_NEST "/usr/bin/virt-nest"

typedef virConnect VnAdoptConn;
static void
adopt_conn_close(VnAdoptConn *c)
{
    if (c)
        virConnectClose(c);
}
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VnAdoptConn, adopt_conn_close)

typedef struct {
    const char *uri;
    gboolean dry_run;
    GArray *subnets;        /* VnCidr: --subnet */
    gboolean peer_set;
    VnCidr peer;            /* --peer: the inner side */
    const char *network;    /* --network */
} AdoptOptions;

static void
usage(FILE *f)
{
    fprintf(f,
            "Usage: virt-nest adopt GUEST [-c URI] [--dry-run] "
            "[--subnet CIDR]...\n"
            "       virt-nest adopt --peer CIDR (--subnet CIDR | --network "
            "NET)\n"
            "                       [-c URI] [--dry-run]\n\n"
            "Delegate the nested subnets a running guest's agent reports "
            "(or the\n"
            "ones named) to it: write its <nest:guest> metadata after the "
            "hook's\n"
            "checks, install the routes, and, through the agent's "
            "guest-exec, the\n"
            "peer metadata of the network inside it. With --peer, that "
            "inner part:\n"
            "add CIDR (the outer subnet) to the peers of the network with "
            "the\n"
            "subnet, or of NET.\n\n"
            "  -c, --connect URI   libvirt URI (default: LIBVIRT_DEFAULT_URI, "
            "else\n"
            "                      qemu:///system); read-write\n"
            "  -n, --dry-run       show what would be written, write "
            "nothing\n"
            "      --subnet CIDR   delegate this subnet (repeatable); with "
            "--peer,\n"
            "                      the inner network's subnet\n"
            "      --peer CIDR     inside the guest: the outer subnet to "
            "let in\n"
            "      --network NET   inside the guest: the network to give it\n"
            "  -h, --help          show this help\n");
}

GPtrArray *
vn_cli_proposals(const VnLayer *layer, const VnConfig *config,
                 GPtrArray **notes)
{
    GPtrArray *out = g_ptr_array_new_with_free_func(
        (GDestroyNotify)vn_proposal_free);

    *notes = g_ptr_array_new_with_free_func(g_free);
    if (layer->agent_note)
        g_ptr_array_add(*notes, g_strdup(layer->agent_note));
    for (guint i = 0; layer->agents && i < layer->agents->len; i++) {
        const VnAgentAnswer *a = layer->agents->pdata[i];
        const VnGuest *g = vn_layer_find_guest(layer, a->guest);
        VnProposal *p;

        if (!a->ifaces) {
            g_ptr_array_add(*notes, g_strdup(a->error));
            continue;
        }
        if (!g)
            continue;
        p = vn_propose_guest(layer, g, a->ifaces, config);
        if (p->subnets->len)
            g_ptr_array_add(out, p);
        else
            vn_proposal_free(p);
    }
    return out;
}

/* The outer subnets of @guest's uplink network, of @family. */
static GArray *
outer_subnets(const VnLayer *layer, const VnGuest *guest, int family)
{
    GArray *out = g_array_new(FALSE, TRUE, sizeof(VnCidr));
    const VnIface *up = vn_guest_uplink(guest);
    const VnNetwork *net = up && up->network
                           ? vn_layer_find_network(layer, up->network) : NULL;

    for (guint i = 0; net && i < net->ips->len; i++) {
        const VnNetIp *ip = net->ips->pdata[i];

        if (ip->subnet.family == family)
            g_array_append_val(out, ip->subnet);
    }
    return out;
}

/* The peer metadata inside @guest for @inner: run there through
 * guest-exec, or the command to run there when that cannot be. FALSE
 * when virt-nest ran inside and failed. */
static gboolean
peer_inside(virConnectPtr conn, const VnLayer *layer, const VnGuest *guest,
            const VnCidr *inner, gboolean dry_run)
{
    g_autoptr(GArray) outer = outer_subnets(layer, guest, inner->family);
    gboolean ok = TRUE;
    char o[VN_CIDR_STRLEN], s[VN_CIDR_STRLEN];

    if (!outer->len) {
        printf("inside '%s': no peer to add: its uplink's network has no "
               "%s subnet\n", guest->name,
               inner->family == AF_INET6 ? "IPv6" : "IPv4");
        return TRUE;
    }
    for (guint i = 0; i < outer->len; i++) {
        const char *argv[] = { VN_GUEST_VIRT_NEST, "adopt", "--peer",
                               vn_cidr_format(&g_array_index(outer, VnCidr, i),
                                              TRUE, o),
                               "--subnet", vn_cidr_format(inner, TRUE, s),
                               NULL };
        g_autofree char *cmd = g_strdup_printf("virt-nest adopt --peer %s "
                                               "--subnet %s", o, s);
        g_autoptr(GError) err = NULL;
        g_autofree char *out = NULL, *errs = NULL;
        virDomainPtr dom;
        int status = -1;
        gboolean ran;

        if (dry_run) {
            printf("inside '%s': would run through guest-exec: %s\n",
                   guest->name, cmd);
            continue;
        }
        if (!(dom = virDomainLookupByName(conn, guest->name))) {
            printf("inside '%s': not written (%s); run there: %s\n",
                   guest->name, vn_virt_error(), cmd);
            continue;
        }
        ran = vn_agent_exec(dom, argv, 60, &out, &errs, &status, &err);
        virDomainFree(dom);
        if (!ran) {
            printf("inside '%s': not written through guest-exec (%s); run "
                   "there: %s\n", guest->name, err->message, cmd);
            continue;
        }
        printf("inside '%s': %s (exit %d)\n", guest->name, cmd, status);
        if (*out) {
            g_auto(GStrv) lines = g_strsplit(out, "\n", -1);

            /* the guest's words: what a terminal acts on made visible */
            for (guint j = 0; lines[j]; j++) {
                g_autofree char *shown = vn_escape_text(lines[j]);

                if (*shown)
                    printf("  %s\n", shown);
            }
        }
        if (status != 0) {
            g_strchomp(errs);
            vn_cli_error("adopt: inside '%s': %s failed: %s", guest->name,
                         cmd, *errs ? errs : "no reason given");
            ok = FALSE;
        }
    }
    return ok;
}

static int
adopt_guest(const AdoptOptions *o, const char *name)
{
    const char *uri = vn_default_uri(o->uri);
    gboolean test = g_str_has_prefix(uri, "test:");
    VnDiscoverOptions dopts = { o->uri, NULL, VN_HOST_AUTO,
                                o->subnets->len ? VN_AGENTS_NO
                                                : VN_AGENTS_ALL, name };
    g_autoptr(GError) err = NULL;
    g_autoptr(VnAdoptConn) conn = NULL;
    g_autoptr(VnLayer) layer = NULL;
    g_autoptr(VnProposal) p = NULL;
    g_autoptr(GString) delegated = g_string_new(NULL);
    const VnGuest *g;
    const char *where;
    VnConfig config;
    guint refused = 0;
    int rc = VN_EXIT_OK;

    if (!vn_config_load(NULL, &config, &err)) {
        vn_cli_error("%s", err->message);
        return VN_EXIT_FAILURE;
    }
    if (!(conn = vn_connect(o->uri, FALSE, &err))) {
        vn_cli_error("adopt: %s; adopt needs a read-write connection (run "
                     "it as root)", err->message);
        return VN_EXIT_FAILURE;
    }
    if (!(layer = vn_discover_conn(conn, uri, &dopts, &err))) {
        vn_cli_error("adopt: %s", err->message);
        return VN_EXIT_FAILURE;
    }
    if (!(g = vn_layer_find_guest(layer, name))) {
        vn_cli_error("adopt: domain '%s' not found on '%s'; 'virsh list "
                     "--all' lists them", name, uri);
        return VN_EXIT_FAILURE;
    }
    if (o->subnets->len) {
        p = vn_propose_subnets(layer, g, o->subnets, &config);
    } else {
        const VnAgentAnswer *a = vn_layer_agent_answer(layer, name);

        if (test) {
            vn_cli_error("adopt: domain '%s': the test driver has no guest "
                         "agent; name the subnets with --subnet CIDR", name);
            return VN_EXIT_FAILURE;
        }
        if (!vn_guest_running(g) || g->id < 0) {
            vn_cli_error("adopt: domain '%s' is not running, so its agent "
                         "cannot tell its subnets; start it, or name them "
                         "with --subnet CIDR", name);
            return VN_EXIT_FAILURE;
        }
        if (!a || !a->ifaces) {
            vn_cli_error("adopt: %s; name the subnets with --subnet CIDR",
                         a ? a->error : "its guest agent was not asked");
            return VN_EXIT_FAILURE;
        }
        p = vn_propose_guest(layer, g, a->ifaces, &config);
    }
    for (guint i = 0; i < p->subnets->len; i++) {
        const VnNestedSubnet *n = p->subnets->pdata[i];
        char s[VN_CIDR_STRLEN];

        vn_cidr_format(&n->subnet, TRUE, s);
        if (n->state == VN_NESTED_DELEGATED) {
            g_string_append_printf(delegated, "%s%s", delegated->len ? ", "
                                                                   : "", s);
        } else if (n->state == VN_NESTED_REFUSED) {
            vn_cli_error("adopt: domain '%s': %s is not delegated: %s", name,
                         s, n->reason);
            refused++;
        }
    }
    if (refused && o->subnets->len) {
        vn_cli_error("adopt: domain '%s': nothing written", name);
        return VN_EXIT_FAILURE;
    }
    if (!p->metadata) {
        if (!p->subnets->len) {
            vn_cli_error("adopt: domain '%s': its guest agent reports no "
                         "nested subnet (only this layer's networks, "
                         "link-local and loopback addresses); name one with "
                         "--subnet CIDR", name);
            return VN_EXIT_FAILURE;
        }
        if (delegated->len)
            printf("domain '%s': already delegated: %s\n", name,
                   delegated->str);
        return refused ? VN_EXIT_FAILURE : VN_EXIT_OK;
    }
    if (!vn_proposal_check(layer, g, p, &config, &err)) {
        vn_cli_error("adopt: domain '%s': the hook would refuse this "
                     "metadata, nothing written: %s", name, err->message);
        return VN_EXIT_FAILURE;
    }
    printf("domain '%s': %s <nest:guest> metadata:\n", name,
           o->dry_run ? "would write" : "writing");
    {
        g_auto(GStrv) lines = g_strsplit(p->metadata, "\n", -1);

        for (guint i = 0; lines[i]; i++)
            if (*lines[i])
                printf("  %s\n", lines[i]);
    }
    if (o->dry_run) {
        printf("then would install its routes as 'virt-nest reconcile' "
               "does\n");
    } else {
        if (!vn_adopt_set_guest(conn, name, p->metadata_set, &where, &err)) {
            vn_cli_error("adopt: %s", err->message);
            return VN_EXIT_FAILURE;
        }
        printf("domain '%s': metadata written (%s)\n", name, where);
        if (test) {
            printf("routes: none installed for the test driver\n");
        } else {
            VnReconcileOptions ro = { o->uri, NULL, FALSE, TRUE, "adopt" };

            printf("installing its routes (as 'virt-nest reconcile'):\n");
            fflush(stdout);
            if (vn_cli_reconcile(&ro, stdout, "  ", NULL) != VN_EXIT_OK) {
                vn_cli_error("adopt: domain '%s': the metadata is written, "
                             "but reconcile did not finish; run 'virt-nest "
                             "reconcile' as root", name);
                rc = VN_EXIT_FAILURE;
            }
        }
    }
    for (guint i = 0; !test && i < p->subnets->len; i++) {
        const VnNestedSubnet *n = p->subnets->pdata[i];
        g_autoptr(GArray) outer = NULL;
        char a[VN_CIDR_STRLEN], b[VN_CIDR_STRLEN];

        if (n->state != VN_NESTED_PROPOSED)
            continue;
        if (vn_guest_running(g) && g->id >= 0) {
            if (!peer_inside(conn, layer, g, &n->subnet, o->dry_run))
                rc = VN_EXIT_FAILURE;
            continue;
        }
        /* no agent to run it through: say what to run there */
        outer = outer_subnets(layer, g, n->subnet.family);
        for (guint j = 0; j < outer->len; j++)
            printf("inside '%s' (not running): run there: virt-nest adopt "
                   "--peer %s --subnet %s\n", name,
                   vn_cidr_format(&g_array_index(outer, VnCidr, j), TRUE, a),
                   vn_cidr_format(&n->subnet, TRUE, b));
    }
    if (refused)
        rc = VN_EXIT_FAILURE;
    return rc;
}

/* The peers of @net as text: "A, B". */
static char *
peers_text(const VnNetwork *net)
{
    GString *s = g_string_new(NULL);
    char buf[VN_CIDR_STRLEN];

    for (guint i = 0; net->nest && i < net->peers->len; i++)
        g_string_append_printf(s, "%s%s", i ? ", " : "",
                               vn_cidr_format(&g_array_index(net->peers,
                                                             VnCidr, i),
                                              TRUE, buf));
    return g_string_free(s, FALSE);
}

static void
silent(void *data, virErrorPtr e)
{
}

/* Inside the guest, without -c or LIBVIRT_DEFAULT_URI: libvirt's own
 * default (uri_default in libvirt.conf, else what it finds), as virsh
 * would use there; *@uri gets the URI it opened. */
static virConnectPtr
connect_inner(const char *given, char **uri, GError **error)
{
    virConnectPtr conn;
    char *u;

    if (given || g_getenv("LIBVIRT_DEFAULT_URI")) {
        *uri = g_strdup(vn_default_uri(given));
        return vn_connect(given, FALSE, error);
    }
    virSetErrorFunc(NULL, silent);
    if (!(conn = virConnectOpen(NULL))) {
        g_set_error(error, VN_ERROR, VN_ERROR_FAILED,
                    "cannot connect to libvirt's default URI: %s",
                    vn_virt_error());
        return NULL;
    }
    u = virConnectGetURI(conn);
    *uri = g_strdup(u ? u : "?");
    free(u);
    return conn;
}

static int
adopt_peer(const AdoptOptions *o)
{
    g_autofree char *uri = NULL;
    VnDiscoverOptions dopts = { NULL, NULL, VN_HOST_NO, VN_AGENTS_NO,
                                NULL };
    g_autoptr(GError) err = NULL;
    g_autoptr(VnAdoptConn) conn = NULL;
    g_autoptr(VnLayer) layer = NULL;
    g_autoptr(VnNetwork) probe = NULL;
    g_autoptr(VnPlan) plan = NULL;
    g_autofree char *element = NULL, *element_set = NULL, *how = NULL;
    g_autofree char *xml = NULL, *now = NULL;
    const VnNetwork *net = NULL;
    char p[VN_CIDR_STRLEN];
    VnConfig config;
    virNetworkPtr vnet;
    char *x;

    vn_cidr_format(&o->peer, TRUE, p);
    if (!vn_config_load(NULL, &config, &err)) {
        vn_cli_error("%s", err->message);
        return VN_EXIT_FAILURE;
    }
    if (!(conn = connect_inner(o->uri, &uri, &err))) {
        vn_cli_error("adopt: %s; adopt needs a read-write connection (run "
                     "it as root)", err->message);
        return VN_EXIT_FAILURE;
    }
    if (!(layer = vn_discover_conn(conn, uri, &dopts, &err))) {
        vn_cli_error("adopt: %s", err->message);
        return VN_EXIT_FAILURE;
    }
    if (o->network) {
        if (!(net = vn_layer_find_network(layer, o->network))) {
            vn_cli_error("adopt: network '%s' not found on '%s'",
                         o->network, uri);
            return VN_EXIT_FAILURE;
        }
    } else {
        const VnCidr *want = &g_array_index(o->subnets, VnCidr, 0);
        char s[VN_CIDR_STRLEN];

        for (guint i = 0; !net && i < layer->networks->len; i++) {
            const VnNetwork *n = layer->networks->pdata[i];

            for (guint j = 0; j < n->ips->len; j++) {
                const VnNetIp *ip = n->ips->pdata[j];

                if (vn_cidr_equal(&ip->subnet, want))
                    net = n;
            }
        }
        if (!net) {
            vn_cli_error("adopt: no network on '%s' has the subnet %s; name "
                         "it with --network NET", uri,
                         vn_cidr_format(want, TRUE, s));
            return VN_EXIT_FAILURE;
        }
    }
    for (guint i = 0; net->nest && i < net->peers->len; i++) {
        if (vn_cidr_equal(&g_array_index(net->peers, VnCidr, i), &o->peer)) {
            printf("network '%s': already has peer %s\n", net->name, p);
            return VN_EXIT_OK;
        }
    }
    element = vn_peer_metadata(net, &o->peer, FALSE);
    element_set = vn_peer_metadata(net, &o->peer, TRUE);
    /* the hook's checks of the network as it would be */
    g_autofree char *probe_xml = g_strdup_printf(
        "<network><name>%s</name><metadata>%s</metadata></network>",
        "probe", element);
    plan = vn_plan_new();
    if (!(probe = vn_network_parse(probe_xml, -1, &err, NULL)) || err) {
        vn_cli_error("adopt: network '%s': peer %s: %s", net->name, p,
                     err ? err->message : "not valid metadata");
        return VN_EXIT_FAILURE;
    }
    {
        VnNetwork check = *net;     /* shallow: read only */

        check.nest = TRUE;
        check.peers = probe->peers;
        if (!vn_plan_network(plan, &check, &config, &err)) {
            vn_cli_error("adopt: network '%s': the hook would refuse peer "
                         "%s, nothing written: %s", net->name, p,
                         err->message);
            return VN_EXIT_FAILURE;
        }
    }
    if (o->dry_run) {
        printf("network '%s': would write its <nest:network> metadata:\n",
               net->name);
        fputs(element, stdout);
        return VN_EXIT_OK;
    }
    if (!vn_adopt_set_network(conn, net->name, element, element_set, &how,
                              &err)) {
        vn_cli_error("adopt: %s", err->message);
        return VN_EXIT_FAILURE;
    }
    printf("%s\n", how);
    /* read back on the same connection (the test driver keeps changes
     * for the connection only, and has no persistent XML of a running
     * network to show: nothing to read back there) */
    vnet = virNetworkLookupByName(conn, net->name);
    if (vnet && (x = virNetworkGetXMLDesc(vnet, VIR_NETWORK_XML_INACTIVE))) {
        g_autoptr(VnNetwork) again = NULL;

        xml = g_strdup(x);
        free(x);
        again = vn_network_parse(xml, -1, NULL, NULL);
        now = again ? peers_text(again) : g_strdup("");
        if (!strstr(now, p)) {
            vn_cli_error("adopt: network '%s': peer %s is not in its "
                         "definition after the write", net->name, p);
            virNetworkFree(vnet);
            return VN_EXIT_FAILURE;
        }
        printf("network '%s': its definition's peers now %s\n", net->name,
               now);
    } else if (vnet && virNetworkIsActive(vnet) == 0 &&
               (x = virNetworkGetXMLDesc(vnet, 0))) {
        g_autoptr(VnNetwork) again = NULL;

        xml = g_strdup(x);
        free(x);
        again = vn_network_parse(xml, -1, NULL, NULL);
        now = again ? peers_text(again) : g_strdup("");
        printf("network '%s': its definition's peers now %s\n", net->name,
               now);
    } else {
        g_autofree char *want = NULL;
        g_autoptr(VnNetwork) wrote = NULL;
        g_autofree char *wxml = g_strdup_printf(
            "<network><name>%s</name><metadata>%s</metadata></network>",
            "probe", element);

        wrote = vn_network_parse(wxml, -1, NULL, NULL);
        want = wrote ? peers_text(wrote) : g_strdup("");
        printf("network '%s': its definition's peers now %s (as written: "
               "this driver cannot show a running network's new "
               "definition)\n", net->name, want);
    }
    if (vnet)
        virNetworkFree(vnet);
    return VN_EXIT_OK;
}

int
vn_cmd_adopt(int argc, char **argv)
{
    enum { OPT_SUBNET = 256, OPT_PEER, OPT_NETWORK };
    static const struct option opts[] = {
        { "connect", required_argument, NULL, 'c' },
        { "dry-run", no_argument, NULL, 'n' },
        { "subnet", required_argument, NULL, OPT_SUBNET },
        { "peer", required_argument, NULL, OPT_PEER },
        { "network", required_argument, NULL, OPT_NETWORK },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    g_autoptr(GArray) subnets = g_array_new(FALSE, TRUE, sizeof(VnCidr));
    AdoptOptions o = { 0 };
    int c;

    o.subnets = subnets;
    optind = 1;
    opterr = 0;
    while ((c = vn_cli_getopt(argc, argv, "c:nh", opts)) != -1) {
        g_autoptr(GError) err = NULL;
        VnCidr cidr;

        switch (c) {
        case 'c':
            o.uri = optarg;
            break;
        case 'n':
            o.dry_run = TRUE;
            break;
        case OPT_SUBNET:
        case OPT_PEER:
            if (!vn_cidr_parse(optarg, VN_CIDR_SUBNET, &cidr, &err)) {
                vn_cli_error("adopt: --%s '%s': %s", c == OPT_PEER ? "peer"
                                                                   : "subnet",
                             optarg, err->message);
                return VN_EXIT_USAGE;
            }
            if (c == OPT_PEER) {
                o.peer = cidr;
                o.peer_set = TRUE;
            } else {
                g_array_append_val(subnets, cidr);
            }
            break;
        case OPT_NETWORK:
            o.network = optarg;
            break;
        case 'h':
            usage(stdout);
            return VN_EXIT_OK;
        default:
            vn_cli_bad_option("adopt", "c:nh", argv);
            return VN_EXIT_USAGE;
        }
    }
    if (o.peer_set) {
        if (optind < argc) {
            vn_cli_error("adopt: --peer takes no GUEST ('%s'): it is run "
                         "inside the guest", argv[optind]);
            return VN_EXIT_USAGE;
        }
        if (!o.network && subnets->len != 1) {
            vn_cli_error("adopt: --peer needs the inner network: one "
                         "--subnet CIDR, or --network NET");
            return VN_EXIT_USAGE;
        }
        return adopt_peer(&o);
    }
    if (o.network) {
        vn_cli_error("adopt: --network goes with --peer");
        return VN_EXIT_USAGE;
    }
    if (optind >= argc) {
        vn_cli_error("adopt: name the guest: virt-nest adopt GUEST");
        return VN_EXIT_USAGE;
    }
    if (optind + 1 < argc) {
        vn_cli_error("adopt: unexpected argument '%s'", argv[optind + 1]);
        return VN_EXIT_USAGE;
    }
    return adopt_guest(&o, argv[optind]);
}
