/* routeget.h: ask the kernel which route it takes (RTM_GETROUTE).
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <glib.h>

#include "cidr.h"

G_BEGIN_DECLS

typedef struct {
    int oif;                /* 0 when the kernel has no way out */
    VnCidr gateway;         /* empty when directly connected */
    VnCidr prefsrc;
    guint8 type;            /* RTN_UNICAST, RTN_LOCAL, RTN_UNREACHABLE, ... */
    guint8 protocol;
    guint32 table;
} VnRouteGet;

/* The route this host takes for a packet to @dst sent from here.
 * FALSE with @error when the kernel refuses (no route: ENETUNREACH). */
gboolean vn_route_get(const VnCidr *dst, VnRouteGet *out, GError **error);

G_END_DECLS
