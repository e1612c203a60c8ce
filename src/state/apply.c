/* apply.c: make the kernel match what one object needs.
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
#include "router.h"

struct _VnApply {
    char *dir;
    VnNft *nft;
    gboolean backend_known;
    VnFwBackend backend;
    GHashTable *chains;     /* "family table chain" -> GINT_TO_POINTER(exists+1) */
    VnRouter *router;
    VnHost *host;
    gboolean dry_run;
    gboolean check_order;
    GPtrArray *changes;     /* char* */
};

static void G_GNUC_PRINTF(3, 4)
change(VnApply *a, const char *object, const char *fmt, ...)
{
    va_list ap;
    g_autofree char *msg = NULL;

    va_start(ap, fmt);
    msg = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    g_ptr_array_add(a->changes, g_strdup_printf("%s: %s", object, msg));
}

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

VnApply *
vn_apply_new(const char *state_dir)
{
    VnApply *a = g_new0(VnApply, 1);

    a->dir = g_strdup(state_dir);
    a->chains = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    a->changes = g_ptr_array_new_with_free_func(g_free);
    return a;
}

void
vn_apply_free(VnApply *apply)
{
    if (!apply)
        return;
    g_free(apply->dir);
    vn_nft_close(apply->nft);
    g_hash_table_unref(apply->chains);
    vn_router_close(apply->router);
    vn_host_free(apply->host);
    g_ptr_array_unref(apply->changes);
    g_free(apply);
}

static VnNft *
nft(VnApply *a, GError **error)
{
    if (!a->nft)
        a->nft = vn_nft_open(error);
    return a->nft;
}

gboolean
vn_apply_backend(VnApply *apply, VnFwBackend *backend, GError **error)
{
    if (!apply->backend_known) {
        if (!nft(apply, error) ||
            !vn_fw_detect(apply->nft, &apply->backend, error))
            return FALSE;
        apply->backend_known = TRUE;
    }
    *backend = apply->backend;
    return TRUE;
}

const VnHost *
vn_apply_host(VnApply *apply, GError **error)
{
    if (!apply->host)
        apply->host = vn_host_read(error);
    return apply->host;
}

/* 1 if the chain exists, 0 if not, -1 on error; cached per run. */
static int
chain_exists(VnApply *a, const VnNftChain *c, GError **error)
{
    g_autofree char *key = vn_nft_chain_describe(c);
    gpointer v;
    int rc;

    if (g_hash_table_lookup_extended(a->chains, key, NULL, &v))
        return GPOINTER_TO_INT(v) - 1;
    if (!nft(a, error))
        return -1;
    if ((rc = vn_nft_exists(a->nft, c->family, c->table, c->chain, error)) < 0)
        return -1;
    g_hash_table_insert(a->chains, g_steal_pointer(&key), GINT_TO_POINTER(rc + 1));
    return rc;
}

/* ------------------------------------------------------------------ */
/* networks: rules                                                     */

/* When the ledger is lost, find the network's rules by their tag in every
 * chain virt-nest may have used. This is the only place that lists whole
 * chains. */
static gboolean
recover_rules(VnApply *a, const char *name, VnLedger *ledger, GError **error)
{
    static const VnRuleKind kinds[] = { VN_RULE_IN, VN_RULE_NAT };
    static const int families[] = { AF_INET, AF_INET6 };
    static const VnFwBackend backends[] = { VN_FW_IPTABLES, VN_FW_NFTABLES };
    g_autofree char *prefix = vn_rule_comment_prefix(name);

    for (guint b = 0; b < G_N_ELEMENTS(backends); b++) {
        for (guint f = 0; f < G_N_ELEMENTS(families); f++) {
            for (guint k = 0; k < G_N_ELEMENTS(kinds); k++) {
                g_autoptr(GArray) handles = g_array_new(FALSE, FALSE, sizeof(guint64));
                g_autoptr(GPtrArray) comments = g_ptr_array_new_with_free_func(g_free);
                VnNftChain c;
                int rc;

                vn_fw_chain(backends[b], kinds[k], families[f], &c);
                if ((rc = chain_exists(a, &c, error)) < 0)
                    return FALSE;
                if (!rc)
                    continue;
                if (!vn_nft_find_tagged(a->nft, &c, prefix, handles, comments,
                                        error))
                    return FALSE;
                for (guint i = 0; i < handles->len; i++)
                    vn_ledger_add_rule(ledger, comments->pdata[i], c.family,
                                       c.table, c.chain,
                                       g_array_index(handles, guint64, i));
            }
        }
    }
    return TRUE;
}

