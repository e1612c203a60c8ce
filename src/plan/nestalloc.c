/* nestalloc.c: addresses and subnets for new nested guests.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include <string.h>
#include <linux/rtnetlink.h>

#include "error.h"
#include "nestalloc.h"
#include "libvirtxml.h"
#include "layerplan.h"

void
vn_in_use_free(VnInUse *u)
{
    if (!u)
        return;
    g_free(u->what);
    g_free(u);
}

static void
level_free(VnNestLevel *l)
{
    g_free(l->network);
    g_free(l->bridge);
    g_array_unref(l->peers);
    g_free(l->guest);
    g_free(l->guest_mac);
    g_array_unref(l->guest_routes);
    g_free(l);
}

void
vn_nest_plan_free(VnNestPlan *plan)
{
    if (!plan)
        return;
    g_free(plan->network);
    g_free(plan->bridge);
    g_free(plan->guest);
    g_free(plan->mac);
    g_array_unref(plan->routes);
    g_ptr_array_unref(plan->levels);
    g_ptr_array_unref(plan->in_use);
    g_free(plan);
}

static void G_GNUC_PRINTF(3, 4)
use(GPtrArray *out, const VnCidr *c, const char *fmt, ...)
{
    VnInUse *u = g_new0(VnInUse, 1);
    va_list ap;

    u->cidr = *c;
    va_start(ap, fmt);
    u->what = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    g_ptr_array_add(out, u);
}

void
vn_in_use_collect(const VnLayer *layer, const char *tag, GPtrArray *out)
{
    char b[VN_CIDR_STRLEN];

    for (guint i = 0; i < layer->networks->len; i++) {
        const VnNetwork *n = layer->networks->pdata[i];

        for (guint j = 0; j < n->ips->len; j++) {
            const VnNetIp *ip = n->ips->pdata[j];

            use(out, &ip->subnet, "%s network '%s'", tag, n->name);
        }
        for (guint j = 0; j < n->routes->len; j++) {
            const VnNetRoute *r = &g_array_index(n->routes, VnNetRoute, j);

            use(out, &r->dest, "%s network '%s' <route>", tag, n->name);
        }
        for (guint j = 0; j < n->peers->len; j++)
            use(out, &g_array_index(n->peers, VnCidr, j),
                "%s network '%s' peer", tag, n->name);
    }
    for (guint i = 0; i < layer->guests->len; i++) {
        const VnGuest *g = layer->guests->pdata[i];

        for (guint j = 0; g->nest && j < g->routes->len; j++)
            use(out, &g_array_index(g->routes, VnCidr, j),
                "%s domain '%s' nests it", tag, g->name);
    }
    for (guint i = 0; layer->host && i < layer->host->addrs->len; i++) {
        const VnHostAddr *a = layer->host->addrs->pdata[i];
        const VnLink *l = vn_host_find_link(layer->host, a->ifindex);
        VnCidr net = vn_cidr_network(&a->address);

        if (vn_cidr_is_link_local(&a->address))
            continue;
        use(out, &net, "%s host address %s on %s", tag,
            vn_cidr_format(&a->address, TRUE, b), l ? l->name : "?");
    }
    for (guint i = 0; layer->host && i < layer->host->routes->len; i++) {
        const VnHostRoute *r = layer->host->routes->pdata[i];
        const VnLink *l = vn_host_find_link(layer->host, r->oif);

        if (r->dst.prefix == 0 || r->type != RTN_UNICAST)
            continue;       /* the default route covers everything */
        use(out, &r->dst, "%s host route %s dev %s", tag,
            vn_cidr_format(&r->dst, TRUE, b), l ? l->name : "?");
    }
}

GArray *
vn_nest_default_pool(void)
{
    static const char *const pool[] = {
        "192.168.124.0/22", "192.168.128.0/17", "10.0.0.0/8",
    };
    GArray *a = g_array_new(FALSE, TRUE, sizeof(VnCidr));

    for (guint i = 0; i < G_N_ELEMENTS(pool); i++) {
        VnCidr c;

        vn_cidr_parse(pool[i], VN_CIDR_SUBNET, &c, NULL);
        g_array_append_val(a, c);
    }
    return a;
}

static const VnInUse *
overlapping(GPtrArray *in_use, const VnCidr *c)
{
    for (guint i = 0; i < in_use->len; i++) {
        const VnInUse *u = in_use->pdata[i];

        if (vn_cidr_overlaps(&u->cidr, c))
            return u;
    }
    return NULL;
}

/* The first subnet of /@prefix in @pool that overlaps nothing in use. */
static gboolean
free_subnet(GArray *pool, guint prefix, GPtrArray *in_use, VnCidr *out)
{
    for (guint i = 0; i < pool->len; i++) {
        const VnCidr *p = &g_array_index(pool, VnCidr, i);
        VnCidr c = vn_cidr_network(p);
        VnCidr last = vn_cidr_last(p);
        guint64 step;

        if (prefix < p->prefix || prefix > vn_cidr_max_prefix(p->family))
            continue;
        c.prefix = (guint8)prefix;
        step = vn_cidr_size(&c);
        for (;;) {
            if (!overlapping(in_use, &c)) {
                *out = c;
                return TRUE;
            }
            if (step == G_MAXUINT64 || !vn_cidr_add(&c, (gint64)step, &c) ||
                !vn_cidr_contains(p, &c) || vn_cidr_compare(&c, &last) > 0)
                break;
        }
    }
    return FALSE;
}

