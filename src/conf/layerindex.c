/* layerindex.c: a layer's objects by hash.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include <string.h>

#include "layerindex.h"

/* A guest's interface, and where it comes in its layer's order. */
typedef struct {
    const VnGuest *guest;
    const VnIface *iface;
    guint order;
} GuestIface;

struct VnLayerIndex {
    GHashTable *networks;       /* name -> VnNetwork */
    GHashTable *bridges;        /* bridge -> VnNetwork */
    GHashTable *links;          /* ifindex -> VnLink */
    GHashTable *link_names;     /* name -> VnLink */
    GHashTable *link_macs;      /* MAC -> VnLink */
    GHashTable *addrs;          /* ifindex -> GPtrArray of VnHostAddr */
    GHashTable *by_address;     /* VnCidr (address, no prefix) -> VnHostAddr */
    GPtrArray *guest_ifaces;    /* GuestIface, owned */
    GHashTable *guest_macs;     /* MAC -> GuestIface */
    GHashTable *tap_macs;       /* the TAP's MAC -> GuestIface */
    GHashTable *targets;        /* <target dev> -> GuestIface */
    GHashTable *leases;         /* lower-case MAC -> GPtrArray of VnLease */
    GHashTable *reservations;   /* VnNetwork -> (lower-case MAC -> VnDhcpHost) */
    GPtrArray *empty;
};

void
vn_layer_index_free(VnLayerIndex *x)
{
    if (!x)
        return;
    g_hash_table_unref(x->networks);
    g_hash_table_unref(x->bridges);
    g_hash_table_unref(x->links);
    g_hash_table_unref(x->link_names);
    g_hash_table_unref(x->link_macs);
    g_hash_table_unref(x->addrs);
    g_hash_table_unref(x->by_address);
    g_hash_table_unref(x->guest_macs);
    g_hash_table_unref(x->tap_macs);
    g_hash_table_unref(x->targets);
    g_ptr_array_unref(x->guest_ifaces);
    g_hash_table_unref(x->leases);
    g_hash_table_unref(x->reservations);
    g_ptr_array_unref(x->empty);
    g_free(x);
}

/* Adds @value under @key unless the key has one: the first one wins. */
static void
add_first(GHashTable *t, gconstpointer key, gconstpointer value)
{
    if (key && !g_hash_table_contains(t, key))
        g_hash_table_insert(t, (gpointer)key, (gpointer)value);
}

/* Appends @value to the array under @key, made on first use. */
static void
add_to(GHashTable *t, gpointer key, gpointer value)
{
    GPtrArray *a = g_hash_table_lookup(t, key);

    if (!a) {
        a = g_ptr_array_new();
        g_hash_table_insert(t, key, a);
    }
    g_ptr_array_add(a, value);
}

static GHashTable *
reservations_of(const VnNetwork *n)
{
    GHashTable *t = g_hash_table_new_full(g_str_hash, g_str_equal, g_free,
                                          NULL);

    for (guint i = 0; i < n->ips->len; i++) {
        const VnNetIp *ip = n->ips->pdata[i];

        for (guint j = 0; j < ip->hosts->len; j++) {
            const VnDhcpHost *h = ip->hosts->pdata[j];
            char *mac = h->mac ? g_ascii_strdown(h->mac, -1) : NULL;

            if (mac && !g_hash_table_contains(t, mac))
                g_hash_table_insert(t, mac, (gpointer)h);
            else
                g_free(mac);
        }
    }
    return t;
}

static void
index_networks(VnLayerIndex *x, const VnLayer *layer)
{
    for (guint i = 0; i < layer->networks->len; i++) {
        const VnNetwork *n = layer->networks->pdata[i];

        add_first(x->networks, n->name, n);
        add_first(x->bridges, n->bridge, n);
        if (!g_hash_table_contains(x->reservations, n))
            g_hash_table_insert(x->reservations, (gpointer)n,
                                reservations_of(n));
    }
}

static void
index_host(VnLayerIndex *x, const VnHost *h)
{
    for (guint i = 0; h && i < h->links->len; i++) {
        const VnLink *link = h->links->pdata[i];

        add_first(x->links, GINT_TO_POINTER(link->ifindex), link);
        add_first(x->link_names, link->name, link);
        add_first(x->link_macs, link->mac, link);
    }
    for (guint i = 0; h && i < h->addrs->len; i++) {
        VnHostAddr *a = h->addrs->pdata[i];

        add_to(x->addrs, GINT_TO_POINTER(a->ifindex), a);
        add_first(x->by_address, &a->address, a);
    }
}

static void
index_guests(VnLayerIndex *x, const VnLayer *layer)
{
    for (guint i = 0; i < layer->guests->len; i++) {
        const VnGuest *g = layer->guests->pdata[i];

        for (guint j = 0; j < g->ifaces->len; j++) {
            const VnIface *f = g->ifaces->pdata[j];
            GuestIface *gi = g_new0(GuestIface, 1);
            char *tap = vn_mac_tap(f->mac);

            gi->guest = g;
            gi->iface = f;
            gi->order = x->guest_ifaces->len;
            g_ptr_array_add(x->guest_ifaces, gi);
            add_first(x->guest_macs, f->mac, gi);
            add_first(x->targets, f->target, gi);
            if (tap && !g_hash_table_contains(x->tap_macs, tap))
                g_hash_table_insert(x->tap_macs, tap, gi);
            else
                g_free(tap);
        }
    }
}

static void
index_leases(VnLayerIndex *x, const VnLayer *layer)
{
    for (guint i = 0; i < layer->leases->len; i++) {
        VnLease *l = layer->leases->pdata[i];
        g_autofree char *mac = l->mac ? g_ascii_strdown(l->mac, -1) : NULL;
        GPtrArray *same;

        if (!mac)
            continue;
        same = g_hash_table_lookup(x->leases, mac);
        if (same)
            g_ptr_array_add(same, l);
        else
            add_to(x->leases, g_steal_pointer(&mac), l);
    }
}

