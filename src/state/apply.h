/* apply.h: make the kernel match what one object needs, change only what
 * virt-nest installed for it, and record the result in its ledger.
 *
 * The caller holds the state lock (vn_state_lock).
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <glib.h>

#include "fwbackend.h"
#include "layerplan.h"
#include "ledger.h"

G_BEGIN_DECLS

typedef struct _VnApply VnApply;

/* Nothing is opened until it is needed. */
VnApply *vn_apply_new(const char *state_dir);

/* Also make sure virt-nest's rules still come first in their chains, and
 * move them back to the head when something was inserted above them (for
 * reconcile: it lists the chains, which the hooks never do). */
void vn_apply_set_check_order(VnApply *apply, gboolean check);

/* Compute and report, but change neither the kernel nor the ledgers. */
void vn_apply_set_dry_run(VnApply *apply, gboolean dry_run);

/* What the calls so far changed (or, dry, would change): one line each,
 * "OBJECT: insert rule ...". A call that failed changed nothing (it was
 * undone) and adds no line. Borrowed. */
GPtrArray *vn_apply_changes(VnApply *apply);

/* The OBJECT of each of vn_apply_changes(), in the same order (the rest
 * of a change follows it and ": "). Borrowed. */
GPtrArray *vn_apply_change_objects(VnApply *apply);

/* The operations the calls so far decided (element-type VnOp, ops.h), in
 * order, executed unless dry. Borrowed. */
GPtrArray *vn_apply_ops(VnApply *apply);
void vn_apply_free(VnApply *apply);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VnApply, vn_apply_free)

/* For tests: use @host (taken) as this host instead of reading it. */
void vn_apply_set_host(VnApply *apply, VnHost *host);

/* The host as read by the last vn_apply_host() (routes, addresses). */
const VnHost *vn_apply_host(VnApply *apply, GError **error);

/* The firewall context the backends share. Borrowed. */
VnFw *vn_apply_fw(VnApply *apply);

/**
 * vn_apply_network:
 * @name: the network
 * @rules: (element-type VnRule): every rule it needs now; empty removes all
 * @error: nothing changed when set
 *
 * Places every rule in every backend of its family's forward path,
 * inserts what is missing at the chain heads and deletes what is no
 * longer needed (every copy, when @rules is empty), all or nothing.
 * Rules that carry the network's comment but are not in its ledger (a
 * ruleset restored at boot) are adopted, not added again.
 */
gboolean vn_apply_network(VnApply *apply, const char *name, GPtrArray *rules,
                          GError **error);

/**
 * vn_apply_domain:
 * @name: the domain
 * @routes: (element-type VnRoute): every route it needs now (an empty via
 *   is recorded as pending); empty removes all. A hand-made route that is
 *   exactly one of them (destination, next hop, device) is adopted: it
 *   becomes virt-nest's, and gets its own protocol back when no longer
 *   needed.
 * @subnets: (element-type VnCidr) (nullable): the subnets its metadata
 *   names, to find virt-nest's routes when the ledger was lost
 * @error: nothing changed when set
 */
gboolean vn_apply_domain(VnApply *apply, const char *name, GPtrArray *routes,
                         GArray *subnets, GError **error);

/**
 * vn_apply_sweep:
 * @networks: (element-type utf8): the networks whose rules stay: every
 *   network of this layer, and every one a ledger names
 *
 * Deletes every rule that carries virt-nest's comment and belongs to none
 * of @networks: orphans of a lost state, of an older virt-nest, or of a
 * ruleset restored after its network was undefined. For reconcile.
 */
/* Whether every backend in the forward path can take @rules (VnRule):
 * what `network start begin` asks before the bridge exists. A backend
 * that cannot take its share for a reason of the host's (firewalld
 * without virt-nest's policy) refuses nothing: it leaves a note that
 * status shows. Changes nothing. */
gboolean vn_apply_check_rules(VnApply *apply, GPtrArray *rules,
                              GError **error);

gboolean vn_apply_sweep(VnApply *apply, GPtrArray *networks, GError **error);

/* Mark the state directory as intact once a run succeeded. */
gboolean vn_apply_finish(VnApply *apply, GError **error);

G_END_DECLS