static gboolean
mac_of_guest(GPtrArray *layers, const char *mac, char **who)
{
    for (guint k = 0; k < layers->len; k++) {
        const VnLayer *l = layers->pdata[k];

        for (guint i = 0; i < l->guests->len; i++) {
            const VnGuest *g = l->guests->pdata[i];

            for (guint j = 0; j < g->ifaces->len; j++) {
                if (g_strcmp0(((VnIface *)g->ifaces->pdata[j])->mac, mac) == 0) {
                    *who = g_strdup_printf("domain '%s'", g->name);
                    return TRUE;
                }
            }
        }
    }
    return FALSE;
}

static gboolean
mac_in_use(GPtrArray *layers, const char *mac, char **who)
{
    for (guint k = 0; k < layers->len; k++) {
        const VnLayer *l = layers->pdata[k];

        for (guint i = 0; i < l->guests->len; i++) {
            const VnGuest *g = l->guests->pdata[i];

            for (guint j = 0; j < g->ifaces->len; j++) {
                const VnIface *iface = g->ifaces->pdata[j];

                if (g_strcmp0(iface->mac, mac) == 0) {
                    if (who)
                        *who = g_strdup_printf("domain '%s'", g->name);
                    return TRUE;
                }
            }
        }
        for (guint i = 0; i < l->networks->len; i++) {
            const VnNetwork *n = l->networks->pdata[i];
            const VnDhcpHost *h = vn_network_find_host(n, mac);

            if (h) {
                if (who)
                    *who = g_strdup_printf("a reservation of network '%s'",
                                           n->name);
                return TRUE;
            }
        }
    }
    return FALSE;
}

/* A locally administered MAC in libvirt's 52:54:00 range, from a hash of
 * @seed: the same seed gives the same MAC. */
static char *
mac_candidate(const char *seed, guint n)
{
    g_autofree char *s = g_strdup_printf("virt-nest/%s/%u", seed, n);
    g_autofree char *h = g_compute_checksum_for_string(G_CHECKSUM_SHA256,
                                                       s, -1);

    return g_strdup_printf("52:54:00:%.2s:%.2s:%.2s", h, h + 2, h + 4);
}

static gboolean
mac_taken(GPtrArray *taken, const char *mac)
{
    for (guint i = 0; i < taken->len; i++)
        if (g_strcmp0(taken->pdata[i], mac) == 0)
            return TRUE;
    return FALSE;
}

static char *
gen_mac(GPtrArray *layers, GPtrArray *taken, const char *seed)
{
    for (guint n = 0;; n++) {
        char *mac = mac_candidate(seed, n);
        gboolean dup = mac_in_use(layers, mac, NULL);

        dup = dup || mac_taken(taken, mac);
        if (!dup) {
            g_ptr_array_add(taken, g_strdup(mac));
            return mac;
        }
        g_free(mac);
    }
}

static gboolean
in_ranges(const VnNetIp *ip, const VnCidr *a)
{
    for (guint i = 0; i < ip->ranges->len; i++) {
        const VnDhcpRange *r = &g_array_index(ip->ranges, VnDhcpRange, i);

        if (vn_cidr_compare(&r->start, a) <= 0 && vn_cidr_compare(a, &r->end) <= 0)
            return TRUE;
    }
    return FALSE;
}

static gboolean
address_taken(const VnLayer *layer, const VnNetwork *net, const VnNetIp *ip,
              const VnCidr *a)
{
    VnCidr gw = ip->address;

    gw.prefix = a->prefix;
    if (vn_cidr_equal(&gw, a))
        return TRUE;
    for (guint i = 0; i < ip->hosts->len; i++)
        if (vn_cidr_equal(&((VnDhcpHost *)ip->hosts->pdata[i])->ip, a))
            return TRUE;
    for (guint i = 0; i < layer->leases->len; i++) {
        const VnLease *l = layer->leases->pdata[i];

        if ((!l->bridge || !net->bridge || !g_strcmp0(l->bridge, net->bridge)) &&
            vn_cidr_equal(&l->ip, a))
            return TRUE;
    }
    for (guint i = 0; layer->host && i < layer->host->addrs->len; i++) {
        VnCidr h = ((VnHostAddr *)layer->host->addrs->pdata[i])->address;

        h.prefix = a->prefix;
        if (vn_cidr_equal(&h, a))
            return TRUE;
    }
    return FALSE;
}

/* The reservation for a new guest on @net: the lowest free address
 * outside the DHCP ranges (dnsmasq never hands those out), else the
 * highest free one inside them (dnsmasq hands out from the bottom). */
