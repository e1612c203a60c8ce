/* router.c: the routes to nested subnets, with libnl-route-3.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include <errno.h>
#include <net/if.h>
#include <string.h>
#include <linux/rtnetlink.h>
#include <netlink/route/route.h>

#include "error.h"
#include "netlink.h"
#include "router.h"

struct _VnRouter {
    struct nl_sock *sk;
};

guint8
vn_route_protocol(void)
{
    return VN_RTPROT;
}

VnRouter *
vn_router_open(GError **error)
{
    VnRouter *r = g_new0(VnRouter, 1);

    if (!(r->sk = vn_nl_route_socket(error))) {
        g_free(r);
        return NULL;
    }
    return r;
}

void
vn_router_close(VnRouter *router)
{
    if (!router)
        return;
    nl_socket_free(router->sk);
    g_free(router);
}

char *
vn_kernel_route_describe(const VnKernelRoute *route)
{
    char d[VN_CIDR_STRLEN], v[VN_CIDR_STRLEN];

    return g_strdup_printf("%s via %s dev %s", vn_cidr_format(&route->dst, TRUE, d),
                           vn_cidr_format(&route->via, FALSE, v), route->dev);
}

VnRouteState
vn_route_state(const VnHost *host, const VnKernelRoute *want,
               const VnHostRoute **found)
{
    /* the device as @host knows it (the same read as its routes) */
    const VnLink *link = vn_host_find_link_by_name(host, want->dev);
    int oif = link ? link->ifindex : 0;

    for (guint i = 0; i < host->routes->len; i++) {
        const VnHostRoute *r = host->routes->pdata[i];
        gboolean same;

        if (!vn_cidr_equal(&r->dst, &want->dst) || r->type != RTN_UNICAST ||
            r->table != RT_TABLE_MAIN || r->priority != 0)
            continue;
        same = r->oif == oif && vn_cidr_equal(&r->gateway, &want->via);
        if (found)
            *found = r;
        if (r->protocol == VN_RTPROT)
            return same ? VN_ROUTE_OURS : VN_ROUTE_OURS_OTHER;
        return same ? VN_ROUTE_FOREIGN_SAME : VN_ROUTE_FOREIGN_OTHER;
    }
    return VN_ROUTE_ABSENT;
}

static struct rtnl_route *
build(const VnKernelRoute *route, int oif, guint8 protocol)
{
    struct rtnl_route *r = rtnl_route_alloc();
    struct rtnl_nexthop *nh = rtnl_route_nh_alloc();
    guint len = route->dst.family == AF_INET6 ? 16 : 4;
    g_autoptr(nl_addr) dst = nl_addr_build(route->dst.family, route->dst.addr, len);
    g_autoptr(nl_addr) gw = NULL;

    nl_addr_set_prefixlen(dst, route->dst.prefix);
    rtnl_route_set_family(r, route->dst.family);
    rtnl_route_set_dst(r, dst);
    rtnl_route_set_table(r, RT_TABLE_MAIN);
    rtnl_route_set_protocol(r, protocol);
    rtnl_route_set_scope(r, RT_SCOPE_UNIVERSE);
    rtnl_route_set_type(r, RTN_UNICAST);
    rtnl_route_nh_set_ifindex(nh, oif);
    if (!vn_cidr_is_empty(&route->via)) {
        gw = nl_addr_build(route->via.family, route->via.addr, len);
        rtnl_route_nh_set_gateway(nh, gw);
    }
    rtnl_route_add_nexthop(r, nh);
    return r;
}

gboolean
vn_route_add(VnRouter *router, const VnKernelRoute *route, guint8 protocol,
             gboolean replace, GError **error)
{
    int oif = (int)if_nametoindex(route->dev);
    g_autoptr(rtnl_route) r = NULL;
    int err;

    if (!oif) {
        g_autofree char *d = vn_kernel_route_describe(route);

        g_set_error(error, VN_ERROR, VN_ERROR_FAILED,
                    "cannot add route %s: no device %s", d, route->dev);
        return FALSE;
    }
    r = build(route, oif, protocol);
    err = rtnl_route_add(router->sk, r, replace ? NLM_F_REPLACE : NLM_F_EXCL);
    if (err < 0) {
        g_autofree char *d = vn_kernel_route_describe(route);

        g_set_error(error, VN_ERROR, VN_ERROR_FAILED,
                    "cannot add route %s: %s", d, nl_geterror(err));
        return FALSE;
    }
    return TRUE;
}

gboolean
vn_route_delete(VnRouter *router, const VnKernelRoute *route, guint8 protocol,
                GError **error)
{
    int oif = (int)if_nametoindex(route->dev);
    g_autoptr(rtnl_route) r = NULL;
    int err;

    /* the device went away, and the kernel took its routes with it */
    if (!oif)
        return TRUE;
    r = build(route, oif, protocol);
    err = rtnl_route_delete(router->sk, r, 0);
    if (err < 0 && err != -NLE_OBJ_NOTFOUND) {
        g_autofree char *d = vn_kernel_route_describe(route);

        g_set_error(error, VN_ERROR, VN_ERROR_FAILED,
                    "cannot delete route %s: %s", d, nl_geterror(err));
        return FALSE;
    }
    return TRUE;
}
