/* virt-nest-hook.c: libvirt's `network` and `qemu` hook.
 *
 * libvirt runs every hook on every event of every network and guest, and
 * waits for it. Most of them have nothing to do with virt-nest, so main()
 * decides with libc alone, from the arguments and the XML on stdin, and
 * calls into GLib, libnl, libnftnl and libxml2 only when virt-nest
 * metadata or virt-nest state is present:
 *
 *   network start:           refuse bad metadata before the bridge exists
 *   network started/updated: install the forward exceptions for its peers
 *   network stopped:         remove them
 *   qemu prepare:            refuse bad metadata before the TAP exists
 *   qemu started/reconnect:  install the routes to the guest's subnets
 *   qemu stopped/release:    remove them
 *
 * Those libraries are linked statically by default (meson option
 * static_hook): the dynamic loader's symbol resolution for them cost more
 * than the hook's own work, on every event (see bench/).
 *
 * GIO, which the firewalld backend talks D-Bus with, does not link
 * statically (Debian has no static libmount). So the static hook is built
 * without that backend, and a network event of virt-nest's on a host
 * where firewalld's table inet firewalld exists is handed, stdin and all,
 * to virt-nest-hook-firewalld: this same program linked dynamically, with
 * the backend (found beside the running binary, else in sbindir). Hosts
 * without firewalld pay one netlink table lookup on virt-nest's network
 * events, and nothing at all on everybody else's.
 *
 * Refused metadata is one line on stderr and exit status 1: libvirt then
 * aborts the start and shows that line. Nothing is changed then. Metadata
 * in a namespace that only looks like virt-nest's (urn:virtnest:1) is
 * ignored with a warning, on stderr and to syslog (libvirt drops a hook's
 * stderr when it succeeds), and the start goes on. The libvirt
 * API is never called: a hook that calls back into libvirt deadlocks.
 *
 * Installed as /etc/libvirt/hooks/network or .../qemu, or as an entry of
 * network.d/ or qemu.d/: argv[0] (or its directory) says which hook it is.
 * Run by hand as `virt-nest-hook network|qemu NAME OP SUBOP EXTRA`.
 *
 * Never writes stdout: for qemu migrate and restore libvirt takes stdout as
 * the new domain XML.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <syslog.h>
#include <unistd.h>

#include "apply.h"
#include "changelog.h"
#include "fwbackend.h"
#include "hookmark.h"
#include "hookevent.h"
#include "libvirtxml.h"
#include "statepath.h"
#include "vnconfig.h"
#include "xml.h"

/* found by install-hooks in the file it is about to replace */
__attribute__((used)) static const char mark[] = VN_HOOK_MARK_HEAD VN_HOOK_MARK_TAIL;

typedef struct {
    const char *driver;     /* "network" or "qemu" */
    const char *name;       /* the network or domain */
    const char *op;         /* "started", "stopped", ... */
    const char *subop;      /* "begin", "end", "-" */
    const char *xml;        /* stdin */
    size_t len;
    VnHookAction action;
} HookCall;

static const char *
base_name(const char *path)
{
    const char *s = strrchr(path, '/');

    return s ? s + 1 : path;
}

/* network or qemu, from the file name or its directory (hooks.d). */
static const char *
driver_of(const char *argv0)
{
    const char *base = base_name(argv0);
    size_t n = (size_t)(base - argv0);

    if (strcmp(base, "network") == 0 || strcmp(base, "qemu") == 0)
        return base;
    if (n >= 10 && strncmp(base - 10, "network.d/", 10) == 0)
        return "network";
    if (n >= 7 && strncmp(base - 7, "qemu.d/", 7) == 0)
        return "qemu";
    return NULL;
}

/* libvirt's XML for one network or guest is far below a megabyte; more on
 * stdin is not libvirt's, and reading it all cost 30 s and 4.4 GB for
 * 100 MB (issue 11, point 6). The parser's bound. */
#define MAX_XML ((size_t)VN_XML_MAX_SIZE)

/* All of @fd, NUL-terminated; NULL when out of memory, or (with *@big set)
 * when it holds more than MAX_XML bytes. */
static char *
read_all(int fd, size_t *len, int *big)
{
    size_t cap = 16384, n = 0;
    char *buf = malloc(cap + 1);

    *big = 0;
    while (buf) {
        ssize_t r = read(fd, buf + n, cap - n);

        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        n += (size_t)r;
        if (n > MAX_XML) {
            free(buf);
            *big = 1;
            return NULL;
        }
        if (n == cap) {
            /* one byte past the bound is enough to know */
            size_t want = cap * 2 > MAX_XML + 1 ? MAX_XML + 1 : cap * 2;
            char *b = realloc(buf, want + 1);

            if (!b) {
                free(buf);
                return NULL;
            }
            buf = b;
            cap = want;
        }
    }
    if (buf)
        buf[n] = '\0';
    *len = n;
    return buf;
}