static gboolean
pick_address(const VnLayer *layer, const VnNetwork *net, const VnNetIp *ip,
             VnCidr *out, gboolean *in_range)
{
    guint64 size = vn_cidr_size(&ip->subnet);
    VnCidr base = ip->subnet;

    if (size < 4)
        return FALSE;
    base.prefix = 32;
    for (guint64 off = 1; off + 1 < size; off++) {
        VnCidr a;

        vn_cidr_add(&base, (gint64)off, &a);
        if (!in_ranges(ip, &a) && !address_taken(layer, net, ip, &a)) {
            *out = a;
            *in_range = FALSE;
            return TRUE;
        }
    }
    for (guint64 off = size - 2; off >= 1; off--) {
        VnCidr a;

        vn_cidr_add(&base, (gint64)off, &a);
        if (!address_taken(layer, net, ip, &a)) {
            *out = a;
            *in_range = TRUE;
            return TRUE;
        }
    }
    return FALSE;
}

static const VnNetIp *
ipv4_of(const VnNetwork *net)
{
    for (guint i = 0; i < net->ips->len; i++) {
        const VnNetIp *ip = net->ips->pdata[i];

        if (ip->address.family == AF_INET)
            return ip;
    }
    return NULL;
}

static int
cmp_in_use(gconstpointer a, gconstpointer b)
{
    const VnInUse *x = *(VnInUse *const *)a;
    const VnInUse *y = *(VnInUse *const *)b;
    int r = vn_cidr_compare(&x->cidr, &y->cidr);

    return r ? r : g_strcmp0(x->what, y->what);
}

/* Set up one level's network on @subnet. */
static VnNestLevel *
new_level(guint level, const VnCidr *subnet)
{
    VnNestLevel *l = g_new0(VnNestLevel, 1);
    guint64 size = vn_cidr_size(subnet);
    VnCidr s = *subnet;

    l->level = level;
    l->network = g_strdup("default");
    l->bridge = g_strdup("virbr0");
    l->subnet = *subnet;
    s.prefix = 32;
    vn_cidr_add(&s, 1, &l->address);
    l->address.prefix = subnet->prefix;
    vn_cidr_add(&s, (gint64)(size >= 256 ? 100 : size / 2), &l->range_start);
    vn_cidr_add(&s, (gint64)size - 2, &l->range_end);
    l->peers = g_array_new(FALSE, TRUE, sizeof(VnCidr));
    l->guest_routes = g_array_new(FALSE, TRUE, sizeof(VnCidr));
    return l;
}

/* The guest delegates what a plan of these options would: as many IPv4
 * subnets as levels, of the prefix length asked for. That is an earlier
 * run's plan (`plan --apply` set it), taken again as it is. */
static gboolean
routes_reusable(const VnGuest *guest, const VnNestOptions *opts)
{
    if (guest->routes->len != opts->depth || guest->uplink_mac ||
        !vn_cidr_is_empty(&guest->uplink_address))
        return FALSE;
    for (guint i = 0; i < guest->routes->len; i++) {
        const VnCidr *r = &g_array_index(guest->routes, VnCidr, i);

        if (r->family != AF_INET || r->prefix != opts->prefix)
            return FALSE;
    }
    return TRUE;
}

/* The options make sense on this layer: the network exists and has an
 * IPv4 subnet on a bridge, the guest does not delegate subnets yet. */
static gboolean
check_options(const VnLayer *layer, const VnNestOptions *opts,
              const VnNetwork *net, const VnGuest *guest, GError **error)
{
    if (!net) {
        g_autoptr(GString) known = g_string_new(NULL);

        for (guint i = 0; i < layer->networks->len; i++)
            g_string_append_printf(known, "%s'%s'", i ? ", " : "",
                                   ((VnNetwork *)layer->networks->pdata[i])->name);
        g_set_error(error, VN_ERROR, VN_ERROR_NOT_FOUND,
                    "network '%s' does not exist here; known: %s",
                    opts->network, known->len ? known->str : "none");
        return FALSE;
    }
    if (!ipv4_of(net) || !net->bridge) {
        g_set_error(error, VN_ERROR, VN_ERROR_INVALID,
                    "network '%s' has no IPv4 subnet on a bridge of its own "
                    "to give the guest an address on", net->name);
        return FALSE;
    }
    for (const guchar *p = (const guchar *)opts->guest; p && *p; p++) {
        if (*p < 0x20 && *p != '\t' && *p != '\n' && *p != '\r') {
            g_autofree char *shown = g_strescape(opts->guest, NULL);

            g_set_error(error, VN_ERROR, VN_ERROR_INVALID,
                        "--guest '%s': a name with control characters cannot "
                        "be written in libvirt's XML; choose another name",
                        shown);
            return FALSE;
        }
    }
    if (opts->depth < 1) {
        g_set_error(error, VN_ERROR, VN_ERROR_INVALID,
                    "--depth must be 1 or more");
        return FALSE;
    }
    if (guest && guest->nest && guest->routes->len &&
        !routes_reusable(guest, opts)) {
        g_autofree char *s = vn_cidr_join(guest->routes);

        g_set_error(error, VN_ERROR, VN_ERROR_CONFLICT,
                    "domain '%s' already delegates %s, not the %u /%u "
                    "subnet%s of this plan; remove its <nest:guest> metadata "
                    "to plan it again, or plan another guest", guest->name, s,
                    opts->depth, opts->prefix, opts->depth == 1 ? "" : "s");
        return FALSE;
    }
    return TRUE;
}

