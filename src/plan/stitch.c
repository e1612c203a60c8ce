/* stitch.c: the whole nest from one snapshot per layer.
 *
 * Every lookup is by hash, built once per layer (VnLayerIndex) and once
 * per nest (addresses), so that a hostile snapshot costs time in
 * proportion to its size; vn_nest_stitch() refuses a layer over the
 * VN_NEST_MAX_* limits.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include <string.h>
#include <sys/socket.h>

#include "error.h"
#include "fwmodel.h"
#include "stitch.h"

/* A host address as a hash key: family and address, no prefix. */
typedef struct {
    VnCidr key;
    VnNestLayer *layer;
    const VnLink *link;
} AddrOwner;

static void
nest_layer_free(VnNestLayer *l)
{
    if (!l)
        return;
    vn_layer_index_free(l->index);
    if (l->children_by_tap)
        g_hash_table_unref(l->children_by_tap);
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
    if (nest->by_address)
        g_hash_table_unref(nest->by_address);
    g_free(nest);
}

const VnNestLayer *
vn_nest_layer_child_on_tap(const VnNestLayer *l, const VnLink *link)
{
    return g_hash_table_lookup(l->children_by_tap,
                               GINT_TO_POINTER(link->ifindex));
}

/* ------------------------------------------------------------------ */
/* addresses                                                           */

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

gboolean
vn_nest_layer_has_address(const VnNestLayer *l, const VnCidr *a,
                          const VnLink **link)
{
    const VnHostAddr *ha = vn_layer_index_address(l->index, a);

    if (ha && link)
        *link = vn_layer_index_link(l->index, ha->ifindex);
    return ha != NULL;
}

gboolean
vn_nest_layer_link_address(const VnNestLayer *l, const VnLink *link,
                           int family, VnCidr *out)
{
    GPtrArray *addrs = link ? vn_layer_index_addresses(l->index, link->ifindex)
                            : NULL;

    for (guint i = 0; addrs && i < addrs->len; i++) {
        const VnHostAddr *ha = addrs->pdata[i];

        if (ha->address.family == family &&
            !vn_cidr_is_link_local(&ha->address)) {
            *out = ha->address;
            return TRUE;
        }
    }
    return FALSE;
}

/* Every host address of the nest, the first layer in nest order first. */
static GHashTable *
address_owners_new(GPtrArray *layers)
{
    GHashTable *t = g_hash_table_new_full(vn_cidr_address_hash,
                                          vn_cidr_address_equal, NULL, g_free);

    for (guint i = 0; i < layers->len; i++) {
        VnNestLayer *l = layers->pdata[i];
        const VnHost *h = l->layer->host;

        for (guint j = 0; h && j < h->addrs->len; j++) {
            const VnHostAddr *ha = h->addrs->pdata[j];
            AddrOwner *o = g_new0(AddrOwner, 1);

            o->key = ha->address;
            o->key.prefix = 0;
            if (g_hash_table_contains(t, &o->key)) {
                g_free(o);
                continue;
            }
            o->layer = l;
            o->link = vn_layer_index_link(l->index, ha->ifindex);
            g_hash_table_insert(t, &o->key, o);
        }
    }
    return t;
}

