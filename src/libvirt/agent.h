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

/* How long status, reconcile and adopt wait for one guest's agent. */
#define VN_AGENT_TIMEOUT_MS 10000

/**
 * vn_agent_ifaces_read_bounded:
 * @dom: as vn_agent_ifaces_read()
 * @timeout_ms: how long to wait for the answer
 * @error: one line naming the guest; "did not answer within N s"
 *
 * vn_agent_ifaces_read() in a thread of its own, waited for at most
 * @timeout_ms: past it the caller goes on, and the thread's late answer
 * is dropped when it comes (the domain's agent timeout is not changed).
 *
 * Returns: (transfer full): a GPtrArray of VnAgentIface, or NULL.
 */
GPtrArray *vn_agent_ifaces_read_bounded(virDomainPtr dom, guint timeout_ms,
                                        GError **error);

/* The most of a command's stdout or stderr kept from guest-exec. */
#define VN_AGENT_EXEC_MAX (1024 * 1024)

/**
 * vn_agent_exec:
 * @dom: a running domain on a read-write connection
 * @argv: the program inside the guest (a path) and its arguments
 * @timeout_s: how long the program may run
 * @out: (out): its stdout (at most VN_AGENT_EXEC_MAX bytes)
 * @err: (out): its stderr (the same)
 * @status: (out): its exit code (128 when a signal ended it)
 * @error: libvirt's reason when guest-exec itself failed (an agent that
 *   blocks it: "... has been disabled"), or the program's time ran out
 *
 * Runs @argv inside the guest through the agent's guest-exec and
 * guest-exec-status (virDomainQemuAgentCommand: libvirt marks the domain
 * tainted).
 *
 * Returns: TRUE when the program ran and ended.
 */
gboolean vn_agent_exec(virDomainPtr dom, const char *const *argv,
                       guint timeout_s, char **out, char **err, int *status,
                       GError **error);

G_END_DECLS
