/* layerplan.c: the routes and forward exceptions a layer needs.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include <string.h>

#include "error.h"
#include "layerplan.h"

const char *
vn_rule_kind_to_string(VnRuleKind kind)
{
    switch (kind) {
    case VN_RULE_IN:
        return "in";
    case VN_RULE_OUT:
        return "out";
    case VN_RULE_NAT:
        return "nat";
    }
    return "?";
}

VnPlan *
vn_plan_new(void)
{
    VnPlan *plan = g_new0(VnPlan, 1);

    plan->routes = g_ptr_array_new_with_free_func((GDestroyNotify)vn_route_free);
    plan->rules = g_ptr_array_new_with_free_func((GDestroyNotify)vn_rule_free);
    plan->problems = g_ptr_array_new_with_free_func((GDestroyNotify)vn_problem_free);
    return plan;
}

void
vn_plan_free(VnPlan *plan)
{
    if (!plan)
        return;
    g_ptr_array_unref(plan->routes);
    g_ptr_array_unref(plan->rules);
    g_ptr_array_unref(plan->problems);
    g_free(plan);
}

void
vn_route_free(VnRoute *route)
{
    if (!route)
        return;
    g_free(route->guest);
    g_free(route->network);
    g_free(route->dev);
    g_free(route);
}

void
vn_rule_free(VnRule *rule)
{
    if (!rule)
        return;
    g_free(rule->network);
    g_free(rule->bridge);
    g_free(rule);
}

VnRoute *
vn_route_copy(const VnRoute *route)
{
    VnRoute *r = g_memdup2(route, sizeof(*route));

    r->guest = g_strdup(route->guest);
    r->network = g_strdup(route->network);
    r->dev = g_strdup(route->dev);
    return r;
}

VnRule *
vn_rule_copy(const VnRule *rule)
{
    VnRule *r = g_memdup2(rule, sizeof(*rule));

    r->network = g_strdup(rule->network);
    r->bridge = g_strdup(rule->bridge);
    return r;
}

char *
vn_rule_describe(const VnRule *rule)
{
    char s[VN_CIDR_STRLEN], d[VN_CIDR_STRLEN];

    vn_cidr_format(&rule->src, TRUE, s);
    vn_cidr_format(&rule->dst, TRUE, d);
    switch (rule->kind) {
    case VN_RULE_IN:
        return g_strdup_printf("-s %s -d %s -o %s -j ACCEPT", s, d,
                               rule->bridge);
    case VN_RULE_OUT:
        return g_strdup_printf("-s %s -d %s -i %s -j ACCEPT", s, d,
                               rule->bridge);
    case VN_RULE_NAT:
        return g_strdup_printf("-s %s -d %s -j ACCEPT", s, d);
    }
    return NULL;
}

/* nft keeps rule comments to 127 characters (NFTNL_UDATA_COMMENT_MAXLEN);
 * longer ones are shortened to a hash that stays unique and stable. */
#define COMMENT_MAX 127

static char *
short_hash(const char *text)
{
    g_autofree char *h = g_compute_checksum_for_string(G_CHECKSUM_SHA256,
                                                       text, -1);

    return g_strndup(h, 16);
}

gboolean
vn_rule_comment_is_ours(const char *comment)
{
    return comment && g_str_has_prefix(comment, "virt-nest ");
}

/* The network's name as a comment holds it: no space (the prefix of one
 * network is then never the start of another's comments), no quote or
 * backslash (iptables-save, nft and shells each quote differently), no
 * control byte and nothing past ASCII; '%' and '#' are escaped too, so
 * that the escape is one-to-one and never looks like the hashed form. */
static char *
comment_name(const char *network)
{
    GString *out = g_string_new(NULL);

    for (const guchar *p = (const guchar *)network; *p; p++) {
        if (g_ascii_isalnum(*p) || strchr("-_.:+@,=[]~^", *p))
            g_string_append_c(out, (char)*p);
        else
            g_string_append_printf(out, "%%%02X", *p);
    }
    return g_string_free(out, FALSE);
}