VnNestLayer *
vn_nest_find_address(const VnNest *nest, const VnCidr *addr,
                     const VnLink **link)
{
    VnCidr key = *addr;
    const AddrOwner *o;

    key.prefix = 0;
    o = g_hash_table_lookup(nest->by_address, &key);
    if (o && link)
        *link = o->link;
    return o ? o->layer : NULL;
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

/* ------------------------------------------------------------------ */
/* checks before stitching                                             */

static guint
count_ifaces(const VnLayer *layer, guint *most)
{
    guint n = 0;

    *most = 0;
    for (guint i = 0; i < layer->guests->len; i++) {
        guint k = ((VnGuest *)layer->guests->pdata[i])->ifaces->len;

        n += k;
        *most = MAX(*most, k);
    }
    return n;
}

static guint
count_reservations(const VnLayer *layer)
{
    guint n = 0;

    for (guint i = 0; i < layer->networks->len; i++) {
        const VnNetwork *net = layer->networks->pdata[i];

        for (guint j = 0; j < net->ips->len; j++)
            n += ((VnNetIp *)net->ips->pdata[j])->hosts->len;
    }
    return n;
}

static guint
count_rules(const VnHost *host)
{
    guint n = 0;

    for (guint i = 0; host && host->firewall && i < host->firewall->len; i++)
        n += ((VnFwChain *)host->firewall->pdata[i])->rules->len;
    return n;
}

/* FALSE, and @error set, when @l holds more of something than a layer
 * may. */
static gboolean
check_size(const VnNestLayer *l, GError **error)
{
    const VnLayer *y = l->layer;
    const VnHost *h = y->host;
    guint most;
    guint ifaces = count_ifaces(y, &most);
    struct {
        const char *what;
        guint n, max;
    } sizes[] = {
        { "links", h ? h->links->len : 0, VN_NEST_MAX_OBJECTS },
        { "addresses", h ? h->addrs->len : 0, VN_NEST_MAX_OBJECTS },
        { "networks", y->networks->len, VN_NEST_MAX_OBJECTS },
        { "guests", y->guests->len, VN_NEST_MAX_OBJECTS },
        { "guest interfaces", ifaces, VN_NEST_MAX_OBJECTS },
        { "interfaces on one guest", most, VN_NEST_MAX_GUEST_IFACES },
        { "leases", y->leases->len, VN_NEST_MAX_OBJECTS },
        { "DHCP reservations", count_reservations(y), VN_NEST_MAX_OBJECTS },
        { "routes", h ? h->routes->len : 0, VN_NEST_MAX_RULES },
        { "firewall chains", h && h->firewall ? h->firewall->len : 0,
          VN_NEST_MAX_RULES },
        { "firewall rules", count_rules(h), VN_NEST_MAX_RULES },
    };

    for (guint i = 0; i < G_N_ELEMENTS(sizes); i++) {
        if (sizes[i].n <= sizes[i].max)
            continue;
        g_set_error(error, VN_ERROR, VN_ERROR_INVALID,
                    "snapshot %s has %u %s, more than the %u of a layer "
                    "virt-nest stitches; take it again with 'virt-nest "
                    "status --json --host' on that layer", l->source,
                    sizes[i].n, sizes[i].what, sizes[i].max);
        return FALSE;
    }
    return TRUE;
}

static gboolean
check_hosts(GPtrArray *all, GError **error)
{
    for (guint i = 0; all->len > 1 && i < all->len; i++) {
        const VnNestLayer *l = all->pdata[i];

        if (!l->layer->host) {
            g_set_error(error, VN_ERROR, VN_ERROR_INVALID,
                        "snapshot %s has no host view, so it cannot be "
                        "tied to the other layers; take it again with "
                        "'virt-nest status --json --host'", l->source);
            return FALSE;
        }
    }
    return TRUE;
}

static gboolean
mac_is_real(const char *mac)
{
    return mac && *mac && strcmp(mac, "00:00:00:00:00:00") != 0 &&
           strcmp(mac, "ff:ff:ff:ff:ff:ff") != 0;
}

/* No two snapshots of one layer: a link of the same name with the same
 * real MAC in both. */
static gboolean
check_twice(GPtrArray *all, GError **error)
{
    g_autoptr(GHashTable) seen = g_hash_table_new_full(g_str_hash, g_str_equal,
                                                       g_free, NULL);

    for (guint i = 0; i < all->len; i++) {
        const VnNestLayer *l = all->pdata[i];
        const VnHost *h = l->layer->host;

        for (guint k = 0; h && k < h->links->len; k++) {
            const VnLink *link = h->links->pdata[k];
            g_autofree char *key = NULL;
            const VnNestLayer *first;

            if (!mac_is_real(link->mac) || !link->name)
                continue;
            key = g_strdup_printf("%s\036%s", link->name, link->mac);
            first = g_hash_table_lookup(seen, key);
            if (!first) {
                g_hash_table_insert(seen, g_steal_pointer(&key), (gpointer)l);
            } else if (first != l) {
                g_set_error(error, VN_ERROR, VN_ERROR_INVALID,
                            "snapshots %s and %s are the same layer (both "
                            "have link %s with MAC %s); give each layer once",
                            first->source, l->source, link->name, link->mac);
                return FALSE;
            }
        }
    }
    return TRUE;
}

/* ------------------------------------------------------------------ */
/* who runs in whom                                                    */

/* For each MAC, the layers (by position, ascending, each once) that have
 * a guest interface with it, or a host link with it. */
typedef struct {
    GHashTable *guest_macs;     /* MAC -> GArray of guint */
    GHashTable *link_macs;
} MacOwners;

static void
mac_owner_add(GHashTable *t, const char *mac, guint pos)
{
    GArray *a;

    if (!mac)
        return;
    if (!(a = g_hash_table_lookup(t, mac))) {
        a = g_array_new(FALSE, FALSE, sizeof(guint));
        g_hash_table_insert(t, (gpointer)mac, a);
    }
    if (!a->len || g_array_index(a, guint, a->len - 1) != pos)
        g_array_append_val(a, pos);
}

static void
mac_owners_init(MacOwners *m, GPtrArray *all)
{
    m->guest_macs = g_hash_table_new_full(g_str_hash, g_str_equal, NULL,
                                          (GDestroyNotify)g_array_unref);
    m->link_macs = g_hash_table_new_full(g_str_hash, g_str_equal, NULL,
                                         (GDestroyNotify)g_array_unref);
    for (guint i = 0; i < all->len; i++) {
        const VnLayer *y = ((VnNestLayer *)all->pdata[i])->layer;

        for (guint j = 0; j < y->guests->len; j++) {
            const VnGuest *g = y->guests->pdata[j];

            for (guint k = 0; k < g->ifaces->len; k++)
                mac_owner_add(m->guest_macs,
                              ((VnIface *)g->ifaces->pdata[k])->mac, i);
        }
        for (guint j = 0; y->host && j < y->host->links->len; j++)
            mac_owner_add(m->link_macs,
                          ((VnLink *)y->host->links->pdata[j])->mac, i);
    }
}

static void
mac_owners_clear(MacOwners *m)
{
    g_hash_table_unref(m->guest_macs);
    g_hash_table_unref(m->link_macs);
}

/* How the link @link of a layer runs in @p, if it does: its guest there
 * (by the guest MAC), its TAP there (by the TAP MAC). */
static gboolean
hangs_off(const VnLink *link, const VnNestLayer *p, VnNestLayer *out)
{
    g_autofree char *tapmac = vn_mac_tap(link->mac);
    const VnLink *t = vn_layer_index_link_by_mac(p->index, tapmac);

    memset(out, 0, sizeof(*out));
    out->guest = vn_layer_index_guest_by_mac(p->index, link->mac,
                                             &out->guest_iface);
    if (t) {
        out->tap = t;
        out->bridge = vn_layer_index_link(p->index, t->master);
    }
    if (out->guest || t)
        out->uplink = link;
    return out->guest || t;
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

/* Hangs @c off @p by @hang; FALSE (and @error) when @c already runs in
 * another layer. */
static gboolean
adopt(VnNestLayer *c, VnNestLayer *p, const VnNestLayer *hang,
      GError **error)
{
    g_autoptr(GString) a = NULL, b = NULL;

    if (c->parent == p)
        return TRUE;
    if (!c->parent) {
        c->parent = p;
        c->guest = hang->guest;
        c->guest_iface = hang->guest_iface;
        c->uplink = hang->uplink;
        c->tap = hang->tap;
        c->bridge = hang->bridge;
        g_ptr_array_add(p->children, c);
        if (c->tap && !g_hash_table_contains(p->children_by_tap,
                                             GINT_TO_POINTER(c->tap->ifindex)))
            g_hash_table_insert(p->children_by_tap,
                                GINT_TO_POINTER(c->tap->ifindex), c);
        return TRUE;
    }
    a = g_string_new(NULL);
    b = g_string_new(NULL);
    g_set_error(error, VN_ERROR, VN_ERROR_INVALID,
                "snapshot %s runs in two layers: its %s is %s, its %s is %s; "
                "a MAC is used twice, change one guest's <mac address=>",
                c->source, c->uplink->name, describe_hang(c, c->parent, a),
                hang->uplink->name, describe_hang(hang, p, b));
    return FALSE;
}

/* The next layer position in @a at or after *@at, or G_MAXUINT. */
static guint
next_owner(GArray *a, guint *at)
{
    return a && *at < a->len ? g_array_index(a, guint, *at) : G_MAXUINT;
}

/* The layers @link (of @all[@i]) could run in, ascending, each once;
 * adopts by the first, fails on a second. */
static gboolean
place_link(GPtrArray *all, const MacOwners *m, guint i, const VnLink *link,
           GError **error)
{
    VnNestLayer *c = all->pdata[i];
    g_autofree char *tapmac = vn_mac_tap(link->mac);
    GArray *ga = g_hash_table_lookup(m->guest_macs, link->mac);
    GArray *la = tapmac ? g_hash_table_lookup(m->link_macs, tapmac) : NULL;
    guint gi = 0, li = 0;

    for (;;) {
        guint g = next_owner(ga, &gi), l = next_owner(la, &li);
        guint j = MIN(g, l);
        VnNestLayer hang;

        if (j == G_MAXUINT)
            return TRUE;
        gi += g == j;
        li += l == j;
        if (j == i || !hangs_off(link, all->pdata[j], &hang))
            continue;
        if (!adopt(c, all->pdata[j], &hang, error))
            return FALSE;
    }
}

static gboolean
find_parents(GPtrArray *all, GError **error)
{
    MacOwners m;
    gboolean ok = TRUE;

    mac_owners_init(&m, all);
    for (guint i = 0; ok && i < all->len; i++) {
        const VnHost *h = ((VnNestLayer *)all->pdata[i])->layer->host;

        for (guint k = 0; ok && h && k < h->links->len; k++) {
            const VnLink *link = h->links->pdata[k];

            if (mac_is_real(link->mac) && g_strcmp0(link->kind, "bridge") != 0)
                ok = place_link(all, &m, i, link, error);
        }
    }
    mac_owners_clear(&m);
    return ok;
}

/* ------------------------------------------------------------------ */
/* the order and the names                                             */

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

/* The outermost layer: the one root, or NULL (and @error). */
static VnNestLayer *
find_root(GPtrArray *all, GError **error)
{
    g_autoptr(GPtrArray) roots = g_ptr_array_new();
    VnNestLayer *root;

    for (guint i = 0; i < all->len; i++)
        if (!((VnNestLayer *)all->pdata[i])->parent)
            g_ptr_array_add(roots, all->pdata[i]);
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
    return root;
}

static int
cmp_level(gconstpointer a, gconstpointer b)
{
    const VnNestLayer *x = *(VnNestLayer *const *)a;
    const VnNestLayer *y = *(VnNestLayer *const *)b;

    return (int)x->level - (int)y->level;
}

/* Every layer under @root, outermost first (the walk's order within a
 * level); NULL (and @error) when some are in a loop of their own. */
static GPtrArray *
order_from(VnNestLayer *root, GPtrArray *all, GError **error)
{
    g_autoptr(GPtrArray) order = g_ptr_array_new();
    g_autoptr(GHashTable) placed = NULL;

    place(root, 0, order);
    if (order->len != all->len) {
        placed = g_hash_table_new(NULL, NULL);
        for (guint i = 0; i < order->len; i++)
            g_hash_table_add(placed, order->pdata[i]);
        for (guint i = 0; i < all->len; i++) {
            const VnNestLayer *l = all->pdata[i];

            if (g_hash_table_contains(placed, l))
                continue;
            g_set_error(error, VN_ERROR, VN_ERROR_INVALID,
                        "snapshot %s is part of a loop of guests that does "
                        "not reach %s; a MAC is used twice", l->source,
                        root->source);
            return NULL;
        }
    }
    g_ptr_array_sort(order, cmp_level);     /* stable: keeps the walk order */
    return g_steal_pointer(&order);
}

/* "L0", "L1", ..., and "L1:GUEST" where a level has several. */
static void
name_layers(GPtrArray *order)
{
    guint levels = order->len ?
        ((VnNestLayer *)order->pdata[order->len - 1])->level + 1 : 0;
    g_autofree guint *same = g_new0(guint, levels);

    for (guint i = 0; i < order->len; i++)
        same[((VnNestLayer *)order->pdata[i])->level]++;
    for (guint i = 0; i < order->len; i++) {
        VnNestLayer *l = order->pdata[i];

        if (same[l->level] == 1 || !l->guest)
            l->name = g_strdup_printf("L%u", l->level);
        else
            l->name = g_strdup_printf("L%u:%s", l->level, l->guest->name);
    }
}

/* ------------------------------------------------------------------ */

/* One VnNestLayer per snapshot, with its index; takes the layers. */
static GPtrArray *
wrap_layers(GPtrArray *layers, GPtrArray *sources)
{
    GPtrArray *all = g_ptr_array_new_with_free_func(
        (GDestroyNotify)nest_layer_free);

    for (guint i = 0; i < layers->len; i++) {
        VnNestLayer *l = g_new0(VnNestLayer, 1);

        l->layer = layers->pdata[i];
        l->source = g_strdup(sources->pdata[i]);
        l->children = g_ptr_array_new();
        l->children_by_tap = g_hash_table_new(NULL, NULL);
        g_ptr_array_add(all, l);
    }
    g_ptr_array_set_free_func(layers, NULL);
    g_ptr_array_set_size(layers, 0);
    return all;
}

static gboolean
check_sizes(GPtrArray *all, GError **error)
{
    for (guint i = 0; i < all->len; i++)
        if (!check_size(all->pdata[i], error))
            return FALSE;
    return TRUE;
}

VnNest *
vn_nest_stitch(GPtrArray *layers, GPtrArray *sources, GError **error)
{
    g_autoptr(GPtrArray) all = wrap_layers(layers, sources);
    g_autoptr(GPtrArray) order = NULL;
    VnNestLayer *root;
    VnNest *nest;

    if (!check_sizes(all, error) || !check_hosts(all, error))
        return NULL;
    for (guint i = 0; i < all->len; i++) {
        VnNestLayer *l = all->pdata[i];

        l->index = vn_layer_index_new(l->layer);
    }
    if (!check_twice(all, error) || !find_parents(all, error) ||
        !(root = find_root(all, error)) ||
        !(order = order_from(root, all, error)))
        return NULL;
    name_layers(order);
    nest = g_new0(VnNest, 1);
    nest->layers = g_ptr_array_new_with_free_func(
        (GDestroyNotify)nest_layer_free);
    for (guint i = 0; i < order->len; i++)
        g_ptr_array_add(nest->layers, order->pdata[i]);
    g_ptr_array_set_free_func(all, NULL);   /* the nest has them now */
    nest->by_address = address_owners_new(nest->layers);
    return nest;
}
