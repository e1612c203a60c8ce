/* model.c: constructors, destructors and look-ups of the layer model.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include <stdio.h>
#include <string.h>
#include <linux/rtnetlink.h>

#include "error.h"
#include "model.h"

G_DEFINE_QUARK(virt-nest-error-quark, vn_error)

const char *
vn_source_to_string(VnSource source)
{
    switch (source) {
    case VN_SOURCE_METADATA:
        return "metadata";
    case VN_SOURCE_RESERVATION:
        return "reservation";
    case VN_SOURCE_LEASE:
        return "lease";
    case VN_SOURCE_LINKLOCAL:
        return "link-local";
    case VN_SOURCE_AGENT:
        return "guest agent";
    case VN_SOURCE_NONE:
        break;
    }
    return "none";
}

void
vn_dhcp_host_free(VnDhcpHost *host)
{
    if (!host)
        return;
    g_free(host->mac);
    g_free(host->name);
    g_free(host);
}

VnNetIp *
vn_net_ip_new(void)
{
    VnNetIp *ip = g_new0(VnNetIp, 1);

    ip->ranges = g_array_new(FALSE, TRUE, sizeof(VnDhcpRange));
    ip->hosts = g_ptr_array_new_with_free_func((GDestroyNotify)vn_dhcp_host_free);
    return ip;
}

void
vn_net_ip_free(VnNetIp *ip)
{
    if (!ip)
        return;
    g_array_unref(ip->ranges);
    g_ptr_array_unref(ip->hosts);
    g_free(ip);
}

VnNetwork *
vn_network_new(void)
{
    VnNetwork *net = g_new0(VnNetwork, 1);

    net->ips = g_ptr_array_new_with_free_func((GDestroyNotify)vn_net_ip_free);
    net->routes = g_array_new(FALSE, TRUE, sizeof(VnNetRoute));
    net->peers = g_array_new(FALSE, TRUE, sizeof(VnCidr));
    net->warnings = g_ptr_array_new_with_free_func(g_free);
    return net;
}

void
vn_network_free(VnNetwork *net)
{
    if (!net)
        return;
    g_free(net->name);
    g_free(net->uuid);
    g_free(net->bridge);
    g_free(net->forward_mode);
    g_ptr_array_unref(net->ips);
    g_array_unref(net->routes);
    g_array_unref(net->peers);
    g_ptr_array_unref(net->warnings);
    g_free(net);
}

VnIface *
vn_iface_new(void)
{
    return g_new0(VnIface, 1);
}

void
vn_iface_free(VnIface *iface)
{
    if (!iface)
        return;
    g_free(iface->type);
    g_free(iface->mac);
    g_free(iface->network);
    g_free(iface->bridge);
    g_free(iface->target);
    g_free(iface->model);
    g_free(iface);
}

VnGuest *
vn_guest_new(void)
{
    VnGuest *guest = g_new0(VnGuest, 1);

    guest->id = -1;
    guest->ifaces = g_ptr_array_new_with_free_func((GDestroyNotify)vn_iface_free);
    guest->routes = g_array_new(FALSE, TRUE, sizeof(VnCidr));
    guest->warnings = g_ptr_array_new_with_free_func(g_free);
    return guest;
}

void
vn_guest_free(VnGuest *guest)
{
    if (!guest)
        return;
    g_free(guest->name);
    g_free(guest->uuid);
    g_free(guest->state);
    g_ptr_array_unref(guest->ifaces);
    g_array_unref(guest->routes);
    g_free(guest->uplink_mac);
    g_ptr_array_unref(guest->warnings);
    g_free(guest->agent_mac);
    if (guest->agent_addrs)
        g_array_unref(guest->agent_addrs);
    g_free(guest);
}

VnLease *
vn_lease_new(void)
{
    return g_new0(VnLease, 1);
}

void
vn_lease_free(VnLease *lease)
{
    if (!lease)
        return;
    g_free(lease->mac);
    g_free(lease->hostname);
    g_free(lease->client_id);
    g_free(lease->bridge);
    g_free(lease);
}

void
vn_link_free(VnLink *link)
{
    if (!link)
        return;
    g_free(link->name);
    g_free(link->mac);
    g_free(link->kind);
    g_free(link);
}

VnHost *
vn_host_new(void)
{
    VnHost *host = g_new0(VnHost, 1);

    host->links = g_ptr_array_new_with_free_func((GDestroyNotify)vn_link_free);
    host->addrs = g_ptr_array_new_with_free_func(g_free);
    host->routes = g_ptr_array_new_with_free_func(g_free);
    host->ip_forward = host->ip6_forward = host->rp_filter_all = -1;
    return host;
}

void
vn_host_free(VnHost *host)
{
    if (!host)
        return;
    g_free(host->hostname);
    g_ptr_array_unref(host->links);
    g_ptr_array_unref(host->addrs);
    g_ptr_array_unref(host->routes);
    if (host->firewall)
        g_ptr_array_unref(host->firewall);
    g_free(host->firewall_error);
    g_free(host);
}

VnProblem *
vn_problem_new(const char *object, const char *message)
{
    VnProblem *p = g_new0(VnProblem, 1);

    p->object = g_strdup(object);
    p->message = g_strdup(message);
    return p;
}

void
vn_problem_free(VnProblem *problem)
{
    if (!problem)
        return;
    g_free(problem->object);
    g_free(problem->message);
    g_free(problem);
}

VnLayer *
vn_layer_new(const char *uri)
{
    VnLayer *layer = g_new0(VnLayer, 1);

    layer->uri = g_strdup(uri);
    layer->networks = g_ptr_array_new_with_free_func((GDestroyNotify)vn_network_free);
    layer->guests = g_ptr_array_new_with_free_func((GDestroyNotify)vn_guest_free);
    layer->leases = g_ptr_array_new_with_free_func((GDestroyNotify)vn_lease_free);
    layer->problems = g_ptr_array_new_with_free_func((GDestroyNotify)vn_problem_free);
    return layer;
}

void
vn_layer_free(VnLayer *layer)
{
    if (!layer)
        return;
    g_free(layer->uri);
    vn_host_free(layer->host);
    g_ptr_array_unref(layer->networks);
    g_ptr_array_unref(layer->guests);
    g_ptr_array_unref(layer->leases);
    g_ptr_array_unref(layer->problems);
    if (layer->agents)
        g_ptr_array_unref(layer->agents);
    g_free(layer->agent_note);
    g_free(layer);
}

void
vn_layer_add_problem(VnLayer *layer, const char *object, const char *message)
{
    g_ptr_array_add(layer->problems, vn_problem_new(object, message));
}

void
vn_problems_add_error(GPtrArray *problems, const char *object,
                      const GError *error)
{
    const char *msg = error->message;
    gsize n = strlen(object);

    if (strncmp(msg, object, n) == 0 && msg[n] == ':' && msg[n + 1] == ' ')
        msg += n + 2;
    g_ptr_array_add(problems, vn_problem_new(object, msg));
}

static int
cmp_network(gconstpointer a, gconstpointer b)
{
    const VnNetwork *x = *(VnNetwork *const *)a;
    const VnNetwork *y = *(VnNetwork *const *)b;

    return g_strcmp0(x->name, y->name);
}

static int
cmp_guest(gconstpointer a, gconstpointer b)
{
    const VnGuest *x = *(VnGuest *const *)a;
    const VnGuest *y = *(VnGuest *const *)b;

    return g_strcmp0(x->name, y->name);
}

static int
cmp_lease(gconstpointer a, gconstpointer b)
{
    const VnLease *x = *(VnLease *const *)a;
    const VnLease *y = *(VnLease *const *)b;
    int r = g_strcmp0(x->bridge, y->bridge);

    return r ? r : vn_cidr_compare(&x->ip, &y->ip);
}

int
vn_problem_compare(gconstpointer a, gconstpointer b)
{
    const VnProblem *x = *(VnProblem *const *)a;
    const VnProblem *y = *(VnProblem *const *)b;

    return g_strcmp0(x->object, y->object);
}

void
vn_layer_sort(VnLayer *layer)
{
    g_ptr_array_sort(layer->problems, vn_problem_compare);
    g_ptr_array_sort(layer->networks, cmp_network);
    g_ptr_array_sort(layer->guests, cmp_guest);
    g_ptr_array_sort(layer->leases, cmp_lease);
}

const VnNetwork *
vn_layer_find_network(const VnLayer *layer, const char *name)
{
    if (!name)
        return NULL;
    for (guint i = 0; i < layer->networks->len; i++) {
        const VnNetwork *net = layer->networks->pdata[i];

        if (g_strcmp0(net->name, name) == 0)
            return net;
    }
    return NULL;
}

const VnNetwork *
vn_layer_find_network_by_bridge(const VnLayer *layer, const char *bridge)
{
    if (!bridge)
        return NULL;
    for (guint i = 0; i < layer->networks->len; i++) {
        const VnNetwork *net = layer->networks->pdata[i];

        if (g_strcmp0(net->bridge, bridge) == 0)
            return net;
    }
    return NULL;
}

const VnGuest *
vn_layer_find_guest(const VnLayer *layer, const char *name)
{
    for (guint i = 0; i < layer->guests->len; i++) {
        const VnGuest *guest = layer->guests->pdata[i];

        if (g_strcmp0(guest->name, name) == 0)
            return guest;
    }
    return NULL;
}

gboolean
vn_guest_running(const VnGuest *guest)
{
    return g_strcmp0(guest->state, "shut off") != 0 &&
           g_strcmp0(guest->state, "crashed") != 0;
}

const VnLink *
vn_host_find_link(const VnHost *host, int ifindex)
{
    for (guint i = 0; host && i < host->links->len; i++) {
        const VnLink *link = host->links->pdata[i];

        if (link->ifindex == ifindex)
            return link;
    }
    return NULL;
}

const VnLink *
vn_host_find_link_by_name(const VnHost *host, const char *name)
{
    for (guint i = 0; host && name && i < host->links->len; i++) {
        const VnLink *link = host->links->pdata[i];

        if (g_strcmp0(link->name, name) == 0)
            return link;
    }
    return NULL;
}

const VnDhcpHost *
vn_network_find_host(const VnNetwork *net, const char *mac)
{
    if (!net || !mac)
        return NULL;
    for (guint i = 0; i < net->ips->len; i++) {
        const VnNetIp *ip = net->ips->pdata[i];

        for (guint j = 0; j < ip->hosts->len; j++) {
            const VnDhcpHost *h = ip->hosts->pdata[j];

            if (h->mac && g_ascii_strcasecmp(h->mac, mac) == 0)
                return h;
        }
    }
    return NULL;
}

const VnLease *
vn_leases_find(GPtrArray *leases, const char *mac, const char *bridge,
               gint64 now)
{
    const VnLease *best = NULL;

    for (guint i = 0; leases && mac && i < leases->len; i++) {
        const VnLease *l = leases->pdata[i];

        if (!l->mac || g_ascii_strcasecmp(l->mac, mac) != 0)
            continue;
        if (bridge && l->bridge && g_strcmp0(l->bridge, bridge) != 0)
            continue;
        if (l->expiry && now && l->expiry < now)
            continue;
        if (!best || (best->expiry && (!l->expiry || l->expiry > best->expiry)))
            best = l;
    }
    return best;
}

const char *
vn_iface_bridge(const VnIface *iface, const VnNetwork *net)
{
    if (iface->bridge)
        return iface->bridge;
    return net ? net->bridge : NULL;
}

const VnIface *
vn_guest_uplink(const VnGuest *guest)
{
    for (guint i = 0; guest->uplink_mac && i < guest->ifaces->len; i++) {
        const VnIface *iface = guest->ifaces->pdata[i];

        if (iface->mac && g_ascii_strcasecmp(iface->mac, guest->uplink_mac) == 0)
            return iface;
    }
    if (guest->uplink_mac)
        return NULL;
    for (guint i = 0; i < guest->ifaces->len; i++) {
        const VnIface *iface = guest->ifaces->pdata[i];

        if (g_strcmp0(iface->type, "network") == 0)
            return iface;
    }
    return NULL;
}

gboolean
vn_guest_iface_address(const VnGuest *guest, const VnIface *iface,
                       const VnNetwork *net, GPtrArray *leases, gint64 now,
                       int family, VnGuestAddr *out)
{
    return vn_guest_iface_address_with(guest, iface, net,
                                       vn_network_find_host(net, iface->mac),
                                       leases, now, family, out);
}

/* The agent's address of @iface: a host address inside one of @net's
 * subnets, not the network's own; the first in the agent's order. */