char *
vn_rule_comment_prefix(const char *network)
{
    g_autofree char *name = comment_name(network);
    g_autofree char *h = NULL;

    if (strlen(name) <= 64)
        return g_strdup_printf("virt-nest %s ", name);
    h = short_hash(network);
    return g_strdup_printf("virt-nest #%s ", h);
}

char *
vn_rule_comment(const VnRule *rule)
{
    char s[VN_CIDR_STRLEN], d[VN_CIDR_STRLEN];
    g_autofree char *prefix = vn_rule_comment_prefix(rule->network);
    g_autofree char *full = g_strdup_printf("%s%s %s>%s", prefix,
                                            vn_rule_kind_to_string(rule->kind),
                                            vn_cidr_format(&rule->src, TRUE, s),
                                            vn_cidr_format(&rule->dst, TRUE, d));
    g_autofree char *h = NULL;

    if (strlen(full) <= COMMENT_MAX)
        return g_steal_pointer(&full);
    h = short_hash(full);
    return g_strdup_printf("%s%s #%s", prefix,
                           vn_rule_kind_to_string(rule->kind), h);
}

char *
vn_route_describe(const VnRoute *route)
{
    char d[VN_CIDR_STRLEN], v[VN_CIDR_STRLEN];

    vn_cidr_format(&route->dst, TRUE, d);
    if (vn_cidr_is_empty(&route->via))
        return g_strdup_printf("%s via ? dev %s", d, route->dev);
    return g_strdup_printf("%s via %s dev %s", d,
                           vn_cidr_format(&route->via, FALSE, v), route->dev);
}

static guint
min_prefix(const VnConfig *config, int family)
{
    return family == AF_INET6 ? config->min_prefix_v6 : config->min_prefix_v4;
}

/* The checks every subnet from metadata goes through. @what is the element
 * as the user wrote it. */
static gboolean
check_subnet(const VnCidr *c, const char *what, gboolean is_peer,
             const VnConfig *config, GError **error)
{
    char buf[VN_CIDR_STRLEN];

    vn_cidr_format(c, TRUE, buf);
    if (c->prefix == 0) {
        if (is_peer && config->allow_any_peer)
            return TRUE;
        g_set_error(error, VN_ERROR, VN_ERROR_REFUSED,
                    is_peer ? "%s: %s lets every address in; name the outer "
                              "subnets, or set allow_any_peer=true in "
                              "[limits] of virt-nest.conf"
                            : "%s: a default route is never delegated; name "
                              "the nested subnets",
                    what, buf);
        return FALSE;
    }
    if (c->prefix < min_prefix(config, c->family) &&
        !(is_peer && config->allow_any_peer)) {
        g_set_error(error, VN_ERROR, VN_ERROR_REFUSED,
                    "%s: %s is wider than /%u; use narrower subnets, or allow "
                    "it by lowering min_prefix_v%d to %u in [limits] of "
                    "virt-nest.conf",
                    what, buf, min_prefix(config, c->family),
                    c->family == AF_INET6 ? 6 : 4, c->prefix);
        return FALSE;
    }
    return TRUE;
}

static gboolean
check_count(guint n, const char *what, const VnConfig *config,
            GError **error)
{
    if (n > config->max_entries) {
        g_set_error(error, VN_ERROR, VN_ERROR_REFUSED,
                    "%u %s entries, more than the limit of %u; merge them "
                    "or raise max_entries in [limits] of virt-nest.conf",
                    n, what, config->max_entries);
        return FALSE;
    }
    return TRUE;
}

static const VnNetwork *
find_network(GPtrArray *networks, const VnIface *iface)
{
    for (guint i = 0; networks && i < networks->len; i++) {
        const VnNetwork *net = networks->pdata[i];

        if (iface->network && g_strcmp0(net->name, iface->network) == 0)
            return net;
    }
    for (guint i = 0; networks && !iface->network && i < networks->len; i++) {
        const VnNetwork *net = networks->pdata[i];

        if (iface->bridge && g_strcmp0(net->bridge, iface->bridge) == 0)
            return net;
    }
    return NULL;
}

