/* apply.c: make the kernel match what one object needs: decide every
 * operation first (state/ops.h), then execute the list all or nothing,
 * then record what is installed.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include <stdarg.h>
#include <string.h>
#include <linux/netfilter.h>
#include <linux/rtnetlink.h>

#include "apply.h"
#include "error.h"
#include "hostread.h"
#include "ops.h"
#include "router.h"

struct _VnApply {
    char *dir;
    VnFw *fw;
    VnRouter *router;
    VnHost *host;
    gboolean dry_run;
    gboolean check_order;
    GPtrArray *changes;     /* char*: "OBJECT: what" */
    GPtrArray *objects;     /* char*: the OBJECT of each change */
    GPtrArray *ops;         /* VnOp: what the calls decided */
};

void
vn_apply_set_check_order(VnApply *apply, gboolean check)
{
    apply->check_order = check;
}

void
vn_apply_set_dry_run(VnApply *apply, gboolean dry_run)
{
    apply->dry_run = dry_run;
}

GPtrArray *
vn_apply_changes(VnApply *apply)
{
    return apply->changes;
}

GPtrArray *
vn_apply_change_objects(VnApply *apply)
{
    return apply->objects;
}

GPtrArray *
vn_apply_ops(VnApply *apply)
{
    return apply->ops;
}

VnApply *
vn_apply_new(const char *state_dir)
{
    VnApply *a = g_new0(VnApply, 1);

    a->dir = g_strdup(state_dir);
    a->fw = vn_fw_new();
    a->changes = g_ptr_array_new_with_free_func(g_free);
    a->objects = g_ptr_array_new_with_free_func(g_free);
    a->ops = vn_ops_new();
    return a;
}

void
vn_apply_free(VnApply *apply)
{
    if (!apply)
        return;
    g_free(apply->dir);
    vn_fw_free(apply->fw);
    vn_router_close(apply->router);
    vn_host_free(apply->host);
    g_ptr_array_unref(apply->changes);
    g_ptr_array_unref(apply->objects);
    g_ptr_array_unref(apply->ops);
    g_free(apply);
}

static void
add_change(VnApply *a, const char *object, const char *msg)
{
    g_ptr_array_add(a->changes, g_strdup_printf("%s: %s", object, msg));
    g_ptr_array_add(a->objects, g_strdup(object));
}

static void G_GNUC_PRINTF(3, 4)
change(VnApply *a, const char *object, const char *fmt, ...)
{
    va_list ap;
    g_autofree char *msg = NULL;

    va_start(ap, fmt);
    msg = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    add_change(a, object, msg);
}

void
vn_apply_set_host(VnApply *apply, VnHost *host)
{
    vn_host_free(apply->host);
    apply->host = host;
}

const VnHost *
vn_apply_host(VnApply *apply, GError **error)
{
    if (!apply->host)
        apply->host = vn_host_read(error);
    return apply->host;
}

VnFw *
vn_apply_fw(VnApply *apply)
{
    return apply->fw;
}

/* ------------------------------------------------------------------ */
/* networks: rules                                                     */

typedef struct {
    const VnRule *rule;
    VnFwEntry *entry;       /* where it goes */
    const VnFwEntry *have;  /* the entry in the firewall, if any */
    gboolean moved;         /* deleted, to go back to the head */
} Want;

static void
want_free(Want *w)
{
    vn_fw_entry_free(w->entry);
    g_free(w);
}

static int
nf_family(const VnRule *r)
{
    return r->src.family == AF_INET6 ? NFPROTO_IPV6 : NFPROTO_IPV4;
}

/* Every rule in every backend of its family's forward path. */
static gboolean
place_rules(VnApply *a, GPtrArray *rules, GPtrArray *wants, GError **error)
{
    for (guint i = 0; i < rules->len; i++) {
        const VnRule *r = rules->pdata[i];
        g_autoptr(GArray) backends = g_array_new(FALSE, FALSE,
                                                 sizeof(VnFwBackend));

        if (!vn_fw_backends(a->fw, nf_family(r), backends, error))
            return FALSE;
        for (guint b = 0; b < backends->len; b++) {
            const VnFwBackendClass *klass =
                vn_fw_class(a->fw, g_array_index(backends, VnFwBackend, b));
            VnFwEntry *e = NULL;
            Want *w;

            if (!klass->place(a->fw, r, &e, error))
                return FALSE;
            if (!e)
                continue;
            w = g_new0(Want, 1);
            w->rule = r;
            w->entry = e;
            g_ptr_array_add(wants, w);
        }
    }
    return TRUE;
}

