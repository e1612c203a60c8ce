/* front.c: virt-nest-hook, libvirt's `network` and `qemu` hook.
 *
 * libvirt runs every hook on every event of every network and guest, and
 * waits for it. Most of them have nothing to do with virt-nest, so this
 * front end links only libc: it looks at the arguments and the XML on
 * stdin, and loads the module with the real work (libxml2, GLib, libnl,
 * libnftnl) only when virt-nest metadata or virt-nest state is present.
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

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hook.h"
#include "statepath.h"

enum action { NOTHING, INSTALL, REMOVE };

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

static enum action
classify(const char *driver, const char *op, const char *subop)
{
    if (strcmp(driver, "qemu") == 0) {
        if ((!strcmp(op, "started") || !strcmp(op, "reconnect")) &&
            !strcmp(subop, "begin"))
            return INSTALL;
        if ((!strcmp(op, "stopped") || !strcmp(op, "release")) &&
            !strcmp(subop, "end"))
            return REMOVE;
        return NOTHING;
    }
    if ((!strcmp(op, "started") || !strcmp(op, "updated")) &&
        !strcmp(subop, "begin"))
        return INSTALL;
    if (!strcmp(op, "stopped") && !strcmp(subop, "end"))
        return REMOVE;
    return NOTHING;
}

static char *
read_all(int fd, size_t *len)
{
    size_t cap = 16384, n = 0;
    char *buf = malloc(cap + 1);

    while (buf) {
        ssize_t r = read(fd, buf + n, cap - n);

        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        n += (size_t)r;
        if (n == cap) {
            char *b = realloc(buf, cap * 2 + 1);

            if (!b) {
                free(buf);
                return NULL;
            }
            buf = b;
            cap *= 2;
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
 * file and rename. */
static void
save_network(const char *root, const char *name, const char *xml, size_t len,
             int keep)
{
    char path[4096], tmp[4200], dir[4200];
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
    snprintf(tmp, sizeof(tmp), "%s.%ld.tmp", path, (long)getpid());
    fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0)
        return;
    if (write(fd, xml, len) != (ssize_t)len || close(fd) < 0 ||
        rename(tmp, path) < 0)
        unlink(tmp);
}

static int
usage(void)
{
    fprintf(stderr,
            "Usage: virt-nest-hook network|qemu NAME OP SUBOP [EXTRA] < XML\n"
            "libvirt's network and qemu hook; install it with "
            "'virt-nest install-hooks'. See virt-nest-hook(8).\n");
    return 2;
}

int
main(int argc, char **argv)
{
    const char *driver = driver_of(argv[0]);
    const char *root = vn_state_root();
    enum action action;
    char state[4096];
    size_t len = 0;
    char *xml;
    int meta, rc;
    void *module;
    VnHookRun run;
    VnHookCall call;

    if (!driver) {
        /* run by hand: virt-nest-hook DRIVER NAME OP SUBOP EXTRA */
        if (argc < 2 || (strcmp(argv[1], "network") && strcmp(argv[1], "qemu")))
            return usage();
        driver = argv[1];
        argv++;
        argc--;
    }
    if (argc < 4)
        return usage();
    action = classify(driver, argv[2], argv[3]);
    if (action == NOTHING)
        return 0;

    xml = read_all(STDIN_FILENO, &len);
    if (!xml) {
        fprintf(stderr, "virt-nest: %s '%s': out of memory reading the XML\n",
                driver, argv[1]);
        return 1;
    }
    meta = memmem(xml, len, "urn:virt-nest:1", 15) != NULL;
    if (!strcmp(driver, "network"))
        save_network(root, argv[1], xml, len,
                     action == INSTALL &&
                     (meta || memmem(xml, len, "<host ", 6) != NULL));
    if (vn_state_path(state, sizeof(state), root,
                      !strcmp(driver, "network") ? "network" : "domain",
                      argv[1], "state") < 0)
        state[0] = '\0';
    /* the common case: not a nest, and nothing of ours to take back */
    if (!meta && (!state[0] || access(state, F_OK) < 0)) {
        free(xml);
        return 0;
    }

    module = dlopen(VN_HOOK_MODULE_PATH, RTLD_NOW | RTLD_LOCAL);
    if (!module || !(run = (VnHookRun)dlsym(module, VN_HOOK_SYMBOL))) {
        fprintf(stderr, "virt-nest: %s '%s': cannot load %s: %s; reinstall "
                "virt-nest\n", !strcmp(driver, "network") ? "network" : "domain",
                argv[1], VN_HOOK_MODULE_PATH, dlerror());
        free(xml);
        return 1;
    }
    call.driver = driver;
    call.name = argv[1];
    call.op = argv[2];
    call.subop = argv[3];
    call.xml = xml;
    call.len = len;
    rc = run(&call);
    free(xml);
    return rc;
}