static int
mkdir_p(const char *dir)
{
    char tmp[4096];

    if (strlen(dir) >= sizeof(tmp))
        return -1;
    strcpy(tmp, dir);
    for (char *p = tmp + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(tmp, 0755) < 0 && errno != EEXIST)
            return -1;
        *p = '/';
    }
    return mkdir(tmp, 0755) < 0 && errno != EEXIST ? -1 : 0;
}

/* Keep the network XML as libvirt passed it, for the DHCP reservations the
 * qemu hook needs later (it must not ask libvirt). Atomic: a temporary
 * file and rename. The temporary file is made by mkostemp (O_EXCL, a name
 * nobody can guess), never opened by a predictable name: a link planted
 * at one would make this root process write where it points. */
static void
save_network(const char *root, const char *name, const char *xml, size_t len,
             int keep)
{
    char path[4096], tmp[4200], dir[4200];
    size_t done = 0;
    int fd;

    if (vn_state_path(path, sizeof(path), root, "network", name, "xml") < 0)
        return;
    if (!keep) {
        unlink(path);
        return;
    }
    snprintf(dir, sizeof(dir), "%s/network", root);
    if (mkdir_p(dir) < 0)
        return;
    /* named as vn_file_replace() names its own, which purge knows */
    snprintf(tmp, sizeof(tmp), "%s/.virt-nest.XXXXXX", dir);
    fd = mkostemp(tmp, O_CLOEXEC);
    if (fd < 0)
        return;
    while (done < len) {
        ssize_t n = write(fd, xml + done, len - done);

        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        done += (size_t)n;
    }
    if (done < len || fchmod(fd, 0644) < 0) {
        close(fd);
        unlink(tmp);
        return;
    }
    if (close(fd) < 0 || rename(tmp, path) < 0)
        unlink(tmp);
}

/* The changes of this run into syslog and the change log. A change log
 * that cannot be written is said in syslog only: stderr is the one line
 * libvirt shows (and for a state directory others can write, that line
 * already says so). */
static void
record(GPtrArray *changes)
{
    g_autoptr(GError) err = NULL;

    if (!vn_changelog_record(vn_state_dir(), "hook", changes, &err)) {
        openlog("virt-nest", LOG_PID, LOG_DAEMON);
        syslog(LOG_WARNING, "hook: change log: %s", err->message);
        closelog();
    }
}

static int
fail(const HookCall *call, const GError *err)
{
    const char *kind = strcmp(call->driver, "network") ? "domain" : "network";
    g_autofree char *prefix = g_strdup_printf("%s '%s': ", kind, call->name);
    const char *msg = err->message;
    g_autoptr(GPtrArray) line = g_ptr_array_new_with_free_func(g_free);

    /* messages from the planner and the parser already name the object */
    if (g_str_has_prefix(msg, prefix))
        msg += strlen(prefix);
    fprintf(stderr, "virt-nest: %s%s\n", prefix, msg);
    /* a start refused (libvirt aborts it), or a stop that failed */
    g_ptr_array_add(line, g_strdup_printf("%s%s %s %s: %s", prefix,
                                          call->action == VN_HOOK_REMOVE
                                          ? "fail" : "refuse",
                                          call->op, call->subop, msg));
    record(line);
    return 1;
}

/* Metadata that is ignored but looks meant for virt-nest: a warning, not a
 * refusal. libvirt keeps a hook's stderr only when the hook fails (on
 * success it reaches libvirtd's debug log at most), so the line goes to
 * syslog too: the journal where there is one. */
static void
warn_all(GPtrArray *warnings)
{
    for (guint i = 0; warnings && i < warnings->len; i++) {
        const char *w = warnings->pdata[i];

        fprintf(stderr, "virt-nest: warning: %s\n", w);
        syslog(LOG_WARNING, "warning: %s", w);
    }
}

