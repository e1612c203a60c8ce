/* driftcheck.h: what virt-nest installed on this host against what the layer
 * needs, checked in the kernel.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <glib.h>

#include "drift.h"
#include "model.h"
#include "layerplan.h"

G_BEGIN_DECLS

/* The keys status uses to match plan items with drift items. */
char *vn_route_object(const VnRoute *route);    /* "domain 'NAME'" */
char *vn_route_what(const VnRoute *route);      /* "route DST via X dev D" */
char *vn_rule_object(const VnRule *rule);       /* "network 'NAME'" */
char *vn_rule_what(const VnRule *rule);         /* "forward -s ..." / "nat -s ..." */

/**
 * vn_drift_check:
 * @layer: the layer, with its host read
 * @plan: what it needs
 * @state_dir: the ledgers
 * @error: when the kernel cannot be asked
 *
 * Reads every ledger and asks the kernel about each recorded route (in
 * @layer->host) and rule (by handle).
 */
VnDrift *vn_drift_check(const VnLayer *layer, const VnPlan *plan,
                        const char *state_dir, GError **error);

G_END_DECLS
