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
#include "fwpath.h"
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

/* The routing protocol's name as `ip route` prints it, else its number. */
static const char *
proto_name(guint8 proto, char *buf, gsize size)
{
    switch (proto) {
    case RTPROT_BOOT:
        return "boot";
    case RTPROT_STATIC:
        return "static";
    case RTPROT_DHCP:
        return "dhcp";
    default:
        g_snprintf(buf, size, "%u", proto);
        return buf;
    }
}

/* The protocol of the hand-made route @r's ledger says virt-nest took
 * over, or 0. */
static guint8
ledger_adopted(GPtrArray *ledgers, const VnRoute *r)
{
    for (guint i = 0; i < ledgers->len; i++) {
        const VnLedger *l = ledgers->pdata[i];

        for (guint j = 0; l->kind == VN_OBJECT_DOMAIN &&
                          g_strcmp0(l->name, r->guest) == 0 &&
                          j < l->routes->len; j++) {
            const VnLedgerRoute *lr = l->routes->pdata[j];

            if (vn_cidr_equal(&lr->dst, &r->dst))
                return lr->adopted;
        }
    }
    return 0;
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
        g_autofree char *where = NULL;
        guint8 adopted = ledger_adopted(ledgers, r);
        char p[16];
        const VnGuest *g = vn_layer_find_guest(layer, r->guest);
        VnDriftState st;

        if (g && !vn_guest_running(g)) {
            /* as reconcile: a guest that is not running needs nothing */
            st = VN_DRIFT_PENDING;
            where = g_strdup_printf("the guest is %s: installed when it starts",
                                    g->state);
        } else if (vn_cidr_is_empty(&r->via)) {
            st = VN_DRIFT_PENDING;
        } else if (kernel_has_route(host, &r->dst, &r->via, r->dev, TRUE)) {
            st = VN_DRIFT_OK;
            if (adopted)
                where = g_strdup_printf("adopted: the same route was made by "
                                        "hand (proto %s); virt-nest gives it "
                                        "back when the guest stops",
                                        proto_name(adopted, p, sizeof(p)));
        } else if (kernel_has_route(host, &r->dst, &r->via, r->dev, FALSE)) {
            st = VN_DRIFT_FOREIGN;
            where = g_strdup("made by hand, not by virt-nest: the guest's "
                             "start adopts it");
        } else {
            st = VN_DRIFT_MISSING;
        }
        vn_drift_add(drift, st, object, what, where);
    }
    for (guint i = 0; i < ledgers->len; i++) {
        const VnLedger *l = ledgers->pdata[i];

        if (l->kind != VN_OBJECT_DOMAIN)
            continue;
        for (guint j = 0; j < l->routes->len; j++) {
            const VnLedgerRoute *lr = l->routes->pdata[j];
            const VnGuest *g = vn_layer_find_guest(layer, l->name);
            gboolean needed = FALSE;
            VnRoute r = { (char *)l->name, NULL, lr->dev, lr->dst, lr->via,
                          VN_SOURCE_NONE };
            g_autofree char *object = vn_route_object(&r);
            g_autofree char *what = vn_route_what(&r);

            /* what is left of a guest that stopped is reconcile's to
             * remove, as it removes it */
            for (guint k = 0; (!g || vn_guest_running(g)) &&
                              k < plan->routes->len; k++) {
                const VnRoute *p = plan->routes->pdata[k];

                if (g_strcmp0(p->guest, l->name) == 0 &&
                    vn_cidr_equal(&p->dst, &lr->dst) &&
                    vn_cidr_equal(&p->via, &lr->via))
                    needed = TRUE;
            }
            if (!needed && !lr->pending &&
                kernel_has_route(host, &lr->dst, &lr->via, lr->dev, TRUE)) {
                VnDriftItem *d = vn_drift_add(drift, VN_DRIFT_STALE, object,
                                              what, NULL);

                if (g && !vn_guest_running(g))
                    d->note = g_strdup("left after the guest stopped: "
                                       "reconcile removes it");
            }
        }
    }
}

static const VnFwEntry *
find_entry(GPtrArray *entries, const VnFwEntry *want)
{
    for (guint i = 0; entries && i < entries->len; i++) {
        const VnFwEntry *e = entries->pdata[i];

        if (vn_fw_entry_same_place(e, want))
            return e;
    }
    return NULL;
}

static char *
entry_where(const VnFwEntry *e, const char *note)
{
    g_autofree char *w = vn_fw_entry_where(e);

    if (e->handle)
        return g_strdup_printf("%s handle %" G_GUINT64_FORMAT "%s", w,
                               e->handle, note ? note : "");
    return g_strdup_printf("%s%s", w, note ? note : "");
}

/* Every entry of virt-nest's in every backend here (restored copies and
 * orphans included): status shows what the ledger does not know. */