/* A reservation on @net that an earlier `plan --apply` made for @guest,
 * not defined yet then: one named after it, or one with the MAC that
 * gen_mac() gave it then (the first of the MACs from @seed that is not
 * another's), which no guest's interface has. transfer full, or NULL. */
static char *
reserved_ahead(GPtrArray *layers, GPtrArray *taken, const VnNetwork *net,
               const char *guest, const char *seed)
{
    for (guint i = 0; i < net->ips->len; i++) {
        const VnNetIp *ip = net->ips->pdata[i];

        for (guint j = 0; j < ip->hosts->len; j++) {
            const VnDhcpHost *h = ip->hosts->pdata[j];
            g_autofree char *who = NULL;

            if (h->mac && h->name && g_strcmp0(h->name, guest) == 0 &&
                !mac_of_guest(layers, h->mac, &who))
                return g_strdup(h->mac);
        }
    }
    for (guint n = 0;; n++) {
        g_autofree char *mac = mac_candidate(seed, n);
        const VnDhcpHost *h = vn_network_find_host(net, mac);
        g_autofree char *who = NULL;

        if (h && (!h->name || g_strcmp0(h->name, guest) == 0) &&
            !mac_of_guest(layers, mac, &who) && !mac_taken(taken, mac))
            return g_steal_pointer(&mac);
        if (!mac_in_use(layers, mac, NULL) && !mac_taken(taken, mac))
            return NULL;        /* the one gen_mac() gives: free */
    }
}

/* The guest's MAC on the network: --mac (not another guest's), the one
 * its interface there has, or a generated one. */
static gboolean
choose_mac(VnNestPlan *plan, GPtrArray *layers, GPtrArray *taken_macs,
           const VnNestOptions *opts, const VnNetwork *net,
           const VnGuest *guest, GError **error)
{
    if (opts->mac) {
        g_autofree char *who = NULL;
        gboolean own = FALSE;

        if (!(plan->mac = vn_mac_normalize(opts->mac))) {
            g_set_error(error, VN_ERROR, VN_ERROR_INVALID,
                        "--mac %s: not a MAC address (aa:bb:cc:dd:ee:ff)",
                        opts->mac);
            return FALSE;
        }
        for (guint i = 0; guest && i < guest->ifaces->len; i++)
            own = own || !g_strcmp0(((VnIface *)guest->ifaces->pdata[i])->mac,
                                    plan->mac);
        /* a reservation made ahead for the guest is fine; another guest's
         * interface is not */
        if (!own && mac_of_guest(layers, plan->mac, &who)) {
            g_set_error(error, VN_ERROR, VN_ERROR_CONFLICT,
                        "--mac %s is in use by %s; leave --mac out to have one "
                        "generated", plan->mac, who);
            return FALSE;
        }
    }
    for (guint i = 0; !plan->mac && guest && i < guest->ifaces->len; i++) {
        const VnIface *iface = guest->ifaces->pdata[i];

        if (g_strcmp0(iface->network, net->name) == 0 ||
            (!iface->network && g_strcmp0(iface->bridge, net->bridge) == 0))
            plan->mac = g_strdup(iface->mac);
    }
    if (!plan->mac) {
        g_autofree char *seed = g_strdup_printf("%s/%s", net->name, opts->guest);

        /* run again: the reservation the first run made is the guest's */
        if ((plan->mac = reserved_ahead(layers, taken_macs, net, opts->guest,
                                        seed))) {
            plan->mac_reserved = TRUE;
            g_ptr_array_add(taken_macs, g_strdup(plan->mac));
        } else {
            plan->mac = gen_mac(layers, taken_macs, seed);
        }
        plan->mac_generated = TRUE;
    } else {
        g_ptr_array_add(taken_macs, g_strdup(plan->mac));
    }
    return TRUE;
}

/* Its address: the reservation it has, or a free one. */
static gboolean
choose_address(VnNestPlan *plan, const VnLayer *layer, const VnNetwork *net,
               GError **error)
{
    const VnNetIp *ip = ipv4_of(net);
    const VnDhcpHost *h = vn_network_find_host(net, plan->mac);
    char b[VN_CIDR_STRLEN];

    if (h) {
        plan->address = h->ip;
        plan->address_exists = TRUE;
        plan->address_in_range = in_ranges(ip, &h->ip);
        return TRUE;
    }
    if (pick_address(layer, net, ip, &plan->address, &plan->address_in_range))
        return TRUE;
    g_set_error(error, VN_ERROR, VN_ERROR_CONFLICT,
                "network '%s' (%s) has no free address left for a "
                "reservation", net->name, vn_cidr_format(&ip->subnet, TRUE, b));
    return FALSE;
}

