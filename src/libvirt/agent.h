/* agent.h: a guest's QEMU agent through libvirt: its interfaces
 * (virDomainInterfaceAddresses with VIR_DOMAIN_INTERFACE_ADDRESSES_SRC_AGENT,
 * libvirt's reading of guest-network-get-interfaces).
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <glib.h>
#include <libvirt/libvirt.h>

#include "agentlayer.h"

G_BEGIN_DECLS

/**
 * vn_agent_ifaces_from_libvirt:
 * @guest: the guest's name, for messages
 * @ifaces: what virDomainInterfaceAddresses() returned (borrowed)
 * @n: how many
 * @error: one line naming the guest and the interface
 *
 * The answer as VnAgentIface, in libvirt's order. Refused whole (nothing
 * returned) past VN_AGENT_MAX_IFACES interfaces or when an interface's
 * name, MAC or address is not one.
 *
 * Returns: (transfer full): a GPtrArray of VnAgentIface, or NULL.
 */
GPtrArray *vn_agent_ifaces_from_libvirt(const char *guest,
                                        virDomainInterfacePtr *ifaces, int n,
                                        GError **error);

/**
 * vn_agent_ifaces_read:
 * @dom: a running domain on a read-write connection
 * @error: one line naming the guest: no agent, agent not answering, ...
 *
 * Asks the guest's agent for its interfaces. libvirt first sends
 * guest-sync with a 5-second timeout (an agent that does not answer at all
 * fails there), but then waits for the command itself without a bound
 * unless the domain's agent response timeout was set
 * (virDomainAgentSetResponseTimeout, which changes it for every client):
 * the walk must bound the call itself (libvirt commit 95f5ac9a).
 *
 * Returns: (transfer full): a GPtrArray of VnAgentIface, or NULL.
 */
GPtrArray *vn_agent_ifaces_read(virDomainPtr dom, GError **error);

G_END_DECLS
