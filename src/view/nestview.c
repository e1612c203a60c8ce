/* nestview.c: the whole nest as one picture, as text and as JSON.
 *
 * What each layer shows is worked out once per layer (LayerFacts), by
 * hash, so that a snapshot of tens of thousands of links, guests and rules
 * draws in time in proportion to its size.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include <string.h>
#include <linux/rtnetlink.h>

#include "escape.h"
#include "facts.h"
#include "fwmodel.h"
#include "json.h"
#include "layerplan.h"
#include "nestview.h"
#include "picture.h"

/* ------------------------------------------------------------------ */
/* what each layer shows                                               */

typedef enum {
    SHOW_NOT,
    SHOW_LINK,      /* an uplink or a link with an address */
    SHOW_BRIDGE,
    SHOW_TAP,       /* a port of a bridge that leads to a guest */
} Show;

typedef struct {
    const VnNestLayer *l;
    const VnHost *host;
    const VnHostRoute *dr4;     /* the IPv4 default route */
    GHashTable *masqueraded;    /* VnCidr source subnets of a MASQUERADE/SNAT */
    GHashTable *exceptions;     /* VnNetwork -> GPtrArray of char * */
    GHashTable *taps_of;        /* VnGuest -> GPtrArray of its TAP VnLinks */
    GHashTable *stitched;       /* VnGuest that are a layer of their own */
    GHashTable *rejects;        /* bridge name -> libvirt's REJECTs and
                                 * DROPs on it, counted */
    GHashTable *other_drops;    /* the same, in chains not libvirt's */
    GHashTable *route_devs;     /* ifindex of the links routes to other
                                 * layers leave by (facts_routes) */
    GPtrArray *none;
} LayerFacts;

static gboolean
has_global_address(const VnNestLayer *l, const VnLink *link)
{
    GPtrArray *addrs = vn_layer_index_addresses(l->index, link->ifindex);

    for (guint i = 0; i < addrs->len; i++)
        if (!vn_cidr_is_link_local(&((VnHostAddr *)addrs->pdata[i])->address))
            return TRUE;
    return FALSE;
}

static Show
show(const VnNestLayer *l, const VnLink *link)
{
    if (!g_strcmp0(link->name, "lo"))
        return SHOW_NOT;
    if (!g_strcmp0(link->kind, "bridge"))
        return SHOW_BRIDGE;
    if (link->master)
        return vn_nest_layer_child_on_tap(l, link) ||
               vn_layer_index_guest_on_tap(l->index, link, NULL)
               ? SHOW_TAP : SHOW_NOT;
    if (l->uplink && l->uplink->ifindex == link->ifindex)
        return SHOW_LINK;
    return has_global_address(l, link) ? SHOW_LINK : SHOW_NOT;
}

/* A route that leads to another layer: virt-nest's, or one added by hand
 * (anything but the kernel's connected routes and the default route). */
static gboolean cross_route(const VnHostRoute *r);

static const VnHostRoute *
default_route(const VnHost *h, int family)
{
    const VnHostRoute *best = NULL;

    for (guint i = 0; h && i < h->routes->len; i++) {
        const VnHostRoute *r = h->routes->pdata[i];

        if (r->dst.family == family && r->dst.prefix == 0 &&
            r->type == RTN_UNICAST && (!best || r->priority < best->priority))
            best = r;
    }
    return best;
}

static gboolean
cross_route(const VnHostRoute *r)
{
    return r->type == RTN_UNICAST && r->dst.prefix > 0 &&
           !vn_cidr_is_empty(&r->gateway) && r->protocol != RTPROT_KERNEL;
}

static guint
cidr_hash(gconstpointer p)
{
    const VnCidr *c = p;
    guint h = c->family * 131u + c->prefix;

    for (guint i = 0; i < 16; i++)
        h = h * 31u + c->addr[i];
    return h;
}

static gboolean
cidr_equal(gconstpointer a, gconstpointer b)
{
    return vn_cidr_equal(a, b);
}

/* The network whose comment prefix ("virt-nest NAME ", layerplan.h; the
 * name holds no space there) @r's comment starts with, if any. */
static void
note_exception(LayerFacts *f, GHashTable *prefixes, const VnFwChain *c,
               const VnFwRule *r)
{
    const char *end = strchr(r->comment + strlen("virt-nest "), ' ');
    g_autofree char *head = end ? g_strndup(r->comment, end + 1 - r->comment)
                                : NULL;
    const VnNetwork *net = head ? g_hash_table_lookup(prefixes, head) : NULL;
    GPtrArray *list;

    if (!net)
        return;
    if (!(list = g_hash_table_lookup(f->exceptions, net))) {
        list = g_ptr_array_new_with_free_func(g_free);
        g_hash_table_insert(f->exceptions, (gpointer)net, list);
    }
    g_ptr_array_add(list, g_strdup_printf("%s (%s %s)", end + 1, c->table,
                                          c->name));
}

/* libvirt's chains: LIBVIRT_FWI and the like, its nftables tables, and
 * plain FORWARD, where libvirt before 5.1 put its rules (as doctor.c
 * tells them). */
static gboolean
chain_is_libvirt(const VnFwChain *c)
{
    return g_str_has_prefix(c->name, "LIBVIRT_") ||
           !g_strcmp0(c->table, "libvirt_network") ||
           !g_strcmp0(c->table, "libvirt") || !g_strcmp0(c->name, "FORWARD");
}