static gboolean
list_ours(VnFw *fw, GPtrArray *out, GError **error)
{
    static const int families[] = { NFPROTO_IPV4, NFPROTO_IPV6 };

    for (guint f = 0; f < G_N_ELEMENTS(families); f++) {
        g_autoptr(GArray) backends = g_array_new(FALSE, FALSE,
                                                 sizeof(VnFwBackend));

        if (!vn_fw_backends(fw, families[f], backends, error))
            return FALSE;
        for (guint b = 0; b < backends->len; b++) {
            const VnFwBackendClass *klass =
                vn_fw_class(fw, g_array_index(backends, VnFwBackend, b));

            if (!klass->list(fw, families[f], NULL, out, error))
                return FALSE;
        }
    }
    return TRUE;
}

/* The ledger entries still in the firewall. */
static gboolean
present_entries(VnFw *fw, GPtrArray *ledgers, GPtrArray *out, GError **error)
{
    for (guint i = 0; i < ledgers->len; i++) {
        const VnLedger *l = ledgers->pdata[i];

        for (guint j = 0; l->kind == VN_OBJECT_NETWORK && j < l->rules->len;
             j++) {
            const VnFwEntry *e = l->rules->pdata[j];
            const VnFwBackendClass *klass = vn_fw_class(fw, e->backend);
            int rc;

            if (!klass)
                continue;
            if ((rc = klass->exists(fw, e, error)) < 0)
                return FALSE;
            if (rc)
                g_ptr_array_add(out, (gpointer)e);
        }
    }
    return TRUE;
}

static char *
backends_text(VnFw *fw, GError **error)
{
    g_autoptr(GArray) backends = g_array_new(FALSE, FALSE, sizeof(VnFwBackend));
    g_autoptr(GString) s = g_string_new(NULL);

    if (!vn_fw_backends(fw, NFPROTO_IPV4, backends, error))
        return NULL;
    for (guint i = 0; i < backends->len; i++)
        g_string_append_printf(s, "%s%s", i ? "," : "",
                               vn_fw_backend_to_string(g_array_index(backends,
                                                                     VnFwBackend,
                                                                     i)));
    return g_string_free(g_steal_pointer(&s), s->len == 0) ?: g_strdup("none");
}

/* What one plan rule has: each backend's entry present (by the ledger,
 * or found by its comment), or missing; then what the whole firewall does
 * to its traffic. One item per rule. */
static gboolean
check_rule(const VnHost *host, VnFw *fw, const VnRule *r, guint backends,
           GPtrArray *placed, GPtrArray *present, GPtrArray *listed,
           VnDrift *drift, GError **error)
{
    g_autofree char *object = vn_rule_object(r);
    g_autofree char *what = vn_rule_what(r);
    g_autoptr(GString) have = g_string_new(NULL);
    g_autoptr(GString) lack = g_string_new(NULL);
    gboolean preceded = FALSE;
    VnDriftState st;
    VnFwPath path;
    char *where;

    for (guint i = 0; i < placed->len; i++) {
        const VnFwEntry *want = placed->pdata[i];
        const VnFwEntry *e;
        g_autofree char *w = NULL;
        int rc;

        if ((e = find_entry(present, want))) {
            const VnFwBackendClass *klass = vn_fw_class(fw, e->backend);

            if ((rc = klass->preceded(fw, e, error)) < 0)
                return FALSE;
            preceded = preceded || rc;
            w = entry_where(e, NULL);
        } else if ((e = find_entry(listed, want))) {
            w = entry_where(e, " (not in virt-nest's ledger: restored from a "
                            "saved ruleset? reconcile adopts it)");
        } else {
            g_autofree char *m = vn_fw_entry_where(want);

            g_string_append_printf(lack, "%s%s", lack->len ? ", " : "", m);
            continue;
        }
        g_string_append_printf(have, "%s%s", have->len ? "; " : "", w);
    }
    vn_fw_path_check(host, r, &path);
    if (lack->len) {
        st = VN_DRIFT_MISSING;
        if (path.state == VN_FW_PATH_PASSES && path.decided)
            where = g_strdup_printf("not in %s (the traffic passes anyway, "
                                    "by %s)", lack->str, path.decided);
        else
            where = g_strdup_printf("not in %s", lack->str);
    } else if (path.state == VN_FW_PATH_STOPPED) {
        const GPtrArray *notes = vn_fw_notes(fw);

        st = path.in_our_chain ? VN_DRIFT_SHADOWED : VN_DRIFT_BLOCKED;
        /* what a backend could not take says why, with the fix */
        where = g_strdup_printf("%s: %s %s it%s%s%s%s", have->len ? have->str
                                                               : "no firewall",
                                path.decided ? path.decided : "the firewall",
                                r->kind == VN_RULE_NAT ? "still rewrites"
                                                       : "still stops",
                                path.in_our_chain ? " above virt-nest's rule"
                                                  : "",
                                path.in_our_chain || notes ? "" : " (a table "
                                "virt-nest does not manage: let this traffic "
                                "through there)",
                                notes ? ": " : "",
                                notes ? (const char *)notes->pdata[0] : "");
    } else if (path.state == VN_FW_PATH_UNKNOWN && preceded) {
        /* the firewall could not be read whole: what the chain order says */
        st = VN_DRIFT_SHADOWED;
        where = g_strdup_printf("%s: other rules come first", have->str);
    } else {
        st = VN_DRIFT_OK;
        where = g_strdup(have->len ? have->str
                         : backends ? "no such chain: nothing to beat"
                                    : "no firewall");
        if (path.unknown) {
            char *w = g_strdup_printf("%s (%u rule%s could not be evaluated)",
                                      where, path.unknown,
                                      path.unknown == 1 ? "" : "s");

            g_free(where);
            where = w;
        }
    }
    vn_drift_add(drift, st, object, what, where);
    g_free(where);
    vn_fw_path_clear(&path);
    return TRUE;
}

