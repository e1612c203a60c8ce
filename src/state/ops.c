/* ops.c: decided operations, and their execution all or nothing.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include "error.h"
#include "ops.h"

void
vn_op_free(VnOp *op)
{
    if (!op)
        return;
    g_free(op->object);
    g_free(op->note);
    g_free(op->route.dev);
    g_free(op->route.network);
    g_free(op->old.dev);
    g_free(op->old.network);
    if (op->rule)
        vn_rule_free(op->rule);
    vn_fw_entry_free(op->entry);
    g_free(op);
}

GPtrArray *
vn_ops_new(void)
{
    return g_ptr_array_new_with_free_func((GDestroyNotify)vn_op_free);
}

static VnKernelRoute
route_copy(const VnKernelRoute *r)
{
    VnKernelRoute k = *r;

    k.dev = g_strdup(r->dev);
    k.network = g_strdup(r->network);
    return k;
}

void
vn_ops_add_route(GPtrArray *ops, VnOpKind kind, const char *object,
                 const VnKernelRoute *route, const VnKernelRoute *old,
                 guint8 protocol)
{
    VnOp *op = g_new0(VnOp, 1);

    op->kind = kind;
    op->object = g_strdup(object);
    op->route = route_copy(route);
    if (old)
        op->old = route_copy(old);
    op->protocol = protocol;
    g_ptr_array_add(ops, op);
}

void
vn_ops_add_rule(GPtrArray *ops, VnOpKind kind, const char *object,
                const VnRule *rule, const VnFwEntry *entry, const char *note)
{
    VnOp *op = g_new0(VnOp, 1);

    op->kind = kind;
    op->object = g_strdup(object);
    op->note = g_strdup(note);
    op->rule = rule ? vn_rule_copy(rule) : NULL;
    op->entry = vn_fw_entry_copy(entry);
    g_ptr_array_add(ops, op);
}

char *
vn_op_describe(const VnOp *op)
{
    g_autofree char *r = NULL;
    g_autofree char *where = NULL;
    g_autofree char *text = NULL;

    if (op->kind <= VN_OP_ROUTE_DEL)
        r = vn_kernel_route_describe(&op->route);
    else
        where = vn_fw_entry_where(op->entry);
    switch (op->kind) {
    case VN_OP_ROUTE_ADD:
        text = g_strdup_printf("add route %s proto %d", r, VN_RTPROT);
        break;
    case VN_OP_ROUTE_REPLACE:
        text = g_strdup_printf("replace route %s proto %d", r, VN_RTPROT);
        break;
    case VN_OP_ROUTE_ADOPT:
        text = g_strdup_printf("adopt the hand-made route %s (proto %d): "
                               "it becomes virt-nest's (proto %d)", r,
                               op->protocol, VN_RTPROT);
        break;
    case VN_OP_ROUTE_RETURN:
        text = g_strdup_printf("give the adopted route %s back its proto %d",
                               r, op->protocol);
        break;
    case VN_OP_ROUTE_DEL:
        text = g_strdup_printf("delete route %s proto %d", r, VN_RTPROT);
        break;
    case VN_OP_RULE_INSERT:
        if (op->entry->backend == VN_FW_FIREWALLD)
            text = g_strdup_printf("add rule \"%s\" to %s: %s",
                                   op->entry->comment, where,
                                   op->entry->spec);
        else
            text = g_strdup_printf("insert rule \"%s\" at the head of %s",
                                   op->entry->comment, where);
        break;
    case VN_OP_RULE_DELETE:
        if (op->entry->handle)
            text = g_strdup_printf("delete rule \"%s\" from %s (handle %"
                                   G_GUINT64_FORMAT ")", op->entry->comment,
                                   where, op->entry->handle);
        else
            text = g_strdup_printf("delete rule \"%s\" from %s",
                                   op->entry->comment, where);
        break;
    }
    if (op->note)
        return g_strdup_printf("%s: %s", text, op->note);
    return g_steal_pointer(&text);
}

/* ------------------------------------------------------------------ */
/* execution                                                           */

static gboolean
route_do(VnRouter *router, const VnOp *op, GError **error)
{
    switch (op->kind) {
    case VN_OP_ROUTE_ADD:
        return vn_route_add(router, &op->route, VN_RTPROT, FALSE, error);
    case VN_OP_ROUTE_REPLACE:
    case VN_OP_ROUTE_ADOPT:
        return vn_route_add(router, &op->route, VN_RTPROT, TRUE, error);
    case VN_OP_ROUTE_RETURN:
        return vn_route_add(router, &op->route, op->protocol, TRUE, error);
    case VN_OP_ROUTE_DEL:
        return vn_route_delete(router, &op->route, VN_RTPROT, error);
    default:
        return TRUE;
    }
}

