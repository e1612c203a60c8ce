/* nlutil.c: libnl glue.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include "error.h"
#include "nlutil.h"

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
