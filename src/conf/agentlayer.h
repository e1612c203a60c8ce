/* agentlayer.h: what a guest's QEMU agent says of the guest's interfaces
 * (guest-network-get-interfaces, as virDomainInterfaceAddresses with
 * VIR_DOMAIN_INTERFACE_ADDRESSES_SRC_AGENT returns it), and the partial
 * layer it makes: the guest's host part only, links and addresses, no
 * libvirt part.
 *
 * What the agent says is the guest's word: it is shown and proposed from,
 * never routed on (plan/propose.h).
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <glib.h>

#include "model.h"

G_BEGIN_DECLS

/* The most interfaces and addresses per interface taken from one guest;
 * past them the answer is refused, not cut. */
#define VN_AGENT_MAX_IFACES 256
#define VN_AGENT_MAX_ADDRS 64

/* One interface inside the guest. */
typedef struct {
    char *name;             /* its name inside the guest: "eth0", "virbr0" */
    char *mac;              /* lowercase; NULL when the agent gave none */
    GArray *addrs;          /* VnCidr: address and prefix, host bits kept */
} VnAgentIface;

VnAgentIface *vn_agent_iface_new(const char *name, const char *mac,
                                 GError **error);
void vn_agent_iface_free(VnAgentIface *iface);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VnAgentIface, vn_agent_iface_free)

/* Add "ADDR" with @prefix (family from the text) to @iface; FALSE with
 * one line naming the interface when the agent's answer is not an
 * address. */
gboolean vn_agent_iface_add_address(VnAgentIface *iface, const char *addr,
                                    guint prefix, GError **error);

/* An empty array of VnAgentIface that frees them. */
GPtrArray *vn_agent_ifaces_new(void);

/**
 * vn_agent_ifaces_parse:
 * @guest: the guest's name, for messages
 * @reply: the agent's JSON answer to guest-network-get-interfaces, as
 *   virDomainQemuAgentCommand returns it ({"return": [...]})
 * @error: one line naming the guest and the interface
 *
 * The answer as VnAgentIface, in the agent's order; refused whole, as
 * vn_agent_ifaces_from_libvirt() refuses.
 *
 * Returns: (transfer full): a GPtrArray of VnAgentIface, or NULL.
 */
GPtrArray *vn_agent_ifaces_parse(const char *guest, const char *reply,
                                 GError **error);

/* Whether @iface is the loopback (named "lo", or only loopback
 * addresses). */
gboolean vn_agent_iface_is_loopback(const VnAgentIface *iface);

/**
 * vn_agent_layer:
 * @guest: the guest's name on the outer layer
 * @ifaces: VnAgentIface
 * @reason: why the layer is partial ("guest-exec is disabled"), shown
 *
 * The partial layer the agent's answer makes: uri "agent:GUEST", a host
 * with one link per interface (ifindex by order, from 1) and its
 * addresses; no networks, guests or leases. @reason is its one problem.
 */
VnLayer *vn_agent_layer(const char *guest, GPtrArray *ifaces,
                        const char *reason);

/* One guest's agent asked: its interfaces, or why there are none. */
typedef struct {
    char *guest;
    GPtrArray *ifaces;      /* VnAgentIface; NULL when it did not answer */
    char *error;            /* one line, when it did not */
} VnAgentAnswer;

/* @ifaces and @error are taken; one of them NULL. */
VnAgentAnswer *vn_agent_answer_new(const char *guest, GPtrArray *ifaces,
                                   char *error);
void vn_agent_answer_free(VnAgentAnswer *answer);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VnAgentAnswer, vn_agent_answer_free)

/* An empty array of VnAgentAnswer that frees them (VnLayer.agents). */
GPtrArray *vn_agent_answers_new(void);

/* The answer for @guest in @layer->agents, or NULL. */
const VnAgentAnswer *vn_layer_agent_answer(const VnLayer *layer,
                                           const char *guest);

/**
 * vn_layer_agent_next_hops:
 * @layer: a layer whose agents were asked (layer->agents)
 *
 * Gives each guest that answered the addresses its agent reports on the
 * interface with the guest's uplink MAC (VnGuest.agent_mac, agent_addrs):
 * the next hop of last resort, after the metadata, the reservation and
 * the lease (vn_guest_iface_address). Only addresses inside the uplink
 * network's subnets count (model.c checks); an address another guest's
 * reservation or lease holds is dropped, so a guest cannot draw another
 * guest's traffic by claiming its address. Pure.
 */
void vn_layer_agent_next_hops(VnLayer *layer);

G_END_DECLS
