/* stitch.c: the whole nest from one snapshot per layer.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include <string.h>
#include <sys/socket.h>

#include "error.h"
#include "stitch.h"

static void
nest_layer_free(VnNestLayer *l)
{
    if (!l)
        return;
    vn_layer_free(l->layer);
    g_free(l->source);
    g_free(l->name);
    g_ptr_array_unref(l->children);
    g_free(l);
}

void
vn_nest_free(VnNest *nest)
{
    if (!nest)
        return;
    g_ptr_array_unref(nest->layers);
    g_free(nest);
}

static gboolean
mac_is_real(const char *mac)
{
    return mac && *mac && strcmp(mac, "00:00:00:00:00:00") != 0 &&
           strcmp(mac, "ff:ff:ff:ff:ff:ff") != 0;
}

gboolean
vn_host_has_address(const VnHost *host, const VnCidr *a, const VnLink **link)
{
    for (guint i = 0; host && i < host->addrs->len; i++) {
        const VnHostAddr *ha = host->addrs->pdata[i];
        VnCidr h = ha->address;

        h.prefix = a->prefix;
        if (h.family == a->family && vn_cidr_equal(&h, a)) {
            if (link)
                *link = vn_host_find_link(host, ha->ifindex);
            return TRUE;
        }
    }
    return FALSE;
}

gboolean
vn_link_address(const VnHost *host, const VnLink *link, int family,
                VnCidr *out)
{
    for (guint i = 0; host && link && i < host->addrs->len; i++) {
        const VnHostAddr *ha = host->addrs->pdata[i];

        if (ha->ifindex != link->ifindex || ha->address.family != family)
            continue;
        if (vn_cidr_is_link_local(&ha->address))
            continue;
        *out = ha->address;
        return TRUE;
    }
    return FALSE;
}

VnNestLayer *
vn_nest_find_address(const VnNest *nest, const VnCidr *addr,
                     const VnLink **link)
{
    for (guint i = 0; i < nest->layers->len; i++) {
        VnNestLayer *l = nest->layers->pdata[i];

        if (vn_host_has_address(l->layer->host, addr, link))
            return l;
    }
    return NULL;
}

GPtrArray *
vn_nest_children_on(const VnNestLayer *l, const VnLink *link)
{
    GPtrArray *out = g_ptr_array_new();

    for (guint i = 0; link && i < l->children->len; i++) {
        VnNestLayer *c = l->children->pdata[i];

        if ((c->bridge && c->bridge->ifindex == link->ifindex) ||
            (c->tap && c->tap->ifindex == link->ifindex))
            g_ptr_array_add(out, c);
    }
    return out;
}

/* Does the link @link of some layer run in @parent? Fills in how. */
static gboolean
hangs_off(const VnLink *link, VnNestLayer *parent, VnNestLayer *out)
{
    g_autofree char *tapmac = vn_mac_tap(link->mac);
    const VnLayer *p = parent->layer;
    gboolean found = FALSE;

    memset(out, 0, sizeof(*out));
    for (guint i = 0; i < p->guests->len && !found; i++) {
        const VnGuest *g = p->guests->pdata[i];

        for (guint j = 0; j < g->ifaces->len; j++) {
            const VnIface *iface = g->ifaces->pdata[j];

            if (!g_strcmp0(iface->mac, link->mac)) {
                out->guest = g;
                out->guest_iface = iface;
                found = TRUE;
                break;
            }
        }
    }
    for (guint i = 0; p->host && i < p->host->links->len; i++) {
        const VnLink *t = p->host->links->pdata[i];

        if (tapmac && !g_strcmp0(t->mac, tapmac)) {
            out->tap = t;
            out->bridge = t->master ? vn_host_find_link(p->host, t->master)
                                    : NULL;
            found = TRUE;
            break;
        }
    }
    if (found)
        out->uplink = link;
    return found;
}

static const char *
describe_hang(const VnNestLayer *h, const VnNestLayer *parent, GString *s)
{
    g_string_truncate(s, 0);
    if (h->guest)
        g_string_append_printf(s, "guest '%s' on %s", h->guest->name,
                               parent->source);
    else
        g_string_append_printf(s, "TAP %s on %s", h->tap->name, parent->source);
    return s->str;
}

static guint
count_below(const VnNestLayer *l)
{
    guint n = 1;

    for (guint i = 0; i < l->children->len; i++)
        n += count_below(l->children->pdata[i]);
    return n;
}

static void
place(VnNestLayer *l, guint level, GPtrArray *order)
{
    l->level = level;
    g_ptr_array_add(order, l);
    for (guint i = 0; i < l->children->len; i++)
        place(l->children->pdata[i], level + 1, order);
}

static int
cmp_level(gconstpointer a, gconstpointer b)
{
    const VnNestLayer *x = *(VnNestLayer *const *)a;
    const VnNestLayer *y = *(VnNestLayer *const *)b;

    return (int)x->level - (int)y->level;
}