static int
run(const HookCall *call, VnHookAction action, const VnConfig *config)
{
    g_autoptr(GError) err = NULL;
    g_autoptr(VnApply) apply = vn_apply_new(vn_state_dir());
    VnHookPlan hp;
    VnHookEnv env;
    gboolean ok;

    vn_hook_env_init(&env, config);
    /* the overlap checks need this host's addresses and connected
     * networks; the route changes need its routes anyway */
    if (action != VN_HOOK_REMOVE && strcmp(call->driver, "qemu") == 0 &&
        !(env.host = vn_apply_host(apply, &err)))
        return fail(call, err);
    ok = vn_hook_plan(call->driver, call->name, action, call->xml, call->len,
                      &env, &hp, &err);
    warn_all(hp.warnings);
    if (!ok) {
        vn_hook_plan_clear(&hp);
        return fail(call, err);
    }
    if (action == VN_HOOK_CHECK) {
        /* accepted, if the firewall can take the exceptions; the later
         * events trust this check */
        ok = !hp.network || vn_apply_check_rules(apply, hp.plan->rules, &err);
        vn_hook_plan_clear(&hp);
        return ok ? 0 : fail(call, err);
    }
    ok = hp.network ? vn_apply_network(apply, hp.name, hp.plan->rules, &err)
                    : vn_apply_domain(apply, hp.name, hp.plan->routes,
                                      hp.subnets, &err);
    vn_hook_plan_clear(&hp);
    if (!ok || !vn_apply_finish(apply, &err))
        return fail(call, err);
    record(vn_apply_changes(apply));
    return 0;
}

/* The work, when there is some: GLib, libnl and libnftnl from here on. */
static int
run_hook(const HookCall *call, VnHookAction action)
{
    g_autoptr(GError) err = NULL;
    VnConfig config;
    int lock, rc;

    openlog("virt-nest-hook", LOG_PID, LOG_DAEMON);
    if (!vn_config_load(NULL, &config, &err))
        return fail(call, err);
    if (action == VN_HOOK_CHECK)
        return run(call, action, &config);
    /* libvirt starts guests in parallel: one hook at a time changes state */
    if ((lock = vn_state_lock(vn_state_dir(), &err)) < 0)
        return fail(call, err);
    rc = run(call, action, &config);
    close(lock);
    return rc;
}

/* VIRT_NEST_FIREWALL (fwbackend.h) leaves firewalld out. */
static int
firewalld_forced_off(void)
{
    const char *force = getenv("VIRT_NEST_FIREWALL");

    return force && *force && !strstr(force, "firewalld");
}

/* The static hook, for a network event on a host with firewalld: 1 when
 * virt-nest-hook-firewalld must do it (*@why set when it cannot: the
 * message), 0 when this program can. */
static int
needs_firewalld_helper(const HookCall *call, char *why, size_t size)
{
    g_autoptr(GError) err = NULL;
    g_autoptr(VnFw) fw = NULL;
    int rc;

    why[0] = '\0';
    if (vn_fw_firewalld_built_in() || strcmp(call->driver, "network") != 0 ||
        firewalld_forced_off())
        return 0;
    fw = vn_fw_new();
    if ((rc = vn_fw_firewalld_table(fw, &err)) < 0) {
        snprintf(why, size, "network '%s': %s", call->name, err->message);
        return 1;
    }
    return rc;
}

/* Run virt-nest-hook-firewalld DRIVER NAME OP SUBOP EXTRA with the XML on
 * its stdin; returns only when it cannot. */
static int
exec_firewalld_helper(const HookCall *call, char **args)
{
    char self[PATH_MAX], path[PATH_MAX + 32];
    ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
    char *argv[8];
    int fd, i = 0;

    path[0] = '\0';
    if (n > 0) {
        self[n] = '\0';
        if (strrchr(self, '/'))
            *strrchr(self, '/') = '\0';
        snprintf(path, sizeof(path), "%s/virt-nest-hook-firewalld", self);
    }
    if (!path[0] || access(path, X_OK) < 0)
        snprintf(path, sizeof(path), "%s", VN_HOOK_FIREWALLD_BINARY);
    fd = memfd_create("virt-nest-hook-xml", 0);
    if (fd < 0 || write(fd, call->xml, call->len) != (ssize_t)call->len ||
        lseek(fd, 0, SEEK_SET) < 0 || dup2(fd, STDIN_FILENO) < 0) {
        fprintf(stderr, "virt-nest: network '%s': cannot hand the event to "
                "%s: %s\n", call->name, path, strerror(errno));
        return 1;
    }
    close(fd);
    argv[i++] = path;
    argv[i++] = (char *)call->driver;
    for (int k = 1; k <= 4 && args[k]; k++)
        argv[i++] = args[k];
    argv[i] = NULL;
    execv(path, argv);
    fprintf(stderr, "virt-nest: network '%s': firewalld runs here, and its "
            "part of virt-nest, %s, cannot run: %s; install it (package "
            "virt-nest) or rebuild with -Dstatic_hook=false\n", call->name,
            path, strerror(errno));
    return 1;
}