gboolean
vn_apply_check_rules(VnApply *a, GPtrArray *rules, GError **error)
{
    g_autoptr(GPtrArray) wants =
        g_ptr_array_new_with_free_func((GDestroyNotify)want_free);

    return place_rules(a, rules, wants, error);
}

static gboolean
same_entry(const VnFwEntry *a, const VnFwEntry *b)
{
    return vn_fw_entry_same_place(a, b) && a->handle == b->handle &&
           g_strcmp0(a->spec, b->spec) == 0;
}

static void
add_present(GPtrArray *present, VnFwEntry *e)
{
    for (guint i = 0; i < present->len; i++) {
        if (same_entry(present->pdata[i], e)) {
            vn_fw_entry_free(e);
            return;
        }
    }
    g_ptr_array_add(present, e);
}

/* What is in the firewall: the ledger's entries that are still there,
 * and, when the ledger cannot be trusted alone, every entry carrying the
 * network's tag in every backend here: when there is no ledger and the
 * state was lost (or this is the first start since a boot, which may have
 * restored a saved ruleset), when one of its entries is gone (a flush, a
 * restore, a firewalld reload), when an older ledger lost the record of
 * them (VnLedger.rules_lost), and when removing (every copy goes).
 * @found gets the entries the ledger did not know (borrowed). */
static gboolean
find_present(VnApply *a, const char *name, const VnLedger *old,
             gboolean removing, GPtrArray *present, GPtrArray *found,
             GError **error)
{
    static const int families[] = { NFPROTO_IPV4, NFPROTO_IPV6 };
    g_autofree char *prefix = vn_rule_comment_prefix(name);
    gboolean search = removing || (!old && !vn_state_intact(a->dir)) ||
                      (old && old->rules_lost);

    for (guint i = 0; old && i < old->rules->len; i++) {
        const VnFwEntry *e = old->rules->pdata[i];
        const VnFwBackendClass *klass = vn_fw_class(a->fw, e->backend);
        int rc = 0;

        if (klass && (rc = klass->exists(a->fw, e, error)) < 0)
            return FALSE;
        if (rc)
            add_present(present, vn_fw_entry_copy(e));
        else
            search = TRUE;
    }
    for (guint f = 0; search && f < G_N_ELEMENTS(families); f++) {
        g_autoptr(GArray) backends = g_array_new(FALSE, FALSE,
                                                 sizeof(VnFwBackend));

        if (!vn_fw_backends(a->fw, families[f], backends, error))
            return FALSE;
        for (guint b = 0; b < backends->len; b++) {
            const VnFwBackendClass *klass =
                vn_fw_class(a->fw, g_array_index(backends, VnFwBackend, b));
            g_autoptr(GPtrArray) listed = g_ptr_array_new();

            if (!klass->list(a->fw, families[f], prefix, listed, error)) {
                g_ptr_array_set_free_func(listed,
                                          (GDestroyNotify)vn_fw_entry_free);
                return FALSE;
            }
            for (guint i = 0; i < listed->len; i++) {
                guint before = present->len;

                add_present(present, listed->pdata[i]);
                if (present->len > before)
                    g_ptr_array_add(found, present->pdata[present->len - 1]);
            }
        }
    }
    return TRUE;
}

static Want *
want_for(GPtrArray *wants, const VnFwEntry *e)
{
    for (guint i = 0; i < wants->len; i++) {
        Want *w = wants->pdata[i];

        if (!w->have && vn_fw_entry_same_place(w->entry, e))
            return w;
    }
    return NULL;
}

/* the note of both operations that move a rule back to the head */
#define MOVE_NOTE "to move it back to the head"

static gboolean
contains(GPtrArray *a, gconstpointer p)
{
    guint idx;

    return g_ptr_array_find(a, p, &idx);
}