/* Everything in use anywhere, then a free subnet for each level. */
static gboolean
choose_subnets(VnNestPlan *plan, const VnLayer *layer, GPtrArray *others,
               const VnNestOptions *opts, GArray *pool, const VnGuest *guest,
               GError **error)
{
    g_autoptr(GPtrArray) busy = g_ptr_array_new();
    gboolean ok = TRUE;

    vn_in_use_collect(layer, "this layer:", plan->in_use);
    for (guint i = 0; others && i < others->len; i++) {
        const VnLayer *o = others->pdata[i];
        g_autofree char *tag = g_strdup_printf("%s:", o->uri ? o->uri : "snapshot");

        vn_in_use_collect(o, tag, plan->in_use);
    }
    g_ptr_array_sort(plan->in_use, cmp_in_use);
    for (guint i = 0; i < plan->in_use->len; i++)
        g_ptr_array_add(busy, plan->in_use->pdata[i]);
    /* planned and applied before: the same subnets again */
    if (guest && guest->nest && guest->routes->len) {
        for (guint k = 1; k <= guest->routes->len; k++) {
            const VnCidr *r = &g_array_index(guest->routes, VnCidr, k - 1);

            g_ptr_array_add(plan->levels, new_level(k, r));
            g_array_append_val(plan->routes, *r);
        }
        plan->metadata_exists = TRUE;
        return TRUE;
    }
    for (guint k = 1; ok && k <= opts->depth; k++) {
        VnCidr s;
        VnInUse *mine;

        if (!free_subnet(pool, opts->prefix, busy, &s)) {
            g_set_error(error, VN_ERROR, VN_ERROR_CONFLICT,
                        "no free /%u subnet left in the pool for level %u "
                        "of %u; give a larger --pool or a longer --prefix",
                        opts->prefix, k, opts->depth);
            ok = FALSE;
            break;
        }
        g_ptr_array_add(plan->levels, new_level(k, &s));
        g_array_append_val(plan->routes, s);
        mine = g_new0(VnInUse, 1);
        mine->cidr = s;
        g_ptr_array_add(busy, mine);
    }
    /* the levels' own entries; the rest belong to plan->in_use */
    for (guint i = plan->in_use->len; i < busy->len; i++)
        g_free(busy->pdata[i]);
    return ok;
}

/* Peers above each level, and the guest below each level but the last
 * with the routes to the levels under it. */
static void
link_levels(VnNestPlan *plan, GPtrArray *layers, GPtrArray *taken_macs,
            const VnNestOptions *opts)
{
    for (guint k = 0; k < plan->levels->len; k++) {
        VnNestLevel *l = plan->levels->pdata[k];
        g_autofree char *seed = NULL;
        VnCidr base = l->subnet;

        g_array_append_val(l->peers, plan->network_subnet);
        for (guint j = 0; j < k; j++)
            g_array_append_val(l->peers, ((VnNestLevel *)plan->levels->pdata[j])->subnet);
        if (k + 1 == plan->levels->len)
            continue;
        l->guest = g_strdup_printf("%s-l%u", opts->guest, k + 2);
        seed = g_strdup_printf("level %u/%s", k + 1, l->guest);
        l->guest_mac = gen_mac(layers, taken_macs, seed);
        base.prefix = 32;
        vn_cidr_add(&base, 2, &l->guest_address);   /* below the range */
        for (guint j = k + 1; j < plan->levels->len; j++)
            g_array_append_val(l->guest_routes,
                               ((VnNestLevel *)plan->levels->pdata[j])->subnet);
    }
}

VnNestPlan *
vn_nest_plan(const VnLayer *layer, GPtrArray *others,
             const VnNestOptions *opts, GError **error)
{
    g_autoptr(VnNestPlan) plan = g_new0(VnNestPlan, 1);
    g_autoptr(GPtrArray) layers = g_ptr_array_new();
    g_autoptr(GPtrArray) taken_macs = g_ptr_array_new_with_free_func(g_free);
    g_autoptr(GArray) default_pool = NULL;
    GArray *pool = opts->pool;
    const VnNetwork *net = vn_layer_find_network(layer, opts->network);
    const VnGuest *guest = vn_layer_find_guest(layer, opts->guest);
    const VnNetIp *ip;

    plan->routes = g_array_new(FALSE, TRUE, sizeof(VnCidr));
    plan->levels = g_ptr_array_new_with_free_func((GDestroyNotify)level_free);
    plan->in_use = g_ptr_array_new_with_free_func((GDestroyNotify)vn_in_use_free);
    if (!pool)
        pool = default_pool = vn_nest_default_pool();
    g_ptr_array_add(layers, (gpointer)layer);
    for (guint i = 0; others && i < others->len; i++)
        g_ptr_array_add(layers, others->pdata[i]);

    if (!check_options(layer, opts, net, guest, error) || !(ip = ipv4_of(net)))
        return NULL;
    plan->network = g_strdup(net->name);
    plan->bridge = g_strdup(net->bridge);
    plan->network_subnet = ip->subnet;
    plan->guest = g_strdup(opts->guest);
    plan->guest_exists = guest != NULL;
    if (!choose_mac(plan, layers, taken_macs, opts, net, guest, error) ||
        !choose_address(plan, layer, net, error) ||
        !choose_subnets(plan, layer, others, opts, pool, guest, error))
        return NULL;
    link_levels(plan, layers, taken_macs, opts);
    return g_steal_pointer(&plan);
}