/* On stderr with exit 2 for a bad call; on stdout with 0 for --help (run
 * by hand: libvirt never passes it). */
static int
usage(FILE *f)
{
    fprintf(f,
            "Usage: virt-nest-hook network|qemu NAME OP SUBOP [EXTRA] < XML\n"
            "libvirt's network and qemu hook; install it with "
            "'virt-nest install-hooks'. See virt-nest-hook(8).\n");
    return f == stdout ? 0 : 2;
}

int
main(int argc, char **argv)
{
    const char *driver = driver_of(argv[0]);
    const char *root = vn_state_root();
    VnHookAction action;
    char state[4096];
    size_t len = 0;
    char *xml;
    int meta, rc, is_net, keep, big, lookalike;
    HookCall call;

    if (!driver) {
        /* run by hand: virt-nest-hook DRIVER NAME OP SUBOP EXTRA */
        if (argc == 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")))
            return usage(stdout);
        if (argc < 2 || (strcmp(argv[1], "network") && strcmp(argv[1], "qemu")))
            return usage(stderr);
        driver = argv[1];
        argv++;
        argc--;
    }
    if (argc < 4)
        return usage(stderr);
    /* plain C until here and, for most events, to the end */
    action = vn_hook_action(driver, argv[2], argv[3]);
    if (action == VN_HOOK_NOTHING)
        return 0;

    is_net = !strcmp(driver, "network");
    xml = read_all(STDIN_FILENO, &len, &big);
    if (!xml && big) {
        fprintf(stderr, "virt-nest: %s '%s': the XML on stdin is larger than "
                "%zu MiB, which libvirt's never is; check what runs the hook "
                "(nothing was changed)\n", is_net ? "network" : "domain",
                argv[1], MAX_XML >> 20);
        return 1;
    }
    if (!xml) {
        fprintf(stderr, "virt-nest: %s '%s': out of memory reading the XML\n",
                is_net ? "network" : "domain", argv[1]);
        return 1;
    }
    /* any version of the namespace: one this hook cannot read is
     * refused, not ignored */
    meta = memmem(xml, len, "urn:virt-nest:", 14) != NULL;
    /* a namespace that only looks like it (urn:virtnest:1): warned
     * about, as the parser finds it, and otherwise ignored */
    lookalike = !meta && action != VN_HOOK_REMOVE &&
                vn_ns_lookalike(xml, len);
    /* the network XML, for the reservations the qemu hook needs: kept
     * now for a plain network, and for a nest only once its metadata was
     * accepted (a refused start changes nothing, the state included) */
    keep = action == VN_HOOK_INSTALL &&
           (meta || memmem(xml, len, "<host ", 6) != NULL);
    /* the state is written from here on: never into a directory others
     * can write (they could plant files and links there) */
    if (is_net && action != VN_HOOK_CHECK &&
        vn_state_dir_check(root, state, sizeof(state)) < 0) {
        fprintf(stderr, "virt-nest: %s\n", state);
        free(xml);
        return 1;
    }
    if (is_net && action != VN_HOOK_CHECK && !(meta && keep))
        save_network(root, argv[1], xml, len, keep);
    if (vn_state_path(state, sizeof(state), root,
                      is_net ? "network" : "domain",
                      argv[1], "state") < 0)
        state[0] = '\0';
    /* the common case: not a nest, and nothing of ours to take back */
    if (!meta && (!state[0] || access(state, F_OK) < 0)) {
        if (lookalike) {
            /* (past here, the planner warns) */
            GPtrArray *w = vn_hook_warnings(driver, argv[1], xml, len);

            openlog("virt-nest-hook", LOG_PID, LOG_DAEMON);
            warn_all(w);
            g_ptr_array_unref(w);
        }
        free(xml);
        return 0;
    }

    call.driver = driver;
    call.name = argv[1];
    call.op = argv[2];
    call.subop = argv[3];
    call.xml = xml;
    call.len = len;
    call.action = action;
    if (needs_firewalld_helper(&call, state, sizeof(state))) {
        if (state[0]) {
            fprintf(stderr, "virt-nest: %s\n", state);
            free(xml);
            return 1;
        }
        rc = exec_firewalld_helper(&call, argv);
        free(xml);
        return rc;
    }
    rc = run_hook(&call, action);
    if (is_net && meta && keep && rc == 0)
        save_network(root, argv[1], xml, len, 1);
    free(xml);
    return rc;
}
