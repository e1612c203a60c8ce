/* nestview.c: the whole nest as one picture.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include <string.h>
#include <linux/rtnetlink.h>

#include "fwmodel.h"
#include "nestview.h"
#include "json.h"
#include "picture.h"
#include "layerplan.h"


/* ------------------------------------------------------------------ */
/* what each layer shows                                               */

typedef enum {
    SHOW_NOT,
    SHOW_LINK,      /* an uplink or a link with an address */
    SHOW_BRIDGE,
    SHOW_TAP,       /* a port of a bridge that leads to a guest */
} Show;

static gboolean
has_global_address(const VnHost *h, const VnLink *link)
{
    for (guint i = 0; i < h->addrs->len; i++) {
        const VnHostAddr *a = h->addrs->pdata[i];

        if (a->ifindex == link->ifindex && !vn_cidr_is_link_local(&a->address))
            return TRUE;
    }
    return FALSE;
}

/* The guest (and interface) on @l whose TAP is @link, by MAC. */
static const VnGuest *
guest_of_tap(const VnLayer *layer, const VnLink *link, const VnIface **iface)
{
    for (guint i = 0; i < layer->guests->len; i++) {
        const VnGuest *g = layer->guests->pdata[i];

        for (guint j = 0; j < g->ifaces->len; j++) {
            const VnIface *f = g->ifaces->pdata[j];
            g_autofree char *tap = vn_mac_tap(f->mac);

            if ((tap && !g_strcmp0(tap, link->mac)) ||
                (f->target && !g_strcmp0(f->target, link->name))) {
                if (iface)
                    *iface = f;
                return g;
            }
        }
    }
    return NULL;
}

static const VnNestLayer *
child_on_tap(const VnNestLayer *l, const VnLink *link)
{
    for (guint i = 0; i < l->children->len; i++) {
        const VnNestLayer *c = l->children->pdata[i];

        if (c->tap && c->tap->ifindex == link->ifindex)
            return c;
    }
    return NULL;
}

static Show
show(const VnNestLayer *l, const VnLink *link)
{
    const VnHost *h = l->layer->host;

    if (!g_strcmp0(link->name, "lo"))
        return SHOW_NOT;
    if (!g_strcmp0(link->kind, "bridge"))
        return SHOW_BRIDGE;
    if (link->master)
        return child_on_tap(l, link) || guest_of_tap(l->layer, link, NULL)
               ? SHOW_TAP : SHOW_NOT;
    if (l->uplink && l->uplink->ifindex == link->ifindex)
        return SHOW_LINK;
    return has_global_address(h, link) ? SHOW_LINK : SHOW_NOT;
}

static const VnHostRoute *
default_route(const VnHost *h, int family)
{
    const VnHostRoute *best = NULL;

    for (guint i = 0; i < h->routes->len; i++) {
        const VnHostRoute *r = h->routes->pdata[i];

        if (r->dst.family == family && r->dst.prefix == 0 &&
            r->type == RTN_UNICAST && (!best || r->priority < best->priority))
            best = r;
    }
    return best;
}

/* The layer (and its link) that has @a. */
static const VnNestLayer *
owner(const VnNest *nest, const VnCidr *a, const VnLink **link)
{
    VnCidr h = *a;

    h.prefix = vn_cidr_max_prefix(a->family);
    return vn_nest_find_address(nest, &h, link);
}

/* Does a MASQUERADE rule cover @subnet's way out? */
static gboolean
masquerades(const VnHost *h, const VnCidr *subnet)
{
    for (guint i = 0; h->firewall && i < h->firewall->len; i++) {
        const VnFwChain *c = h->firewall->pdata[i];

        for (guint j = 0; j < c->rules->len; j++) {
            const VnFwRule *r = c->rules->pdata[j];

            if ((r->verdict == VN_FW_MASQUERADE || r->verdict == VN_FW_SNAT) &&
                !r->src_neg && vn_cidr_equal(&r->src, subnet))
                return TRUE;
        }
    }
    return FALSE;
}

/* virt-nest's rules for @network on @h: their comments, without the
 * "virt-nest NETWORK " prefix. */
