/* cmd-hooks.c: virt-nest install-hooks and uninstall-hooks.
 *
 * libvirt 6.5 and later run every executable in hooks/network.d/ and
 * hooks/qemu.d/ after the single-file hook, so virt-nest installs itself
 * there and leaves any existing hook alone. It copies the hook binary
 * instead of linking it: Debian's AppArmor profile for libvirtd lets hooks
 * run from /etc/libvirt/hooks/ but denies a symlink into /usr/libexec.
 *
 * The Debian package ships those two entries itself, as links to
 * /usr/sbin/virt-nest-hook (which the profile lets run; see
 * debian/README.Debian): a link to virt-nest's hook is virt-nest's, and
 * install-hooks leaves it as it is, so that it never fights the package.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <syslog.h>
#include <unistd.h>
#include <libvirt/libvirt.h>

#include "apply.h"
#include "cli.h"
#include "error.h"
#include "hookmark.h"
#include "ledger.h"
#include "purge.h"

static const char *const drivers[] = { "network", "qemu" };

static gboolean
has_mark(const char *data, gsize len)
{
    g_autofree char *mark = g_strconcat(VN_HOOK_MARK_HEAD, VN_HOOK_MARK_TAIL, NULL);

    return memmem(data, len, mark, strlen(mark)) != NULL;
}

static gboolean
is_ours(const char *path, gboolean *exists, GError **error)
{
    g_autofree char *data = NULL;
    g_autoptr(GError) err = NULL;
    gsize len;

    *exists = FALSE;
    if (!g_file_get_contents(path, &data, &len, &err)) {
        if (g_error_matches(err, G_FILE_ERROR, G_FILE_ERROR_NOENT))
            return FALSE;
        g_set_error(error, VN_ERROR, VN_ERROR_FAILED, "%s", err->message);
        return FALSE;
    }
    *exists = TRUE;
    return has_mark(data, len);
}

/* TRUE if @path is a symbolic link to virt-nest's hook (the package's). */
static gboolean
is_our_link(const char *path)
{
    gboolean exists;

    return g_file_test(path, G_FILE_TEST_IS_SYMLINK) &&
           is_ours(path, &exists, NULL);
}

/* The hook binary at @src, checked to be virt-nest's, before anything
 * changes. */
static gboolean
read_hook(const char *src, char **data, gsize *len, GError **error)
{
    g_autoptr(GError) err = NULL;

    if (!g_file_get_contents(src, data, len, &err)) {
        if (g_error_matches(err, G_FILE_ERROR, G_FILE_ERROR_NOENT))
            g_set_error(error, VN_ERROR, VN_ERROR_FAILED,
                        "the hook is not installed at %s: install the "
                        "virt-nest package, or run 'meson install -C build', "
                        "or pass --hook with the path of a built "
                        "virt-nest-hook (build/hooks/virt-nest-hook)", src);
        else
            g_set_error(error, VN_ERROR, VN_ERROR_FAILED, "%s", err->message);
        return FALSE;
    }
    if (!has_mark(*data, *len)) {
        g_clear_pointer(data, g_free);
        g_set_error(error, VN_ERROR, VN_ERROR_INVALID,
                    "%s is not virt-nest's hook; pass --hook with the path of "
                    "virt-nest-hook", src);
        return FALSE;
    }
    return TRUE;
}

/* SIGHUP makes libvirtd look for hooks again (and reload its own firewall
 * rules); systemd sends it for `systemctl reload`. */
static void
reload_libvirt(void)
{
    static const char *const units[] = {
        "libvirtd.service", "virtqemud.service", "virtnetworkd.service",
    };
    gboolean any = FALSE;

    if (!g_file_test("/run/systemd/system", G_FILE_TEST_IS_DIR)) {
        printf("no systemd here: send SIGHUP to libvirtd to make it see the hooks\n");
        return;
    }
    for (guint i = 0; i < G_N_ELEMENTS(units); i++) {
        const char *active[] = { "systemctl", "is-active", "--quiet", units[i], NULL };
        const char *reload[] = { "systemctl", "reload", units[i], NULL };
        int status = 1;

        if (!g_spawn_sync(NULL, (char **)active, NULL, G_SPAWN_SEARCH_PATH,
                          NULL, NULL, NULL, NULL, &status, NULL) || status != 0)
            continue;
        any = TRUE;
        if (g_spawn_sync(NULL, (char **)reload, NULL, G_SPAWN_SEARCH_PATH,
                         NULL, NULL, NULL, NULL, &status, NULL) && status == 0)
            printf("reloaded %s\n", units[i]);
        else
            vn_cli_error("cannot reload %s; run 'systemctl reload %s'",
                         units[i], units[i]);
    }
    if (!any)
        printf("libvirtd is not running; it will see the hooks when it starts\n");
}