VnNest *
vn_nest_stitch(GPtrArray *layers, GPtrArray *sources, GError **error)
{
    g_autoptr(GPtrArray) all = g_ptr_array_new_with_free_func(
        (GDestroyNotify)nest_layer_free);
    g_autoptr(GString) a = g_string_new(NULL);
    g_autoptr(GString) b = g_string_new(NULL);
    g_autoptr(GPtrArray) roots = g_ptr_array_new();
    g_autoptr(GPtrArray) order = NULL;
    VnNestLayer *root = NULL;
    VnNest *nest;
    guint n = layers->len;

    for (guint i = 0; i < n; i++) {
        VnNestLayer *l = g_new0(VnNestLayer, 1);

        l->layer = layers->pdata[i];
        l->source = g_strdup(sources->pdata[i]);
        l->children = g_ptr_array_new();
        g_ptr_array_add(all, l);
    }
    g_ptr_array_set_free_func(layers, NULL);
    g_ptr_array_set_size(layers, 0);

    if (n > 1) {
        for (guint i = 0; i < n; i++) {
            const VnNestLayer *l = all->pdata[i];

            if (!l->layer->host) {
                g_set_error(error, VN_ERROR, VN_ERROR_INVALID,
                            "snapshot %s has no host view, so it cannot be "
                            "tied to the other layers; take it again with "
                            "'virt-nest status --json --host'", l->source);
                return NULL;
            }
        }
    }
    /* the same layer twice */
    for (guint i = 0; i < n; i++) {
        const VnHost *x = ((VnNestLayer *)all->pdata[i])->layer->host;

        for (guint j = i + 1; x && j < n; j++) {
            const VnHost *y = ((VnNestLayer *)all->pdata[j])->layer->host;

            for (guint k = 0; y && k < x->links->len; k++) {
                const VnLink *lx = x->links->pdata[k];
                const VnLink *ly = vn_host_find_link_by_name(y, lx->name);

                if (ly && mac_is_real(lx->mac) && !g_strcmp0(lx->mac, ly->mac)) {
                    g_set_error(error, VN_ERROR, VN_ERROR_INVALID,
                                "snapshots %s and %s are the same layer (both "
                                "have link %s with MAC %s); give each layer "
                                "once",
                                ((VnNestLayer *)all->pdata[i])->source,
                                ((VnNestLayer *)all->pdata[j])->source,
                                lx->name, lx->mac);
                    return NULL;
                }
            }
        }
    }
    /* who runs in whom */
    for (guint i = 0; i < n; i++) {
        VnNestLayer *c = all->pdata[i];
        const VnHost *h = c->layer->host;

        for (guint k = 0; h && k < h->links->len; k++) {
            const VnLink *link = h->links->pdata[k];

            if (!mac_is_real(link->mac) || !g_strcmp0(link->kind, "bridge"))
                continue;
            for (guint j = 0; j < n; j++) {
                VnNestLayer *p = all->pdata[j];
                VnNestLayer hang;

                if (i == j || !hangs_off(link, p, &hang))
                    continue;
                if (c->parent && c->parent != p) {
                    VnNestLayer first = *c;

                    g_set_error(error, VN_ERROR, VN_ERROR_INVALID,
                                "snapshot %s runs in two layers: its %s is "
                                "%s, its %s is %s; a MAC is used twice, "
                                "change one guest's <mac address=>",
                                c->source, first.uplink->name,
                                describe_hang(&first, c->parent, a),
                                link->name, describe_hang(&hang, p, b));
                    return NULL;
                }
                if (c->parent)
                    continue;
                c->parent = p;
                c->guest = hang.guest;
                c->guest_iface = hang.guest_iface;
                c->uplink = hang.uplink;
                c->tap = hang.tap;
                c->bridge = hang.bridge;
                g_ptr_array_add(p->children, c);
            }
        }
    }
    for (guint i = 0; i < n; i++) {
        VnNestLayer *l = all->pdata[i];

        if (!l->parent)
            g_ptr_array_add(roots, l);
    }
    if (roots->len == 0) {
        g_set_error(error, VN_ERROR, VN_ERROR_INVALID,
                    "snapshots %s ... form a loop: each is a guest of "
                    "another, so none is the outermost layer; a MAC is used "
                    "twice", ((VnNestLayer *)all->pdata[0])->source);
        return NULL;
    }
    root = roots->pdata[0];
    for (guint i = 1; i < roots->len; i++)
        if (count_below(roots->pdata[i]) > count_below(root))
            root = roots->pdata[i];
    for (guint i = 0; i < roots->len; i++) {
        const VnNestLayer *l = roots->pdata[i];

        if (l == root)
            continue;
        g_set_error(error, VN_ERROR, VN_ERROR_INVALID,
                    "snapshot %s has no link to %s: no link in it has the "
                    "MAC of a guest or TAP on another layer, and no guest on "
                    "it is another snapshot; give the snapshots of one nest, "
                    "each taken with 'virt-nest status --json --host'",
                    l->source, root->source);
        return NULL;
    }
    order = g_ptr_array_new();
    place(root, 0, order);
    if (order->len != n) {
        for (guint i = 0; i < n; i++) {
            const VnNestLayer *l = all->pdata[i];

            if (!g_ptr_array_find(order, l, NULL)) {
                g_set_error(error, VN_ERROR, VN_ERROR_INVALID,
                            "snapshot %s is part of a loop of guests that "
                            "does not reach %s; a MAC is used twice",
                            l->source, root->source);
                return NULL;
            }
        }
    }
    g_ptr_array_sort(order, cmp_level);     /* stable: keeps the walk order */
    for (guint i = 0; i < order->len; i++) {
        VnNestLayer *l = order->pdata[i];
        guint same = 0;

        for (guint j = 0; j < order->len; j++)
            same += ((VnNestLayer *)order->pdata[j])->level == l->level;
        if (same == 1 || !l->guest)
            l->name = g_strdup_printf("L%u", l->level);
        else
            l->name = g_strdup_printf("L%u:%s", l->level, l->guest->name);
    }
    nest = g_new0(VnNest, 1);
    nest->layers = g_ptr_array_new_with_free_func(
        (GDestroyNotify)nest_layer_free);
    for (guint i = 0; i < order->len; i++) {
        guint idx;

        g_ptr_array_find(all, order->pdata[i], &idx);
        g_ptr_array_add(nest->layers, g_ptr_array_steal_index(all, idx));
    }
    return nest;
}
