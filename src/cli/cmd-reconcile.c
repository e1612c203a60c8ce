/* cmd-reconcile.c: virt-nest reconcile.
 *
 * The hooks fire on libvirt's events only; libvirt reloading its own
 * firewall rules, `iptables -F`, `nft flush ruleset` and a lease that
 * arrives after a guest started fire none. reconcile re-derives what this
 * layer needs from the libvirt API (allowed here, never in a hook) and
 * re-applies the difference, through the same code the hooks use.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "apply.h"
#include "cli.h"
#include "discover.h"
#include "layerplan.h"
#include "ledger.h"
#include "vnconfig.h"

static void
usage(FILE *f)
{
    fprintf(f,
            "Usage: virt-nest reconcile [-c URI] [--dry-run] [--leases-dir DIR]\n\n"
            "Install what this layer needs and virt-nest has not installed, and\n"
            "remove what virt-nest installed that is no longer needed.\n\n"
            "  -c, --connect URI   libvirt URI (default: LIBVIRT_DEFAULT_URI, else\n"
            "                      qemu:///system)\n"
            "  -n, --dry-run       show what would change, change nothing\n"
            "      --leases-dir DIR  libvirt's lease status files\n"
            "  -h, --help          show this help\n");
}

/* TRUE if @name is in @list (char*). */
static gboolean
in_list(GPtrArray *list, const char *name)
{
    for (guint i = 0; i < list->len; i++)
        if (g_strcmp0(list->pdata[i], name) == 0)
            return TRUE;
    return FALSE;
}

/* The names of refused objects: their installed state is left alone. */
static GPtrArray *
refused(const VnPlan *plan, const char *kind)
{
    GPtrArray *names = g_ptr_array_new_with_free_func(g_free);
    g_autofree char *prefix = g_strdup_printf("%s '", kind);

    for (guint i = 0; i < plan->problems->len; i++) {
        const VnProblem *p = plan->problems->pdata[i];

        if (g_str_has_prefix(p->object, prefix) && g_str_has_suffix(p->object, "'"))
            g_ptr_array_add(names, g_strndup(p->object + strlen(prefix),
                                             strlen(p->object) - strlen(prefix) - 1));
    }
    return names;
}

static gboolean
reconcile(VnApply *apply, const VnLayer *layer, const VnPlan *plan,
          GPtrArray *ledgers, GError **error)
{
    g_autoptr(GPtrArray) bad_nets = refused(plan, "network");
    g_autoptr(GPtrArray) bad_doms = refused(plan, "domain");
    g_autoptr(GHashTable) done = g_hash_table_new_full(g_str_hash, g_str_equal,
                                                       g_free, NULL);

    /* networks: every one that needs rules or had some */
    for (guint i = 0; i < layer->networks->len; i++) {
        const VnNetwork *n = layer->networks->pdata[i];
        g_autoptr(GPtrArray) rules = g_ptr_array_new();

        if (in_list(bad_nets, n->name))
            continue;
        for (guint j = 0; n->active && j < plan->rules->len; j++) {
            const VnRule *r = plan->rules->pdata[j];

            if (g_strcmp0(r->network, n->name) == 0)
                g_ptr_array_add(rules, (gpointer)r);
        }
        g_hash_table_add(done, g_strdup_printf("n/%s", n->name));
        if (!vn_apply_network(apply, n->name, rules, error))
            return FALSE;
    }
    /* domains: the running ones need their routes */
    for (guint i = 0; i < layer->guests->len; i++) {
        const VnGuest *g = layer->guests->pdata[i];
        g_autoptr(GPtrArray) routes = g_ptr_array_new();
        gboolean running = vn_guest_running(g);

        if (in_list(bad_doms, g->name))
            continue;
        for (guint j = 0; running && j < plan->routes->len; j++) {
            const VnRoute *r = plan->routes->pdata[j];

            if (g_strcmp0(r->guest, g->name) == 0)
                g_ptr_array_add(routes, (gpointer)r);
        }
        g_hash_table_add(done, g_strdup_printf("d/%s", g->name));
        if (!vn_apply_domain(apply, g->name, routes, g->routes, error))
            return FALSE;
    }
    /* what is installed for objects that are gone altogether */
    g_autoptr(GPtrArray) keep = g_ptr_array_new();

    for (guint i = 0; i < layer->networks->len; i++)
        g_ptr_array_add(keep, ((VnNetwork *)layer->networks->pdata[i])->name);
    for (guint i = 0; i < ledgers->len; i++)
        if (((VnLedger *)ledgers->pdata[i])->kind == VN_OBJECT_NETWORK)
            g_ptr_array_add(keep, ((VnLedger *)ledgers->pdata[i])->name);
    for (guint i = 0; i < ledgers->len; i++) {
        const VnLedger *l = ledgers->pdata[i];
        g_autofree char *key = g_strdup_printf("%c/%s",
                                               l->kind == VN_OBJECT_NETWORK ? 'n' : 'd',
                                               l->name);
        g_autoptr(GPtrArray) none = g_ptr_array_new();

        if (g_hash_table_contains(done, key))
            continue;
        if (!(l->kind == VN_OBJECT_NETWORK
                  ? vn_apply_network(apply, l->name, none, error)
                  : vn_apply_domain(apply, l->name, none, NULL, error)))
            return FALSE;
    }
    /* and rules of virt-nest's that belong to no network at all */
    if (!vn_apply_sweep(apply, keep, error))
        return FALSE;
    return vn_apply_finish(apply, error);
}