typedef struct {
    const VnRule *rule;
    VnNftChain chain;
    char *comment;
} Want;

static void
want_free(Want *w)
{
    g_free(w->comment);
    g_free(w);
}

/* A rule of ours that something else precedes in its chain may be shadowed
 * by it (libvirt re-inserts its jumps at the head when they are missing).
 * Such rules are deleted and inserted again at the head, in @batch. */
static gboolean
demote_shadowed(VnApply *a, const char *object, VnLedger *now,
                GHashTable *present, GHashTable *moved, VnNftBatch *batch,
                GError **error)
{
    g_autoptr(GPtrArray) chains = g_ptr_array_new_with_free_func(g_free);

    /* the chains our present rules are in, each once */
    for (guint i = 0; i < now->rules->len; i++) {
        const VnLedgerRule *lr = now->rules->pdata[i];
        VnNftChain c = { lr->family, lr->table, lr->chain };
        g_autofree char *where = vn_nft_chain_describe(&c);
        VnNftChain *copy;
        gboolean dup = FALSE;

        for (guint j = 0; j < chains->len; j++) {
            g_autofree char *w2 = vn_nft_chain_describe(chains->pdata[j]);

            dup = dup || strcmp(w2, where) == 0;
        }
        if (dup)
            continue;
        copy = g_new0(VnNftChain, 1);
        *copy = c;
        copy->table = g_intern_string(lr->table);
        copy->chain = g_intern_string(lr->chain);
        g_ptr_array_add(chains, copy);
    }
    for (guint i = 0; i < chains->len; i++) {
        const VnNftChain *c = chains->pdata[i];
        g_autofree char *where = vn_nft_chain_describe(c);
        g_autoptr(GArray) handles = g_array_new(FALSE, FALSE, sizeof(guint64));
        g_autoptr(GPtrArray) comments = g_ptr_array_new_with_free_func(g_free);
        gboolean foreign_first = FALSE;

        if (!vn_nft_find_tagged(a->nft, c, NULL, handles, comments, error))
            return FALSE;
        for (guint j = 0; j < handles->len; j++) {
            const char *cm = comments->pdata[j];
            guint64 h = g_array_index(handles, guint64, j);

            if (!vn_rule_comment_is_ours(cm)) {
                foreign_first = TRUE;
                continue;
            }
            if (!foreign_first)
                continue;
            /* ours, below somebody else's rule: delete it, and the insert
             * loop puts it back at the head */
            for (guint k = now->rules->len; k-- > 0;) {
                const VnLedgerRule *x = now->rules->pdata[k];

                if (x->handle != h || x->family != c->family ||
                    strcmp(x->table, c->table) || strcmp(x->chain, c->chain))
                    continue;
                vn_nft_batch_delete(batch, c, x->handle, x->comment);
                change(a, object, "move rule \"%s\" back to the head of %s",
                       x->comment, where);
                g_hash_table_add(moved, g_strdup(x->comment));
                g_hash_table_remove(present, x->comment);
                g_ptr_array_remove_index(now->rules, k);
            }
        }
    }
    return TRUE;
}

