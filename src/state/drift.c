/* drift.c: drift between what a layer needs and what is installed.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include "drift.h"

const char *
vn_drift_state_to_string(VnDriftState state)
{
    switch (state) {
    case VN_DRIFT_OK:
        return "ok";
    case VN_DRIFT_MISSING:
        return "missing";
    case VN_DRIFT_STALE:
        return "stale";
    case VN_DRIFT_PENDING:
        return "pending";
    case VN_DRIFT_FOREIGN:
        return "foreign";
    case VN_DRIFT_SHADOWED:
        return "shadowed";
    case VN_DRIFT_BLOCKED:
        return "blocked";
    }
    return "?";
}

static void
item_free(VnDriftItem *item)
{
    g_free(item->object);
    g_free(item->what);
    g_free(item->where);
    g_free(item->note);
    g_free(item);
}

VnDrift *
vn_drift_new(void)
{
    VnDrift *d = g_new0(VnDrift, 1);

    d->items = g_ptr_array_new_with_free_func((GDestroyNotify)item_free);
    return d;
}

void
vn_drift_free(VnDrift *drift)
{
    if (!drift)
        return;
    g_free(drift->backend);
    g_ptr_array_unref(drift->items);
    g_free(drift);
}

/* The item added, for its note. */
VnDriftItem *
vn_drift_add(VnDrift *drift, VnDriftState state, const char *object,
             const char *what, const char *where)
{
    VnDriftItem *item = g_new0(VnDriftItem, 1);

    item->state = state;
    item->object = g_strdup(object);
    item->what = g_strdup(what);
    item->where = g_strdup(where);
    g_ptr_array_add(drift->items, item);
    return item;
}

static int
cmp_item(gconstpointer a, gconstpointer b)
{
    const VnDriftItem *x = *(VnDriftItem *const *)a;
    const VnDriftItem *y = *(VnDriftItem *const *)b;
    int r = g_strcmp0(x->object, y->object);

    return r ? r : g_strcmp0(x->what, y->what);
}

void
vn_drift_sort(VnDrift *drift)
{
    g_ptr_array_sort(drift->items, cmp_item);
}

gboolean
vn_drift_needs_reconcile(const VnDrift *drift)
{
    for (guint i = 0; drift && i < drift->items->len; i++) {
        const VnDriftItem *item = drift->items->pdata[i];

        if (item->state == VN_DRIFT_MISSING || item->state == VN_DRIFT_STALE ||
            item->state == VN_DRIFT_SHADOWED)
            return TRUE;
    }
    return FALSE;
}