/* @s as XML text or a quoted attribute value: the five specials as
 * references, tab, newline and return as character references (a parser
 * turns them to spaces in an attribute otherwise), and the other control
 * characters, which XML 1.0 cannot carry at all, left out, as libvirt's
 * own writer does (virBufferEscapeString): the XML then names the object
 * as libvirt's does. vn_nest_plan() refuses such a guest name before. */
static void
append_escaped(GString *out, const char *s)
{
    for (const guchar *p = (const guchar *)s; p && *p; p++) {
        switch (*p) {
        case '&': g_string_append(out, "&amp;"); break;
        case '<': g_string_append(out, "&lt;"); break;
        case '>': g_string_append(out, "&gt;"); break;
        case '"': g_string_append(out, "&quot;"); break;
        case '\'': g_string_append(out, "&apos;"); break;
        case '\t': case '\n': case '\r':
            g_string_append_printf(out, "&#%d;", *p);
            break;
        default:
            if (*p >= 0x20)
                g_string_append_c(out, (char)*p);
        }
    }
}

static char *
escaped(const char *s)
{
    GString *out = g_string_new(NULL);

    append_escaped(out, s);
    return g_string_free(out, FALSE);
}

gboolean
vn_nest_host_name_ok(const char *name)
{
    if (!name || !g_ascii_isalpha(name[0]))
        return FALSE;
    for (const char *p = name; *p; p++)
        if (!g_ascii_isalnum(*p) && *p != '-' && *p != '.')
            return FALSE;
    return TRUE;
}

char *
vn_nest_dhcp_host_xml(const char *mac, const char *name, const VnCidr *ip)
{
    g_autofree char *m = escaped(mac), *n = escaped(name);
    char b[VN_CIDR_STRLEN];

    if (!vn_nest_host_name_ok(name))
        return g_strdup_printf("<host mac='%s' ip='%s'/>", m,
                               vn_cidr_format(ip, FALSE, b));
    return g_strdup_printf("<host mac='%s' name='%s' ip='%s'/>", m, n,
                           vn_cidr_format(ip, FALSE, b));
}

char *
vn_nest_level_network_xml(const VnNestLevel *l)
{
    GString *s = g_string_new("<network>\n");
    char a[VN_CIDR_STRLEN], r1[VN_CIDR_STRLEN], r2[VN_CIDR_STRLEN];
    VnCidr addr = l->address;

    g_string_append(s, "  <name>");
    append_escaped(s, l->network);
    g_string_append(s, "</name>\n");
    if (l->peers->len) {
        g_string_append(s, "  <metadata>\n"
                           "    <nest:network xmlns:nest=\"" VN_NS_URI "\">\n");
        for (guint i = 0; i < l->peers->len; i++)
            g_string_append_printf(s, "      <nest:peer subnet=\"%s\"/>\n",
                                   vn_cidr_format(&g_array_index(l->peers,
                                                                 VnCidr, i),
                                                  TRUE, a));
        g_string_append(s, "    </nest:network>\n  </metadata>\n");
    }
    g_string_append(s, "  <forward mode='nat'/>\n");
    g_string_append(s, "  <bridge name='");
    append_escaped(s, l->bridge);
    g_string_append(s, "' stp='on' delay='0'/>\n");
    addr.prefix = 32;
    g_string_append_printf(s, "  <ip address='%s' prefix='%u'>\n    <dhcp>\n"
                           "      <range start='%s' end='%s'/>\n",
                           vn_cidr_format(&addr, FALSE, a), l->subnet.prefix,
                           vn_cidr_format(&l->range_start, FALSE, r1),
                           vn_cidr_format(&l->range_end, FALSE, r2));
    if (l->guest) {
        g_autofree char *h = vn_nest_dhcp_host_xml(l->guest_mac, l->guest,
                                                   &l->guest_address);

        g_string_append_printf(s, "      %s\n", h);
    }
    g_string_append(s, "    </dhcp>\n  </ip>\n</network>\n");
    return g_string_free(s, FALSE);
}