/* Put back what route_do() did; best effort. */
static void
route_undo(VnRouter *router, const VnOp *op)
{
    switch (op->kind) {
    case VN_OP_ROUTE_ADD:
        vn_route_delete(router, &op->route, VN_RTPROT, NULL);
        break;
    case VN_OP_ROUTE_REPLACE:
        vn_route_add(router, &op->old, VN_RTPROT, TRUE, NULL);
        break;
    case VN_OP_ROUTE_ADOPT:
        vn_route_add(router, &op->route, op->protocol, TRUE, NULL);
        break;
    case VN_OP_ROUTE_RETURN:
        vn_route_add(router, &op->route, VN_RTPROT, TRUE, NULL);
        break;
    case VN_OP_ROUTE_DEL:
        vn_route_add(router, &op->route, VN_RTPROT, FALSE, NULL);
        break;
    default:
        break;
    }
}

/* The operations of one commit function: backends that share one are
 * committed together. */
typedef struct {
    const VnFwBackendClass *klass;
    GPtrArray *changes;     /* VnFwChange */
    GPtrArray *undo;        /* VnFwChange: the inverse, for a later failure */
    gboolean done;
} Group;

static void
group_free(Group *g)
{
    g_ptr_array_unref(g->changes);
    g_ptr_array_unref(g->undo);
    g_free(g);
}

static Group *
group_for(GPtrArray *groups, const VnFwBackendClass *klass)
{
    Group *g;

    for (guint i = 0; i < groups->len; i++) {
        g = groups->pdata[i];
        if (g->klass->commit == klass->commit)
            return g;
    }
    g = g_new0(Group, 1);
    g->klass = klass;
    g->changes = g_ptr_array_new_with_free_func(g_free);
    g->undo = g_ptr_array_new_with_free_func(g_free);
    /* nf_tables last: one batch, all or nothing, and it cannot rebuild a
     * deleted rule from its entry, so nothing may need undoing after it */
    if (klass->backend == VN_FW_IPTABLES || klass->backend == VN_FW_NFTABLES)
        g_ptr_array_add(groups, g);
    else
        g_ptr_array_insert(groups, 0, g);
    return g;
}

static VnFwChange *
change_new(gboolean insert, const VnRule *rule, VnFwEntry *entry)
{
    VnFwChange *c = g_new0(VnFwChange, 1);

    c->insert = insert;
    c->rule = rule;
    c->entry = entry;
    return c;
}

static gboolean
group_ops(VnFw *fw, GPtrArray *ops, GPtrArray *groups, GError **error)
{
    for (guint i = 0; i < ops->len; i++) {
        VnOp *op = ops->pdata[i];
        const VnFwBackendClass *klass;
        Group *g;

        if (op->kind != VN_OP_RULE_INSERT && op->kind != VN_OP_RULE_DELETE)
            continue;
        if (!(klass = vn_fw_class(fw, op->entry->backend))) {
            g_set_error(error, VN_ERROR, VN_ERROR_UNSUPPORTED,
                        "%s: rule \"%s\": the %s firewall backend is not "
                        "built in", op->object, op->entry->comment,
                        vn_fw_backend_to_string(op->entry->backend));
            return FALSE;
        }
        g = group_for(groups, klass);
        g_ptr_array_add(g->changes, change_new(op->kind == VN_OP_RULE_INSERT,
                                               op->rule, op->entry));
        /* the inverse, newest first: an insert is deleted again, a
         * deletion inserted again from its entry */
        g_ptr_array_insert(g->undo, 0,
                           change_new(op->kind != VN_OP_RULE_INSERT, NULL,
                                      op->entry));
    }
    return TRUE;
}

gboolean
vn_ops_execute(GPtrArray *ops, VnFw *fw, VnRouter *router, GError **error)
{
    g_autoptr(GPtrArray) groups =
        g_ptr_array_new_with_free_func((GDestroyNotify)group_free);
    guint routes_done = 0;
    gboolean ok = TRUE;

    if (!group_ops(fw, ops, groups, error))
        return FALSE;
    for (guint i = 0; i < ops->len && ok; i++) {
        const VnOp *op = ops->pdata[i];

        if (op->kind > VN_OP_ROUTE_DEL)
            continue;
        if (!router) {
            g_set_error(error, VN_ERROR, VN_ERROR_FAILED,
                        "%s: no route socket", op->object);
            ok = FALSE;
        } else if (!(ok = route_do(router, op, error))) {
            g_prefix_error(error, "%s: ", op->object);
        } else {
            routes_done = i + 1;
        }
    }
    for (guint i = 0; i < groups->len && ok; i++) {
        Group *g = groups->pdata[i];

        if (!g->changes->len)
            continue;
        if (!(ok = g->klass->commit(fw, g->changes, error)))
            break;
        g->done = TRUE;
    }
    if (ok)
        return TRUE;
    /* all or nothing: take back what was done, newest first */
    for (guint i = groups->len; i-- > 0;) {
        Group *g = groups->pdata[i];

        if (g->done)
            g->klass->commit(fw, g->undo, NULL);
    }
    for (guint i = routes_done; i-- > 0;) {
        const VnOp *op = ops->pdata[i];

        if (op->kind <= VN_OP_ROUTE_DEL)
            route_undo(router, op);
    }
    return FALSE;
}
