/* layerplan.h: what a layer needs: the routes to nested subnets behind its
 * guests, and the forward exceptions that let its networks' peers in.
 *
 * The planner is pure: model in, plan out; no sockets, files or clock
 * (the caller passes "now" for lease expiry). Plans are sorted, so the
 * same input always gives the same plan.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <glib.h>

#include "model.h"
#include "vnconfig.h"

G_BEGIN_DECLS

/* A route this layer needs: dst via a guest, out of the bridge. */
typedef struct {
    char *guest;            /* the guest that hosts dst */
    char *network;          /* the network of its uplink, NULL for type=bridge */
    char *dev;              /* the bridge the uplink is plugged into */
    VnCidr dst;
    VnCidr via;             /* empty when the next hop is not known yet */
    VnSource via_source;
} VnRoute;

typedef enum {
    VN_RULE_IN,             /* peer -> network, out of the bridge: accept */
    VN_RULE_OUT,            /* network -> peer, in from the bridge: accept */
    VN_RULE_NAT,            /* network -> peer: no MASQUERADE */
} VnRuleKind;

const char *vn_rule_kind_to_string(VnRuleKind kind);

/* A firewall exception for a network. Which table and chain it goes into
 * is the firewall backend's business (fwbackend.h), not the planner's. */
typedef struct {
    VnRuleKind kind;
    char *network;
    char *bridge;
    VnCidr src;
    VnCidr dst;
} VnRule;

typedef struct {
    GPtrArray *routes;      /* VnRoute */
    GPtrArray *rules;       /* VnRule */
    GPtrArray *problems;    /* VnProblem: refused or unusable metadata */
} VnPlan;

VnPlan *vn_plan_new(void);
void vn_plan_free(VnPlan *plan);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VnPlan, vn_plan_free)
void vn_route_free(VnRoute *route);
void vn_rule_free(VnRule *rule);
VnRoute *vn_route_copy(const VnRoute *route);
VnRule *vn_rule_copy(const VnRule *rule);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VnRoute, vn_route_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VnRule, vn_rule_free)

/* The text of a rule in iptables terms, for people and golden files:
 * "-s 192.168.122.0/24 -d 192.168.124.0/24 -o virbr0 -j ACCEPT". */
char *vn_rule_describe(const VnRule *rule);

/* The comment a rule carries in the kernel (iptables lists it as
 * -m comment): "virt-nest NETWORK KIND SRC>DST", at most 127 bytes (nft's
 * limit), printable ASCII with no '"', '\\', '\'' or space in NETWORK: it
 * lists, survives iptables-save | iptables-restore and pastes into a
 * shell. NETWORK is the name with every byte but letters, digits and
 * -_.:+@,=[]~^ written as %XX ("my net" -> "my%20net"), or "#" and a hash
 * of the name when that is longer than 64 bytes; a long comment ends in a
 * hash of itself instead of SRC>DST. */
char *vn_rule_comment(const VnRule *rule);

/* The prefix every comment of @network starts with, up to and with the
 * space after NETWORK: no other network's comments start with it. */
char *vn_rule_comment_prefix(const char *network);

/* TRUE when a rule comment is one of virt-nest's (any network). */
gboolean vn_rule_comment_is_ours(const char *comment);

/* "192.168.124.0/24 via 192.168.122.191 dev virbr0" */
char *vn_route_describe(const VnRoute *route);

/**
 * vn_plan_guest:
 * @plan: (inout): where the routes (or the problem) go
 * @guest: a guest with nest metadata
 * @networks: VnNetwork array to find the uplink's network in
 * @leases: VnLease array, may be NULL
 * @host: the host, for overlap checks; NULL to skip them
 * @config: the limits
 * @now: seconds since the epoch, for lease expiry
 * @error: set when the metadata is refused; nothing is added to @plan then
 *
 * Returns: FALSE when refused.
 */
gboolean vn_plan_guest(VnPlan *plan, const VnGuest *guest,
                       GPtrArray *networks, GPtrArray *leases,
                       const VnHost *host, const VnConfig *config, gint64 now,
                       GError **error);

/**
 * vn_plan_guest_check:
 *
 * What vn_plan_guest() would refuse that can be told before the guest's
 * TAP exists (qemu prepare): its limits, overlaps with this layer's
 * networks, addresses and routes. What is not known yet (the bridge, the
 * next hop) is not refused: a route of somebody else's to exactly a
 * nested subnet may be a hand fix that the start adopts.
 *
 * Returns: FALSE with @error when refused.
 */
gboolean vn_plan_guest_check(const VnGuest *guest, GPtrArray *networks,
                             const VnHost *host, const VnConfig *config,
                             GError **error);

/**
 * vn_plan_network:
 * @plan: (inout): where the rules go
 * @net: a network with nest metadata
 * @config: the limits and the masquerade choice
 * @error: set when refused; nothing is added then
 */
gboolean vn_plan_network(VnPlan *plan, const VnNetwork *net,
                         const VnConfig *config, GError **error);

/**
 * vn_plan_layer:
 * @layer: the whole layer
 * @config: the limits
 * @now: for lease expiry
 *
 * Plans every guest and network with nest metadata; refusals go into
 * plan->problems and the rest is still planned.
 */
VnPlan *vn_plan_layer(const VnLayer *layer, const VnConfig *config, gint64 now);

/* Sort routes and rules into their canonical order. */
void vn_plan_sort(VnPlan *plan);

G_END_DECLS
