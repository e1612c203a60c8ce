/* propose.h: the nested subnets a running guest hosts, as its agent tells
 * them, and the metadata that would delegate them.
 *
 * The agent's answer is the guest's word: anyone inside the guest can
 * make it. It is only ever shown and proposed from; routes come from
 * metadata alone (layerplan.h). Pure.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <glib.h>

#include "model.h"
#include "vnconfig.h"

G_BEGIN_DECLS

typedef enum {
    VN_NESTED_DELEGATED = 0,  /* the guest's <nest:route> already covers it */
    VN_NESTED_PROPOSED,       /* not routed; the metadata below would */
    VN_NESTED_REFUSED,        /* not routed, and the hook would refuse it */
} VnNestedState;

const char *vn_nested_state_to_string(VnNestedState state);

/* One subnet an interface inside the guest is on. */
typedef struct {
    char *iface;              /* the interface inside the guest: "virbr0";
                               * NULL when the user named the subnet */
    VnCidr address;           /* its address there: 192.168.124.1/24
                               * (empty when the user named the subnet) */
    VnCidr subnet;            /* 192.168.124.0/24 */
    VnNestedState state;
    char *reason;             /* refused: why, on one line */
} VnNestedSubnet;

typedef struct {
    char *guest;
    GPtrArray *subnets;       /* VnNestedSubnet, in the agent's order */
    /* The <nest:guest> element that delegates every proposed subnet
     * (the guest's existing routes and uplink kept), for
     * virDomainSetMetadata; NULL when nothing is proposed. */
    char *metadata;
    /* The same on one line without the prefix, as virDomainSetMetadata
     * (uri VN_NS_URI, key "nest") and `virsh metadata --set` take it. */
    char *metadata_set;
} VnProposal;

void vn_proposal_free(VnProposal *proposal);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VnProposal, vn_proposal_free)

/**
 * vn_propose_guest:
 * @layer: the outer layer (networks, guests, host), as discovered
 * @guest: the running guest in @layer the agent answered for
 * @agent_ifaces: VnAgentIface, its agent's answer (agentlayer.h)
 * @config: the limits the hook checks
 *
 * The subnets of the guest's interfaces that are not the loopback, not
 * one of the domain's own interfaces on @layer (by MAC: its uplink, or a
 * NIC on a host bridge's LAN), not link-local or a host route, and not
 * overlapping one of @layer's own networks: delegated when the guest's
 * <nest:route> covers the subnet; refused when another guest delegates
 * it or the hook's checks (vn_plan_guest_check: this layer's networks,
 * addresses, routes, limits) would refuse it; proposed otherwise. The
 * same subnet twice is listed once.
 */
VnProposal *vn_propose_guest(const VnLayer *layer, const VnGuest *guest,
                             GPtrArray *agent_ifaces, const VnConfig *config);

/**
 * vn_propose_subnets:
 * @subnets: VnCidr, the subnets the user names (`adopt --subnet`), host
 *   bits cleared
 *
 * As vn_propose_guest(), for exactly @subnets, whatever the agent says:
 * each delegated, refused (one of @layer's networks, another guest's, or
 * what the hook would refuse) or proposed.
 */
VnProposal *vn_propose_subnets(const VnLayer *layer, const VnGuest *guest,
                               GArray *subnets, const VnConfig *config);

/* The hook's check (vn_plan_guest_check) of @guest with its routes and
 * every subnet @proposal proposes, together: FALSE with the hook's reason
 * when the metadata would be refused as a whole. */
gboolean vn_proposal_check(const VnLayer *layer, const VnGuest *guest,
                           const VnProposal *proposal, const VnConfig *config,
                           GError **error);

/* The <nest:network> element of @net with @peer added to its peers (once),
 * as it stands in the network XML; @set: the one-line form without the
 * prefix, as virNetworkSetMetadata (key "nest") takes it. */
char *vn_peer_metadata(const VnNetwork *net, const VnCidr *peer,
                       gboolean set);

G_END_DECLS