int
vn_cmd_install_hooks(int argc, char **argv)
{
    enum { OPT_DIR = 256, OPT_HOOK, OPT_RELOAD };
    static const struct option opts[] = {
        { "hooks-dir", required_argument, NULL, OPT_DIR },
        { "hook", required_argument, NULL, OPT_HOOK },
        { "reload", no_argument, NULL, OPT_RELOAD },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    const char *dir = VN_LIBVIRT_HOOKS_DIR, *hook = VN_HOOK_BINARY;
    g_autoptr(GError) herr = NULL;
    g_autofree char *data = NULL;
    gsize len = 0;
    gboolean reload = FALSE;
    unsigned long version = 0;
    int c;

    optind = 1;
    opterr = 0;
    while ((c = vn_cli_getopt(argc, argv, "h", opts)) != -1) {
        switch (c) {
        case OPT_DIR:
            dir = optarg;
            break;
        case OPT_HOOK:
            hook = optarg;
            break;
        case OPT_RELOAD:
            reload = TRUE;
            break;
        case 'h':
            printf("Usage: virt-nest install-hooks [--hooks-dir DIR] [--hook PATH] "
                   "[--reload]\n\n"
                   "Install virt-nest-hook as libvirt's network and qemu hook, in\n"
                   "DIR/network.d/virt-nest and DIR/qemu.d/virt-nest.\n\n"
                   "      --hooks-dir DIR  libvirt's hooks directory (default %s)\n"
                   "      --hook PATH      the hook to install (default %s)\n"
                   "      --reload         make libvirtd see the hooks now "
                   "(systemctl reload)\n"
                   "  -h, --help           show this help\n", VN_LIBVIRT_HOOKS_DIR,
                   VN_HOOK_BINARY);
            return VN_EXIT_OK;
        default:
            vn_cli_bad_option("install-hooks", "h", argv);
            return VN_EXIT_USAGE;
        }
    }
    if (!vn_cli_no_operands("install-hooks", argc, argv))
        return VN_EXIT_USAGE;
    if (virGetVersion(&version, NULL, NULL) == 0 && version < 6005000) {
        vn_cli_error("libvirt %lu.%lu.%lu runs no hooks from network.d/ and "
                     "qemu.d/ (6.5.0 and later do); install virt-nest-hook as "
                     "%s/network and %s/qemu by hand", version / 1000000,
                     version / 1000 % 1000, version % 1000, dir, dir);
        return VN_EXIT_FAILURE;
    }
    /* check the hook (unless both places link to it already, as the
     * package's do) and both places before changing either */
    for (guint i = 0; i < G_N_ELEMENTS(drivers) && !data; i++) {
        g_autofree char *sub = g_strdup_printf("%s.d", drivers[i]);
        g_autofree char *dst = g_build_filename(dir, sub, "virt-nest", NULL);

        if (!is_our_link(dst) && !read_hook(hook, &data, &len, &herr)) {
            vn_cli_error("install-hooks: %s", herr->message);
            return VN_EXIT_FAILURE;
        }
    }
    for (guint i = 0; i < G_N_ELEMENTS(drivers); i++) {
        g_autofree char *sub = g_strdup_printf("%s.d", drivers[i]);
        g_autofree char *dst = g_build_filename(dir, sub, "virt-nest", NULL);
        g_autoptr(GError) err = NULL;
        gboolean exists;

        if (!is_ours(dst, &exists, &err) && exists) {
            vn_cli_error("%s exists and is not virt-nest's hook; move it away "
                         "to install virt-nest's", dst);
            return VN_EXIT_FAILURE;
        }
        if (err) {
            vn_cli_error("%s", err->message);
            return VN_EXIT_FAILURE;
        }
    }
    for (guint i = 0; i < G_N_ELEMENTS(drivers); i++) {
        g_autofree char *sub = g_strdup_printf("%s.d", drivers[i]);
        g_autofree char *subdir = g_build_filename(dir, sub, NULL);
        g_autofree char *dst = g_build_filename(subdir, "virt-nest", NULL);
        g_autoptr(GError) err = NULL;

        if (is_our_link(dst)) {
            g_autofree char *to = g_file_read_link(dst, NULL);

            printf("%s links to %s, virt-nest's hook: left as it is\n", dst,
                   to ? to : "?");
            continue;
        }
        if (g_mkdir_with_parents(subdir, 0755) < 0) {
            vn_cli_error("cannot create %s: %s", subdir, g_strerror(errno));
            return VN_EXIT_FAILURE;
        }
        /* atomically: the temporary file lives in @dir, where libvirt
         * does not look for hooks, and becomes executable by rename */
        if (!vn_file_replace(dst, dir, data, len, 0755, TRUE, &err)) {
            vn_cli_error("%s", err->message);
            return VN_EXIT_FAILURE;
        }
        printf("installed %s\n", dst);
    }
    if (reload)
        reload_libvirt();
    else
        printf("libvirtd looks for hooks when it starts or reloads: run "
               "'systemctl reload libvirtd' (or install with --reload)\n");
    printf("then 'virt-nest reconcile' sets up the networks and guests that "
           "are already running\n");
    return VN_EXIT_OK;
}

/* Remove the hook drop-ins that are virt-nest's; FALSE if one could not
 * be, or is not ours. *@n_found: how many there were, ours or not. */
static gboolean
remove_hooks(const char *dir, guint *n_found)
{
    gboolean ok = TRUE;

    *n_found = 0;

    for (guint i = 0; i < G_N_ELEMENTS(drivers); i++) {
        g_autofree char *sub = g_strdup_printf("%s.d", drivers[i]);
        g_autofree char *dst = g_build_filename(dir, sub, "virt-nest", NULL);
        g_autoptr(GError) err = NULL;
        gboolean exists;

        if (is_ours(dst, &exists, &err)) {
            (*n_found)++;
            if (unlink(dst) < 0) {
                vn_cli_error("cannot remove %s: %s", dst, g_strerror(errno));
                ok = FALSE;
            } else {
                printf("removed %s\n", dst);
            }
        } else if (exists) {
            (*n_found)++;
            vn_cli_error("%s is not virt-nest's hook; left in place", dst);
            ok = FALSE;
        } else if (err) {
            vn_cli_error("%s", err->message);
            ok = FALSE;
        }
    }
    return ok;
}

/* --purge: every route and rule tagged as virt-nest's, and the state.
 * *@n_changes: how many lines it printed. */
static gboolean
purge_all(guint *n_changes)
{
    g_autoptr(GPtrArray) changes = g_ptr_array_new_with_free_func(g_free);
    g_autoptr(GError) err = NULL;
    gboolean ok = vn_state_purge(vn_state_dir(), changes, &err);

    for (guint i = 0; i < changes->len; i++)
        printf("%s\n", (char *)changes->pdata[i]);
    *n_changes = changes->len;
    /* syslog only: the change log went with the state directory */
    if (changes->len) {
        openlog("virt-nest", LOG_PID, LOG_DAEMON);
        for (guint i = 0; i < changes->len; i++)
            syslog(LOG_NOTICE, "uninstall-hooks: purge: %s",
                   (char *)changes->pdata[i]);
        closelog();
    }
    if (!ok)
        vn_cli_error("%s", err->message);
    return ok;
}

/* Take back what each ledger records, as the stop hooks would.
 * *@n_changes: how many changes it made. */
static gboolean
take_back_all(guint *n_changes)
{
    const char *state = vn_state_dir();
    g_autoptr(GError) err = NULL;
    g_autoptr(GPtrArray) ledgers = NULL;
    g_autoptr(VnApply) apply = vn_apply_new(state);
    int lock;
    gboolean ok = TRUE;

    *n_changes = 0;
    /* nothing recorded at all (a second uninstall): no lock file made */
    if (!g_file_test(state, G_FILE_TEST_IS_DIR))
        return TRUE;
    lock = vn_state_lock(state, &err);
    if (lock < 0 || !(ledgers = vn_ledger_load_all(state, &err))) {
        vn_cli_error("%s", err->message);
        if (lock >= 0)
            close(lock);
        return FALSE;
    }
    for (guint i = 0; i < ledgers->len; i++) {
        const VnLedger *l = ledgers->pdata[i];
        g_autoptr(GPtrArray) none = g_ptr_array_new();

        if (!(l->kind == VN_OBJECT_NETWORK
              ? vn_apply_network(apply, l->name, none, &err)
              : vn_apply_domain(apply, l->name, none, NULL, &err))) {
            vn_cli_error("%s", err->message);
            g_clear_error(&err);
            ok = FALSE;
        }
    }
    close(lock);
    for (guint i = 0; i < vn_apply_changes(apply)->len; i++)
        printf("%s\n", (char *)vn_apply_changes(apply)->pdata[i]);
    *n_changes = vn_apply_changes(apply)->len;
    vn_cli_record("uninstall-hooks", vn_apply_changes(apply));
    return ok;
}

int
vn_cmd_uninstall_hooks(int argc, char **argv)
{
    enum { OPT_DIR = 256, OPT_KEEP, OPT_PURGE };
    static const struct option opts[] = {
        { "hooks-dir", required_argument, NULL, OPT_DIR },
        { "keep-installed", no_argument, NULL, OPT_KEEP },
        { "purge", no_argument, NULL, OPT_PURGE },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    const char *dir = VN_LIBVIRT_HOOKS_DIR;
    gboolean keep = FALSE, purge = FALSE;
    guint n_hooks = 0, n_changes = 0;
    int c, rc = VN_EXIT_OK;

    optind = 1;
    opterr = 0;
    while ((c = vn_cli_getopt(argc, argv, "h", opts)) != -1) {
        switch (c) {
        case OPT_DIR:
            dir = optarg;
            break;
        case OPT_KEEP:
            keep = TRUE;
            break;
        case OPT_PURGE:
            purge = TRUE;
            break;
        case 'h':
            printf("Usage: virt-nest uninstall-hooks [--hooks-dir DIR] "
                   "[--keep-installed | --purge]\n\n"
                   "Remove virt-nest's hooks, and the routes and rules it "
                   "installed.\n\n"
                   "      --hooks-dir DIR   libvirt's hooks directory (default %s)\n"
                   "      --keep-installed  leave the routes and rules in place\n"
                   "      --purge           also every route and rule tagged as "
                   "virt-nest's,\n"
                   "                        recorded or not, and the state "
                   "directory\n"
                   "  -h, --help            show this help\n", VN_LIBVIRT_HOOKS_DIR);
            return VN_EXIT_OK;
        default:
            vn_cli_bad_option("uninstall-hooks", "h", argv);
            return VN_EXIT_USAGE;
        }
    }
    if (!vn_cli_no_operands("uninstall-hooks", argc, argv))
        return VN_EXIT_USAGE;
    if (keep && purge) {
        vn_cli_error("uninstall-hooks: --keep-installed and --purge exclude "
                     "each other; pass one");
        return VN_EXIT_USAGE;
    }
    if (!remove_hooks(dir, &n_hooks))
        rc = VN_EXIT_FAILURE;
    if (purge ? !purge_all(&n_changes) : !keep && !take_back_all(&n_changes))
        rc = VN_EXIT_FAILURE;
    /* a second uninstall: say so rather than nothing */
    if (rc == VN_EXIT_OK && !n_hooks && !n_changes)
        printf("nothing to uninstall: no virt-nest hook in %s/network.d or "
               "%s/qemu.d%s\n", dir, dir,
               keep ? "" : ", and no route or rule of virt-nest's recorded");
    return rc;
}
