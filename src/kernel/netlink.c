/* netlink.c: libnl glue.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include <string.h>
#include <sys/socket.h>

#include "error.h"
#include "netlink.h"

gboolean
vn_cidr_from_nl(struct nl_addr *a, VnCidr *out)
{
    memset(out, 0, sizeof(*out));
    if (!a)
        return FALSE;
    if (nl_addr_get_family(a) != AF_INET && nl_addr_get_family(a) != AF_INET6)
        return FALSE;
    out->family = (guint8)nl_addr_get_family(a);
    if (nl_addr_get_len(a) > sizeof(out->addr))
        return FALSE;
    memcpy(out->addr, nl_addr_get_binary_addr(a), nl_addr_get_len(a));
    out->prefix = (guint8)nl_addr_get_prefixlen(a);
    if (nl_addr_get_len(a) == 0) {
        /* the default route: 0.0.0.0/0 or ::/0 */
        out->prefix = 0;
    }
    return TRUE;
}

struct nl_sock *
vn_nl_route_socket(GError **error)
{
    g_autoptr(nl_sock) sk = nl_socket_alloc();
    int err;

    if (!sk) {
        g_set_error(error, VN_ERROR, VN_ERROR_FAILED,
                    "cannot allocate a netlink socket");
        return NULL;
    }
    if ((err = nl_connect(sk, NETLINK_ROUTE)) < 0) {
        g_set_error(error, VN_ERROR, VN_ERROR_FAILED,
                    "cannot open a route netlink socket: %s",
                    nl_geterror(err));
        return NULL;
    }
    return g_steal_pointer(&sk);
}
