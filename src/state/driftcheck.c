/* driftcheck.c: installed against needed, checked in the kernel.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include <string.h>
#include <linux/netfilter.h>
#include <linux/rtnetlink.h>

#include "driftcheck.h"
#include "error.h"
#include "fwbackend.h"
#include "nftables.h"
#include "router.h"
#include "ledger.h"

char *
vn_route_object(const VnRoute *route)
{
    return g_strdup_printf("domain '%s'", route->guest);
}

char *
vn_route_what(const VnRoute *route)
{
    g_autofree char *d = vn_route_describe(route);

    return g_strdup_printf("route %s", d);
}

char *
vn_rule_object(const VnRule *rule)
{
    return g_strdup_printf("network '%s'", rule->network);
}

char *
vn_rule_what(const VnRule *rule)
{
    g_autofree char *d = vn_rule_describe(rule);

    return g_strdup_printf("%s %s", rule->kind == VN_RULE_NAT ? "nat" : "forward",
                           d);
}

static const VnLedger *
find_ledger(GPtrArray *ledgers, VnObjectKind kind, const char *name)
{
    for (guint i = 0; i < ledgers->len; i++) {
        const VnLedger *l = ledgers->pdata[i];

        if (l->kind == kind && g_strcmp0(l->name, name) == 0)
            return l;
    }
    return NULL;
}

static gboolean
kernel_has_route(const VnHost *host, const VnCidr *dst, const VnCidr *via,
                 const char *dev, gboolean ours)
{
    const VnLink *l = vn_host_find_link_by_name(host, dev);

    for (guint i = 0; l && i < host->routes->len; i++) {
        const VnHostRoute *r = host->routes->pdata[i];

        if (vn_cidr_equal(&r->dst, dst) && vn_cidr_equal(&r->gateway, via) &&
            r->oif == l->ifindex && (r->protocol == VN_RTPROT) == ours)
            return TRUE;
    }
    return FALSE;
}

static void
check_routes(const VnLayer *layer, const VnPlan *plan, GPtrArray *ledgers,
             VnDrift *drift)
{
    const VnHost *host = layer->host;

    for (guint i = 0; i < plan->routes->len; i++) {
        const VnRoute *r = plan->routes->pdata[i];
        g_autofree char *object = vn_route_object(r);
        g_autofree char *what = vn_route_what(r);
        VnDriftState st;

        if (vn_cidr_is_empty(&r->via))
            st = VN_DRIFT_PENDING;
        else if (kernel_has_route(host, &r->dst, &r->via, r->dev, TRUE))
            st = VN_DRIFT_OK;
        else if (kernel_has_route(host, &r->dst, &r->via, r->dev, FALSE))
            st = VN_DRIFT_FOREIGN;
        else
            st = VN_DRIFT_MISSING;
        vn_drift_add(drift, st, object, what, NULL);
    }
    for (guint i = 0; i < ledgers->len; i++) {
        const VnLedger *l = ledgers->pdata[i];

        if (l->kind != VN_OBJECT_DOMAIN)
            continue;
        for (guint j = 0; j < l->routes->len; j++) {
            const VnLedgerRoute *lr = l->routes->pdata[j];
            gboolean needed = FALSE;
            VnRoute r = { (char *)l->name, NULL, lr->dev, lr->dst, lr->via,
                          VN_SOURCE_NONE };
            g_autofree char *object = vn_route_object(&r);
            g_autofree char *what = vn_route_what(&r);

            for (guint k = 0; k < plan->routes->len; k++) {
                const VnRoute *p = plan->routes->pdata[k];

                if (g_strcmp0(p->guest, l->name) == 0 &&
                    vn_cidr_equal(&p->dst, &lr->dst) &&
                    vn_cidr_equal(&p->via, &lr->via))
                    needed = TRUE;
            }
            if (!needed && !lr->pending &&
                kernel_has_route(host, &lr->dst, &lr->via, lr->dev, TRUE))
                vn_drift_add(drift, VN_DRIFT_STALE, object, what, NULL);
        }
    }
}

/* The handles of the rules that other rules precede in @chain. */
static GArray *
shadowed_in(VnNft *nft, const VnNftChain *chain, GHashTable *cache,
            GError **error)
{
    g_autofree char *key = vn_nft_chain_describe(chain);
    g_autoptr(GArray) handles = NULL;
    g_autoptr(GPtrArray) comments = NULL;
    GArray *out;
    gboolean foreign = FALSE;

    if ((out = g_hash_table_lookup(cache, key)))
        return out;
    handles = g_array_new(FALSE, FALSE, sizeof(guint64));
    comments = g_ptr_array_new_with_free_func(g_free);
    if (!vn_nft_find_tagged(nft, chain, NULL, handles, comments, error))
        return NULL;
    out = g_array_new(FALSE, FALSE, sizeof(guint64));
    for (guint i = 0; i < handles->len; i++) {
        const char *c = comments->pdata[i];

        if (!vn_rule_comment_is_ours(c))
            foreign = TRUE;
        else if (foreign)
            g_array_append_val(out, g_array_index(handles, guint64, i));
    }
    g_hash_table_insert(cache, g_steal_pointer(&key), out);
    return out;
}