static const char *
family_name(int family)
{
    return family == AF_INET6 ? "IPv6" : "IPv4";
}

/* TRUE when guests on @net have @family there: an <ip> of it, or for IPv6
 * ipv6='yes' (libvirt disables IPv6 on a bridge that has neither). */
static gboolean
network_has_family(const VnNetwork *net, int family)
{
    for (guint i = 0; i < net->ips->len; i++)
        if (((const VnNetIp *)net->ips->pdata[i])->subnet.family == family)
            return TRUE;
    return family == AF_INET6 && net->ipv6;
}

/* What the kernel would refuse of a guest's routes on its uplink's
 * network, told from the metadata and the network's XML alone, so that
 * status, plan and the hook (at prepare already) say it before a start
 * fails with the kernel's errno: a next hop outside the network, or the
 * host's own address there; a route of a family the network does not
 * carry. @net NULL (a type='bridge' uplink, a network the hook cannot
 * read): nothing to check against; the route install says what failed. */
static gboolean
check_uplink_network(const VnGuest *guest, const VnNetwork *net,
                     GError **error)
{
    const VnCidr *ua = &guest->uplink_address;
    char a[VN_CIDR_STRLEN], b[VN_CIDR_STRLEN];

    if (!net)
        return TRUE;
    if (!vn_cidr_is_empty(ua)) {
        g_autoptr(GString) subnets = g_string_new(NULL);
        gboolean inside = FALSE;

        vn_cidr_format(ua, FALSE, a);
        for (guint i = 0; i < net->ips->len; i++) {
            const VnNetIp *ip = net->ips->pdata[i];

            if (ip->subnet.family != ua->family)
                continue;
            if (vn_cidr_address_equal(&ip->address, ua)) {
                g_set_error(error, VN_ERROR, VN_ERROR_INVALID,
                            "domain '%s': <nest:uplink address='%s'>: that is "
                            "the host's own address on network '%s' (bridge "
                            "%s), not the guest's; give the guest's address "
                            "there, or drop address= to use its DHCP "
                            "reservation or lease", guest->name, a,
                            net->name, net->bridge ? net->bridge : "?");
                return FALSE;
            }
            inside = inside || vn_cidr_contains(&ip->subnet, ua);
            g_string_append_printf(subnets, "%s%s", subnets->len ? ", " : "",
                                   vn_cidr_format(&ip->subnet, TRUE, b));
        }
        if (ua->family == AF_INET6 && vn_cidr_is_link_local(ua) &&
            network_has_family(net, AF_INET6))
            inside = TRUE;
        if (!inside) {
            g_set_error(error, VN_ERROR, VN_ERROR_INVALID,
                        "domain '%s': <nest:uplink address='%s'>: not on "
                        "network '%s' (%s%s), so no route can go through it "
                        "from bridge %s; give the guest's %s address on "
                        "that network, or drop address= to use its DHCP "
                        "reservation or lease", guest->name, a, net->name,
                        subnets->len ? subnets->str : "no ",
                        subnets->len ? "" : family_name(ua->family),
                        net->bridge ? net->bridge : "?",
                        family_name(ua->family));
            return FALSE;
        }
    }
    for (guint i = 0; i < guest->routes->len; i++) {
        const VnCidr *dst = &g_array_index(guest->routes, VnCidr, i);

        if (network_has_family(net, dst->family))
            continue;
        vn_cidr_format(dst, TRUE, a);
        if (dst->family == AF_INET6)
            g_set_error(error, VN_ERROR, VN_ERROR_INVALID,
                        "domain '%s': <nest:route subnet='%s'>: network '%s' "
                        "has no IPv6, and libvirt disables IPv6 on its "
                        "bridge %s, so the route cannot go there; add an "
                        "<ip family='ipv6'> (or ipv6='yes') to network '%s', "
                        "or drop the route", guest->name, a, net->name,
                        net->bridge ? net->bridge : "?", net->name);
        else
            g_set_error(error, VN_ERROR, VN_ERROR_INVALID,
                        "domain '%s': <nest:route subnet='%s'>: network '%s' "
                        "has no IPv4 subnet, so the guest has no IPv4 "
                        "address there to route through; add an <ip> to "
                        "network '%s', or drop the route", guest->name, a,
                        net->name, net->name);
        return FALSE;
    }
    return TRUE;
}

