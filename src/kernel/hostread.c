/* hostread.c: the host part of a layer, read over rtnetlink with libnl-route-3.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include <string.h>
#include <unistd.h>
#include <net/if.h>
#include <linux/rtnetlink.h>
#include <netlink/netlink.h>
#include <netlink/route/addr.h>
#include <netlink/route/link.h>
#include <netlink/route/route.h>

#include "error.h"
#include "hostread.h"
#include "netlink.h"


static void
read_link(struct nl_object *obj, void *data)
{
    struct rtnl_link *l = (struct rtnl_link *)obj;
    VnHost *host = data;
    VnLink *link = g_new0(VnLink, 1);
    struct nl_addr *mac = rtnl_link_get_addr(l);

    link->ifindex = rtnl_link_get_ifindex(l);
    link->name = g_strdup(rtnl_link_get_name(l));
    if (mac && nl_addr_get_len(mac) == 6) {
        const guint8 *b = nl_addr_get_binary_addr(mac);

        link->mac = g_strdup_printf("%02x:%02x:%02x:%02x:%02x:%02x",
                                    b[0], b[1], b[2], b[3], b[4], b[5]);
    }
    link->kind = g_strdup(rtnl_link_get_type(l));
    link->master = rtnl_link_get_master(l);
    link->mtu = rtnl_link_get_mtu(l);
    link->up = (rtnl_link_get_flags(l) & IFF_UP) != 0;
    link->rp_filter = -1;
    g_ptr_array_add(host->links, link);
}

static void
read_addr(struct nl_object *obj, void *data)
{
    struct rtnl_addr *a = (struct rtnl_addr *)obj;
    VnHost *host = data;
    VnHostAddr ha = { 0 };

    if (!vn_cidr_from_nl(rtnl_addr_get_local(a), &ha.address))
        return;
    ha.address.prefix = (guint8)rtnl_addr_get_prefixlen(a);
    ha.ifindex = rtnl_addr_get_ifindex(a);
    g_ptr_array_add(host->addrs, g_memdup2(&ha, sizeof(ha)));
}

static void
read_route(struct nl_object *obj, void *data)
{
    struct rtnl_route *r = (struct rtnl_route *)obj;
    VnHost *host = data;
    VnHostRoute hr = { 0 };
    struct rtnl_nexthop *nh;

    if (rtnl_route_get_table(r) != RT_TABLE_MAIN)
        return;
    if (!vn_cidr_from_nl(rtnl_route_get_dst(r), &hr.dst)) {
        hr.dst.family = (guint8)rtnl_route_get_family(r);
        hr.dst.prefix = 0;
    }
    hr.protocol = rtnl_route_get_protocol(r);
    hr.scope = rtnl_route_get_scope(r);
    hr.type = rtnl_route_get_type(r);
    hr.table = rtnl_route_get_table(r);
    hr.priority = rtnl_route_get_priority(r);
    if (rtnl_route_get_nnexthops(r) > 0 && (nh = rtnl_route_nexthop_n(r, 0))) {
        hr.oif = rtnl_route_nh_get_ifindex(nh);
        if (rtnl_route_nh_get_gateway(nh))
            vn_cidr_from_nl(rtnl_route_nh_get_gateway(nh), &hr.gateway);
    }
    g_ptr_array_add(host->routes, g_memdup2(&hr, sizeof(hr)));
}

static int
cmp_link(gconstpointer a, gconstpointer b)
{
    const VnLink *x = *(VnLink *const *)a;
    const VnLink *y = *(VnLink *const *)b;

    return x->ifindex - y->ifindex;
}

static int
cmp_addr(gconstpointer a, gconstpointer b)
{
    const VnHostAddr *x = *(VnHostAddr *const *)a;
    const VnHostAddr *y = *(VnHostAddr *const *)b;

    if (x->ifindex != y->ifindex)
        return x->ifindex - y->ifindex;
    return vn_cidr_compare(&x->address, &y->address);
}

static int
cmp_route(gconstpointer a, gconstpointer b)
{
    const VnHostRoute *x = *(VnHostRoute *const *)a;
    const VnHostRoute *y = *(VnHostRoute *const *)b;
    int r = vn_cidr_compare(&x->dst, &y->dst);

    if (r)
        return r;
    return x->priority < y->priority ? -1 : x->priority > y->priority;
}

VnHost *
vn_host_read(GError **error)
{
    g_autoptr(nl_sock) sk = NULL;
    g_autoptr(nl_cache) links = NULL, addrs = NULL, routes = NULL;
    g_autoptr(VnHost) host = vn_host_new();
    char name[256];
    int err;

    if (!(sk = vn_nl_route_socket(error)))
        return NULL;
    if ((err = rtnl_link_alloc_cache(sk, AF_UNSPEC, &links)) < 0 ||
        (err = rtnl_addr_alloc_cache(sk, &addrs)) < 0 ||
        (err = rtnl_route_alloc_cache(sk, AF_UNSPEC, 0, &routes)) < 0) {
        g_set_error(error, VN_ERROR, VN_ERROR_FAILED,
                    "cannot read links, addresses and routes: %s",
                    nl_geterror(err));
        return NULL;
    }
    if (gethostname(name, sizeof(name)) == 0) {
        name[sizeof(name) - 1] = '\0';
        host->hostname = g_strdup(name);
    }
    nl_cache_foreach(links, read_link, host);
    nl_cache_foreach(addrs, read_addr, host);
    nl_cache_foreach(routes, read_route, host);
    g_ptr_array_sort(host->links, cmp_link);
    g_ptr_array_sort(host->addrs, cmp_addr);
    g_ptr_array_sort(host->routes, cmp_route);
    return g_steal_pointer(&host);
}

