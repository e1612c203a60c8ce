/* netlink.h: libnl glue: autoptr support and connected sockets.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <glib.h>
#include <netlink/netlink.h>
#include <netlink/cache.h>
#include <netlink/route/route.h>

#include "cidr.h"

G_BEGIN_DECLS

typedef struct nl_sock nl_sock;
typedef struct nl_cache nl_cache;
typedef struct rtnl_route rtnl_route;
typedef struct nl_addr nl_addr;

G_DEFINE_AUTOPTR_CLEANUP_FUNC(nl_sock, nl_socket_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(nl_cache, nl_cache_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(rtnl_route, rtnl_route_put)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(nl_addr, nl_addr_put)

/* An address (with its prefix) from libnl; FALSE for NULL or a family
 * other than IPv4/IPv6. A zero-length address is the default route's
 * 0.0.0.0/0 or ::/0. */
gboolean vn_cidr_from_nl(struct nl_addr *a, VnCidr *out);

/* A NETLINK_ROUTE socket, connected. */
struct nl_sock *vn_nl_route_socket(GError **error);

G_END_DECLS
