/* propose.c: the nested subnets a guest's agent reports, and the metadata
 * that would delegate them.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include "agentlayer.h"
#include "layerplan.h"
#include "nestalloc.h"
#include "propose.h"

const char *
vn_nested_state_to_string(VnNestedState state)
{
    switch (state) {
    case VN_NESTED_DELEGATED: return "delegated";
    case VN_NESTED_PROPOSED: return "proposed";
    case VN_NESTED_REFUSED: return "refused";
    }
    return "unknown";
}

static void
nested_free(VnNestedSubnet *n)
{
    g_free(n->iface);
    g_free(n->reason);
    g_free(n);
}

void
vn_proposal_free(VnProposal *proposal)
{
    if (!proposal)
        return;
    g_free(proposal->guest);
    g_ptr_array_unref(proposal->subnets);
    g_free(proposal->metadata);
    g_free(proposal->metadata_set);
    g_free(proposal);
}

/* The network of @layer whose subnet overlaps @subnet, or NULL. */
static const VnNetwork *
own_network(const VnLayer *layer, const VnCidr *subnet)
{
    for (guint i = 0; i < layer->networks->len; i++) {
        const VnNetwork *net = g_ptr_array_index(layer->networks, i);

        for (guint j = 0; j < net->ips->len; j++) {
            const VnNetIp *ip = g_ptr_array_index(net->ips, j);

            if (vn_cidr_overlaps(&ip->subnet, subnet))
                return net;
        }
    }
    return NULL;
}

static gboolean
routes_cover(GArray *routes, const VnCidr *subnet)
{
    for (guint i = 0; i < routes->len; i++) {
        if (vn_cidr_contains(&g_array_index(routes, VnCidr, i), subnet))
            return TRUE;
    }
    return FALSE;
}

/* Another guest of @layer whose <nest:route> overlaps @subnet, or NULL. */
static const VnGuest *
other_delegate(const VnLayer *layer, const VnGuest *guest,
               const VnCidr *subnet)
{
    for (guint i = 0; i < layer->guests->len; i++) {
        const VnGuest *g = g_ptr_array_index(layer->guests, i);

        if (g == guest || g_strcmp0(g->name, guest->name) == 0 || !g->nest)
            continue;
        for (guint j = 0; j < g->routes->len; j++) {
            if (vn_cidr_overlaps(&g_array_index(g->routes, VnCidr, j), subnet))
                return g;
        }
    }
    return NULL;
}

/* Whether @ai is one of @guest's own interfaces on this layer (its MAC is
 * one of the domain's): what it is on belongs to this layer or beyond it
 * (a host bridge's LAN), never to the guest's nest. */
static gboolean
outer_iface(const VnGuest *guest, const VnAgentIface *ai)
{
    if (!ai->mac)
        return FALSE;
    for (guint i = 0; i < guest->ifaces->len; i++) {
        const VnIface *gi = g_ptr_array_index(guest->ifaces, i);

        if (g_strcmp0(gi->mac, ai->mac) == 0)
            return TRUE;
    }
    return FALSE;
}

static gboolean
listed(GPtrArray *subnets, const VnCidr *subnet)
{
    for (guint i = 0; i < subnets->len; i++) {
        const VnNestedSubnet *n = g_ptr_array_index(subnets, i);

        if (vn_cidr_equal(&n->subnet, subnet))
            return TRUE;
    }
    return FALSE;
}

/* The hook's check of @guest with @subnet as its only route. */
static gboolean
hook_would_accept(const VnLayer *layer, const VnGuest *guest,
                  const VnCidr *subnet, const VnConfig *config,
                  GError **error)
{
    VnGuest probe = *guest;     /* shallow: read only */
    g_autoptr(GArray) routes = g_array_new(FALSE, TRUE, sizeof(VnCidr));

    g_array_append_val(routes, *subnet);
    probe.routes = routes;
    probe.nest = TRUE;
    return vn_plan_guest_check(&probe, layer->networks, layer->host, config,
                               error);
}

/* The guest's metadata with every proposed subnet added to its routes:
 * @set, the one-line form for virDomainSetMetadata, else the element as
 * it stands in the domain XML. */
static char *
metadata_for(const VnGuest *guest, GPtrArray *subnets, gboolean set)
{
    g_autoptr(GArray) routes = g_array_new(FALSE, TRUE, sizeof(VnCidr));

    if (guest->nest)
        g_array_append_vals(routes, guest->routes->data, guest->routes->len);
    for (guint i = 0; i < subnets->len; i++) {
        const VnNestedSubnet *n = g_ptr_array_index(subnets, i);

        if (n->state == VN_NESTED_PROPOSED)
            g_array_append_val(routes, n->subnet);
    }
    return vn_nest_guest_element(routes, guest->uplink_mac,
                                 &guest->uplink_address,
                                 set ? VN_META_BARE : VN_META_PREFIXED);
}