static GPtrArray *
exceptions(const VnHost *h, const char *network)
{
    GPtrArray *out = g_ptr_array_new_with_free_func(g_free);
    g_autofree char *prefix = vn_rule_comment_prefix(network);

    for (guint i = 0; h->firewall && i < h->firewall->len; i++) {
        const VnFwChain *c = h->firewall->pdata[i];

        for (guint j = 0; j < c->rules->len; j++) {
            const VnFwRule *r = c->rules->pdata[j];

            if (r->comment && g_str_has_prefix(r->comment, prefix))
                g_ptr_array_add(out, g_strdup_printf("%s (%s %s)",
                                                     r->comment + strlen(prefix),
                                                     c->table, c->name));
        }
    }
    return out;
}

static char *
id_of(const VnNestLayer *l, const char *kind, const char *name)
{
    g_autofree char *k = g_strdup_printf("%s_%s", l->name, kind);

    return vn_pic_id(k, name);
}

static void
addresses(GString *t, const VnHost *h, const VnLink *link, const char *sep)
{
    char b[VN_CIDR_STRLEN];

    for (guint i = 0; i < h->addrs->len; i++) {
        const VnHostAddr *a = h->addrs->pdata[i];

        if (a->ifindex == link->ifindex && !vn_cidr_is_link_local(&a->address))
            g_string_append_printf(t, "%s%s", sep,
                                   vn_cidr_format(&a->address, TRUE, b));
    }
}

/* A route that leads to another layer: virt-nest's, or one added by hand
 * (anything but the kernel's connected routes and the default route). */