/* The operations that turn @present into @wants. */
static gboolean
decide_rules(VnApply *a, const char *object, GPtrArray *wants,
             GPtrArray *present, GPtrArray *found, GError **error)
{
    for (guint i = 0; i < present->len; i++) {
        const VnFwEntry *e = present->pdata[i];
        Want *w = want_for(wants, e);
        const VnFwBackendClass *klass = vn_fw_class(a->fw, e->backend);
        int rc;

        if (!w) {
            vn_ops_add_rule(a->ops, VN_OP_RULE_DELETE, object, NULL, e,
                            contains(found, e) ? "found by its comment"
                                               : NULL);
            continue;
        }
        if (a->check_order) {
            if ((rc = klass->preceded(a->fw, e, error)) < 0)
                return FALSE;
            if (rc) {
                /* below somebody else's rule (libvirt re-inserts its jumps
                 * at the head): delete it and insert it at the head again */
                vn_ops_add_rule(a->ops, VN_OP_RULE_DELETE, object, NULL, e,
                                MOVE_NOTE);
                w->moved = TRUE;
                continue;
            }
        }
        w->have = e;
        if (contains(found, e)) {
            g_autofree char *where = vn_fw_entry_where(e);

            change(a, object, "adopt rule \"%s\" in %s: it carries "
                   "virt-nest's comment (restored from a saved ruleset?)",
                   e->comment, where);
        }
    }
    for (guint i = 0; i < wants->len; i++) {
        Want *w = wants->pdata[i];

        if (!w->have)
            vn_ops_add_rule(a->ops, VN_OP_RULE_INSERT, object, w->rule,
                            w->entry, w->moved ? MOVE_NOTE : NULL);
    }
    return TRUE;
}

/* The changes, one line each; a move (a deletion and an insert) is one. */
static void
describe_ops(VnApply *a, guint from)
{
    for (guint i = from; i < a->ops->len; i++) {
        const VnOp *op = a->ops->pdata[i];
        g_autofree char *d = NULL;

        if (g_strcmp0(op->note, MOVE_NOTE) == 0) {
            g_autofree char *where = vn_fw_entry_where(op->entry);

            if (op->kind == VN_OP_RULE_INSERT)
                change(a, op->object, "move rule \"%s\" back to the head of %s",
                       op->entry->comment, where);
            continue;
        }
        d = vn_op_describe(op);
        add_change(a, op->object, d);
    }
}

static gboolean
router(VnApply *a, GError **error)
{
    if (!a->router)
        a->router = vn_router_open(error);
    return a->router != NULL;
}

/* Execute the operations from @from on, all or nothing. */
static gboolean
execute(VnApply *a, guint from, GError **error)
{
    g_autoptr(GPtrArray) ops = g_ptr_array_new();
    gboolean routes = FALSE;

    for (guint i = from; i < a->ops->len; i++) {
        const VnOp *op = a->ops->pdata[i];

        routes = routes || op->kind <= VN_OP_ROUTE_DEL;
        g_ptr_array_add(ops, a->ops->pdata[i]);
    }
    if (!ops->len)
        return TRUE;
    if (routes && !router(a, error))
        return FALSE;
    return vn_ops_execute(ops, a->fw, a->router, error);
}

/* Describe the operations from @from on and, unless this is a dry run,
 * execute them, all or nothing; when they fail, their lines are dropped
 * again: undone is not a change (the change log records what was done). */
static gboolean
describe_execute(VnApply *a, guint from, GError **error)
{
    guint described = a->changes->len;

    describe_ops(a, from);
    if (a->dry_run)
        return TRUE;
    if (!execute(a, from, error)) {
        g_ptr_array_set_size(a->changes, described);
        return FALSE;
    }
    return TRUE;
}

gboolean
vn_apply_network(VnApply *a, const char *name, GPtrArray *rules,
                 GError **error)
{
    g_autoptr(VnLedger) old = NULL;
    g_autoptr(VnLedger) now = vn_ledger_new(VN_OBJECT_NETWORK, name);
    g_autoptr(GPtrArray) wants =
        g_ptr_array_new_with_free_func((GDestroyNotify)want_free);
    g_autoptr(GPtrArray) present =
        g_ptr_array_new_with_free_func((GDestroyNotify)vn_fw_entry_free);
    g_autoptr(GPtrArray) found = g_ptr_array_new();
    g_autofree char *object = g_strdup_printf("network '%s'", name);
    guint from = a->ops->len;

    if (!vn_ledger_load(a->dir, VN_OBJECT_NETWORK, name, &old, error))
        return FALSE;
    if (!old && !rules->len && vn_state_intact(a->dir))
        return TRUE;        /* nothing installed, nothing needed */
    if (!place_rules(a, rules, wants, error) ||
        !find_present(a, name, old, old && !rules->len, present, found,
                      error) ||
        !decide_rules(a, object, wants, present, found, error))
        return FALSE;
    if (!describe_execute(a, from, error))
        return FALSE;
    if (a->dry_run)
        return TRUE;
    for (guint i = 0; i < wants->len; i++) {
        const Want *w = wants->pdata[i];

        vn_ledger_add_rule(now, w->have ? w->have : w->entry);
    }
    /* the inserted entries got their handles in the ops */
    for (guint i = from; i < a->ops->len; i++) {
        const VnOp *op = a->ops->pdata[i];

        for (guint j = 0; op->kind == VN_OP_RULE_INSERT && j < now->rules->len;
             j++) {
            VnFwEntry *e = now->rules->pdata[j];

            if (vn_fw_entry_same_place(e, op->entry) && !e->handle)
                e->handle = op->entry->handle;
        }
    }
    return vn_ledger_save(a->dir, now, error);
}