char *
vn_nest_guest_element(GArray *routes, const char *uplink_mac,
                      const VnCidr *uplink_address, VnMetaForm form)
{
    gboolean bare = form == VN_META_BARE;
    const char *ind = bare ? "" : "  ", *nl = bare ? "" : "\n";
    const char *pre = form == VN_META_PREFIXED ? VN_NS_PREFIX ":" : "";
    GString *s = g_string_new(NULL);
    char a[VN_CIDR_STRLEN];

    if (form == VN_META_PREFIXED)
        g_string_append(s, "<" VN_NS_PREFIX ":guest xmlns:" VN_NS_PREFIX
                           "=\"" VN_NS_URI "\">\n");
    else if (form == VN_META_VIRSH)
        g_string_append(s, "<guest xmlns=\"" VN_NS_URI "\">\n");
    else
        g_string_append(s, "<guest>");
    if (uplink_mac || (uplink_address && !vn_cidr_is_empty(uplink_address))) {
        g_string_append_printf(s, "%s<%suplink", ind, pre);
        if (uplink_mac) {
            g_string_append(s, " mac=\"");
            append_escaped(s, uplink_mac);
            g_string_append_c(s, '"');
        }
        if (uplink_address && !vn_cidr_is_empty(uplink_address))
            g_string_append_printf(s, " address=\"%s\"",
                                   vn_cidr_format(uplink_address, FALSE, a));
        g_string_append_printf(s, "/>%s", nl);
    }
    for (guint i = 0; routes && i < routes->len; i++)
        g_string_append_printf(s, "%s<%sroute subnet=\"%s\"/>%s", ind, pre,
                               vn_cidr_format(&g_array_index(routes, VnCidr, i),
                                              TRUE, a), nl);
    g_string_append_printf(s, "</%sguest>%s", pre, nl);
    return g_string_free(s, FALSE);
}

char *
vn_nest_guest_metadata(GArray *routes, const char *uplink_mac)
{
    return vn_nest_guest_element(routes, uplink_mac, NULL, VN_META_PREFIXED);
}

char *
vn_nest_guest_metadata_virsh(GArray *routes)
{
    return vn_nest_guest_element(routes, NULL, NULL, VN_META_VIRSH);
}

void
vn_collision_free(VnCollision *c)
{
    if (!c)
        return;
    g_free(c->network);
    g_free(c->link);
    g_free(c->xml);
    g_free(c);
}

char *
vn_collision_describe(const VnCollision *c)
{
    char a[VN_CIDR_STRLEN], b[VN_CIDR_STRLEN], d[VN_CIDR_STRLEN];

    vn_cidr_format(&c->subnet, TRUE, a);
    vn_cidr_format(&c->address, TRUE, b);
    if (vn_cidr_is_empty(&c->renumber))
        return g_strdup_printf("network '%s' (%s) collides with %s on %s, so "
                               "libvirt refuses to start it; the pool has no "
                               "free subnet to renumber it to", c->network, a,
                               b, c->link);
    return g_strdup_printf("network '%s' (%s) collides with %s on %s, so libvirt "
                           "refuses to start it ('Network is already in use by "
                           "interface %s'); renumber it to %s", c->network, a,
                           b, c->link, c->link,
                           vn_cidr_format(&c->renumber, TRUE, d));
}

GPtrArray *
vn_nest_collisions(const VnLayer *layer, GPtrArray *others,
                   const VnNestOptions *opts)
{
    GPtrArray *out = g_ptr_array_new_with_free_func((GDestroyNotify)vn_collision_free);
    g_autoptr(GPtrArray) busy =
        g_ptr_array_new_with_free_func((GDestroyNotify)vn_in_use_free);
    g_autoptr(GArray) default_pool = NULL;
    GArray *pool = opts && opts->pool ? opts->pool
                                      : (default_pool = vn_nest_default_pool());

    if (!layer->host)
        return out;
    vn_in_use_collect(layer, "", busy);
    for (guint i = 0; others && i < others->len; i++)
        vn_in_use_collect(others->pdata[i], "", busy);
    for (guint i = 0; i < layer->networks->len; i++) {
        const VnNetwork *n = layer->networks->pdata[i];
        const VnLink *br = vn_host_find_link_by_name(layer->host, n->bridge);

        for (guint j = 0; j < n->ips->len; j++) {
            const VnNetIp *ip = n->ips->pdata[j];

            for (guint k = 0; k < layer->host->addrs->len; k++) {
                const VnHostAddr *h = layer->host->addrs->pdata[k];
                const VnLink *l = vn_host_find_link(layer->host, h->ifindex);
                VnCollision *c;
                VnInUse *mine;

                if ((br && h->ifindex == br->ifindex) ||
                    !vn_cidr_overlaps(&ip->subnet, &h->address))
                    continue;
                c = g_new0(VnCollision, 1);
                c->network = g_strdup(n->name);
                c->subnet = ip->subnet;
                c->address = h->address;
                c->link = g_strdup(l ? l->name : "?");
                g_ptr_array_add(out, c);
                if (!free_subnet(pool, ip->subnet.prefix, busy, &c->renumber))
                    break;
                /* the network as it should be: same name, bridge and peers */
                {
                    VnNestLevel *lv = new_level(0, &c->renumber);
                    VnCidr base = c->renumber;

                    g_free(lv->network);
                    g_free(lv->bridge);
                    lv->network = g_strdup(n->name);
                    lv->bridge = g_strdup(n->bridge ? n->bridge : "virbr0");
                    base.prefix = 32;
                    vn_cidr_add(&base, 2, &lv->range_start);
                    g_array_append_vals(lv->peers, n->peers->data, n->peers->len);
                    c->xml = vn_nest_level_network_xml(lv);
                    level_free(lv);
                }
                mine = g_new0(VnInUse, 1);
                mine->cidr = c->renumber;
                mine->what = g_strdup("renumbered");
                g_ptr_array_add(busy, mine);
                break;
            }
        }
    }
    return out;
}

