/* nlutil.h: libnl glue: autoptr support and connected sockets.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <glib.h>
#include <netlink/netlink.h>
#include <netlink/cache.h>
#include <netlink/route/route.h>

G_BEGIN_DECLS

typedef struct nl_sock nl_sock;
typedef struct nl_cache nl_cache;
typedef struct rtnl_route rtnl_route;
typedef struct nl_addr nl_addr;

G_DEFINE_AUTOPTR_CLEANUP_FUNC(nl_sock, nl_socket_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(nl_cache, nl_cache_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(rtnl_route, rtnl_route_put)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(nl_addr, nl_addr_put)

/* A NETLINK_ROUTE socket, connected. */
struct nl_sock *vn_nl_route_socket(GError **error);

G_END_DECLS
