/* router.c: the routes to nested subnets, with libnl-route-3.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include <errno.h>
#include <net/if.h>
#include <string.h>
#include <linux/rtnetlink.h>
#include <netlink/msg.h>
#include <netlink/route/route.h>

#include "error.h"
#include "netlink.h"
#include "router.h"

struct _VnRouter {
    struct nl_sock *sk;
    int last_errno;         /* the kernel's own errno of the last refusal:
                             * libnl maps most of them to "Unspecific
                             * failure" */
};

guint8
vn_route_protocol(void)
{
    return VN_RTPROT;
}

static int
keep_errno(struct sockaddr_nl *nla, struct nlmsgerr *e, void *arg)
{
    (void)nla;
    *(int *)arg = -e->error;
    return NL_STOP;         /* and libnl returns its own code, as before */
}

VnRouter *
vn_router_open(GError **error)
{
    VnRouter *r = g_new0(VnRouter, 1);

    if (!(r->sk = vn_nl_route_socket(error))) {
        g_free(r);
        return NULL;
    }
    nl_socket_modify_err_cb(r->sk, NL_CB_CUSTOM, keep_errno, &r->last_errno);
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
            r->table != RT_TABLE_MAIN || !vn_host_route_default_metric(r))
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

/* The kernel's refusal of @route as one sentence that names the route,
 * the device, the network and the fix; @err is libnl's code, for errors
 * that did not come from the kernel. */
static void
route_add_error(const VnKernelRoute *route, int kerrno, int err,
                GError **error)
{
    g_autofree char *d = vn_kernel_route_describe(route);
    g_autofree char *net = route->network
        ? g_strdup_printf("network '%s'", route->network)
        : g_strdup_printf("the network of %s", route->dev);
    char dst[VN_CIDR_STRLEN], via[VN_CIDR_STRLEN];
    const char *fam = route->dst.family == AF_INET6 ? "IPv6" : "IPv4";

    vn_cidr_format(&route->dst, TRUE, dst);
    vn_cidr_format(&route->via, FALSE, via);
    switch (kerrno) {
    case ENETUNREACH:
    case EHOSTUNREACH:
        g_set_error(error, VN_ERROR, VN_ERROR_FAILED,
                    "cannot add route %s: the next hop %s is not on %s (no "
                    "%s route to it on %s); give the guest's address on %s "
                    "in <nest:uplink address=...>, or drop address= to use "
                    "its DHCP reservation or lease", d, via, net, fam,
                    route->dev, net);
        return;
    case EINVAL:
        g_set_error(error, VN_ERROR, VN_ERROR_FAILED,
                    "cannot add route %s: the kernel takes %s for no next "
                    "hop on %s (this host's own address, or not a unicast "
                    "one); give the guest's address on %s in <nest:uplink "
                    "address=...>", d, via, route->dev, net);
        return;
    case EACCES:
        g_set_error(error, VN_ERROR, VN_ERROR_FAILED,
                    "cannot add route %s: IPv6 is disabled on %s (libvirt "
                    "disables it on the bridge of a network without IPv6); "
                    "add an <ip family='ipv6'> (or ipv6='yes') to %s, or "
                    "drop the IPv6 <nest:route>", d, route->dev, net);
        return;
    case EEXIST:
        g_set_error(error, VN_ERROR, VN_ERROR_FAILED,
                    "cannot add route %s: another route to %s appeared "
                    "meanwhile; see whose with 'ip route show %s', remove "
                    "it (ip route del %s) or delegate another subnet", d,
                    dst, dst, dst);
        return;
    case ENODEV:
        g_set_error(error, VN_ERROR, VN_ERROR_FAILED,
                    "cannot add route %s: device %s is gone; start %s again",
                    d, route->dev, net);
        return;
    case ENETDOWN:
        g_set_error(error, VN_ERROR, VN_ERROR_FAILED,
                    "cannot add route %s: device %s is down; start %s (or "
                    "ip link set %s up)", d, route->dev, net, route->dev);
        return;
    case EPERM:
        g_set_error(error, VN_ERROR, VN_ERROR_FAILED,
                    "cannot add route %s: not permitted; run as root (the "
                    "hook does; reconcile needs CAP_NET_ADMIN)", d);
        return;
    case 0:
        g_set_error(error, VN_ERROR, VN_ERROR_FAILED,
                    "cannot add route %s: %s", d, nl_geterror(err));
        return;
    default:
        g_set_error(error, VN_ERROR, VN_ERROR_FAILED,
                    "cannot add route %s on %s: the kernel says %s", d,
                    route->dev, g_strerror(kerrno));
        return;
    }
}

gboolean
vn_route_add(VnRouter *router, const VnKernelRoute *route, guint8 protocol,
             gboolean replace, GError **error)
{
    int oif = (int)if_nametoindex(route->dev);
    g_autoptr(rtnl_route) r = NULL;
    int err;

    if (!oif) {
        route_add_error(route, ENODEV, 0, error);
        return FALSE;
    }
    r = build(route, oif, protocol);
    router->last_errno = 0;
    err = rtnl_route_add(router->sk, r, replace ? NLM_F_REPLACE : NLM_F_EXCL);
    if (err < 0) {
        route_add_error(route, router->last_errno, err, error);
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
    router->last_errno = 0;
    err = rtnl_route_delete(router->sk, r, 0);
    if (err < 0 && err != -NLE_OBJ_NOTFOUND) {
        g_autofree char *d = vn_kernel_route_describe(route);

        g_set_error(error, VN_ERROR, VN_ERROR_FAILED,
                    "cannot delete route %s: %s", d,
                    router->last_errno ? g_strerror(router->last_errno)
                                       : nl_geterror(err));
        return FALSE;
    }
    return TRUE;
}