static gboolean
check_rules(const VnPlan *plan, GPtrArray *ledgers, VnDrift *drift,
            GError **error)
{
    g_autoptr(GHashTable) shadow_cache =
        g_hash_table_new_full(g_str_hash, g_str_equal, g_free,
                              (GDestroyNotify)g_array_unref);
    g_autoptr(VnNft) nft = NULL;
    VnFwBackend backend;

    if (!plan->rules->len && !ledgers->len)
        return TRUE;
    if (!(nft = vn_nft_open(error)) || !vn_fw_detect(nft, &backend, error))
        return FALSE;
    drift->backend = g_strdup(vn_fw_backend_to_string(backend));

    for (guint i = 0; i < plan->rules->len; i++) {
        const VnRule *r = plan->rules->pdata[i];
        g_autofree char *object = vn_rule_object(r);
        g_autofree char *what = vn_rule_what(r);
        g_autofree char *comment = vn_rule_comment(r);
        const VnLedger *l = find_ledger(ledgers, VN_OBJECT_NETWORK, r->network);
        VnDriftState st = VN_DRIFT_MISSING;
        g_autofree char *where = NULL;
        VnNftChain want;

        if (!vn_fw_chain(backend, r->kind, r->src.family, &want)) {
            vn_drift_add(drift, VN_DRIFT_OK, object, what, "no firewall");
            continue;
        }
        if (vn_nft_exists(nft, want.family, want.table, want.chain, error) == 0) {
            vn_drift_add(drift, VN_DRIFT_OK, object, what,
                         "no such chain: nothing to beat");
            continue;
        }
        for (guint j = 0; l && j < l->rules->len; j++) {
            const VnLedgerRule *lr = l->rules->pdata[j];
            VnNftChain c = { lr->family, lr->table, lr->chain };
            g_autofree char *got = NULL;
            int rc;

            if (g_strcmp0(lr->comment, comment) != 0)
                continue;
            rc = vn_nft_get_comment(nft, &c, lr->handle, &got, error);
            if (rc < 0)
                return FALSE;
            if (rc && g_strcmp0(got, comment) == 0) {
                g_autofree char *cd = vn_nft_chain_describe(&c);
                GArray *sh = shadowed_in(nft, &c, shadow_cache, error);

                if (!sh)
                    return FALSE;
                st = VN_DRIFT_OK;
                for (guint k = 0; k < sh->len; k++)
                    if (g_array_index(sh, guint64, k) == lr->handle)
                        st = VN_DRIFT_SHADOWED;
                where = g_strdup_printf("%s handle %" G_GUINT64_FORMAT, cd,
                                        lr->handle);
            }
        }
        vn_drift_add(drift, st, object, what, where);
    }
    for (guint i = 0; i < ledgers->len; i++) {
        const VnLedger *l = ledgers->pdata[i];

        if (l->kind != VN_OBJECT_NETWORK)
            continue;
        for (guint j = 0; j < l->rules->len; j++) {
            const VnLedgerRule *lr = l->rules->pdata[j];
            VnNftChain c = { lr->family, lr->table, lr->chain };
            g_autofree char *got = NULL;
            g_autofree char *object = g_strdup_printf("network '%s'", l->name);
            g_autofree char *cd = NULL;
            g_autofree char *where = NULL;
            gboolean needed = FALSE;
            int rc;

            for (guint k = 0; k < plan->rules->len; k++) {
                g_autofree char *c2 = vn_rule_comment(plan->rules->pdata[k]);

                if (g_strcmp0(c2, lr->comment) == 0)
                    needed = TRUE;
            }
            if (needed)
                continue;
            if ((rc = vn_nft_exists(nft, c.family, c.table, c.chain, error)) < 0)
                return FALSE;
            if (rc && (rc = vn_nft_get_comment(nft, &c, lr->handle, &got,
                                               error)) < 0)
                return FALSE;
            if (!rc || g_strcmp0(got, lr->comment) != 0)
                continue;
            cd = vn_nft_chain_describe(&c);
            where = g_strdup_printf("%s handle %" G_GUINT64_FORMAT, cd,
                                    lr->handle);
            vn_drift_add(drift, VN_DRIFT_STALE, object, lr->comment, where);
        }
    }
    return TRUE;
}

VnDrift *
vn_drift_check(const VnLayer *layer, const VnPlan *plan,
               const char *state_dir, GError **error)
{
    g_autoptr(VnDrift) drift = vn_drift_new();
    g_autoptr(GPtrArray) ledgers = vn_ledger_load_all(state_dir, error);

    if (!ledgers)
        return NULL;
    if (!layer->host) {
        g_set_error(error, VN_ERROR, VN_ERROR_FAILED,
                    "drift needs this host's routes");
        return NULL;
    }
    check_routes(layer, plan, ledgers, drift);
    if (!check_rules(plan, ledgers, drift, error))
        return NULL;
    vn_drift_sort(drift);
    return g_steal_pointer(&drift);
}
