/* drift.h: the drift report: how what virt-nest installed on this host
 * compares with what the layer needs (driftcheck.h computes it).
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef enum {
    VN_DRIFT_OK,            /* needed, installed, present in the kernel */
    VN_DRIFT_MISSING,       /* needed, but not in the kernel */
    VN_DRIFT_STALE,         /* installed by virt-nest, no longer needed */
    VN_DRIFT_PENDING,       /* needed, next hop not known yet */
    VN_DRIFT_FOREIGN,       /* present, but not installed by virt-nest */
    VN_DRIFT_SHADOWED,      /* installed, but a rule above it in its
                             * table catches the traffic and drops it */
    VN_DRIFT_BLOCKED,       /* installed, but another base chain (another
                             * table, legacy xtables) still drops the
                             * traffic: reconcile cannot fix that */
} VnDriftState;

const char *vn_drift_state_to_string(VnDriftState state);

typedef struct {
    VnDriftState state;
    char *object;           /* "domain 'debian'", "network 'default'" */
    char *what;             /* "route 192.168.124.0/24 via ... dev virbr0" */
    char *where;            /* "ip filter FORWARD handle 12", or NULL */
    char *note;             /* why it is in this state, or NULL */
} VnDriftItem;

typedef struct {
    char *backend;          /* the firewall backend found, or NULL */
    GPtrArray *items;       /* VnDriftItem, sorted */
} VnDrift;

VnDrift *vn_drift_new(void);
void vn_drift_free(VnDrift *drift);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VnDrift, vn_drift_free)
VnDriftItem *vn_drift_add(VnDrift *drift, VnDriftState state,
                          const char *object, const char *what,
                          const char *where);
void vn_drift_sort(VnDrift *drift);
/* TRUE if anything is MISSING, STALE or SHADOWED: `virt-nest reconcile`
 * fixes it. */
gboolean vn_drift_needs_reconcile(const VnDrift *drift);

G_END_DECLS
