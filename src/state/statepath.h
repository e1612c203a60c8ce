/* statepath.h: where the hooks keep their state, and where libvirt keeps
 * the files they read, in plain C (the hook's front end links nothing but
 * libc, and shares these with the library).
 *
 *   $STATE/lock                   flock()ed by every hook run that changes
 *                                 something, and by reconcile
 *   $STATE/intact                 written once the ledger can be trusted:
 *                                 without it, removal searches the firewall
 *                                 by tag (the state directory was lost)
 *   $STATE/network/NAME.xml       the network XML the network hook saw at
 *                                 started/updated, for its DHCP reservations
 *   $STATE/network/NAME.state     the rules installed for network NAME
 *   $STATE/domain/NAME.state      the routes installed for domain NAME
 *   $STATE/changes.log, .log.1    what the hooks and reconcile changed,
 *                                 one line each (changelog.h)
 *
 * $STATE is VIRT_NEST_STATE_DIR, else VN_STATE_DIR (/run/virt-nest). NAME
 * is the object's name with '/', '%', control bytes and a leading '.'
 * written as %XX. The root hook writes there: $STATE and its network/ and
 * domain/ folders must belong to the running user and be writable by
 * nobody else (vn_state_dir_check).
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <errno.h>
#include <stdarg.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define VN_STATE_ENV "VIRT_NEST_STATE_DIR"

static inline const char *
vn_state_root(void)
{
    const char *dir = getenv(VN_STATE_ENV);

    return dir && *dir ? dir : VN_STATE_DIR;
}

/* Write "$root/KIND/NAME.EXT" into @buf; -1 for an empty NAME (no object
 * has one; the file would be a hidden ".EXT"), if it does not fit, or if
 * the file name would be longer than a directory entry can be (NAME_MAX). */
static inline int
vn_state_path(char *buf, size_t size, const char *root, const char *kind,
              const char *name, const char *ext)
{
    size_t n = (size_t)snprintf(buf, size, "%s/%s/", root, kind);
    size_t start = n;

    if (n >= size || !*name)
        return -1;
    for (const unsigned char *p = (const unsigned char *)name; *p; p++) {
        if (*p == '/' || *p == '%' || *p < 0x20 || *p == 0x7f ||
            (p == (const unsigned char *)name && *p == '.')) {
            if (n + 3 >= size)
                return -1;
            n += (size_t)snprintf(buf + n, size - n, "%%%02X", *p);
        } else {
            if (n + 1 >= size)
                return -1;
            buf[n++] = (char)*p;
        }
    }
    if (n + strlen(ext) + 2 > size || n - start + 1 + strlen(ext) > NAME_MAX)
        return -1;
    buf[n++] = '.';
    strcpy(buf + n, ext);
    return 0;
}

/* Write "$dir/NAME.EXT" into @buf: the file libvirt itself keeps for an
 * object (/run/libvirt/network/NAME.xml, dnsmasq's BRIDGE.status), named
 * as libvirt names it, NAME unchanged. -1 when libvirt never writes such a
 * file: an empty NAME, one with '/' (libvirt refuses it in every name), or
 * one too long for a directory entry; the caller then has no file to read,
 * never one elsewhere. */
static inline int
vn_libvirt_path(char *buf, size_t size, const char *dir, const char *name,
                const char *ext)
{
    size_t len = strlen(name);

    if (!len || strchr(name, '/') || len + 1 + strlen(ext) > NAME_MAX)
        return -1;
    if ((size_t)snprintf(buf, size, "%s/%s.%s", dir, name, ext) >= size)
        return -1;
    return 0;
}

/* snprintf for a message that may be cut short */
__attribute__((format(printf, 3, 4))) static inline void
vn_state_say(char *msg, size_t size, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, size, fmt, ap);
    va_end(ap);
}

/* Check the state directory @dir before writing into it: @dir, and its
 * network/ and domain/ folders where they exist, must be directories
 * owned by the running user (root, for the hooks) and writable by nobody
 * else; network/ and domain/ must not be symbolic links. A missing one is
 * fine: it is made 0755 when needed. Returns 0, or -1 with one line in
 * @msg naming the directory and the fix. */
static inline int
vn_state_dir_check(const char *dir, char *msg, size_t size)
{
    static const char *const subs[] = { "", "/network", "/domain" };
    uid_t me = geteuid();
    char who[32];

    if (me == 0)
        snprintf(who, sizeof(who), "root");
    else
        snprintf(who, sizeof(who), "%u", (unsigned)me);
    for (size_t i = 0; i < sizeof(subs) / sizeof(subs[0]); i++) {
        char path[4096];
        struct stat st;
        int rc;

        if ((size_t)snprintf(path, sizeof(path), "%s%s", dir, subs[i]) >=
            sizeof(path)) {
            vn_state_say(msg, size, "state directory %.64s...: the path is too "
                     "long; set %s to a shorter one", dir, VN_STATE_ENV);
            return -1;
        }
        rc = i == 0 ? stat(path, &st) : lstat(path, &st);
        if (rc < 0 && errno == ENOENT)
            continue;
        if (rc < 0) {
            vn_state_say(msg, size, "state directory %s: %s; fix it or remove it",
                     path, strerror(errno));
            return -1;
        }
        if (!S_ISDIR(st.st_mode)) {
            vn_state_say(msg, size, "state directory %s is not a directory; "
                     "remove it", path);
            return -1;
        }
        if (st.st_uid != me) {
            vn_state_say(msg, size, "state directory %s belongs to uid %u, not "
                     "%s; run 'chown %s %s' or remove it", path,
                     (unsigned)st.st_uid, who, who, path);
            return -1;
        }
        if (st.st_mode & (S_IWGRP | S_IWOTH)) {
            vn_state_say(msg, size, "state directory %s is writable by group or "
                     "others (mode %04o); run 'chmod go-w %s' or remove it", path,
                     (unsigned)(st.st_mode & 07777), path);
            return -1;
        }
    }
    return 0;
}
