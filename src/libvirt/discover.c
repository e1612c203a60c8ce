/* discover.c: a layer over the libvirt API.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include <errno.h>
#include <string.h>
#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>

#include "agent.h"
#include "error.h"
#include "discover.h"
#include "nftread.h"
#include "hostread.h"
#include "leases.h"
#include "libvirtxml.h"
#include "xml.h"

typedef virConnect VnVirConnect;
static void
conn_close(VnVirConnect *c)
{
    virConnectClose(c);
}
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VnVirConnect, conn_close)

static void
silent(void *opaque, virErrorPtr err)
{
    /* errors are read with virGetLastError(), never printed by libvirt */
}

/* libvirt's last error, on one line: some messages (XML parse errors)
 * carry the offending line and a caret below it. The buffer is the
 * thread's own, as libvirt's last error is: agent calls run in threads
 * that may outlive their caller (agent.c, walk.c). */
const char *
vn_virt_error(void)
{
    static __thread char buf[1024];
    const char *m = virGetLastErrorMessage();

    g_strlcpy(buf, m ? m : "unknown libvirt error", sizeof(buf));
    buf[strcspn(buf, "\n")] = '\0';
    return buf;
}

const char *
vn_default_uri(const char *uri)
{
    const char *env;

    if (uri && *uri)
        return uri;
    env = g_getenv("LIBVIRT_DEFAULT_URI");
    if (env && *env)
        return env;
    return "qemu:///system";
}

static const char *
state_name(int state)
{
    switch (state) {
    case VIR_DOMAIN_RUNNING:
        return "running";
    case VIR_DOMAIN_BLOCKED:
        return "idle";
    case VIR_DOMAIN_PAUSED:
        return "paused";
    case VIR_DOMAIN_SHUTDOWN:
        return "in shutdown";
    case VIR_DOMAIN_SHUTOFF:
        return "shut off";
    case VIR_DOMAIN_CRASHED:
        return "crashed";
    case VIR_DOMAIN_PMSUSPENDED:
        return "pmsuspended";
    default:
        return "no state";
    }
}

/* What virt-nest reads of a network's metadata: whether it has any, and
 * its peers. */
static gboolean
network_nest_same(const VnNetwork *a, const VnNetwork *b)
{
    if (a->nest != b->nest || a->peers->len != b->peers->len)
        return FALSE;
    for (guint i = 0; i < a->peers->len; i++)
        if (!vn_cidr_equal(&g_array_index(a->peers, VnCidr, i),
                           &g_array_index(b->peers, VnCidr, i)))
            return FALSE;
    return TRUE;
}

/* A running network whose persistent definition has other <nest:network>
 * metadata (net-edit changes only that one): a problem, with the fix.
 * Quiet when the driver has no inactive definition to give (the test
 * driver). */
static void
check_network_inactive(virNetworkPtr vnet, const VnNetwork *net,
                       VnLayer *layer, const char *object)
{
    char *xml;
    g_autoptr(VnNetwork) config = NULL;
    g_autofree char *msg = NULL;

    if (!net->active || !net->persistent ||
        !(xml = virNetworkGetXMLDesc(vnet, VIR_NETWORK_XML_INACTIVE)))
        return;
    config = vn_network_parse(xml, -1, NULL, NULL);
    free(xml);
    if (!config || network_nest_same(net, config))
        return;
    msg = g_strdup_printf("its persistent <nest:network> metadata differs "
                          "from the running one (net-edit changes only the "
                          "persistent one): it takes effect when the network "
                          "starts again (virsh net-destroy %s; virsh "
                          "net-start %s); until then virt-nest and "
                          "'virt-nest reconcile' follow the running one",
                          net->name, net->name);
    vn_layer_add_problem(layer, object, msg);
}

/* @node and what is below it, whitespace between elements left out: the
 * same metadata formatted again (libvirt indents its copies each its own
 * way) gives the same string. */
