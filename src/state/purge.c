/* purge.c: take back everything virt-nest installed on this host.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "apply.h"
#include "changelog.h"
#include "error.h"
#include "hostread.h"
#include "ledger.h"
#include "ops.h"
#include "purge.h"
#include "router.h"

/* 1. what the ledgers record, every object as if it stopped; then every
 * rule with a comment of virt-nest's left in a backend of the forward
 * path (vn_apply_sweep with no network to keep) */
static gboolean
purge_recorded(const char *dir, gboolean have, GPtrArray *changes,
               GError **error)
{
    g_autoptr(GPtrArray) ledgers = NULL;
    g_autoptr(GPtrArray) keep = g_ptr_array_new();
    g_autoptr(VnApply) apply = vn_apply_new(dir);
    GPtrArray *done;
    gboolean ok = TRUE;

    if (have && !(ledgers = vn_ledger_load_all(dir, error)))
        return FALSE;
    for (guint i = 0; ok && ledgers && i < ledgers->len; i++) {
        const VnLedger *l = ledgers->pdata[i];
        g_autoptr(GPtrArray) none = g_ptr_array_new();

        ok = l->kind == VN_OBJECT_NETWORK
            ? vn_apply_network(apply, l->name, none, error)
            : vn_apply_domain(apply, l->name, none, NULL, error);
    }
    ok = ok && vn_apply_sweep(apply, keep, error);
    done = vn_apply_changes(apply);
    for (guint i = 0; i < done->len; i++)
        g_ptr_array_add(changes, g_strdup(done->pdata[i]));
    return ok;
}

#define UNRECORDED "tagged as virt-nest's, in no record"

/* 2. every route of the main table with virt-nest's protocol that no
 * ledger named, all or nothing */
static gboolean
purge_routes(GPtrArray *changes, GError **error)
{
    g_autoptr(VnHost) host = vn_host_read(error);
    g_autoptr(GPtrArray) ops = vn_ops_new();
    g_autoptr(VnRouter) router = NULL;

    if (!host)
        return FALSE;
    for (guint i = 0; i < host->routes->len; i++) {
        const VnHostRoute *r = host->routes->pdata[i];
        const VnLink *l;
        VnKernelRoute k = { 0 };

        if (r->protocol != vn_route_protocol())
            continue;
        if (!(l = vn_host_find_link(host, r->oif)))
            continue;       /* no device: the kernel drops it with the link */
        k.dst = r->dst;
        k.via = r->gateway;
        k.dev = l->name;
        vn_ops_add_route(ops, VN_OP_ROUTE_DEL, "purge", &k, NULL, 0);
        ((VnOp *)ops->pdata[ops->len - 1])->note = g_strdup(UNRECORDED);
    }
    if (!ops->len)
        return TRUE;
    if (!(router = vn_router_open(error)) ||
        !vn_ops_execute(ops, NULL, router, error))
        return FALSE;
    for (guint i = 0; i < ops->len; i++)
        g_ptr_array_add(changes, vn_op_describe(ops->pdata[i]));
    return TRUE;
}

/* A file the state directory may hold in @sub ("" for the top). */
static gboolean
state_file(const char *sub, const char *name)
{
    if (g_str_has_prefix(name, ".virt-nest."))
        return TRUE;        /* vn_file_replace's temporary files */
    if (!*sub)
        return !strcmp(name, "lock") || !strcmp(name, "intact") ||
               !strcmp(name, VN_CHANGELOG_FILE) ||
               !strcmp(name, VN_CHANGELOG_FILE ".1");
    if (!strcmp(sub, "domain"))
        return g_str_has_suffix(name, ".state");
    /* network/: also NAME.xml.PID.tmp, the temporary file of hooks
     * before 0.1.0's mkostemp */
    return g_str_has_suffix(name, ".state") || g_str_has_suffix(name, ".xml") ||
           (strstr(name, ".xml.") && g_str_has_suffix(name, ".tmp"));
}

static gboolean
remove_files(const char *dir, const char *sub, GPtrArray *changes,
             GError **error)
{
    g_autofree char *path = g_build_filename(dir, sub, NULL);
    g_autoptr(GDir) d = NULL;
    g_autoptr(GError) err = NULL;
    const char *f;

    if (!(d = g_dir_open(path, 0, &err))) {
        if (g_error_matches(err, G_FILE_ERROR, G_FILE_ERROR_NOENT))
            return TRUE;
        g_set_error(error, VN_ERROR, VN_ERROR_FAILED, "%s", err->message);
        return FALSE;
    }
    while ((f = g_dir_read_name(d))) {
        g_autofree char *file = g_build_filename(path, f, NULL);

        if (!*sub && (!strcmp(f, "network") || !strcmp(f, "domain")) &&
            g_file_test(file, G_FILE_TEST_IS_DIR))
            continue;
        if (!state_file(sub, f)) {
            g_set_error(error, VN_ERROR, VN_ERROR_FAILED,
                        "%s is not virt-nest's; remove it by hand", file);
            return FALSE;
        }
        if (unlink(file) < 0 && errno != ENOENT) {
            g_set_error(error, VN_ERROR, VN_ERROR_FAILED,
                        "cannot remove %s: %s", file, g_strerror(errno));
            return FALSE;
        }
    }
    if (rmdir(path) < 0 && errno != ENOENT) {
        g_set_error(error, VN_ERROR, VN_ERROR_FAILED, "cannot remove %s: %s",
                    path, g_strerror(errno));
        return FALSE;
    }
    if (!*sub)
        g_ptr_array_add(changes, g_strdup_printf("removed %s", path));
    return TRUE;
}

gboolean
vn_state_purge(const char *dir, GPtrArray *changes, GError **error)
{
    gboolean have = g_file_test(dir, G_FILE_TEST_IS_DIR);
    int lock = -1;
    gboolean ok;

    if (have && (lock = vn_state_lock(dir, error)) < 0)
        return FALSE;
    ok = purge_recorded(dir, have, changes, error) &&
         purge_routes(changes, error) &&
         (!have || (remove_files(dir, "network", changes, error) &&
                    remove_files(dir, "domain", changes, error) &&
                    remove_files(dir, "", changes, error)));
    if (lock >= 0)
        close(lock);
    return ok;
}