/* @early: before the guest's TAP exists (qemu prepare): what is not known
 * yet (the bridge, the next hop) is not refused; the install event, with
 * the live XML, decides those. */
static gboolean
plan_guest(VnPlan *plan, const VnGuest *guest, GPtrArray *networks,
           GPtrArray *leases, const VnHost *host, const VnConfig *config,
           gint64 now, gboolean early, GError **error)
{
    g_autoptr(GPtrArray) routes =
        g_ptr_array_new_with_free_func((GDestroyNotify)vn_route_free);
    g_autoptr(GError) err = NULL;
    const VnIface *up = vn_guest_uplink(guest);
    const VnNetwork *net;
    const char *dev;

    if (!up) {
        g_set_error(error, VN_ERROR, VN_ERROR_INVALID,
                    "domain '%s': <nest:guest> has no uplink: the domain has "
                    "no type='network' interface; add <nest:uplink mac=...>",
                    guest->name);
        return FALSE;
    }
    net = find_network(networks, up);
    dev = vn_iface_bridge(up, net);
    if (!dev && !early) {
        g_set_error(error, VN_ERROR, VN_ERROR_INVALID,
                    "domain '%s': uplink %s: no bridge known for network "
                    "'%s'; start the network first", guest->name,
                    up->mac ? up->mac : "?",
                    up->network ? up->network : "?");
        return FALSE;
    }
    if (!check_count(guest->routes->len, "<nest:route>", config, &err)) {
        g_set_error(error, VN_ERROR, VN_ERROR_REFUSED, "domain '%s': %s",
                    guest->name, err->message);
        return FALSE;
    }
    for (guint i = 0; i < guest->routes->len; i++) {
        const VnCidr *dst = &g_array_index(guest->routes, VnCidr, i);
        char buf[VN_CIDR_STRLEN];
        g_autofree char *what = g_strdup_printf("<nest:route subnet='%s'>",
                                                vn_cidr_format(dst, TRUE, buf));
        g_autofree char *clash = NULL;
        VnGuestAddr ga;
        VnRoute *r;

        if (!check_subnet(dst, what, FALSE, config, &err)) {
            g_set_error(error, VN_ERROR, VN_ERROR_REFUSED, "domain '%s': %s",
                        guest->name, err->message);
            return FALSE;
        }
        for (guint j = 0; networks && j < networks->len; j++) {
            const VnNetwork *n = networks->pdata[j];

            for (guint k = 0; k < n->ips->len && !clash; k++) {
                const VnNetIp *ip = n->ips->pdata[k];

                if (vn_cidr_overlaps(dst, &ip->subnet))
                    clash = g_strdup_printf("network '%s' (%s)", n->name,
                                            vn_cidr_format(&ip->subnet, TRUE,
                                                           buf));
            }
        }
        r = g_new0(VnRoute, 1);
        r->guest = g_strdup(guest->name);
        r->network = g_strdup(net ? net->name : up->network);
        r->dev = g_strdup(dev);
        r->dst = *dst;
        if (vn_guest_iface_address(guest, up, net, leases, now, dst->family,
                                   &ga)) {
            r->via = ga.address;
            r->via.prefix = (guint8)vn_cidr_max_prefix(r->via.family);
            r->via_source = ga.source;
        } else if (dst->family == AF_INET6 &&
                   vn_mac_link_local(up->mac, &r->via)) {
            /* libvirt's IPv6 reservations are by DUID or name, not MAC:
             * the guest's EUI-64 link-local address is the next hop */
            r->via_source = VN_SOURCE_LINKLOCAL;
        }
        g_ptr_array_add(routes, r);
        if (!clash && !vn_cidr_is_empty(&r->via) && dev) {
            /* the seed's own hand fix, exactly this route, is no clash */
            const VnLink *l = vn_host_find_link_by_name(host, dev);
            VnHostRoute need = { .dst = *dst, .gateway = r->via,
                                 .oif = l ? l->ifindex : -1 };

            vn_host_overlaps(host, dst, &need, &clash);
        } else if (!clash && early) {
            /* the next hop is not known yet: a route to exactly this
             * subnet may be the hand fix the install event adopts */
            VnHostRoute need = { .dst = *dst, .oif = 0 };

            vn_host_overlaps(host, dst, &need, &clash);
        } else if (!clash) {
            vn_host_overlaps(host, dst, NULL, &clash);
        }
        if (clash) {
            g_set_error(error, VN_ERROR, VN_ERROR_REFUSED,
                        "domain '%s': %s: overlaps this host's %s; a nested "
                        "subnet must be new to this layer (virt-nest plan "
                        "picks one)", guest->name, what, clash);
            return FALSE;
        }
    }
    if (!check_uplink_network(guest, net, error))
        return FALSE;
    for (guint i = 0; i < routes->len; i++)
        g_ptr_array_add(plan->routes, vn_route_copy(routes->pdata[i]));
    return TRUE;
}