static void
xml_canonical(const VnXmlNode *node, GString *out)
{
    g_autofree char *text = g_strstrip(g_strdup(node->text ? node->text : ""));

    g_string_append_printf(out, "<%s", node->name);
    for (guint i = 0; i < node->attrs->len; i++) {
        const VnXmlAttr *a = &g_array_index(node->attrs, VnXmlAttr, i);

        g_string_append_printf(out, " %s%s%s=%s", a->ns ? a->ns : "",
                               a->ns ? ":" : "", a->name, a->value);
    }
    g_string_append_printf(out, ">%s", text);
    for (const VnXmlNode *c = node->children; c; c = c->next)
        xml_canonical(c, out);
    g_string_append(out, "</>");
}

/* The metadata libvirt gave (transfer full, freed), as xml_canonical()
 * writes it; "" for none, NULL when it does not parse. */
static char *
metadata_canonical(char *xml)
{
    g_autoptr(VnXmlNode) root = NULL;
    GString *out;

    if (!xml)
        return g_strdup("");
    root = vn_xml_parse(xml, -1, "metadata", NULL);
    free(xml);
    if (!root)
        return NULL;
    out = g_string_new(NULL);
    xml_canonical(root, out);
    return g_string_free(out, FALSE);
}

/* A running guest whose live <nest:guest> metadata is not its persistent
 * one (virsh metadata with --live or --config alone): a problem, with the
 * fix. */
static void
check_domain_inactive(virDomainPtr dom, const VnGuest *guest, VnLayer *layer,
                      const char *object)
{
    char *m;
    g_autofree char *live = NULL, *config = NULL, *msg = NULL;

    if (guest->id < 0 || !guest->persistent)
        return;
    m = virDomainGetMetadata(dom, VIR_DOMAIN_METADATA_ELEMENT, VN_NS_URI,
                             VIR_DOMAIN_AFFECT_LIVE);
    if (!m && virGetLastErrorCode() != VIR_ERR_NO_DOMAIN_METADATA)
        return;
    live = metadata_canonical(m);
    m = virDomainGetMetadata(dom, VIR_DOMAIN_METADATA_ELEMENT, VN_NS_URI,
                             VIR_DOMAIN_AFFECT_CONFIG);
    if (!m && virGetLastErrorCode() != VIR_ERR_NO_DOMAIN_METADATA)
        return;
    config = metadata_canonical(m);
    if (!live || !config || strcmp(live, config) == 0)
        return;
    msg = g_strdup_printf("its live <nest:guest> metadata differs from its "
                          "persistent one (virsh metadata with --live or "
                          "--config alone): run 'virt-nest reconcile' to "
                          "install what the live one says, and set both "
                          "alike (virsh metadata %s --uri " VN_NS_URI " --key "
                          "nest --live --config --set ...) so that the next "
                          "start does the same", guest->name);
    vn_layer_add_problem(layer, object, msg);
}

static void
read_networks(virConnectPtr conn, VnLayer *layer, gboolean api_leases,
              const char *leases_dir)
{
    virNetworkPtr *nets = NULL;
    int n = virConnectListAllNetworks(conn, &nets, 0);

    if (n < 0) {
        vn_layer_add_problem(layer, "networks", vn_virt_error());
        return;
    }
    for (int i = 0; i < n; i++) {
        const char *name = virNetworkGetName(nets[i]);
        g_autofree char *object = g_strdup_printf("network '%s'", name);
        g_autoptr(GError) nest_err = NULL;
        g_autoptr(GError) err = NULL;
        char *xml = virNetworkGetXMLDesc(nets[i], 0);
        VnNetwork *net;
        int autostart = 0;

        if (!xml) {
            vn_layer_add_problem(layer, object, vn_virt_error());
            virNetworkFree(nets[i]);
            continue;
        }
        net = vn_network_parse(xml, -1, &nest_err, &err);
        free(xml);
        if (!net) {
            vn_problems_add_error(layer->problems, object, err);
            virNetworkFree(nets[i]);
            continue;
        }
        if (nest_err)
            vn_problems_add_error(layer->problems, object, nest_err);
        for (guint j = 0; j < net->warnings->len; j++)
            vn_layer_add_problem(layer, object, net->warnings->pdata[j]);
        net->active = virNetworkIsActive(nets[i]) == 1;
        net->persistent = virNetworkIsPersistent(nets[i]) == 1;
        if (virNetworkGetAutostart(nets[i], &autostart) == 0)
            net->autostart = autostart != 0;
        check_network_inactive(nets[i], net, layer, object);
        g_ptr_array_add(layer->networks, net);

        if (net->active && net->bridge) {
            virNetworkDHCPLeasePtr *leases = NULL;
            int nl = api_leases ? virNetworkGetDHCPLeases(nets[i], NULL,
                                                          &leases, 0) : -1;

            if (nl >= 0) {
                for (int j = 0; j < nl; j++) {
                    VnLease *l = vn_lease_new();

                    if (leases[j]->ipaddr &&
                        vn_cidr_parse(leases[j]->ipaddr, VN_CIDR_ADDRESS,
                                      &l->ip, NULL) &&
                        (l->mac = vn_mac_normalize(leases[j]->mac))) {
                        l->hostname = g_strdup(leases[j]->hostname);
                        l->client_id = g_strdup(leases[j]->clientid);
                        l->bridge = g_strdup(leases[j]->iface);
                        l->expiry = leases[j]->expirytime;
                        g_ptr_array_add(layer->leases, l);
                    } else {
                        vn_lease_free(l);
                    }
                    virNetworkDHCPLeaseFree(leases[j]);
                }
                free(leases);
            } else if (leases_dir &&
                       !vn_leases_load(leases_dir, net->bridge, layer->leases,
                                       &err)) {
                vn_problems_add_error(layer->problems, object, err);
            }
        }
        virNetworkFree(nets[i]);
    }
    free(nets);
}