gboolean
vn_apply_network(VnApply *a, const char *name, GPtrArray *rules,
                 GError **error)
{
    g_autoptr(VnLedger) old = NULL;
    g_autoptr(VnLedger) now = vn_ledger_new(VN_OBJECT_NETWORK, name);
    g_autoptr(GPtrArray) wants = g_ptr_array_new_with_free_func((GDestroyNotify)want_free);
    g_autoptr(GHashTable) present = g_hash_table_new(g_str_hash, g_str_equal);
    g_autoptr(GHashTable) moved = g_hash_table_new_full(g_str_hash, g_str_equal,
                                                        g_free, NULL);
    g_autoptr(GHashTable) handles = g_hash_table_new_full(g_str_hash, g_str_equal,
                                                          g_free, g_free);
    g_autoptr(VnNftBatch) batch = NULL;
    g_autofree char *object = g_strdup_printf("network '%s'", name);
    VnFwBackend backend = VN_FW_NONE;

    if (!vn_ledger_load(a->dir, VN_OBJECT_NETWORK, name, &old, error))
        return FALSE;
    if (!old && !vn_state_intact(a->dir)) {
        old = vn_ledger_new(VN_OBJECT_NETWORK, name);
        if (!recover_rules(a, name, old, error))
            return FALSE;
    }
    if (!old && !rules->len)
        return TRUE;        /* nothing installed, nothing needed */

    if (rules->len && !vn_apply_backend(a, &backend, error))
        return FALSE;
    for (guint i = 0; i < rules->len; i++) {
        const VnRule *r = rules->pdata[i];
        Want *w = g_new0(Want, 1);
        int rc;

        w->rule = r;
        w->comment = vn_rule_comment(r);
        g_ptr_array_add(wants, w);
        if (!vn_fw_chain(backend, r->kind, r->src.family, &w->chain))
            continue;       /* no firewall: nothing to beat */
        if ((rc = chain_exists(a, &w->chain, error)) < 0)
            return FALSE;
        if (!rc)
            w->chain.table = NULL;  /* e.g. no ip6 nat table: no MASQUERADE */
    }

    if (!nft(a, error))
        return FALSE;
    batch = vn_nft_batch_new(a->nft);
    /* what is installed: verify each recorded handle still holds our rule */
    for (guint i = 0; old && i < old->rules->len; i++) {
        const VnLedgerRule *lr = old->rules->pdata[i];
        VnNftChain c = { lr->family, lr->table, lr->chain };
        g_autofree char *comment = NULL;
        gboolean wanted = FALSE;
        int rc;

        if ((rc = chain_exists(a, &c, error)) < 0)
            return FALSE;
        if (rc && (rc = vn_nft_get_comment(a->nft, &c, lr->handle, &comment,
                                           error)) < 0)
            return FALSE;
        if (!rc || g_strcmp0(comment, lr->comment) != 0)
            continue;       /* gone (flushed, or the table was recreated) */
        for (guint j = 0; j < wants->len; j++) {
            Want *w = wants->pdata[j];

            if (w->chain.table && g_strcmp0(w->comment, lr->comment) == 0 &&
                w->chain.family == c.family && !strcmp(w->chain.table, c.table) &&
                !strcmp(w->chain.chain, c.chain))
                wanted = TRUE;
        }
        if (wanted) {
            g_hash_table_insert(present, lr->comment, (gpointer)lr);
            vn_ledger_add_rule(now, lr->comment, lr->family, lr->table,
                               lr->chain, lr->handle);
        } else {
            g_autofree char *where = vn_nft_chain_describe(&c);

            vn_nft_batch_delete(batch, &c, lr->handle, lr->comment);
            change(a, object, "delete rule \"%s\" from %s (handle %"
                   G_GUINT64_FORMAT ")", lr->comment, where, lr->handle);
        }
    }
    if (a->check_order &&
        !demote_shadowed(a, object, now, present, moved, batch, error))
        return FALSE;
    for (guint i = 0; i < wants->len; i++) {
        Want *w = wants->pdata[i];
        g_autofree char *where = NULL;

        if (!w->chain.table || g_hash_table_contains(present, w->comment))
            continue;
        where = vn_nft_chain_describe(&w->chain);
        vn_nft_batch_insert(batch, w->rule, &w->chain);
        if (!g_hash_table_contains(moved, w->comment))  /* said above */
            change(a, object, "insert rule \"%s\" at the head of %s",
                   w->comment, where);
    }
    if (a->dry_run)
        return TRUE;
    if (!vn_nft_batch_commit(batch, handles, error))
        return FALSE;
    for (guint i = 0; i < wants->len; i++) {
        Want *w = wants->pdata[i];
        guint64 *h;

        if (!w->chain.table || g_hash_table_contains(present, w->comment))
            continue;
        if (!(h = g_hash_table_lookup(handles, w->comment))) {
            g_set_error(error, VN_ERROR, VN_ERROR_FAILED,
                        "the kernel did not confirm rule '%s'", w->comment);
            return FALSE;
        }
        vn_ledger_add_rule(now, w->comment, w->chain.family, w->chain.table,
                           w->chain.chain, *h);
    }
    if (now->rules->len)
        now->backend = g_strdup(vn_fw_backend_to_string(backend));
    return vn_ledger_save(a->dir, now, error);
}

/* ------------------------------------------------------------------ */
/* domains: routes                                                     */

static gboolean
router(VnApply *a, GError **error)
{
    if (!a->router)
        a->router = vn_router_open(error);
    return a->router != NULL;
}