gboolean
vn_apply_sweep(VnApply *a, GPtrArray *networks, GError **error)
{
    static const int families[] = { NFPROTO_IPV4, NFPROTO_IPV6 };
    g_autoptr(GPtrArray) prefixes = g_ptr_array_new_with_free_func(g_free);
    guint from = a->ops->len;

    for (guint i = 0; i < networks->len; i++)
        g_ptr_array_add(prefixes, vn_rule_comment_prefix(networks->pdata[i]));
    for (guint f = 0; f < G_N_ELEMENTS(families); f++) {
        g_autoptr(GArray) backends = g_array_new(FALSE, FALSE,
                                                 sizeof(VnFwBackend));

        if (!vn_fw_backends(a->fw, families[f], backends, error))
            return FALSE;
        for (guint b = 0; b < backends->len; b++) {
            const VnFwBackendClass *klass =
                vn_fw_class(a->fw, g_array_index(backends, VnFwBackend, b));
            g_autoptr(GPtrArray) listed =
                g_ptr_array_new_with_free_func((GDestroyNotify)vn_fw_entry_free);

            if (!klass->list(a->fw, families[f], NULL, listed, error))
                return FALSE;
            for (guint i = 0; i < listed->len; i++) {
                const VnFwEntry *e = listed->pdata[i];
                gboolean kept = FALSE;

                for (guint k = 0; k < prefixes->len && !kept; k++)
                    kept = g_str_has_prefix(e->comment, prefixes->pdata[k]);
                if (!kept)
                    vn_ops_add_rule(a->ops, VN_OP_RULE_DELETE, "firewall",
                                    NULL, e, "virt-nest's comment, of no "
                                    "network here or in a ledger");
            }
        }
    }
    return describe_execute(a, from, error);
}

/* ------------------------------------------------------------------ */
/* domains: routes                                                     */

static VnKernelRoute
kroute(const VnCidr *dst, const VnCidr *via, const char *dev)
{
    VnKernelRoute k = { *dst, { 0 }, (char *)dev, NULL };

    if (via)
        k.via = *via;
    return k;
}

/* Ledger lost: virt-nest's routes to the metadata's subnets. */
static void
recover_routes(const VnHost *host, GArray *subnets, VnLedger *ledger)
{
    for (guint i = 0; subnets && i < subnets->len; i++) {
        const VnCidr *s = &g_array_index(subnets, VnCidr, i);

        for (guint j = 0; j < host->routes->len; j++) {
            const VnHostRoute *r = host->routes->pdata[j];
            const VnLink *l;

            if (r->protocol != VN_RTPROT || !vn_cidr_equal(&r->dst, s))
                continue;
            l = vn_host_find_link(host, r->oif);
            vn_ledger_add_route(ledger, &r->dst, &r->gateway,
                                l ? l->name : "?", FALSE);
        }
    }
}

static const VnLedgerRoute *
ledger_route(const VnLedger *l, const VnCidr *dst)
{
    for (guint i = 0; l && i < l->routes->len; i++) {
        const VnLedgerRoute *lr = l->routes->pdata[i];

        if (vn_cidr_equal(&lr->dst, dst))
            return lr;
    }
    return NULL;
}

static VnKernelRoute
host_kroute(const VnHost *host, const VnHostRoute *r, char *dev, gsize size)
{
    const VnLink *l = vn_host_find_link(host, r->oif);

    g_strlcpy(dev, l ? l->name : "?", size);
    return kroute(&r->dst, &r->gateway, dev);
}

/* The route operations for what is needed now; refuses a route to the same
 * subnet elsewhere that is not virt-nest's. */