gboolean
vn_plan_guest(VnPlan *plan, const VnGuest *guest, GPtrArray *networks,
              GPtrArray *leases, const VnHost *host, const VnConfig *config,
              gint64 now, GError **error)
{
    return plan_guest(plan, guest, networks, leases, host, config, now, FALSE,
                      error);
}

gboolean
vn_plan_guest_check(const VnGuest *guest, GPtrArray *networks,
                    const VnHost *host, const VnConfig *config, GError **error)
{
    g_autoptr(VnPlan) plan = vn_plan_new();

    return plan_guest(plan, guest, networks, NULL, host, config, 0, TRUE,
                      error);
}

static void
add_rule(GPtrArray *rules, VnRuleKind kind, const VnNetwork *net,
         const VnCidr *src, const VnCidr *dst)
{
    VnRule *r = g_new0(VnRule, 1);

    r->kind = kind;
    r->network = g_strdup(net->name);
    r->bridge = g_strdup(net->bridge);
    r->src = *src;
    r->dst = *dst;
    g_ptr_array_add(rules, r);
}

gboolean
vn_plan_network(VnPlan *plan, const VnNetwork *net, const VnConfig *config,
                GError **error)
{
    g_autoptr(GPtrArray) rules =
        g_ptr_array_new_with_free_func((GDestroyNotify)vn_rule_free);
    g_autoptr(GError) err = NULL;

    if (!net->bridge) {
        g_set_error(error, VN_ERROR, VN_ERROR_INVALID,
                    "network '%s': <nest:network> needs a network with a "
                    "bridge of its own (forward mode %s has none)",
                    net->name, net->forward_mode);
        return FALSE;
    }
    if (net->peers->len && net->ips->len == 0) {
        g_set_error(error, VN_ERROR, VN_ERROR_INVALID,
                    "network '%s': <nest:network> has peers but the network "
                    "has no <ip>; give it a subnet for the peers to reach",
                    net->name);
        return FALSE;
    }
    if (!check_count(net->peers->len, "<nest:peer>", config, &err)) {
        g_set_error(error, VN_ERROR, VN_ERROR_REFUSED, "network '%s': %s",
                    net->name, err->message);
        return FALSE;
    }
    for (guint i = 0; i < net->peers->len; i++) {
        const VnCidr *peer = &g_array_index(net->peers, VnCidr, i);
        char buf[VN_CIDR_STRLEN], nbuf[VN_CIDR_STRLEN];
        g_autofree char *what = g_strdup_printf("<nest:peer subnet='%s'>",
                                                vn_cidr_format(peer, TRUE, buf));
        gboolean matched = FALSE;

        if (!check_subnet(peer, what, TRUE, config, &err)) {
            g_set_error(error, VN_ERROR, VN_ERROR_REFUSED, "network '%s': %s",
                        net->name, err->message);
            return FALSE;
        }
        for (guint j = 0; j < net->ips->len; j++) {
            const VnNetIp *ip = net->ips->pdata[j];

            if (ip->subnet.family != peer->family)
                continue;
            /* "any" (allowed by configuration) includes the network itself */
            if (vn_cidr_overlaps(peer, &ip->subnet) &&
                !(peer->prefix == 0 && config->allow_any_peer)) {
                g_set_error(error, VN_ERROR, VN_ERROR_REFUSED,
                            "network '%s': %s: overlaps the network's own "
                            "subnet %s; a peer is an outer subnet",
                            net->name, what,
                            vn_cidr_format(&ip->subnet, TRUE, nbuf));
                return FALSE;
            }
            matched = TRUE;
            add_rule(rules, VN_RULE_IN, net, peer, &ip->subnet);
            add_rule(rules, VN_RULE_OUT, net, &ip->subnet, peer);
            if (!config->masquerade_peers)
                add_rule(rules, VN_RULE_NAT, net, &ip->subnet, peer);
        }
        if (!matched) {
            g_set_error(error, VN_ERROR, VN_ERROR_INVALID,
                        "network '%s': %s: the network has no %s subnet for "
                        "this peer; add an <ip family='%s'> or drop the peer",
                        net->name, what,
                        peer->family == AF_INET6 ? "IPv6" : "IPv4",
                        peer->family == AF_INET6 ? "ipv6" : "ipv4");
            return FALSE;
        }
    }
    for (guint i = 0; i < rules->len; i++)
        g_ptr_array_add(plan->rules, vn_rule_copy(rules->pdata[i]));
    return TRUE;
}