static gboolean
agent_address(const VnGuest *guest, const VnIface *iface,
              const VnNetwork *net, int family, VnGuestAddr *out)
{
    if (!guest->agent_addrs || !net || !iface->mac ||
        g_strcmp0(guest->agent_mac, iface->mac) != 0)
        return FALSE;
    for (guint i = 0; i < guest->agent_addrs->len; i++) {
        VnCidr a = g_array_index(guest->agent_addrs, VnCidr, i);

        if (a.family != family)
            continue;
        a.prefix = (guint8)vn_cidr_max_prefix(family);
        for (guint j = 0; j < net->ips->len; j++) {
            const VnNetIp *ip = net->ips->pdata[j];

            if (vn_cidr_contains(&ip->subnet, &a) &&
                !vn_cidr_address_equal(&ip->address, &a)) {
                out->address = a;
                out->source = VN_SOURCE_AGENT;
                return TRUE;
            }
        }
    }
    return FALSE;
}

gboolean
vn_guest_iface_address_with(const VnGuest *guest, const VnIface *iface,
                            const VnNetwork *net, const VnDhcpHost *h,
                            GPtrArray *leases, gint64 now, int family,
                            VnGuestAddr *out)
{
    const VnLease *lease;

    memset(out, 0, sizeof(*out));
    out->iface = iface;
    out->network = net;
    if (!vn_cidr_is_empty(&guest->uplink_address) &&
        guest->uplink_address.family == family &&
        vn_guest_uplink(guest) == iface) {
        out->address = guest->uplink_address;
        out->source = VN_SOURCE_METADATA;
        return TRUE;
    }
    if (h && h->ip.family == family) {
        out->address = h->ip;
        out->source = VN_SOURCE_RESERVATION;
        return TRUE;
    }
    lease = vn_leases_find(leases, iface->mac, vn_iface_bridge(iface, net), now);
    if (lease && lease->ip.family == family) {
        out->address = lease->ip;
        out->address.prefix = vn_cidr_max_prefix(family);
        out->source = VN_SOURCE_LEASE;
        return TRUE;
    }
    return agent_address(guest, iface, net, family, out);
}