static gboolean
decide_routes(VnApply *a, const char *object, const char *name,
              GPtrArray *routes, const VnLedger *old, const VnHost *host,
              VnLedger *now, GError **error)
{
    /* no longer needed: exactly ours, by destination, next hop, device
     * and protocol; an adopted route gets its own protocol back */
    for (guint i = 0; old && i < old->routes->len; i++) {
        const VnLedgerRoute *lr = old->routes->pdata[i];
        VnKernelRoute k = kroute(&lr->dst, &lr->via, lr->dev);
        gboolean still = FALSE;

        if (lr->pending)
            continue;
        for (guint j = 0; j < routes->len; j++) {
            const VnRoute *r = routes->pdata[j];

            still = still || (vn_cidr_equal(&r->dst, &lr->dst) &&
                              !vn_cidr_is_empty(&r->via));
        }
        if (still || vn_route_state(host, &k, NULL) != VN_ROUTE_OURS)
            continue;
        if (lr->adopted)
            vn_ops_add_route(a->ops, VN_OP_ROUTE_RETURN, object, &k, NULL,
                             lr->adopted);
        else
            vn_ops_add_route(a->ops, VN_OP_ROUTE_DEL, object, &k, NULL, 0);
    }
    for (guint i = 0; i < routes->len; i++) {
        const VnRoute *r = routes->pdata[i];
        VnKernelRoute k = kroute(&r->dst, &r->via, r->dev);
        const VnLedgerRoute *was = ledger_route(old, &r->dst);
        const VnHostRoute *found = NULL;
        VnLedgerRoute *lr;
        char dev[64];
        VnKernelRoute cur;

        k.network = r->network;     /* borrowed, as dev; the ops copy it */

        if (vn_cidr_is_empty(&r->via)) {
            char dst[VN_CIDR_STRLEN];

            change(a, object, "route %s pending: its next hop is not known yet",
                   vn_cidr_format(&r->dst, TRUE, dst));
            vn_ledger_add_route(now, &r->dst, NULL, r->dev, TRUE);
            continue;
        }
        lr = vn_ledger_add_route(now, &r->dst, &r->via, r->dev, FALSE);
        switch (vn_route_state(host, &k, &found)) {
        case VN_ROUTE_ABSENT:
            vn_ops_add_route(a->ops, VN_OP_ROUTE_ADD, object, &k, NULL, 0);
            break;
        case VN_ROUTE_OURS:
            lr->adopted = was ? was->adopted : 0;
            break;
        case VN_ROUTE_OURS_OTHER:
            cur = host_kroute(host, found, dev, sizeof(dev));
            vn_ops_add_route(a->ops, VN_OP_ROUTE_REPLACE, object, &k, &cur, 0);
            break;
        case VN_ROUTE_FOREIGN_SAME:
            /* the user's own hand fix, exactly what is needed: take it
             * over, and give it back when the guest stops */
            lr->adopted = found->protocol;
            vn_ops_add_route(a->ops, VN_OP_ROUTE_ADOPT, object, &k, NULL,
                             found->protocol);
            break;
        case VN_ROUTE_FOREIGN_OTHER: {
            g_autofree char *d = vn_route_describe(r);
            char dst[VN_CIDR_STRLEN];

            g_set_error(error, VN_ERROR, VN_ERROR_CONFLICT,
                        "domain '%s': route %s: another route to %s exists "
                        "that virt-nest did not add; remove it (ip route del "
                        "%s) or delegate another subnet", name, d,
                        vn_cidr_format(&r->dst, TRUE, dst), dst);
            return FALSE;
        }
        }
    }
    return TRUE;
}

gboolean
vn_apply_domain(VnApply *a, const char *name, GPtrArray *routes,
                GArray *subnets, GError **error)
{
    g_autoptr(VnLedger) old = NULL;
    g_autoptr(VnLedger) now = vn_ledger_new(VN_OBJECT_DOMAIN, name);
    g_autofree char *object = g_strdup_printf("domain '%s'", name);
    guint from = a->ops->len;
    const VnHost *host;

    if (!vn_ledger_load(a->dir, VN_OBJECT_DOMAIN, name, &old, error))
        return FALSE;
    if (!old && !routes->len && vn_state_intact(a->dir))
        return TRUE;        /* nothing installed, nothing needed */
    if (!(host = vn_apply_host(a, error)))
        return FALSE;
    if (!old && !vn_state_intact(a->dir)) {
        old = vn_ledger_new(VN_OBJECT_DOMAIN, name);
        recover_routes(host, subnets, old);
    }
    if (!decide_routes(a, object, name, routes, old, host, now, error))
        return FALSE;
    if (!describe_execute(a, from, error))
        return FALSE;
    if (a->dry_run)
        return TRUE;
    if (a->ops->len > from)
        g_clear_pointer(&a->host, vn_host_free);    /* it changed */
    return vn_ledger_save(a->dir, now, error);
}

gboolean
vn_apply_finish(VnApply *apply, GError **error)
{
    if (apply->dry_run || vn_state_intact(apply->dir))
        return TRUE;
    return vn_state_mark_intact(apply->dir, error);
}