static void
read_domains(virConnectPtr conn, VnLayer *layer)
{
    virDomainPtr *doms = NULL;
    int n = virConnectListAllDomains(conn, &doms, 0);

    if (n < 0) {
        vn_layer_add_problem(layer, "domains", vn_virt_error());
        return;
    }
    for (int i = 0; i < n; i++) {
        const char *name = virDomainGetName(doms[i]);
        g_autofree char *object = g_strdup_printf("domain '%s'", name);
        g_autoptr(GError) nest_err = NULL;
        g_autoptr(GError) err = NULL;
        char *xml = virDomainGetXMLDesc(doms[i], 0);
        VnGuest *guest;
        int state = 0, reason = 0;

        if (!xml) {
            vn_layer_add_problem(layer, object, vn_virt_error());
            virDomainFree(doms[i]);
            continue;
        }
        guest = vn_guest_parse(xml, -1, &nest_err, &err);
        free(xml);
        if (!guest) {
            vn_problems_add_error(layer->problems, object, err);
            virDomainFree(doms[i]);
            continue;
        }
        if (nest_err)
            vn_problems_add_error(layer->problems, object, nest_err);
        for (guint j = 0; j < guest->warnings->len; j++)
            vn_layer_add_problem(layer, object, guest->warnings->pdata[j]);
        if (virDomainGetState(doms[i], &state, &reason, 0) == 0) {
            g_free(guest->state);
            guest->state = g_strdup(state_name(state));
        }
        guest->persistent = virDomainIsPersistent(doms[i]) == 1;
        check_domain_inactive(doms[i], guest, layer, object);
        g_ptr_array_add(layer->guests, guest);
        virDomainFree(doms[i]);
    }
    free(doms);
}

void
vn_layer_check(VnLayer *layer)
{
    g_autoptr(GHashTable) macs = g_hash_table_new(g_str_hash, g_str_equal);

    for (guint i = 0; i < layer->guests->len; i++) {
        const VnGuest *g = layer->guests->pdata[i];

        for (guint j = 0; j < g->ifaces->len; j++) {
            const VnIface *iface = g->ifaces->pdata[j];
            const char *other;
            g_autofree char *object = NULL;
            g_autofree char *msg = NULL;

            if (!iface->mac)
                continue;
            other = g_hash_table_lookup(macs, iface->mac);
            if (!other) {
                g_hash_table_insert(macs, iface->mac, g->name);
                continue;
            }
            object = g_strdup_printf("domain '%s'", g->name);
            msg = g_strdup_printf("MAC %s is also used by domain '%s'; give "
                                  "one of them a new <mac address=...>",
                                  iface->mac, other);
            vn_layer_add_problem(layer, object, msg);
        }
        for (guint j = 0; j < g->ifaces->len; j++) {
            const VnIface *iface = g->ifaces->pdata[j];
            g_autofree char *object = NULL;
            g_autofree char *msg = NULL;

            if (!g->nest || g_strcmp0(iface->type, "network") != 0 ||
                vn_layer_find_network(layer, iface->network))
                continue;
            object = g_strdup_printf("domain '%s'", g->name);
            msg = g_strdup_printf("interface %s: network '%s' does not exist",
                                  iface->mac ? iface->mac : "?",
                                  iface->network ? iface->network : "?");
            vn_layer_add_problem(layer, object, msg);
        }
    }
    g_ptr_array_sort(layer->problems, vn_problem_compare);
}