VnLayerIndex *
vn_layer_index_new(const VnLayer *layer)
{
    VnLayerIndex *x = g_new0(VnLayerIndex, 1);

    x->networks = g_hash_table_new(g_str_hash, g_str_equal);
    x->bridges = g_hash_table_new(g_str_hash, g_str_equal);
    x->links = g_hash_table_new(NULL, NULL);
    x->link_names = g_hash_table_new(g_str_hash, g_str_equal);
    x->link_macs = g_hash_table_new(g_str_hash, g_str_equal);
    x->addrs = g_hash_table_new_full(NULL, NULL, NULL,
                                     (GDestroyNotify)g_ptr_array_unref);
    x->by_address = g_hash_table_new(vn_cidr_address_hash,
                                     vn_cidr_address_equal);
    x->guest_ifaces = g_ptr_array_new_with_free_func(g_free);
    x->guest_macs = g_hash_table_new(g_str_hash, g_str_equal);
    x->tap_macs = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    x->targets = g_hash_table_new(g_str_hash, g_str_equal);
    x->leases = g_hash_table_new_full(g_str_hash, g_str_equal, g_free,
                                      (GDestroyNotify)g_ptr_array_unref);
    x->reservations = g_hash_table_new_full(NULL, NULL, NULL,
                                            (GDestroyNotify)g_hash_table_unref);
    x->empty = g_ptr_array_new();
    index_networks(x, layer);
    index_host(x, layer->host);
    index_guests(x, layer);
    index_leases(x, layer);
    return x;
}

const VnNetwork *
vn_layer_index_network(const VnLayerIndex *x, const char *name)
{
    return name ? g_hash_table_lookup(x->networks, name) : NULL;
}

const VnNetwork *
vn_layer_index_network_by_bridge(const VnLayerIndex *x, const char *bridge)
{
    return bridge ? g_hash_table_lookup(x->bridges, bridge) : NULL;
}

const VnNetwork *
vn_layer_index_iface_network(const VnLayerIndex *x, const VnIface *iface)
{
    const VnNetwork *net = vn_layer_index_network(x, iface->network);

    if (!net && !iface->network)
        net = vn_layer_index_network_by_bridge(x, iface->bridge);
    return net;
}

const VnLink *
vn_layer_index_link(const VnLayerIndex *x, int ifindex)
{
    return ifindex ? g_hash_table_lookup(x->links, GINT_TO_POINTER(ifindex))
                   : NULL;
}

const VnLink *
vn_layer_index_link_by_name(const VnLayerIndex *x, const char *name)
{
    return name ? g_hash_table_lookup(x->link_names, name) : NULL;
}

const VnLink *
vn_layer_index_link_by_mac(const VnLayerIndex *x, const char *mac)
{
    return mac ? g_hash_table_lookup(x->link_macs, mac) : NULL;
}

GPtrArray *
vn_layer_index_addresses(const VnLayerIndex *x, int ifindex)
{
    GPtrArray *a = g_hash_table_lookup(x->addrs, GINT_TO_POINTER(ifindex));

    return a ? a : x->empty;
}

const VnHostAddr *
vn_layer_index_address(const VnLayerIndex *x, const VnCidr *a)
{
    return g_hash_table_lookup(x->by_address, a);
}

static const VnGuest *
guest_of(const GuestIface *gi, const VnIface **iface)
{
    if (iface)
        *iface = gi ? gi->iface : NULL;
    return gi ? gi->guest : NULL;
}

const VnGuest *
vn_layer_index_guest_by_mac(const VnLayerIndex *x, const char *mac,
                            const VnIface **iface)
{
    return guest_of(mac ? g_hash_table_lookup(x->guest_macs, mac) : NULL,
                    iface);
}

const VnGuest *
vn_layer_index_guest_on_tap(const VnLayerIndex *x, const VnLink *link,
                            const VnIface **iface)
{
    const GuestIface *by_mac = link->mac ?
        g_hash_table_lookup(x->tap_macs, link->mac) : NULL;
    const GuestIface *by_name = link->name ?
        g_hash_table_lookup(x->targets, link->name) : NULL;
    const GuestIface *gi = by_mac;

    if (!gi || (by_name && by_name->order < gi->order))
        gi = by_name;
    return guest_of(gi, iface);
}

GPtrArray *
vn_layer_index_leases(const VnLayerIndex *x, const char *mac)
{
    g_autofree char *key = mac ? g_ascii_strdown(mac, -1) : NULL;
    GPtrArray *a = key ? g_hash_table_lookup(x->leases, key) : NULL;

    return a ? a : x->empty;
}

const VnDhcpHost *
vn_layer_index_reservation(const VnLayerIndex *x, const VnNetwork *net,
                           const char *mac)
{
    GHashTable *t = net ? g_hash_table_lookup(x->reservations, net) : NULL;
    g_autofree char *key = mac ? g_ascii_strdown(mac, -1) : NULL;

    return t && key ? g_hash_table_lookup(t, key) : NULL;
}

gboolean
vn_layer_index_iface_address(const VnLayerIndex *x, const VnGuest *guest,
                             const VnIface *iface, gint64 now, int family,
                             VnGuestAddr *out)
{
    const VnNetwork *net = vn_layer_index_iface_network(x, iface);

    return vn_guest_iface_address_with(guest, iface, net,
                                       vn_layer_index_reservation(x, net,
                                                                  iface->mac),
                                       vn_layer_index_leases(x, iface->mac),
                                       now, family, out);
}