char *
vn_mac_normalize(const char *mac)
{
    char out[18];

    /* exactly six octets of two hex digits, ':' between them: sscanf's %x
     * would take "-1", "+f" or " f" too */
    if (!mac || strlen(mac) != 17)
        return NULL;
    for (guint i = 0; i < 17; i++) {
        if (i % 3 == 2 ? mac[i] != ':' : !g_ascii_isxdigit(mac[i]))
            return NULL;
        out[i] = g_ascii_tolower(mac[i]);
    }
    out[17] = '\0';
    return g_strdup(out);
}

gboolean
vn_mac_link_local(const char *mac, VnCidr *out)
{
    g_autofree char *norm = vn_mac_normalize(mac);
    guint b[6];

    if (!norm || sscanf(norm, "%2x:%2x:%2x:%2x:%2x:%2x", &b[0], &b[1], &b[2],
                        &b[3], &b[4], &b[5]) != 6)
        return FALSE;
    memset(out, 0, sizeof(*out));
    out->family = AF_INET6;
    out->prefix = 128;
    out->addr[0] = 0xfe;
    out->addr[1] = 0x80;
    out->addr[8] = (guint8)(b[0] ^ 0x02);
    out->addr[9] = (guint8)b[1];
    out->addr[10] = (guint8)b[2];
    out->addr[11] = 0xff;
    out->addr[12] = 0xfe;
    out->addr[13] = (guint8)b[3];
    out->addr[14] = (guint8)b[4];
    out->addr[15] = (guint8)b[5];
    return TRUE;
}