static gboolean
wanted_somewhere(GPtrArray *wants, const VnFwEntry *e)
{
    return find_entry(wants, e) != NULL;
}

static gboolean
check_rules(const VnLayer *layer, const VnPlan *plan, GPtrArray *ledgers,
            VnDrift *drift, GError **error)
{
    const VnHost *host = layer->host;
    g_autoptr(VnFw) fw = vn_fw_new();
    g_autoptr(GPtrArray) wants =
        g_ptr_array_new_with_free_func((GDestroyNotify)vn_fw_entry_free);
    g_autoptr(GPtrArray) present = g_ptr_array_new();
    g_autoptr(GPtrArray) listed =
        g_ptr_array_new_with_free_func((GDestroyNotify)vn_fw_entry_free);

    if (!(drift->backend = backends_text(fw, error)))
        return FALSE;
    if (!present_entries(fw, ledgers, present, error) ||
        !list_ours(fw, listed, error))
        return FALSE;
    for (guint i = 0; i < plan->rules->len; i++) {
        const VnRule *r = plan->rules->pdata[i];
        g_autoptr(GArray) backends = g_array_new(FALSE, FALSE,
                                                 sizeof(VnFwBackend));
        g_autoptr(GPtrArray) placed = g_ptr_array_new();
        int family = r->src.family == AF_INET6 ? NFPROTO_IPV6 : NFPROTO_IPV4;
        const VnNetwork *net = vn_layer_find_network(layer, r->network);

        if (net && !net->active) {
            /* nothing is wanted of a network that is down: what is left
             * of it in the firewall is stale, and reconcile removes it */
            g_autofree char *object = vn_rule_object(r);
            g_autofree char *what = vn_rule_what(r);

            vn_drift_add(drift, VN_DRIFT_PENDING, object, what,
                         "the network is not active: installed when it starts");
            continue;
        }
        if (!vn_fw_backends(fw, family, backends, error))
            return FALSE;
        for (guint b = 0; b < backends->len; b++) {
            const VnFwBackendClass *klass =
                vn_fw_class(fw, g_array_index(backends, VnFwBackend, b));
            VnFwEntry *want = NULL;

            if (!klass->place(fw, r, &want, error))
                return FALSE;
            if (!want)
                continue;
            g_ptr_array_add(wants, want);
            g_ptr_array_add(placed, want);
        }
        if (!check_rule(host, fw, r, backends->len, placed, present, listed,
                        drift, error))
            return FALSE;
    }
    /* installed by virt-nest (by the ledger, or by its comment alone: an
     * orphan of an earlier bug, or of a lost state), no longer needed */
    for (guint i = 0; i < present->len; i++) {
        const VnFwEntry *e = present->pdata[i];
        g_autofree char *where = NULL;
        g_autofree char *object = NULL;

        if (wanted_somewhere(wants, e))
            continue;
        for (guint j = 0; j < ledgers->len && !object; j++) {
            const VnLedger *l = ledgers->pdata[j];

            for (guint k = 0; k < l->rules->len && !object; k++)
                if (l->rules->pdata[k] == e)
                    object = g_strdup_printf("network '%s'", l->name);
        }
        where = entry_where(e, NULL);
        vn_drift_add(drift, VN_DRIFT_STALE, object, e->comment, where);
    }
    for (guint i = 0; i < listed->len; i++) {
        const VnFwEntry *e = listed->pdata[i];
        g_autofree char *where = NULL;
        gboolean known = wanted_somewhere(wants, e);

        for (guint j = 0; j < present->len && !known; j++) {
            const VnFwEntry *p = present->pdata[j];

            known = vn_fw_entry_same_place(p, e) && p->handle == e->handle;
        }
        if (known)
            continue;
        where = entry_where(e, " (in no ledger of virt-nest's)");
        vn_drift_add(drift, VN_DRIFT_STALE, "firewall", e->comment, where);
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
    if (!check_rules(layer, plan, ledgers, drift, error))
        return NULL;
    vn_drift_sort(drift);
    return g_steal_pointer(&drift);
}