int
vn_cli_reconcile(const VnReconcileOptions *o, FILE *out, const char *prefix,
                 guint *n_changes)
{
    /* the agents only for the next hop of a guest with routes whose
     * address nothing else tells (a static address inside) */
    VnDiscoverOptions dopts = { o->uri, o->leases_dir, VN_HOST_YES,
                                VN_AGENTS_NEXT_HOP, NULL };
    g_autoptr(GError) err = NULL;
    g_autoptr(VnLayer) layer = NULL;
    g_autoptr(VnPlan) plan = NULL;
    g_autoptr(VnApply) apply = NULL;
    g_autoptr(GPtrArray) ledgers = NULL;
    const char *dir = vn_state_dir();
    GPtrArray *changes, *objects;
    VnConfig config;
    int lock = -1, rc;

    if (n_changes)
        *n_changes = 0;
    if (!vn_config_load(NULL, &config, &err) ||
        !(layer = vn_discover(&dopts, &err))) {
        vn_cli_error("%s", err->message);
        return VN_EXIT_FAILURE;
    }
    plan = vn_plan_layer(layer, &config, g_get_real_time() / G_USEC_PER_SEC);
    for (guint i = 0; i < layer->problems->len; i++) {
        const VnProblem *p = layer->problems->pdata[i];

        vn_cli_error("%s: %s", p->object, p->message);
    }
    for (guint i = 0; i < plan->problems->len; i++) {
        const VnProblem *p = plan->problems->pdata[i];

        vn_cli_error("%s: %s; left as it is", p->object, p->message);
    }
    /* the hooks may run at the same time */
    if (!o->dry_run && (lock = vn_state_lock(dir, &err)) < 0) {
        vn_cli_error("%s", err->message);
        return VN_EXIT_FAILURE;
    }
    if (!(ledgers = vn_ledger_load_all(dir, &err))) {
        if (lock >= 0)
            close(lock);
        vn_cli_error("%s", err->message);
        return VN_EXIT_FAILURE;
    }
    apply = vn_apply_new(dir);
    vn_apply_set_dry_run(apply, o->dry_run);
    vn_apply_set_check_order(apply, TRUE);
    rc = reconcile(apply, layer, plan, ledgers, &err) ? VN_EXIT_OK
                                                      : VN_EXIT_FAILURE;
    if (lock >= 0)
        close(lock);
    changes = vn_apply_changes(apply);
    if (!o->dry_run) {
        g_autoptr(GPtrArray) refusals = g_ptr_array_new_with_free_func(g_free);

        /* what was left as it is, then what changed */
        for (guint i = 0; i < plan->problems->len; i++) {
            const VnProblem *p = plan->problems->pdata[i];

            if (g_str_has_prefix(p->object, "network '") ||
                g_str_has_prefix(p->object, "domain '"))
                g_ptr_array_add(refusals, g_strdup_printf(
                    "%s: refuse: %s; left as it is", p->object, p->message));
        }
        vn_cli_record(o->who ? o->who : "reconcile", refusals);
        vn_cli_record(o->who ? o->who : "reconcile", changes);
    }
    objects = vn_apply_change_objects(apply);
    for (guint i = 0; i < changes->len; i++) {
        const char *line = changes->pdata[i], *object = objects->pdata[i];

        /* "would insert rule ... for network 'default'" */
        if (o->dry_run)
            fprintf(out, "%swould %s for %s\n", prefix,
                    line + strlen(object) + 2, object);
        else
            fprintf(out, "%s%s\n", prefix, line);
    }
    if (n_changes)
        *n_changes = changes->len;
    if (!changes->len && rc == VN_EXIT_OK && !o->quiet)
        fprintf(out, "%snothing to change: this layer has what it needs\n", prefix);
    fflush(out);
    if (rc != VN_EXIT_OK) {
        vn_cli_error("%s", err->message);
        return rc;
    }
    return layer->problems->len || plan->problems->len ? VN_EXIT_FAILURE
                                                       : VN_EXIT_OK;
}

int
vn_cmd_reconcile(int argc, char **argv)
{
    enum { OPT_LEASES = 256 };
    static const struct option opts[] = {
        { "connect", required_argument, NULL, 'c' },
        { "dry-run", no_argument, NULL, 'n' },
        { "leases-dir", required_argument, NULL, OPT_LEASES },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    VnReconcileOptions o = { NULL, NULL, FALSE, FALSE };
    int c;

    optind = 1;
    opterr = 0;
    while ((c = vn_cli_getopt(argc, argv, "c:nh", opts)) != -1) {
        switch (c) {
        case 'c':
            o.uri = optarg;
            break;
        case 'n':
            o.dry_run = TRUE;
            break;
        case OPT_LEASES:
            o.leases_dir = optarg;
            break;
        case 'h':
            usage(stdout);
            return VN_EXIT_OK;
        default:
            vn_cli_bad_option("reconcile", "c:nh", argv);
            return VN_EXIT_USAGE;
        }
    }
    if (!vn_cli_no_operands("reconcile", argc, argv))
        return VN_EXIT_USAGE;
    return vn_cli_reconcile(&o, stdout, "", NULL);
}