static VnKernelRoute
kroute(const VnCidr *dst, const VnCidr *via, const char *dev)
{
    VnKernelRoute k = { *dst, { 0 }, (char *)dev };

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
            char name[64];

            if (r->protocol != VN_RTPROT || !vn_cidr_equal(&r->dst, s))
                continue;
            l = vn_host_find_link(host, r->oif);
            g_snprintf(name, sizeof(name), "%s", l ? l->name : "?");
            vn_ledger_add_route(ledger, &r->dst, &r->gateway, name, FALSE);
        }
    }
}

gboolean
vn_apply_domain(VnApply *a, const char *name, GPtrArray *routes,
                GArray *subnets, GError **error)
{
    g_autoptr(VnLedger) old = NULL;
    g_autoptr(VnLedger) now = vn_ledger_new(VN_OBJECT_DOMAIN, name);
    g_autoptr(GArray) states = g_array_new(FALSE, TRUE, sizeof(VnRouteState));
    g_autoptr(GPtrArray) added = g_ptr_array_new();
    g_autofree char *object = g_strdup_printf("domain '%s'", name);
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

    /* decide everything before changing anything */
    for (guint i = 0; i < routes->len; i++) {
        const VnRoute *r = routes->pdata[i];
        VnKernelRoute k = kroute(&r->dst, &r->via, r->dev);
        VnRouteState st = VN_ROUTE_ABSENT;

        if (!vn_cidr_is_empty(&r->via))
            st = vn_route_lookup(host, &k, error);
        if (st == VN_ROUTE_FOREIGN_OTHER) {
            g_autofree char *d = vn_route_describe(r);
            char dst[VN_CIDR_STRLEN];

            g_set_error(error, VN_ERROR, VN_ERROR_CONFLICT,
                        "domain '%s': route %s: another route to %s exists "
                        "that virt-nest did not add; remove it (ip route del "
                        "%s) or delegate another subnet", name, d,
                        vn_cidr_format(&r->dst, TRUE, dst), dst);
            return FALSE;
        }
        g_array_append_val(states, st);
    }
    if (!a->dry_run && !router(a, error))
        return FALSE;

    /* routes no longer needed: exactly ours, by destination, next hop,
     * device and protocol */
    for (guint i = 0; old && i < old->routes->len; i++) {
        const VnLedgerRoute *lr = old->routes->pdata[i];
        VnKernelRoute k = kroute(&lr->dst, &lr->via, lr->dev);
        gboolean still = FALSE;

        if (lr->pending)
            continue;
        for (guint j = 0; j < routes->len; j++) {
            const VnRoute *r = routes->pdata[j];

            if (vn_cidr_equal(&r->dst, &lr->dst) && !vn_cidr_is_empty(&r->via))
                still = TRUE;
        }
        if (still)
            continue;
        {
            g_autofree char *d = vn_kernel_route_describe(&k);

            change(a, object, "delete route %s", d);
        }
        if (!a->dry_run && !vn_route_delete(a->router, &k, error))
            return FALSE;
    }

    for (guint i = 0; i < routes->len; i++) {
        const VnRoute *r = routes->pdata[i];
        VnKernelRoute k = kroute(&r->dst, &r->via, r->dev);
        VnRouteState st = g_array_index(states, VnRouteState, i);

        if (vn_cidr_is_empty(&r->via)) {
            char dst[VN_CIDR_STRLEN];

            change(a, object, "route %s pending: its next hop is not known yet",
                   vn_cidr_format(&r->dst, TRUE, dst));
            vn_ledger_add_route(now, &r->dst, NULL, r->dev, TRUE);
            continue;
        }
        if (st == VN_ROUTE_ABSENT || st == VN_ROUTE_OURS_OTHER) {
            g_autofree char *d = vn_kernel_route_describe(&k);

            change(a, object, "%s route %s proto %d",
                   st == VN_ROUTE_ABSENT ? "add" : "replace", d, VN_RTPROT);
            if (a->dry_run)
                continue;
            if (!vn_route_add(a->router, &k, st == VN_ROUTE_OURS_OTHER, error)) {
                /* all or nothing: take back what this run added */
                for (guint j = 0; j < added->len; j++) {
                    const VnRoute *b = added->pdata[j];
                    VnKernelRoute kb = kroute(&b->dst, &b->via, b->dev);

                    vn_route_delete(a->router, &kb, NULL);
                }
                return FALSE;
            }
            if (st == VN_ROUTE_ABSENT)
                g_ptr_array_add(added, (gpointer)r);
        }
        if (st != VN_ROUTE_FOREIGN_SAME)
            vn_ledger_add_route(now, &r->dst, &r->via, r->dev, FALSE);
    }
    if (a->dry_run)
        return TRUE;
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