char *
vn_mac_tap(const char *guest_mac)
{
    g_autofree char *mac = vn_mac_normalize(guest_mac);

    if (!mac)
        return NULL;
    /* src/util/virnetdevtap.c: the TAP gets 0xFE as its first byte so the
     * bridge never takes the guest's MAC; 0xFA if the guest already has FE. */
    if (g_str_has_prefix(mac, "fe:"))
        return g_strconcat("fa", mac + 2, NULL);
    return g_strconcat("fe", mac + 2, NULL);
}

gboolean
vn_host_route_default_metric(const VnHostRoute *route)
{
    /* the kernel gives an IPv6 route added without a metric 1024
     * (IP6_RT_PRIO_USER); an IPv4 one keeps 0 */
    return route->priority == 0 ||
           (route->dst.family == AF_INET6 && route->priority == 1024);
}

gboolean
vn_host_overlaps(const VnHost *host, const VnCidr *subnet,
                 const VnHostRoute *need, char **what)
{
    char a[VN_CIDR_STRLEN];

    for (guint i = 0; host && i < host->addrs->len; i++) {
        const VnHostAddr *ha = host->addrs->pdata[i];
        VnCidr addr = ha->address;
        const VnLink *link = vn_host_find_link(host, ha->ifindex);

        if (addr.family != subnet->family)
            continue;
        /* the address itself, and the subnet it sits on */
        addr.prefix = (guint8)vn_cidr_max_prefix(addr.family);
        if (vn_cidr_contains(subnet, &addr) ||
            vn_cidr_overlaps(subnet, &ha->address)) {
            if (what)
                *what = g_strdup_printf("address %s on %s",
                                        vn_cidr_format(&ha->address, TRUE, a),
                                        link ? link->name : "?");
            return TRUE;
        }
    }
    for (guint i = 0; host && i < host->routes->len; i++) {
        const VnHostRoute *r = host->routes->pdata[i];
        const VnLink *link = vn_host_find_link(host, r->oif);

        if (r->dst.family != subnet->family || r->scope != RT_SCOPE_LINK ||
            r->type != RTN_UNICAST)
            continue;
        if (vn_cidr_overlaps(subnet, &r->dst)) {
            if (what)
                *what = g_strdup_printf("connected network %s on %s",
                                        vn_cidr_format(&r->dst, TRUE, a),
                                        link ? link->name : "?");
            return TRUE;
        }
    }
    /* any other route but the default and virt-nest's own: a guest must
     * not take over traffic this host already sends elsewhere (a VPN's
     * routes, libvirt's <route>, a hand-made route) */
    for (guint i = 0; host && i < host->routes->len; i++) {
        const VnHostRoute *r = host->routes->pdata[i];
        const VnLink *link = vn_host_find_link(host, r->oif);
        char g[VN_CIDR_STRLEN];

        if (r->dst.family != subnet->family || r->dst.prefix == 0 ||
            r->type != RTN_UNICAST || r->protocol == VN_RTPROT ||
            !vn_cidr_overlaps(subnet, &r->dst))
            continue;
        /* exactly the route needed, made by hand: virt-nest adopts it (a
         * need without next hop or device: any route to exactly it) */
        if (need && vn_cidr_equal(&r->dst, &need->dst) &&
            r->table == RT_TABLE_MAIN && vn_host_route_default_metric(r) &&
            ((!need->oif && vn_cidr_is_empty(&need->gateway)) ||
             (vn_cidr_equal(&r->gateway, &need->gateway) &&
              r->oif == need->oif)))
            continue;
        if (what)
            *what = g_strdup_printf("route %s%s%s dev %s (not virt-nest's; "
                                    "if it is a hand-made route for this "
                                    "guest, delete it)",
                                    vn_cidr_format(&r->dst, TRUE, a),
                                    vn_cidr_is_empty(&r->gateway) ? "" : " via ",
                                    vn_cidr_is_empty(&r->gateway) ? "" :
                                    vn_cidr_format(&r->gateway, FALSE, g),
                                    link ? link->name : "?");
        return TRUE;
    }
    return FALSE;
}
