/* router.h: the routes to nested subnets, with libnl-route-3, tagged with
 * virt-nest's routing protocol number (VN_RTPROT) so that they are told
 * apart from everybody else's: `ip route show proto virt-nest`.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <glib.h>

#include "model.h"

G_BEGIN_DECLS

/* The routing protocol number virt-nest tags its routes with. */
guint8 vn_route_protocol(void);

/* A route as installed: destination, next hop, device. */
typedef struct {
    VnCidr dst;
    VnCidr via;
    char *dev;
    char *network;          /* the libvirt network of dev, for messages;
                             * NULL when not known */
} VnKernelRoute;

typedef struct _VnRouter VnRouter;

/* A route netlink socket. */
VnRouter *vn_router_open(GError **error);
void vn_router_close(VnRouter *router);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VnRouter, vn_router_close)

typedef enum {
    VN_ROUTE_ABSENT,        /* no route to dst in the main table */
    VN_ROUTE_OURS,          /* ours, with the same next hop and device */
    VN_ROUTE_OURS_OTHER,    /* ours, with another next hop or device */
    VN_ROUTE_FOREIGN_SAME,  /* somebody else's, same next hop and device */
    VN_ROUTE_FOREIGN_OTHER, /* somebody else's, elsewhere */
} VnRouteState;

/* How @want's destination stands in this host's main table. @host is a
 * fresh read of this host (its routes); borrowed. @found (nullable): the
 * route found, borrowed from @host. */
VnRouteState vn_route_state(const VnHost *host, const VnKernelRoute *want,
                            const VnHostRoute **found);

/* Add (or, when @replace, replace whatever route to the destination
 * there is) @route with routing protocol @protocol (VN_RTPROT for
 * virt-nest's own). The kernel's refusals (ENETUNREACH, EHOSTUNREACH,
 * EINVAL, EACCES, EEXIST, ENODEV, ENETDOWN, EPERM) are one sentence
 * naming the route, the device, the network and what to change. */
gboolean vn_route_add(VnRouter *router, const VnKernelRoute *route,
                      guint8 protocol, gboolean replace, GError **error);

/* Delete exactly this route, and only if it carries @protocol; a route
 * that is already gone is no error. */
gboolean vn_route_delete(VnRouter *router, const VnKernelRoute *route,
                         guint8 protocol, GError **error);

/* "192.168.124.0/24 via 192.168.122.191 dev virbr0" */
char *vn_kernel_route_describe(const VnKernelRoute *route);

G_END_DECLS