static gboolean
cross_route(const VnHostRoute *r)
{
    return r->type == RTN_UNICAST && r->dst.prefix > 0 &&
           !vn_cidr_is_empty(&r->gateway) && r->protocol != RTPROT_KERNEL;
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

static void
pic_guests(VnPic *pic, const VnNestLayer *l)
{
    const VnLayer *layer = l->layer;

    /* guests that are no snapshot of their own */
    for (guint i = 0; i < layer->guests->len; i++) {
        const VnGuest *g = layer->guests->pdata[i];
        gboolean stitched = FALSE;
        g_autofree char *gid = id_of(l, "guest", g->name);
        g_autoptr(GString) t = g_string_new(NULL);

        for (guint j = 0; j < l->children->len; j++)
            stitched |= ((VnNestLayer *)l->children->pdata[j])->guest == g;
        if (stitched)
            continue;
        g_string_append_printf(t, "guest %s\n%s", g->name, g->state);
        for (guint j = 0; j < g->ifaces->len; j++) {
            const VnIface *f = g->ifaces->pdata[j];
            const VnNetwork *net = f->network ?
                vn_layer_find_network(layer, f->network) : NULL;
            VnGuestAddr ga;
            char b[VN_CIDR_STRLEN];

            g_string_append_printf(t, "\n%s", f->mac ? f->mac : "?");
            if (vn_guest_iface_address(g, f, net, layer->leases, 0, AF_INET, &ga))
                g_string_append_printf(t, " %s (%s)",
                                       vn_cidr_format(&ga.address, FALSE, b),
                                       vn_source_to_string(ga.source));
        }
        vn_pic_node(pic, gid, VN_PIC_GUEST, t->str);
        for (guint j = 0; layer->host && j < layer->host->links->len; j++) {
            const VnLink *link = layer->host->links->pdata[j];
            g_autofree char *tid = NULL;

            if (!link->master || guest_of_tap(layer, link, NULL) != g)
                continue;
            tid = id_of(l, "link", link->name);
            vn_pic_edge(pic, tid, gid, NULL, FALSE);
        }
        for (guint j = 0; !layer->host && j < g->ifaces->len; j++) {
            const VnIface *f = g->ifaces->pdata[j];
            const VnNetwork *n = f->network ?
                vn_layer_find_network(layer, f->network) : NULL;
            g_autofree char *nid = n && n->bridge ?
                id_of(l, "link", n->bridge) : NULL;

            if (nid)
                vn_pic_edge(pic, nid, gid, NULL, FALSE);
        }
    }
}

/* A layer without a host view: its networks, as libvirt describes them. */
static void
pic_networks(VnPic *pic, const VnNestLayer *l)
{
    char b[VN_CIDR_STRLEN];

    for (guint i = 0; i < l->layer->networks->len; i++) {
        const VnNetwork *n = l->layer->networks->pdata[i];
        g_autofree char *id = NULL;
        g_autoptr(GString) t = NULL;

        if (!n->bridge)
            continue;
        id = id_of(l, "link", n->bridge);
        t = g_string_new(n->bridge);
        g_string_append_printf(t, " · network %s, %s", n->name, n->forward_mode);
        for (guint j = 0; j < n->ips->len; j++)
            g_string_append_printf(t, "\n%s", vn_cidr_format(
                &((VnNetIp *)n->ips->pdata[j])->address, TRUE, b));
        vn_pic_node(pic, id, VN_PIC_BRIDGE, t->str);
    }
}

static void
pic_layer(VnPic *pic, const VnNestLayer *l)
{
    const VnHost *h = l->layer->host;
    g_autofree char *title = layer_title(l);
    g_autofree char *tl = vn_pic_label(pic, title);
    g_autofree char *sid = vn_pic_id("layer", l->name);
    const VnHostRoute *dr4 = h ? default_route(h, AF_INET) : NULL;
    char b[VN_CIDR_STRLEN];

    if (pic->dot)
        g_string_append_printf(pic->out, "  subgraph cluster_%s {\n"
                               "    label=\"%s\";\n", sid, tl);
    else
        g_string_append_printf(pic->out, "  subgraph %s[\"%s\"]\n"
                               "    direction TB\n", sid, tl);
    for (guint i = 0; h && i < h->links->len; i++) {
        const VnLink *link = h->links->pdata[i];
        Show s = show(l, link);
        g_autofree char *id = id_of(l, "link", link->name);
        g_autoptr(GString) t = g_string_new(link->name);
        const VnNetwork *net = NULL;

        if (s == SHOW_NOT)
            continue;
        switch (s) {
        case SHOW_BRIDGE:
            net = vn_layer_find_network_by_bridge(l->layer, link->name);
            if (net)
                g_string_append_printf(t, " · network %s, %s", net->name,
                                       net->forward_mode);
            addresses(t, h, link, "\n");
            if (net) {
                g_autoptr(GPtrArray) ex = exceptions(h, net->name);

                for (guint j = 0; net->nest && j < net->peers->len; j++)
                    g_string_append_printf(t, "\npeer %s",
                        vn_cidr_format(&g_array_index(net->peers, VnCidr, j),
                                       TRUE, b));
                for (guint j = 0; j < ex->len; j++)
                    g_string_append_printf(t, "\nvirt-nest: %s",
                                           (char *)ex->pdata[j]);
            }
            break;
        case SHOW_TAP:
            g_string_append_printf(t, " (TAP)\n%s", link->mac);
            break;
        default:
            if (l->uplink && l->uplink->ifindex == link->ifindex)
                g_string_append(t, " (uplink)");
            g_string_append_printf(t, "\n%s", link->mac);
            addresses(t, h, link, "\n");
            break;
        }
        if (link->mtu && link->mtu != 1500)
            g_string_append_printf(t, "\nMTU %u", link->mtu);
        if (dr4 && dr4->oif == link->ifindex)
            g_string_append_printf(t, "\ndefault via %s",
                                   vn_cidr_is_empty(&dr4->gateway) ? "?" :
                                   vn_cidr_format(&dr4->gateway, FALSE, b));
        vn_pic_node(pic, id, s == SHOW_BRIDGE ? VN_PIC_BRIDGE :
                             s == SHOW_TAP ? VN_PIC_TAP : VN_PIC_LINK, t->str);
        if (link->master && s == SHOW_TAP) {
            const VnLink *br = vn_host_find_link(h, link->master);
            g_autofree char *bid = br ? id_of(l, "link", br->name) : NULL;

            if (bid)
                vn_pic_edge(pic, bid, id, NULL, FALSE);
        }
    }
    /* NAT boundaries: a NAT network's bridge to the way out */
    for (guint i = 0; h && i < l->layer->networks->len; i++) {
        const VnNetwork *n = l->layer->networks->pdata[i];
        const VnLink *br = n->bridge ? vn_host_find_link_by_name(h, n->bridge)
                                     : NULL;
        const VnLink *out = dr4 ? vn_host_find_link(h, dr4->oif) : NULL;
        g_autofree char *bid = NULL, *oid = NULL;
        g_autoptr(GString) label = g_string_new("NAT");

        if (!br || !out || g_strcmp0(n->forward_mode, "nat") != 0 ||
            show(l, out) == SHOW_NOT)
            continue;
        for (guint j = 0; j < n->ips->len; j++) {
            const VnNetIp *ip = n->ips->pdata[j];

            if (ip->subnet.family == AF_INET && masquerades(h, &ip->subnet))
                g_string_append_printf(label, ": %s masqueraded",
                                       vn_cidr_format(&ip->subnet, TRUE, b));
        }
        bid = id_of(l, "link", br->name);
        oid = id_of(l, "link", out->name);
        vn_pic_edge(pic, bid, oid, label->str, TRUE);
    }
    if (!h)
        pic_networks(pic, l);
    pic_guests(pic, l);
    g_string_append(pic->out, pic->dot ? "  }\n" : "  end\n");
}

static void
pic_between(VnPic *pic, const VnNest *nest)
{
    char b[VN_CIDR_STRLEN], c[VN_CIDR_STRLEN];

    for (guint i = 0; i < nest->layers->len; i++) {
        const VnNestLayer *l = nest->layers->pdata[i];
        g_autofree char *uid = NULL, *tid = NULL;
        g_autofree char *label = NULL;

        if (!l->parent)
            continue;
        uid = id_of(l, "link", l->uplink->name);
        if (l->tap)
            tid = id_of(l->parent, "link", l->tap->name);
        else
            tid = vn_pic_id("layer", l->parent->name);
        label = g_strdup_printf("guest %s · %s%s",
                                l->guest ? l->guest->name : "?",
                                l->uplink->mac,
                                l->tap && l->tap->mtu != l->uplink->mtu ?
                                " · MTU MISMATCH" : "");
        vn_pic_edge(pic, tid, uid, label, FALSE);
    }
    /* routes that lead to another layer */
    for (guint i = 0; i < nest->layers->len; i++) {
        const VnNestLayer *l = nest->layers->pdata[i];
        const VnHost *h = l->layer->host;

        for (guint j = 0; h && j < h->routes->len; j++) {
            const VnHostRoute *r = h->routes->pdata[j];
            const VnLink *dev = vn_host_find_link(h, r->oif);
            const VnLink *to = NULL;
            const VnNestLayer *o;
            g_autofree char *fid = NULL, *toid = NULL, *label = NULL;

            if (!cross_route(r) || !dev || !(o = owner(nest, &r->gateway, &to)) ||
                o == l)
                continue;
            fid = id_of(l, "link", dev->name);
            toid = id_of(o, "link", to->name);
            label = g_strdup_printf("%s route %s via %s",
                                    l->name, vn_cidr_format(&r->dst, TRUE, b),
                                    vn_cidr_format(&r->gateway, FALSE, c));
            if (r->protocol == VN_RTPROT) {
                g_autofree char *x = g_strconcat(label, " (virt-nest)", NULL);

                vn_pic_edge(pic, fid, toid, x, TRUE);
            } else {
                vn_pic_edge(pic, fid, toid, label, TRUE);
            }
        }
    }
}

static char *
picture(const VnNest *nest, gboolean dot)
{
    VnPic pic = { g_string_new(NULL), dot };

    if (dot)
        g_string_append(pic.out, "digraph virt_nest {\n"
                        "  rankdir=TB;\n  compound=true;\n"
                        "  node [fontname=\"Helvetica\", fontsize=10];\n"
                        "  edge [fontname=\"Helvetica\", fontsize=9, "
                        "arrowhead=none];\n");
    else
        g_string_append(pic.out, "flowchart TB\n");
    for (guint i = 0; i < nest->layers->len; i++)
        pic_layer(&pic, nest->layers->pdata[i]);
    pic_between(&pic, nest);
    if (dot)
        g_string_append(pic.out, "}\n");
    return g_string_free(pic.out, FALSE);
}

char *
vn_graph_mermaid(const VnNest *nest)
{
    return picture(nest, FALSE);
}

char *
vn_graph_dot(const VnNest *nest)
{
    return picture(nest, TRUE);
}

/* ------------------------------------------------------------------ */
/* text                                                                */

char *
vn_graph_text(const VnNest *nest)
{
    GString *o = g_string_new(NULL);
    char b[VN_CIDR_STRLEN], c[VN_CIDR_STRLEN];

    for (guint i = 0; i < nest->layers->len; i++) {
        const VnNestLayer *l = nest->layers->pdata[i];
        const VnHost *h = l->layer->host;
        g_autofree char *pad = g_strnfill(l->level * 2, ' ');
        g_autofree char *title = layer_title(l);
        const VnHostRoute *dr4 = h ? default_route(h, AF_INET) : NULL;

        if (i)
            g_string_append_c(o, '\n');
        g_string_append_printf(o, "%s%s\n", pad, title);
        if (l->parent)
            g_string_append_printf(o, "%s  guest %s on %s: %s %s = %s %s "
                                   "on %s\n", pad,
                                   l->guest ? l->guest->name : "?",
                                   l->parent->name, l->uplink->name,
                                   l->uplink->mac,
                                   l->tap ? l->tap->name : "(TAP not seen)",
                                   l->tap ? l->tap->mac : "",
                                   l->bridge ? l->bridge->name : "?");
        for (guint j = 0; h && j < h->links->len; j++) {
            const VnLink *link = h->links->pdata[j];
            Show s = show(l, link);
            g_autoptr(GString) t = g_string_new(NULL);
            const VnNestLayer *ch;
            const VnIface *f = NULL;
            const VnGuest *g;

            if (s == SHOW_NOT)
                continue;
            g_string_append_printf(t, "%s  %s%-8s %-17s", pad,
                                   s == SHOW_TAP ? "  " : "", link->name,
                                   link->mac);
            addresses(t, h, link, " ");
            if (s == SHOW_BRIDGE) {
                const VnNetwork *n = vn_layer_find_network_by_bridge(l->layer,
                                                                     link->name);

                if (n)
                    g_string_append_printf(t, "  network %s (%s)", n->name,
                                           n->forward_mode);
            }
            if (s == SHOW_TAP) {
                if ((ch = child_on_tap(l, link)))
                    g_string_append_printf(t, "  -> %s, guest %s", ch->name,
                                           ch->guest ? ch->guest->name : "?");
                else if ((g = guest_of_tap(l->layer, link, &f)))
                    g_string_append_printf(t, "  -> guest %s %s (no snapshot)",
                                           g->name, f->mac);
            }
            if (l->uplink && l->uplink->ifindex == link->ifindex)
                g_string_append(t, "  uplink");
            if (link->mtu && link->mtu != 1500)
                g_string_append_printf(t, "  MTU %u", link->mtu);
            if (dr4 && dr4->oif == link->ifindex && !vn_cidr_is_empty(&dr4->gateway))
                g_string_append_printf(t, "  default via %s",
                                       vn_cidr_format(&dr4->gateway, FALSE, b));
            g_string_append_printf(o, "%s\n", t->str);
        }
        for (guint j = 0; !h && j < l->layer->networks->len; j++) {
            const VnNetwork *n = l->layer->networks->pdata[j];

            g_string_append_printf(o, "%s  %-8s network %s (%s)", pad,
                                   n->bridge ? n->bridge : "-", n->name,
                                   n->forward_mode);
            for (guint k = 0; k < n->ips->len; k++)
                g_string_append_printf(o, " %s", vn_cidr_format(
                    &((VnNetIp *)n->ips->pdata[k])->address, TRUE, b));
            g_string_append_c(o, '\n');
        }
        for (guint j = 0; !h && j < l->layer->guests->len; j++) {
            const VnGuest *g = l->layer->guests->pdata[j];

            for (guint k = 0; k < g->ifaces->len; k++) {
                const VnIface *f = g->ifaces->pdata[k];
                const VnNetwork *n = f->network ?
                    vn_layer_find_network(l->layer, f->network) : NULL;
                VnGuestAddr ga;

                g_string_append_printf(o, "%s    guest %s %s on %s", pad,
                                       g->name, f->mac ? f->mac : "?",
                                       n ? n->name : f->bridge ? f->bridge : "?");
                if (vn_guest_iface_address(g, f, n, l->layer->leases, 0,
                                           AF_INET, &ga))
                    g_string_append_printf(o, " %s (%s)",
                                           vn_cidr_format(&ga.address, FALSE, b),
                                           vn_source_to_string(ga.source));
                g_string_append_c(o, '\n');
            }
        }
        if (!h)
            g_string_append_printf(o, "%s  (no host view: take the snapshot "
                                   "with --host to see links, routes and "
                                   "firewall)\n", pad);
        for (guint j = 0; h && j < h->routes->len; j++) {
            const VnHostRoute *r = h->routes->pdata[j];
            const VnLink *dev = vn_host_find_link(h, r->oif);
            const VnNestLayer *ow;

            if (!cross_route(r))
                continue;
            ow = owner(nest, &r->gateway, NULL);
            g_string_append_printf(o, "%s  route %s via %s dev %s%s%s%s\n", pad,
                                   vn_cidr_format(&r->dst, TRUE, b),
                                   vn_cidr_format(&r->gateway, FALSE, c),
                                   dev ? dev->name : "?",
                                   r->protocol == VN_RTPROT ?
                                   " (virt-nest)" : "",
                                   ow ? " -> " : "", ow ? ow->name : "");
        }
        for (guint j = 0; h && j < l->layer->networks->len; j++) {
            const VnNetwork *n = l->layer->networks->pdata[j];
            g_autoptr(GPtrArray) ex = exceptions(h, n->name);

            for (guint k = 0; k < ex->len; k++)
                g_string_append_printf(o, "%s  exception %s: %s\n", pad,
                                       n->name, (char *)ex->pdata[k]);
        }
    }
    return g_string_free(o, FALSE);
}

/* ------------------------------------------------------------------ */
/* JSON                                                                */

static void
json_link(VnJsonWriter *j, const char *key, const VnHost *h,
          const VnLink *link)
{
    char b[VN_CIDR_STRLEN];

    if (!link) {
        vn_json_null(j, key);
        return;
    }
    vn_json_begin_object(j, key);
    vn_json_string(j, "name", link->name);
    vn_json_string(j, "mac", link->mac);
    vn_json_int(j, "mtu", link->mtu);
    vn_json_begin_array(j, "addresses");
    for (guint i = 0; h && i < h->addrs->len; i++) {
        const VnHostAddr *a = h->addrs->pdata[i];

        if (a->ifindex == link->ifindex && !vn_cidr_is_link_local(&a->address))
            vn_json_string(j, NULL, vn_cidr_format(&a->address, TRUE, b));
    }
    vn_json_end_array(j);
    vn_json_end_object(j);
}

char *
vn_graph_json(const VnNest *nest)
{
    g_autoptr(VnJsonWriter) j = vn_json_writer_new();
    char b[VN_CIDR_STRLEN];

    vn_json_begin_object(j, NULL);
    vn_json_string(j, "format", "virt-nest-graph");
    vn_json_int(j, "version", VN_GRAPH_JSON_VERSION);
    vn_json_begin_array(j, "layers");
    for (guint i = 0; i < nest->layers->len; i++) {
        const VnNestLayer *l = nest->layers->pdata[i];
        const VnHost *h = l->layer->host;

        vn_json_begin_object(j, NULL);
        vn_json_string(j, "name", l->name);
        vn_json_string(j, "source", l->source);
        vn_json_string(j, "hostname", h ? h->hostname : NULL);
        vn_json_int(j, "level", l->level);
        vn_json_string(j, "parent", l->parent ? l->parent->name : NULL);
        vn_json_string(j, "guest", l->guest ? l->guest->name : NULL);
        json_link(j, "uplink", h, l->uplink);
        json_link(j, "tap", l->parent ? l->parent->layer->host : NULL, l->tap);
        vn_json_string(j, "bridge", l->bridge ? l->bridge->name : NULL);
        if (h && h->ip_forward >= 0)
            vn_json_bool(j, "ip_forward", h->ip_forward > 0);
        else
            vn_json_null(j, "ip_forward");
        vn_json_begin_array(j, "routes");
        for (guint k = 0; h && k < h->routes->len; k++) {
            const VnHostRoute *r = h->routes->pdata[k];
            const VnLink *dev = vn_host_find_link(h, r->oif);
            const VnNestLayer *ow;

            if (!cross_route(r))
                continue;
            ow = owner(nest, &r->gateway, NULL);
            vn_json_begin_object(j, NULL);
            vn_json_string(j, "destination", vn_cidr_format(&r->dst, TRUE, b));
            vn_json_string(j, "via", vn_cidr_format(&r->gateway, FALSE, b));
            vn_json_string(j, "dev", dev ? dev->name : NULL);
            vn_json_bool(j, "virt_nest", r->protocol == VN_RTPROT);
            vn_json_string(j, "to_layer", ow ? ow->name : NULL);
            vn_json_end_object(j);
        }
        vn_json_end_array(j);
        vn_json_begin_array(j, "exceptions");
        for (guint k = 0; h && k < l->layer->networks->len; k++) {
            const VnNetwork *n = l->layer->networks->pdata[k];
            g_autoptr(GPtrArray) ex = exceptions(h, n->name);

            for (guint m = 0; m < ex->len; m++) {
                vn_json_begin_object(j, NULL);
                vn_json_string(j, "network", n->name);
                vn_json_string(j, "rule", ex->pdata[m]);
                vn_json_end_object(j);
            }
        }
        vn_json_end_array(j);
        vn_json_end_object(j);
    }
    vn_json_end_array(j);
    vn_json_end_object(j);
    return vn_json_writer_finish(j);
}