/* @n's state and reason, from @subnet alone. TRUE when proposed. */
static gboolean
classify(const VnLayer *layer, const VnGuest *guest, VnNestedSubnet *n,
         const VnConfig *config)
{
    g_autoptr(GError) err = NULL;
    const VnGuest *other;
    const VnNetwork *own;

    if (guest->nest && routes_cover(guest->routes, &n->subnet)) {
        n->state = VN_NESTED_DELEGATED;
    } else if ((other = other_delegate(layer, guest, &n->subnet))) {
        n->state = VN_NESTED_REFUSED;
        n->reason = g_strdup_printf("guest '%s' delegates it already",
                                    other->name);
    } else if (!hook_would_accept(layer, guest, &n->subnet, config, &err)) {
        n->state = VN_NESTED_REFUSED;
        n->reason = g_strdup(err->message);
    } else if ((own = own_network(layer, &n->subnet))) {
        n->state = VN_NESTED_REFUSED;
        n->reason = g_strdup_printf("it overlaps this layer's network '%s'",
                                    own->name);
    } else {
        n->state = VN_NESTED_PROPOSED;
        return TRUE;
    }
    return FALSE;
}

/* A proposal for @guest, with no subnet yet. */
static VnProposal *
proposal_new(const VnGuest *guest)
{
    VnProposal *p = g_new0(VnProposal, 1);

    p->guest = g_strdup(guest->name);
    p->subnets = g_ptr_array_new_with_free_func((GDestroyNotify)nested_free);
    return p;
}

/* @p with its metadata when it proposes a subnet (@any). */
static VnProposal *
proposal_finish(VnProposal *p, const VnGuest *guest, gboolean any)
{
    if (any) {
        p->metadata = metadata_for(guest, p->subnets, FALSE);
        p->metadata_set = metadata_for(guest, p->subnets, TRUE);
    }
    return p;
}

VnProposal *
vn_propose_subnets(const VnLayer *layer, const VnGuest *guest,
                   GArray *subnets, const VnConfig *config)
{
    VnProposal *p = proposal_new(guest);
    gboolean any = FALSE;

    for (guint i = 0; i < subnets->len; i++) {
        VnCidr subnet = vn_cidr_network(&g_array_index(subnets, VnCidr, i));
        VnNestedSubnet *n;

        if (listed(p->subnets, &subnet))
            continue;
        n = g_new0(VnNestedSubnet, 1);
        n->subnet = subnet;
        any |= classify(layer, guest, n, config);
        g_ptr_array_add(p->subnets, n);
    }
    return proposal_finish(p, guest, any);
}

gboolean
vn_proposal_check(const VnLayer *layer, const VnGuest *guest,
                  const VnProposal *proposal, const VnConfig *config,
                  GError **error)
{
    VnGuest probe = *guest;     /* shallow: read only */
    g_autoptr(GArray) routes = g_array_new(FALSE, TRUE, sizeof(VnCidr));

    if (guest->nest)
        g_array_append_vals(routes, guest->routes->data, guest->routes->len);
    for (guint i = 0; i < proposal->subnets->len; i++) {
        const VnNestedSubnet *n = proposal->subnets->pdata[i];

        if (n->state == VN_NESTED_PROPOSED)
            g_array_append_val(routes, n->subnet);
    }
    probe.routes = routes;
    probe.nest = TRUE;
    return vn_plan_guest_check(&probe, layer->networks, layer->host, config,
                               error);
}

char *
vn_peer_metadata(const VnNetwork *net, const VnCidr *peer, gboolean set)
{
    const char *ind = set ? "" : "  ";
    const char *pre = set ? "" : VN_NS_PREFIX ":";
    const char *nl = set ? "" : "\n";
    GString *s = g_string_new(set ? "<network>" :
        "<" VN_NS_PREFIX ":network xmlns:" VN_NS_PREFIX "=\"" VN_NS_URI
        "\">\n");
    char buf[VN_CIDR_STRLEN];
    gboolean have = FALSE;

    for (guint i = 0; net->nest && i < net->peers->len; i++) {
        const VnCidr *c = &g_array_index(net->peers, VnCidr, i);

        have |= vn_cidr_equal(c, peer);
        g_string_append_printf(s, "%s<%speer subnet=\"%s\"/>%s", ind, pre,
                               vn_cidr_format(c, TRUE, buf), nl);
    }
    if (!have)
        g_string_append_printf(s, "%s<%speer subnet=\"%s\"/>%s", ind, pre,
                               vn_cidr_format(peer, TRUE, buf), nl);
    g_string_append(s, set ? "</network>" : "</" VN_NS_PREFIX ":network>\n");
    return g_string_free(s, FALSE);
}

VnProposal *
vn_propose_guest(const VnLayer *layer, const VnGuest *guest,
                 GPtrArray *agent_ifaces, const VnConfig *config)
{
    VnProposal *p = proposal_new(guest);
    gboolean any = FALSE;

    for (guint i = 0; i < agent_ifaces->len; i++) {
        const VnAgentIface *ai = g_ptr_array_index(agent_ifaces, i);

        if (vn_agent_iface_is_loopback(ai) || outer_iface(guest, ai))
            continue;
        for (guint j = 0; j < ai->addrs->len; j++) {
            const VnCidr *addr = &g_array_index(ai->addrs, VnCidr, j);
            VnCidr subnet = vn_cidr_network(addr);
            VnNestedSubnet *n;

            if (vn_cidr_is_link_local(addr) ||
                addr->prefix == vn_cidr_max_prefix(addr->family) ||
                own_network(layer, &subnet) || listed(p->subnets, &subnet))
                continue;
            n = g_new0(VnNestedSubnet, 1);
            n->iface = g_strdup(ai->name);
            n->address = *addr;
            n->subnet = subnet;
            any |= classify(layer, guest, n, config);
            g_ptr_array_add(p->subnets, n);
        }
    }
    return proposal_finish(p, guest, any);
}