/* A REJECT or DROP of someone else's on a bridge: counted for the
 * bridge's badge. */
static void
note_reject(LayerFacts *f, const VnFwChain *c, const VnFwRule *r)
{
    const char *names[2] = { r->iif_neg ? NULL : r->iif,
                             r->oif_neg ? NULL : r->oif };
    GHashTable *into = chain_is_libvirt(c) ? f->rejects : f->other_drops;

    for (guint i = 0; i < 2; i++) {
        const VnLink *br = names[i] ?
            vn_layer_index_link_by_name(f->l->index, names[i]) : NULL;

        if (!br || g_strcmp0(br->kind, "bridge") ||
            (i == 1 && !g_strcmp0(names[0], names[1])))
            continue;
        g_hash_table_insert(into, br->name, GUINT_TO_POINTER(
            GPOINTER_TO_UINT(g_hash_table_lookup(into, br->name)) + 1));
    }
}

/* One pass over the firewall: virt-nest's rules by network, the REJECTs
 * on each bridge, and the subnets a MASQUERADE or SNAT rule covers. */
static void
facts_firewall(LayerFacts *f)
{
    g_autoptr(GHashTable) prefixes = g_hash_table_new_full(g_str_hash,
                                                           g_str_equal,
                                                           g_free, NULL);
    const VnLayer *layer = f->l->layer;

    for (guint i = 0; i < layer->networks->len; i++) {
        const VnNetwork *n = layer->networks->pdata[i];
        char *prefix = vn_rule_comment_prefix(n->name);

        if (g_hash_table_contains(prefixes, prefix))
            g_free(prefix);
        else
            g_hash_table_insert(prefixes, prefix, (gpointer)n);
    }
    for (guint i = 0; f->host->firewall && i < f->host->firewall->len; i++) {
        const VnFwChain *c = f->host->firewall->pdata[i];

        for (guint j = 0; j < c->rules->len; j++) {
            const VnFwRule *r = c->rules->pdata[j];

            if ((r->verdict == VN_FW_MASQUERADE || r->verdict == VN_FW_SNAT) &&
                !r->src_neg)
                g_hash_table_add(f->masqueraded, (gpointer)&r->src);
            if (vn_rule_comment_is_ours(r->comment))
                note_exception(f, prefixes, c, r);
            else if (r->verdict == VN_FW_REJECT || r->verdict == VN_FW_DROP)
                note_reject(f, c, r);
        }
    }
}

/* The TAPs of each guest, and the guests that are layers of their own. */
static void
facts_guests(LayerFacts *f)
{
    const VnNestLayer *l = f->l;

    for (guint i = 0; i < l->children->len; i++) {
        const VnNestLayer *c = l->children->pdata[i];

        if (c->guest)
            g_hash_table_add(f->stitched, (gpointer)c->guest);
    }
    for (guint i = 0; f->host && i < f->host->links->len; i++) {
        const VnLink *link = f->host->links->pdata[i];
        const VnGuest *g = link->master ?
            vn_layer_index_guest_on_tap(l->index, link, NULL) : NULL;
        GPtrArray *taps;

        if (!g)
            continue;
        if (!(taps = g_hash_table_lookup(f->taps_of, g))) {
            taps = g_ptr_array_new();
            g_hash_table_insert(f->taps_of, (gpointer)g, taps);
        }
        g_ptr_array_add(taps, (gpointer)link);
    }
}

static LayerFacts *
facts_new(const VnNestLayer *l)
{
    LayerFacts *f = g_new0(LayerFacts, 1);

    f->l = l;
    f->host = l->layer->host;
    f->dr4 = default_route(f->host, AF_INET);
    f->masqueraded = g_hash_table_new(cidr_hash, cidr_equal);
    f->exceptions = g_hash_table_new_full(NULL, NULL, NULL,
                                          (GDestroyNotify)g_ptr_array_unref);
    f->taps_of = g_hash_table_new_full(NULL, NULL, NULL,
                                       (GDestroyNotify)g_ptr_array_unref);
    f->stitched = g_hash_table_new(NULL, NULL);
    f->route_devs = g_hash_table_new(NULL, NULL);
    f->rejects = g_hash_table_new(g_str_hash, g_str_equal);
    f->other_drops = g_hash_table_new(g_str_hash, g_str_equal);
    f->none = g_ptr_array_new();
    if (f->host)
        facts_firewall(f);
    facts_guests(f);
    return f;
}