/* A guest as it will be: its uplink on @net with @mac, and @routes. */
static VnGuest *
future_guest(const char *name, const char *mac, const VnNetwork *net,
             GArray *routes)
{
    VnGuest *g = vn_guest_new();
    VnIface *iface = vn_iface_new();

    g->name = g_strdup(name);
    g->id = 1;
    g->state = g_strdup("running");
    g->nest = TRUE;
    g_array_append_vals(g->routes, routes->data, routes->len);
    iface->type = g_strdup("network");
    iface->mac = g_strdup(mac);
    iface->network = g_strdup(net->name);
    iface->bridge = g_strdup(net->bridge);
    g_ptr_array_add(g->ifaces, iface);
    return g;
}

static gboolean
add_route_lines(GPtrArray *out, guint layer_no, VnGuest *g, VnNetwork *net,
                const VnConfig *config, GError **error)
{
    g_autoptr(GPtrArray) nets = g_ptr_array_new();
    g_autoptr(VnPlan) p = vn_plan_new();

    g_ptr_array_add(nets, net);
    if (!vn_plan_guest(p, g, nets, NULL, NULL, config, 0, error)) {
        g_prefix_error(error, "the L%u hook would refuse this plan: ",
                       layer_no);
        return FALSE;
    }
    for (guint i = 0; i < p->routes->len; i++) {
        g_autofree char *d = vn_route_describe(p->routes->pdata[i]);

        g_ptr_array_add(out, g_strdup_printf("L%u: route %s (domain '%s' "
                                             "started)", layer_no, d, g->name));
    }
    return TRUE;
}

GPtrArray *
vn_nest_installs(const VnNestPlan *plan, const VnLayer *layer,
                 const VnConfig *config, GError **error)
{
    g_autoptr(GPtrArray) out = g_ptr_array_new_with_free_func(g_free);
    const VnNetwork *cur = vn_layer_find_network(layer, plan->network);
    g_autoptr(VnNetwork) net0 = NULL;
    g_autoptr(VnGuest) g0 = NULL;

    if (!cur)
        return g_steal_pointer(&out);
    /* this layer's network, with the guest's reservation */
    {
        VnNetwork *n = vn_network_new();
        VnNetIp *ip = vn_net_ip_new();
        VnDhcpHost *h = g_new0(VnDhcpHost, 1);

        n->name = g_strdup(cur->name);
        n->bridge = g_strdup(cur->bridge);
        n->forward_mode = g_strdup(cur->forward_mode);
        ip->address = plan->network_subnet;
        ip->subnet = plan->network_subnet;
        h->mac = g_strdup(plan->mac);
        h->ip = plan->address;
        g_ptr_array_add(ip->hosts, h);
        g_ptr_array_add(n->ips, ip);
        net0 = n;
    }
    g0 = future_guest(plan->guest, plan->mac, net0, plan->routes);
    if (!add_route_lines(out, 0, g0, net0, config, error))
        return NULL;
    /* every level, as its hook will read it: what it refuses fails the
     * plan, never a level left out of this list */
    for (guint k = 0; k < plan->levels->len; k++) {
        const VnNestLevel *l = plan->levels->pdata[k];
        g_autofree char *xml = vn_nest_level_network_xml(l);
        g_autoptr(GError) nest_err = NULL;
        g_autoptr(VnNetwork) n = vn_network_parse(xml, -1, &nest_err, error);
        g_autoptr(VnPlan) p = vn_plan_new();
        gboolean bad_meta = n && nest_err;

        if (bad_meta)
            g_propagate_error(error, g_steal_pointer(&nest_err));
        if (!n || bad_meta || !vn_plan_network(p, n, config, error)) {
            g_prefix_error(error, "the L%u hook would refuse this plan: "
                           "network '%s': ", l->level, l->network);
            return NULL;
        }
        vn_plan_sort(p);
        for (guint i = 0; i < p->rules->len; i++) {
            const VnRule *r = p->rules->pdata[i];
            g_autofree char *d = vn_rule_describe(r);

            g_ptr_array_add(out, g_strdup_printf(
                "L%u: %s %s (network '%s' started)", l->level,
                r->kind == VN_RULE_NAT ? "nat" : "forward", d, n->name));
        }
        if (l->guest) {
            g_autoptr(VnGuest) g = future_guest(l->guest, l->guest_mac, n,
                                                l->guest_routes);

            if (!add_route_lines(out, l->level, g, n, config, error))
                return NULL;
        }
    }
    return g_steal_pointer(&out);
}
