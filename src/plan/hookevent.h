/* hookevent.h: what one libvirt hook event asks of this host, from the
 * event's XML and what the hook may read without libvirt: the network XML
 * it kept, libvirt's network status files, the lease files. Shared by the
 * hook and its golden tests.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <glib.h>

#include "layerplan.h"
#include "vnconfig.h"

G_BEGIN_DECLS

typedef enum {
    VN_HOOK_NOTHING,
    VN_HOOK_CHECK,          /* network start, qemu prepare: refuse bad
                             * metadata before libvirt creates a bridge,
                             * a TAP or a rule, so that a refusal leaves
                             * nothing behind; change nothing */
    VN_HOOK_INSTALL,        /* network started/updated, qemu started/reconnect */
    VN_HOOK_REMOVE,         /* network stopped, qemu stopped/release */
} VnHookAction;

VnHookAction vn_hook_action(const char *driver, const char *op,
                            const char *subop);

typedef struct {
    const char *state_dir;          /* the network XML the hook kept */
    const char *libvirt_network_dir;/* libvirt's status files: /run/libvirt/network */
    const char *leases_dir;         /* /var/lib/libvirt/dnsmasq */
    const VnHost *host;             /* for overlap checks; NULL skips them */
    const VnConfig *config;
    gint64 now;
} VnHookEnv;

/* Fill @env from the environment (VIRT_NEST_STATE_DIR,
 * VIRT_NEST_LIBVIRT_NETWORK_DIR, VIRT_NEST_LEASES_DIR) and the defaults. */
void vn_hook_env_init(VnHookEnv *env, const VnConfig *config);

typedef struct {
    gboolean network;       /* a network event, else a domain event */
    char *name;
    VnPlan *plan;           /* what the object needs now (empty on REMOVE) */
    GArray *subnets;        /* VnCidr: the guest's metadata subnets */
    GPtrArray *warnings;    /* char *: metadata that is ignored but looks
                             * meant for virt-nest, one line each naming
                             * the object; set on refusal too */
} VnHookPlan;

void vn_hook_plan_clear(VnHookPlan *hp);

/**
 * vn_hook_plan:
 * @driver: "network" or "qemu"
 * @name: the object, from argv
 * @action: install or remove
 * @xml: the event's stdin
 * @env: where to read the rest
 * @out: (out caller-allocates): the plan
 * @error: refused or unusable input, with one line that names the object;
 *   only for VN_HOOK_CHECK and VN_HOOK_INSTALL (a removal always
 *   proceeds)
 */
gboolean vn_hook_plan(const char *driver, const char *name,
                      VnHookAction action, const char *xml, gsize len,
                      const VnHookEnv *env, VnHookPlan *out, GError **error);

/**
 * vn_hook_warnings:
 *
 * The warnings of vn_hook_plan() alone, for an event whose XML has no
 * virt-nest metadata but something that looks like its namespace
 * (vn_ns_lookalike()): one line each, naming the object.
 *
 * Returns: (transfer full): char * lines, maybe none.
 */
GPtrArray *vn_hook_warnings(const char *driver, const char *name,
                            const char *xml, gsize len);

G_END_DECLS