static void
facts_free(LayerFacts *f)
{
    if (!f)
        return;
    g_hash_table_unref(f->masqueraded);
    g_hash_table_unref(f->exceptions);
    g_hash_table_unref(f->taps_of);
    g_hash_table_unref(f->stitched);
    g_hash_table_unref(f->route_devs);
    g_hash_table_unref(f->rejects);
    g_hash_table_unref(f->other_drops);
    g_ptr_array_unref(f->none);
    g_free(f);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC(LayerFacts, facts_free)

/* The links routes to another layer of @nest leave by. */
static void
facts_routes(LayerFacts *f, const VnNest *nest)
{
    for (guint i = 0; f->host && i < f->host->routes->len; i++) {
        const VnHostRoute *r = f->host->routes->pdata[i];
        const VnNestLayer *o;

        if (cross_route(r) &&
            (o = vn_nest_find_address(nest, &r->gateway, NULL)) && o != f->l)
            g_hash_table_add(f->route_devs, GINT_TO_POINTER(r->oif));
    }
}

/* virt-nest's rules for @net: their comments without the "virt-nest NET "
 * prefix, and their table and chain. */
static GPtrArray *
exceptions(const LayerFacts *f, const VnNetwork *net)
{
    GPtrArray *list = g_hash_table_lookup(f->exceptions, net);

    return list ? list : f->none;
}

static char *
layer_title(const VnNestLayer *l)
{
    GString *t = g_string_new(l->name);
    const VnHost *h = l->layer->host;

    if (h && h->hostname)
        g_string_append_printf(t, " · host %s", h->hostname);
    g_string_append_printf(t, " · %s", l->source);
    /* forwarding matters where there is something to forward to */
    if (h && h->ip_forward == 0 &&
        (l->children->len || l->layer->networks->len))
        g_string_append(t, " · ip_forward off");
    return g_string_free(t, FALSE);
}

/* ------------------------------------------------------------------ */
/* pictures                                                            */

static const char *
link_id(VnPic *pic, const VnNestLayer *l, const char *name)
{
    g_autofree char *kind = g_strdup_printf("%s link", l->name);

    return vn_pic_id(pic, kind, name);
}

static const char *
guest_id(VnPic *pic, const VnNestLayer *l, const char *name)
{
    g_autofree char *kind = g_strdup_printf("%s guest", l->name);

    return vn_pic_id(pic, kind, name);
}

/* A guest that is no snapshot of its own, wired to its TAPs (or, with no
 * host view, to its networks' bridges). */
static void
pic_guest(VnPic *pic, const LayerFacts *f, const VnGuest *g)
{
    const VnNestLayer *l = f->l;
    const char *gid = guest_id(pic, l, g->name);
    g_autoptr(GString) t = g_string_new(NULL);
    GPtrArray *taps = g_hash_table_lookup(f->taps_of, g);

    vn_pic_guest_text(t, l->index, g, 0);
    vn_pic_node(pic, gid, VN_PIC_GUEST, t->str);
    for (guint j = 0; taps && j < taps->len; j++)
        vn_pic_edge(pic, link_id(pic, l, ((VnLink *)taps->pdata[j])->name),
                    gid, NULL, FALSE);
    for (guint j = 0; !f->host && j < g->ifaces->len; j++) {
        const VnNetwork *n = vn_layer_index_iface_network(l->index,
                                                          g->ifaces->pdata[j]);

        if (n && n->bridge)
            vn_pic_edge(pic, link_id(pic, l, n->bridge), gid, NULL, FALSE);
    }
}

/* A layer without a host view: its networks, as libvirt describes them. */
static void
pic_networks(VnPic *pic, const VnNestLayer *l)
{
    for (guint i = 0; i < l->layer->networks->len; i++) {
        const VnNetwork *n = l->layer->networks->pdata[i];
        g_autoptr(GString) t = g_string_new(NULL);

        if (!n->bridge)
            continue;
        vn_pic_network_text(t, n, NULL, NULL);
        vn_pic_node(pic, link_id(pic, l, n->bridge), VN_PIC_BRIDGE, t->str);
    }
}

/* The firewall on a bridge in one line, however many rules there are:
 * "fw: 2 virt-nest accepts, 1 NAT exemption · libvirt REJECT ×2"; the
 * rules themselves are in the text view. */
static void
fw_badge(GString *t, const LayerFacts *f, const VnLink *bridge,
         GPtrArray *ex)
{
    guint accepts = 0, nats = 0;
    guint rej = GPOINTER_TO_UINT(g_hash_table_lookup(f->rejects,
                                                     bridge->name));
    guint other = GPOINTER_TO_UINT(g_hash_table_lookup(f->other_drops,
                                                       bridge->name));
    const char *sep = "";

    for (guint i = 0; i < ex->len; i++) {
        /* "nat 192.168.124.0/24>... (nat POSTROUTING)" */
        if (g_str_has_prefix(ex->pdata[i], "nat "))
            nats++;
        else
            accepts++;
    }
    if (!accepts && !nats && !rej && !other)
        return;
    g_string_append(t, "\nfw: ");
    if (accepts || nats) {
        g_string_append_printf(t, "virt-nest %u accept%s", accepts,
                               accepts == 1 ? "" : "s");
        if (nats)
            g_string_append_printf(t, ", %u NAT exemption%s", nats,
                                   nats == 1 ? "" : "s");
        sep = " · ";
    }
    if (rej) {
        g_string_append_printf(t, "%slibvirt REJECT ×%u", sep, rej);
        sep = " · ";
    }
    if (other)
        g_string_append_printf(t, "%sother REJECT/DROP ×%u", sep, other);
}

/* The text of a bridge, a TAP or another link of a layer's host. */
static void
link_text(GString *t, const LayerFacts *f, const VnLink *link, Show s)
{
    const VnNestLayer *l = f->l;
    const VnNetwork *net = s == SHOW_BRIDGE ?
        vn_layer_index_network_by_bridge(l->index, link->name) : NULL;
    GPtrArray *ex = net ? exceptions(f, net) : f->none;
    char b[VN_CIDR_STRLEN];

    if (net) {
        vn_pic_network_text(t, net, f->host, link);
        fw_badge(t, f, link, ex);
    } else if (s == SHOW_BRIDGE) {
        g_string_append(t, link->name);
        vn_view_link_addresses(t, f->host, link, "\n");
        fw_badge(t, f, link, f->none);
    } else if (s == SHOW_TAP) {
        vn_pic_tap_text(t, link->name, link->mac);
    } else {
        g_string_append(t, link->name);
        if (l->uplink && l->uplink->ifindex == link->ifindex)
            g_string_append(t, " (uplink)");
        g_string_append_printf(t, "\n%s", link->mac);
        vn_view_link_addresses(t, f->host, link, "\n");
    }
    if (link->mtu && link->mtu != 1500)
        g_string_append_printf(t, "\nMTU %u", link->mtu);
    if (f->dr4 && f->dr4->oif == link->ifindex)
        g_string_append_printf(t, "\ndefault via %s",
                               vn_cidr_is_empty(&f->dr4->gateway) ? "?" :
                               vn_cidr_format(&f->dr4->gateway, FALSE, b));
}

/* A link the nest's traffic takes: a bridge, a TAP, the uplink, the way
 * out, a link a route to another layer leaves by. */
static gboolean
related(const LayerFacts *f, const VnLink *link, Show s)
{
    return s == SHOW_BRIDGE || s == SHOW_TAP ||
           (f->l->uplink && f->l->uplink->ifindex == link->ifindex) ||
           (f->dr4 && f->dr4->oif == link->ifindex) ||
           g_hash_table_contains(f->route_devs, GINT_TO_POINTER(link->ifindex));
}

static void
pic_links(VnPic *pic, const LayerFacts *f, const VnGraphOptions *o)
{
    static const VnPicShape shapes[] = {
        [SHOW_LINK] = VN_PIC_LINK, [SHOW_BRIDGE] = VN_PIC_BRIDGE,
        [SHOW_TAP] = VN_PIC_TAP,
    };
    const VnNestLayer *l = f->l;

    for (guint i = 0; f->host && i < f->host->links->len; i++) {
        const VnLink *link = f->host->links->pdata[i];
        Show s = show(l, link);
        g_autoptr(GString) t = g_string_new(NULL);
        const VnLink *br;

        if (s == SHOW_NOT)
            continue;
        /* a link the doctor's packet takes is related, whatever it is */
        if (!related(f, link, s) &&
            !g_hash_table_contains(pic->marks, link_id(pic, l, link->name))) {
            if (!o->all_links)
                continue;
            vn_pic_mark(pic, link_id(pic, l, link->name), VN_PIC_DIM, NULL);
        }
        link_text(t, f, link, s);
        vn_pic_node(pic, link_id(pic, l, link->name), shapes[s], t->str);
        if (s == SHOW_TAP && (br = vn_layer_index_link(l->index, link->master)))
            vn_pic_edge(pic, link_id(pic, l, br->name),
                        link_id(pic, l, link->name), NULL, FALSE);
    }
}

/* NAT boundaries: a NAT network's bridge to the way out. */
static void
pic_nat(VnPic *pic, const LayerFacts *f)
{
    const VnNestLayer *l = f->l;
    const VnLink *out = f->dr4 ? vn_layer_index_link(l->index, f->dr4->oif)
                               : NULL;
    char b[VN_CIDR_STRLEN];

    if (!out || show(l, out) == SHOW_NOT)
        return;
    for (guint i = 0; i < l->layer->networks->len; i++) {
        const VnNetwork *n = l->layer->networks->pdata[i];
        const VnLink *br = vn_layer_index_link_by_name(l->index, n->bridge);
        g_autoptr(GString) label = g_string_new("NAT");

        if (!br || g_strcmp0(n->forward_mode, "nat") != 0)
            continue;
        for (guint j = 0; j < n->ips->len; j++) {
            const VnNetIp *ip = n->ips->pdata[j];

            if (ip->subnet.family == AF_INET &&
                g_hash_table_contains(f->masqueraded, &ip->subnet))
                g_string_append_printf(label, ": %s masqueraded",
                                       vn_cidr_format(&ip->subnet, TRUE, b));
        }
        /* the way out above the bridge: the wire into the layer
         * comes from above */
        vn_pic_edge_up(pic, link_id(pic, l, br->name),
                       link_id(pic, l, out->name), label->str);
    }
}

/* The world beyond an outermost layer's way out: the LAN, the internet,
 * from the layer's default route, above the layer. */
static void
pic_outside(VnPic *pic, const VnNestLayer *l)
{
    const VnHostRoute *dr = default_route(l->layer->host, AF_INET);
    const VnLink *out = dr ? vn_layer_index_link(l->index, dr->oif) : NULL;
    g_autofree char *text = NULL;
    const char *id;
    char b[VN_CIDR_STRLEN];

    if (!out || show(l, out) == SHOW_NOT)
        return;
    id = vn_pic_id(pic, "outside", l->name);
    text = g_strdup_printf("outside (default via %s on %s)\nthe LAN, the "
                           "internet",
                           vn_cidr_is_empty(&dr->gateway) ? "?" :
                           vn_cidr_format(&dr->gateway, FALSE, b), out->name);
    vn_pic_node(pic, id, VN_PIC_OUTSIDE, text);
}

/* The wire from the outside world down to the way out. */
static void
pic_outside_wire(VnPic *pic, const VnNestLayer *l)
{
    const VnHostRoute *dr = default_route(l->layer->host, AF_INET);
    const VnLink *out = dr ? vn_layer_index_link(l->index, dr->oif) : NULL;

    if (out && show(l, out) != SHOW_NOT)
        vn_pic_edge(pic, vn_pic_id(pic, "outside", l->name),
                    link_id(pic, l, out->name), NULL, FALSE);
}

/* What @l itself holds: its links, NAT boundaries, guests. */
static void
pic_layer_own(VnPic *pic, const VnNest *nest, const VnNestLayer *l,
              const VnGraphOptions *o)
{
    g_autoptr(LayerFacts) f = facts_new(l);
    const VnLayer *layer = l->layer;

    facts_routes(f, nest);
    pic_links(pic, f, o);
    if (f->host)
        pic_nat(pic, f);
    else
        pic_networks(pic, l);
    for (guint i = 0; i < layer->guests->len; i++)
        if (!g_hash_table_contains(f->stitched, layer->guests->pdata[i]))
            pic_guest(pic, f, layer->guests->pdata[i]);
}

/* A layer as a box, and inside it, below its own nodes, the box of each
 * layer it holds. */
static void
pic_layer(VnPic *pic, const VnNest *nest, const VnNestLayer *l,
          const VnGraphOptions *o)
{
    g_autofree char *title = layer_title(l);

    vn_pic_cluster_begin(pic, vn_pic_id(pic, "layer", l->name), title);
    pic_layer_own(pic, nest, l, o);
    for (guint i = 0; i < l->children->len; i++)
        pic_layer(pic, nest, l->children->pdata[i], o);
    vn_pic_cluster_end(pic);
}

/* The wire from each TAP to the layer inside. */
static void
pic_wires(VnPic *pic, const VnNest *nest)
{
    for (guint i = 0; i < nest->layers->len; i++) {
        const VnNestLayer *l = nest->layers->pdata[i];
        g_autofree char *label = NULL;
        const char *from;

        if (!l->parent)
            continue;
        from = l->tap ? link_id(pic, l->parent, l->tap->name)
                      : vn_pic_id(pic, "layer", l->parent->name);
        label = g_strdup_printf("guest %s · %s%s",
                                l->guest ? l->guest->name : "?",
                                l->uplink->mac,
                                l->tap && l->tap->mtu != l->uplink->mtu ?
                                " · MTU MISMATCH" : "");
        vn_pic_edge(pic, from, link_id(pic, l, l->uplink->name), label, FALSE);
    }
}

/* The routes that lead to another layer. */
static void
pic_routes(VnPic *pic, const VnNest *nest)
{
    char b[VN_CIDR_STRLEN], c[VN_CIDR_STRLEN];

    for (guint i = 0; i < nest->layers->len; i++) {
        const VnNestLayer *l = nest->layers->pdata[i];
        const VnHost *h = l->layer->host;

        for (guint j = 0; h && j < h->routes->len; j++) {
            const VnHostRoute *r = h->routes->pdata[j];
            const VnLink *dev = vn_layer_index_link(l->index, r->oif);
            const VnLink *to = NULL;
            const VnNestLayer *o;
            g_autofree char *label = NULL;

            if (!cross_route(r) || !dev ||
                !(o = vn_nest_find_address(nest, &r->gateway, &to)) ||
                o == l || !to)
                continue;
            label = g_strdup_printf("%s route %s via %s%s", l->name,
                                    vn_cidr_format(&r->dst, TRUE, b),
                                    vn_cidr_format(&r->gateway, FALSE, c),
                                    r->protocol == VN_RTPROT ?
                                    " (virt-nest)" : "");
            vn_pic_edge(pic, link_id(pic, l, dev->name),
                        link_id(pic, o, to->name), label, TRUE);
        }
    }
}

/* ------------------------------------------------------------------ */
/* the doctor's walk on the picture                                    */

static gboolean
way_fails(const VnWalk *w)
{
    return w->result == VN_WALK_DIES || w->result == VN_WALK_TOO_COMPLEX;
}

/* The way in bold, where it dies in red with the fix as its tooltip. */
static void
doctor_marks(VnPic *pic, const VnDoctor *doc)
{
    const VnWalk *ways[] = { &doc->there, &doc->back };

    for (guint i = 0; i < G_N_ELEMENTS(ways); i++) {
        const char *prev = NULL;

        for (guint j = 0; ways[i]->path && j < ways[i]->path->len; j++) {
            const VnWalkPoint *p = &g_array_index(ways[i]->path, VnWalkPoint,
                                                  j);
            const char *id = link_id(pic, p->layer, p->link->name);

            vn_pic_mark(pic, id, VN_PIC_PATH, NULL);
            if (prev)
                vn_pic_bold_edge(pic, prev, id);
            prev = id;
        }
    }
    for (guint i = 0; i < G_N_ELEMENTS(ways); i++) {
        const VnWalk *w = ways[i];
        g_autofree char *tip = NULL;

        if (!way_fails(w) || !w->death_layer || !w->death_link)
            continue;
        tip = g_strdup_printf("%s\nfix: %s", w->death,
                              w->fix ? w->fix : "see virt-nest doctor");
        vn_pic_mark(pic, link_id(pic, w->death_layer, w->death_link->name),
                    VN_PIC_DEAD, tip);
        break;
    }
}

/* @text in lines of about @width columns, after @t. */
static void
wrap(GString *t, const char *text, guint width)
{
    g_auto(GStrv) words = g_strsplit(text, " ", -1);
    guint col = 0;

    for (guint i = 0; words[i]; i++) {
        guint n = g_utf8_strlen(words[i], -1);

        if (col && col + 1 + n > width) {
            g_string_append_c(t, '\n');
            col = 0;
        } else if (col) {
            g_string_append_c(t, ' ');
            col++;
        }
        g_string_append(t, words[i]);
        col += n;
    }
}

/* The legend's columns: wide enough that the doctor's longest verdict
 * and fix fit VN_PIC_MAX_LINES lines. */
#define LEGEND_WIDTH 84

/* The doctor's verdict, as a legend above the picture. */
static void
doctor_legend(VnPic *pic, const VnDoctor *doc, const VnDoctorQuery *q)
{
    const VnWalk *bad = way_fails(&doc->there) ? &doc->there :
                        way_fails(&doc->back) ? &doc->back : NULL;
    g_autoptr(GString) t = g_string_new(NULL);
    g_autofree char *line = NULL;
    const char *id = vn_pic_id(pic, "legend", "doctor");
    char a[VN_CIDR_STRLEN], b[VN_CIDR_STRLEN];

    g_autoptr(GString) head = g_string_new(NULL);

    g_string_append_printf(head, "doctor %s -> %s ",
                           vn_cidr_format(&q->from, FALSE, a),
                           vn_cidr_format(&q->to, FALSE, b));
    if (bad) {
        g_autofree char *fix = g_strdup_printf("fix: %s", bad->fix ? bad->fix :
                                               "see virt-nest doctor");

        g_string_append_printf(head, "%s%s %s%s%s (red; the way in bold)",
                               bad == &doc->back ? "the reply " : "",
                               bad->result == VN_WALK_DIES ? "dies at" :
                               "undecided at",
                               bad->death_layer ? bad->death_layer->name : "?",
                               bad->death_link ? " " : "",
                               bad->death_link ? bad->death_link->name : "");
        wrap(t, head->str, LEGEND_WIDTH);
        g_string_append_c(t, '\n');
        wrap(t, bad->death, LEGEND_WIDTH);
        g_string_append_c(t, '\n');
        wrap(t, fix, LEGEND_WIDTH);
        line = g_strdup_printf("%s\n%s", bad->death, fix);
    } else if (doc->reachable) {
        g_string_append(head, "reachable there and back (the way in bold)");
        wrap(t, head->str, LEGEND_WIDTH);
    } else {
        const VnWalk *w = doc->there.result == VN_WALK_LEAVES ? &doc->there
                                                              : &doc->back;

        g_string_append_printf(head, "leaves the snapshots (the way in "
                               "bold) at %s", w->left ? w->left : "?");
        wrap(t, head->str, LEGEND_WIDTH);
    }
    vn_pic_mark(pic, id, VN_PIC_PLAIN, line ? line : t->str);
    vn_pic_node(pic, id, VN_PIC_NOTE, t->str);
}

static char *
picture(const VnNest *nest, gboolean dot, const VnGraphOptions *opts)
{
    static const VnGraphOptions defaults = { 0 };
    const VnGraphOptions *o = opts ? opts : &defaults;
    VnPic *pic = vn_pic_new(dot);

    if (o->doctor) {
        doctor_marks(pic, o->doctor);
        doctor_legend(pic, o->doctor, o->query);
    }
    /* the outside world first: the way in comes from above */
    for (guint i = 0; i < nest->layers->len; i++) {
        const VnNestLayer *l = nest->layers->pdata[i];

        if (!l->parent && l->layer->host)
            pic_outside(pic, l);
    }
    /* layer in layer: each outermost one holds the rest */
    for (guint i = 0; i < nest->layers->len; i++)
        if (!((VnNestLayer *)nest->layers->pdata[i])->parent)
            pic_layer(pic, nest, nest->layers->pdata[i], o);
    for (guint i = 0; i < nest->layers->len; i++) {
        const VnNestLayer *l = nest->layers->pdata[i];

        if (!l->parent && l->layer->host)
            pic_outside_wire(pic, l);
    }
    pic_wires(pic, nest);
    pic_routes(pic, nest);
    return vn_pic_finish(pic);
}

char *
vn_graph_mermaid(const VnNest *nest, const VnGraphOptions *opts)
{
    return picture(nest, FALSE, opts);
}

char *
vn_graph_dot(const VnNest *nest, const VnGraphOptions *opts)
{
    return picture(nest, TRUE, opts);
}

/* ------------------------------------------------------------------ */
/* text                                                                */

/* Appends @line, its names made safe for a terminal, and a newline. */
static void
put_line(GString *o, const char *line)
{
    vn_escape_text_append(o, line);
    g_string_append_c(o, '\n');
}

static void
text_uplink(GString *o, const char *pad, const VnNestLayer *l)
{
    g_autofree char *line = NULL;

    if (!l->parent)
        return;
    line = g_strdup_printf("%s  guest %s on %s: %s %s = %s %s on %s", pad,
                           l->guest ? l->guest->name : "?", l->parent->name,
                           l->uplink->name, l->uplink->mac,
                           l->tap ? l->tap->name : "(TAP not seen)",
                           l->tap ? l->tap->mac : "",
                           l->bridge ? l->bridge->name : "?");
    put_line(o, line);
}

/* What a link leads to: its network, its guest, the default route. */
static void
text_link_notes(GString *t, const LayerFacts *f, const VnLink *link, Show s)
{
    const VnNestLayer *l = f->l, *ch;
    const VnNetwork *n;
    const VnIface *iface = NULL;
    const VnGuest *g;
    char b[VN_CIDR_STRLEN];

    if (s == SHOW_BRIDGE &&
        (n = vn_layer_index_network_by_bridge(l->index, link->name)))
        g_string_append_printf(t, "  network %s (%s)", n->name,
                               n->forward_mode);
    if (s == SHOW_TAP && (ch = vn_nest_layer_child_on_tap(l, link)))
        g_string_append_printf(t, "  -> %s, guest %s", ch->name,
                               ch->guest ? ch->guest->name : "?");
    else if (s == SHOW_TAP &&
             (g = vn_layer_index_guest_on_tap(l->index, link, &iface)))
        g_string_append_printf(t, "  -> guest %s %s (no snapshot)", g->name,
                               iface->mac);
    if (l->uplink && l->uplink->ifindex == link->ifindex)
        g_string_append(t, "  uplink");
    if (link->mtu && link->mtu != 1500)
        g_string_append_printf(t, "  MTU %u", link->mtu);
    if (f->dr4 && f->dr4->oif == link->ifindex &&
        !vn_cidr_is_empty(&f->dr4->gateway))
        g_string_append_printf(t, "  default via %s",
                               vn_cidr_format(&f->dr4->gateway, FALSE, b));
}

static void
text_links(GString *o, const char *pad, const LayerFacts *f)
{
    for (guint j = 0; f->host && j < f->host->links->len; j++) {
        const VnLink *link = f->host->links->pdata[j];
        Show s = show(f->l, link);
        g_autoptr(GString) t = NULL;

        if (s == SHOW_NOT)
            continue;
        t = g_string_new(NULL);
        g_string_append_printf(t, "%s  %s%-8s %-17s", pad,
                               s == SHOW_TAP ? "  " : "", link->name,
                               link->mac);
        vn_view_link_addresses(t, f->host, link, " ");
        text_link_notes(t, f, link, s);
        put_line(o, t->str);
    }
}

/* A layer without a host view: its networks and guests, as libvirt has
 * them. */
static void
text_libvirt(GString *o, const char *pad, const VnNestLayer *l)
{
    char b[VN_CIDR_STRLEN];

    for (guint j = 0; j < l->layer->networks->len; j++) {
        const VnNetwork *n = l->layer->networks->pdata[j];
        g_autoptr(GString) t = g_string_new(NULL);

        g_string_append_printf(t, "%s  %-8s network %s (%s)", pad,
                               n->bridge ? n->bridge : "-", n->name,
                               n->forward_mode);
        for (guint k = 0; k < n->ips->len; k++)
            g_string_append_printf(t, " %s", vn_cidr_format(
                &((VnNetIp *)n->ips->pdata[k])->address, TRUE, b));
        put_line(o, t->str);
    }
    for (guint j = 0; j < l->layer->guests->len; j++) {
        const VnGuest *g = l->layer->guests->pdata[j];

        for (guint k = 0; k < g->ifaces->len; k++) {
            const VnIface *f = g->ifaces->pdata[k];
            const VnNetwork *n = vn_layer_index_iface_network(l->index, f);
            g_autoptr(GString) t = g_string_new(NULL);
            VnGuestAddr ga;

            g_string_append_printf(t, "%s    guest %s %s on %s", pad, g->name,
                                   f->mac ? f->mac : "?",
                                   n ? n->name : f->bridge ? f->bridge : "?");
            if (vn_layer_index_iface_address(l->index, g, f, 0, AF_INET, &ga))
                g_string_append_printf(t, " %s (%s)",
                                       vn_cidr_format(&ga.address, FALSE, b),
                                       vn_source_to_string(ga.source));
            put_line(o, t->str);
        }
    }
    g_string_append_printf(o, "%s  (no host view: take the snapshot with "
                           "--host to see links, routes and firewall)\n", pad);
}

static void
text_routes(GString *o, const char *pad, const VnNest *nest,
            const VnNestLayer *l)
{
    const VnHost *h = l->layer->host;
    char b[VN_CIDR_STRLEN], c[VN_CIDR_STRLEN];

    for (guint j = 0; h && j < h->routes->len; j++) {
        const VnHostRoute *r = h->routes->pdata[j];
        const VnLink *dev = vn_layer_index_link(l->index, r->oif);
        const VnNestLayer *ow;
        g_autofree char *line = NULL;

        if (!cross_route(r))
            continue;
        ow = vn_nest_find_address(nest, &r->gateway, NULL);
        line = g_strdup_printf("%s  route %s via %s dev %s%s%s%s", pad,
                               vn_cidr_format(&r->dst, TRUE, b),
                               vn_cidr_format(&r->gateway, FALSE, c),
                               dev ? dev->name : "?",
                               r->protocol == VN_RTPROT ? " (virt-nest)" : "",
                               ow ? " -> " : "", ow ? ow->name : "");
        put_line(o, line);
    }
}

static void
text_exceptions(GString *o, const char *pad, const LayerFacts *f)
{
    for (guint j = 0; f->host && j < f->l->layer->networks->len; j++) {
        const VnNetwork *n = f->l->layer->networks->pdata[j];
        GPtrArray *ex = exceptions(f, n);

        for (guint k = 0; k < ex->len; k++) {
            g_autofree char *line = g_strdup_printf("%s  exception %s: %s",
                                                    pad, n->name,
                                                    (char *)ex->pdata[k]);

            put_line(o, line);
        }
    }
}

char *
vn_graph_text(const VnNest *nest)
{
    GString *o = g_string_new(NULL);

    for (guint i = 0; i < nest->layers->len; i++) {
        const VnNestLayer *l = nest->layers->pdata[i];
        g_autoptr(LayerFacts) f = facts_new(l);
        g_autofree char *pad = g_strnfill(l->level * 2, ' ');
        g_autofree char *title = layer_title(l);
        g_autofree char *line = g_strconcat(pad, title, NULL);

        if (i)
            g_string_append_c(o, '\n');
        put_line(o, line);
        text_uplink(o, pad, l);
        text_links(o, pad, f);
        if (!f->host)
            text_libvirt(o, pad, l);
        text_routes(o, pad, nest, l);
        text_exceptions(o, pad, f);
    }
    return g_string_free(o, FALSE);
}

/* ------------------------------------------------------------------ */
/* JSON                                                                */

static void
json_link(VnJsonWriter *j, const char *key, const VnNestLayer *l,
          const VnLink *link)
{
    GPtrArray *addrs;

    if (!link) {
        vn_json_null(j, key);
        return;
    }
    vn_json_begin_object(j, key);
    vn_json_string(j, "name", link->name);
    vn_json_string(j, "mac", link->mac);
    vn_json_int(j, "mtu", link->mtu);
    vn_json_begin_array(j, "addresses");
    addrs = l ? vn_layer_index_addresses(l->index, link->ifindex) : NULL;
    for (guint i = 0; addrs && i < addrs->len; i++) {
        const VnHostAddr *a = addrs->pdata[i];

        if (!vn_cidr_is_link_local(&a->address))
            vn_view_json_cidr(j, NULL, &a->address, TRUE);
    }
    vn_json_end_array(j);
    vn_json_end_object(j);
}

static void
json_routes(VnJsonWriter *j, const VnNest *nest, const VnNestLayer *l)
{
    const VnHost *h = l->layer->host;

    vn_json_begin_array(j, "routes");
    for (guint k = 0; h && k < h->routes->len; k++) {
        const VnHostRoute *r = h->routes->pdata[k];
        const VnLink *dev = vn_layer_index_link(l->index, r->oif);
        const VnNestLayer *ow;

        if (!cross_route(r))
            continue;
        ow = vn_nest_find_address(nest, &r->gateway, NULL);
        vn_json_begin_object(j, NULL);
        vn_view_json_cidr(j, "destination", &r->dst, TRUE);
        vn_view_json_cidr(j, "via", &r->gateway, FALSE);
        vn_json_string(j, "dev", dev ? dev->name : NULL);
        vn_json_bool(j, "virt_nest", r->protocol == VN_RTPROT);
        vn_json_string(j, "to_layer", ow ? ow->name : NULL);
        vn_json_end_object(j);
    }
    vn_json_end_array(j);
}

static void
json_exceptions(VnJsonWriter *j, const LayerFacts *f)
{
    vn_json_begin_array(j, "exceptions");
    for (guint k = 0; f->host && k < f->l->layer->networks->len; k++) {
        const VnNetwork *n = f->l->layer->networks->pdata[k];
        GPtrArray *ex = exceptions(f, n);

        for (guint m = 0; m < ex->len; m++) {
            vn_json_begin_object(j, NULL);
            vn_json_string(j, "network", n->name);
            vn_json_string(j, "rule", ex->pdata[m]);
            vn_json_end_object(j);
        }
    }
    vn_json_end_array(j);
}

static void
json_layer(VnJsonWriter *j, const VnNest *nest, const VnNestLayer *l)
{
    g_autoptr(LayerFacts) f = facts_new(l);
    const VnHost *h = l->layer->host;

    vn_json_begin_object(j, NULL);
    vn_json_string(j, "name", l->name);
    vn_json_string(j, "source", l->source);
    vn_json_string(j, "hostname", h ? h->hostname : NULL);
    vn_json_int(j, "level", l->level);
    vn_json_string(j, "parent", l->parent ? l->parent->name : NULL);
    vn_json_string(j, "guest", l->guest ? l->guest->name : NULL);
    json_link(j, "uplink", l, l->uplink);
    json_link(j, "tap", l->parent, l->tap);
    vn_json_string(j, "bridge", l->bridge ? l->bridge->name : NULL);
    vn_view_json_sysctl(j, "ip_forward", h ? h->ip_forward : -1);
    json_routes(j, nest, l);
    json_exceptions(j, f);
    vn_json_end_object(j);
}

char *
vn_graph_json(const VnNest *nest)
{
    g_autoptr(VnJsonWriter) j = vn_json_writer_new();

    vn_json_begin_object(j, NULL);
    vn_json_string(j, "format", "virt-nest-graph");
    vn_json_int(j, "version", VN_GRAPH_JSON_VERSION);
    vn_json_begin_array(j, "layers");
    for (guint i = 0; i < nest->layers->len; i++)
        json_layer(j, nest, nest->layers->pdata[i]);
    vn_json_end_array(j);
    vn_json_end_object(j);
    return vn_json_writer_finish(j);
}
