/* statepath.h: where the hooks keep their state, in plain C (the hook's
 * front end links nothing but libc, and shares these with the library).
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
 *
 * $STATE is VIRT_NEST_STATE_DIR, else VN_STATE_DIR (/run/virt-nest). NAME
 * is the object's name with '/', '%', control bytes and a leading '.'
 * written as %XX.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define VN_STATE_ENV "VIRT_NEST_STATE_DIR"

static inline const char *
vn_state_root(void)
{
    const char *dir = getenv(VN_STATE_ENV);

    return dir && *dir ? dir : VN_STATE_DIR;
}

/* Write "$root/KIND/NAME.EXT" into @buf; -1 if it does not fit. */
static inline int
vn_state_path(char *buf, size_t size, const char *root, const char *kind,
              const char *name, const char *ext)
{
    size_t n = (size_t)snprintf(buf, size, "%s/%s/", root, kind);

    if (n >= size)
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
    if (n + strlen(ext) + 2 > size)
        return -1;
    buf[n++] = '.';
    strcpy(buf + n, ext);
    return 0;
}