/* The test driver has no leases: for test:///PATH/NODE.xml, virt-nest
 * reads lease status files from PATH/NODE.leases/ when it exists. */
static char *
test_leases_dir(const char *uri)
{
    const char *path;
    g_autofree char *base = NULL;
    char *dir;

    if (!g_str_has_prefix(uri, "test://"))
        return NULL;
    path = uri + strlen("test://");
    if (path[0] != '/' || strcmp(path, "/default") == 0)
        return NULL;
    base = g_str_has_suffix(path, ".xml") ? g_strndup(path, strlen(path) - 4)
                                          : g_strdup(path);
    dir = g_strconcat(base, ".leases", NULL);
    if (!g_file_test(dir, G_FILE_TEST_IS_DIR))
        g_clear_pointer(&dir, g_free);
    return dir;
}

/* What to add to libvirt's reason when @uri cannot be opened: whether the
 * daemon runs only when nothing listens where it should (no socket, or
 * the connection refused), not for every system error (a missing CA
 * certificate is one too). */
static const char *
connect_hint(const char *uri, const virError *e)
{
    g_autoptr(GUri) u = g_uri_parse(uri, G_URI_FLAGS_NON_DNS, NULL);
    const char *host = u ? g_uri_get_host(u) : NULL;
    gboolean local = !host || !*host;

    if (u && !local && g_str_equal(g_uri_get_scheme(u), "test"))
        return "; a test-driver file is test:///ABS/PATH/node.xml, with "
               "three slashes and an absolute path";
    if (!e || e->code != VIR_ERR_SYSTEM_ERROR)
        return "";
    if (e->int1 == ECONNREFUSED || (e->int1 == ENOENT && local))
        return "; is libvirtd running? (-c URI picks another connection)";
    return "";
}

virConnectPtr
vn_connect(const char *uri, gboolean read_only, GError **error)
{
    virConnectPtr conn;
    const char *env = g_getenv("LIBVIRT_DEFAULT_URI");

    /* neither given: libvirt's own default, uri_default of libvirt.conf
     * (a guest's /etc/libvirt/libvirt.conf names its layer's URI for the
     * walk), else its probe, qemu:///system for root */
    if (!(uri && *uri) && !(env && *env))
        uri = NULL;
    else
        uri = vn_default_uri(uri);
    virSetErrorFunc(NULL, silent);
    conn = read_only ? virConnectOpenReadOnly(uri) : virConnectOpen(uri);
    if (!uri)
        uri = "the default URI";
    if (!conn) {
        virErrorPtr e = virGetLastError();
        const char *hint = connect_hint(uri, e);

        g_set_error(error, VN_ERROR, VN_ERROR_FAILED,
                    "cannot connect to '%s': %s%s", uri, vn_virt_error(),
                    hint);
    }
    return conn;
}

VnLayer *
vn_discover(const VnDiscoverOptions *opts, GError **error)
{
    const char *uri = vn_default_uri(opts->uri);
    g_autoptr(VnVirConnect) conn = NULL;
    g_autofree char *note = NULL;
    g_autofree char *actual = NULL;
    VnLayer *layer;

    /* the agents need a read-write connection: without one (no root, no
     * polkit rule) the rest is read as before, and status says why */
    if (opts->agents != VN_AGENTS_NO && !g_str_has_prefix(uri, "test:")) {
        g_autoptr(GError) err = NULL;

        conn = vn_connect(opts->uri, FALSE, &err);
        if (!conn)
            note = g_strdup_printf("guest agents not asked: no read-write "
                                   "connection to '%s' (run as root)", uri);
    }
    if (!conn && !(conn = vn_connect(opts->uri, TRUE, error)))
        return NULL;
    /* the URI libvirt took (uri_default of libvirt.conf, when none was
     * given) */
    if ((actual = virConnectGetURI(conn)))
        uri = actual;
    if (note) {
        VnDiscoverOptions ro = *opts;

        ro.agents = VN_AGENTS_NO;
        layer = vn_discover_conn(conn, uri, &ro, error);
    } else {
        layer = vn_discover_conn(conn, uri, opts, error);
    }
    if (layer && note) {
        g_free(layer->agent_note);
        layer->agent_note = g_steal_pointer(&note);
    }
    return layer;
}