static void
add_problem(VnPlan *plan, const char *kind, const char *name,
            const GError *err)
{
    g_autofree char *object = g_strdup_printf("%s '%s'", kind, name);

    vn_problems_add_error(plan->problems, object, err);
}

VnPlan *
vn_plan_layer(const VnLayer *layer, const VnConfig *config, gint64 now)
{
    VnPlan *plan = vn_plan_new();

    for (guint i = 0; i < layer->networks->len; i++) {
        const VnNetwork *net = layer->networks->pdata[i];
        g_autoptr(GError) err = NULL;

        if (net->nest && !vn_plan_network(plan, net, config, &err))
            add_problem(plan, "network", net->name, err);
    }
    for (guint i = 0; i < layer->guests->len; i++) {
        const VnGuest *guest = layer->guests->pdata[i];
        g_autoptr(GError) err = NULL;

        if (guest->nest &&
            !vn_plan_guest(plan, guest, layer->networks, layer->leases,
                           layer->host, config, now, &err))
            add_problem(plan, "domain", guest->name, err);
    }
    vn_plan_sort(plan);
    return plan;
}

static int
cmp_route(gconstpointer a, gconstpointer b)
{
    const VnRoute *x = *(VnRoute *const *)a;
    const VnRoute *y = *(VnRoute *const *)b;
    int r = vn_cidr_compare(&x->dst, &y->dst);

    return r ? r : g_strcmp0(x->guest, y->guest);
}

static int
cmp_rule(gconstpointer a, gconstpointer b)
{
    const VnRule *x = *(VnRule *const *)a;
    const VnRule *y = *(VnRule *const *)b;
    int r;

    if ((r = g_strcmp0(x->network, y->network)))
        return r;
    if (x->src.family != y->src.family)
        return x->src.family < y->src.family ? -1 : 1;
    if (x->kind != y->kind)
        return x->kind < y->kind ? -1 : 1;
    if ((r = vn_cidr_compare(&x->src, &y->src)))
        return r;
    return vn_cidr_compare(&x->dst, &y->dst);
}

void
vn_plan_sort(VnPlan *plan)
{
    g_ptr_array_sort(plan->routes, cmp_route);
    g_ptr_array_sort(plan->rules, cmp_rule);
}