/* Whether discovery asks @g's agent. */
static gboolean
ask_agent(const VnLayer *layer, const VnGuest *g, const VnDiscoverOptions *o,
          gint64 now)
{
    const VnIface *up;
    const VnNetwork *net;
    VnGuestAddr ga;

    if (g->id < 0 || !vn_guest_running(g))
        return FALSE;
    if (o->only_guest && g_strcmp0(o->only_guest, g->name) != 0)
        return FALSE;
    if (o->agents == VN_AGENTS_ALL)
        return TRUE;
    /* the next hop only: guests with routes whose uplink has no address */
    if (!g->nest || !g->routes->len || !(up = vn_guest_uplink(g)))
        return FALSE;
    net = up->network ? vn_layer_find_network(layer, up->network) : NULL;
    return !vn_guest_iface_address(g, up, net, layer->leases, now, AF_INET,
                                   &ga);
}

/* layer->agents: the answers of the guests' agents, each bounded. */
static void
read_agents(virConnectPtr conn, VnLayer *layer, const VnDiscoverOptions *o)
{
    gint64 now = g_get_real_time() / G_USEC_PER_SEC;

    layer->agents = vn_agent_answers_new();
    for (guint i = 0; i < layer->guests->len; i++) {
        const VnGuest *g = layer->guests->pdata[i];
        g_autoptr(GError) err = NULL;
        virDomainPtr dom;
        GPtrArray *ifaces = NULL;

        if (!ask_agent(layer, g, o, now))
            continue;
        dom = virDomainLookupByName(conn, g->name);
        if (!dom) {
            g_set_error(&err, VN_ERROR, VN_ERROR_FAILED, "domain '%s': %s",
                        g->name, vn_virt_error());
        } else {
            ifaces = vn_agent_ifaces_read_bounded(dom, VN_AGENT_TIMEOUT_MS,
                                                  &err);
            virDomainFree(dom);
        }
        g_ptr_array_add(layer->agents,
                        vn_agent_answer_new(g->name, ifaces,
                                            ifaces ? NULL
                                                   : g_strdup(err->message)));
    }
    vn_layer_agent_next_hops(layer);
}

VnLayer *
vn_discover_conn(virConnectPtr conn, const char *uri,
                 const VnDiscoverOptions *opts, GError **error)
{
    g_autoptr(VnLayer) layer = NULL;
    gboolean test_driver = g_str_has_prefix(uri, "test:");
    const char *leases_dir = opts->leases_dir;
    g_autofree char *test_leases = NULL;
    gboolean read_host;

    layer = vn_layer_new(uri);
    if (!leases_dir && test_driver)
        leases_dir = test_leases = test_leases_dir(uri);
    else if (!leases_dir)
        leases_dir = VN_LEASES_DIR;
    read_networks(conn, layer, !test_driver, leases_dir);
    read_domains(conn, layer);

    read_host = opts->host == VN_HOST_YES ||
                (opts->host == VN_HOST_AUTO && !test_driver);
    if (read_host) {
        g_autoptr(GError) err = NULL;

        layer->host = vn_host_read(&err);
        if (!layer->host) {
            g_propagate_error(error, g_steal_pointer(&err));
            return NULL;
        }
        /* reading the firewall needs CAP_NET_ADMIN: without it, say why */
        if (!vn_host_read_forwarding(layer->host, &err))
            layer->host->firewall_error =
                g_strdup(err ? err->message : "cannot read the firewall");
    }
    vn_layer_sort(layer);
    vn_layer_check(layer);
    if (opts->agents != VN_AGENTS_NO && !test_driver)
        read_agents(conn, layer, opts);
    return g_steal_pointer(&layer);
}
