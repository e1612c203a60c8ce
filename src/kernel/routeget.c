/* routeget.c: ask the kernel which route it takes (RTM_GETROUTE).
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include <errno.h>
#include <string.h>
#include <linux/rtnetlink.h>
#include <netlink/msg.h>
#include <netlink/route/route.h>

#include "error.h"
#include "netlink.h"
#include "routeget.h"


typedef struct {
    VnRouteGet *out;
    gboolean got;
    int err;            /* the kernel's errno, when it answered with one */
} Ctx;

/* The kernel's own errno: libnl folds ENETUNREACH into "Unspecific
 * failure". */
static int
on_error(struct sockaddr_nl *nla, struct nlmsgerr *e, void *arg)
{
    Ctx *ctx = arg;

    (void)nla;
    ctx->err = -e->error;
    return NL_STOP;
}

static int
on_route(struct nl_msg *msg, void *arg)
{
    Ctx *ctx = arg;
    g_autoptr(rtnl_route) r = NULL;
    struct rtnl_nexthop *nh;

    if (rtnl_route_parse(nlmsg_hdr(msg), &r) < 0)
        return NL_SKIP;
    ctx->out->type = rtnl_route_get_type(r);
    ctx->out->protocol = rtnl_route_get_protocol(r);
    ctx->out->table = rtnl_route_get_table(r);
    vn_cidr_from_nl(rtnl_route_get_pref_src(r), &ctx->out->prefsrc);
    if (rtnl_route_get_nnexthops(r) > 0 &&
        (nh = rtnl_route_nexthop_n(r, 0))) {
        ctx->out->oif = rtnl_route_nh_get_ifindex(nh);
        vn_cidr_from_nl(rtnl_route_nh_get_gateway(nh), &ctx->out->gateway);
    }
    ctx->got = TRUE;
    return NL_OK;
}

gboolean
vn_route_get(const VnCidr *dst, VnRouteGet *out, GError **error)
{
    g_autoptr(nl_sock) sk = NULL;
    struct nl_msg *msg;
    struct rtmsg rtm = { 0 };
    guint alen = dst->family == AF_INET ? 4 : 16;
    Ctx ctx = { out, FALSE, 0 };
    char b[VN_CIDR_STRLEN];
    int rc;

    memset(out, 0, sizeof(*out));
    if (!(sk = vn_nl_route_socket(error)))
        return FALSE;
    rtm.rtm_family = dst->family;
    rtm.rtm_dst_len = (guint8)(alen * 8);
    if (!(msg = nlmsg_alloc_simple(RTM_GETROUTE, NLM_F_REQUEST))) {
        g_set_error(error, VN_ERROR, VN_ERROR_FAILED, "out of memory");
        return FALSE;
    }
    if (nlmsg_append(msg, &rtm, sizeof(rtm), NLMSG_ALIGNTO) < 0 ||
        nla_put(msg, RTA_DST, (int)alen, dst->addr) < 0) {
        nlmsg_free(msg);
        g_set_error(error, VN_ERROR, VN_ERROR_FAILED, "out of memory");
        return FALSE;
    }
    nl_socket_modify_cb(sk, NL_CB_VALID, NL_CB_CUSTOM, on_route, &ctx);
    nl_socket_modify_err_cb(sk, NL_CB_CUSTOM, on_error, &ctx);
    rc = nl_send_auto(sk, msg);
    nlmsg_free(msg);
    if (rc >= 0)
        rc = nl_recvmsgs_default(sk);
    if (ctx.err == ENETUNREACH || ctx.err == EHOSTUNREACH) {
        g_set_error(error, VN_ERROR, VN_ERROR_FAILED,
                    "the kernel has no route to %s",
                    vn_cidr_format(dst, FALSE, b));
        return FALSE;
    }
    if (rc < 0 || !ctx.got) {
        g_set_error(error, VN_ERROR, VN_ERROR_FAILED,
                    "the kernel has no route to %s (%s)",
                    vn_cidr_format(dst, FALSE, b),
                    ctx.err ? g_strerror(ctx.err)
                            : rc < 0 ? nl_geterror(rc) : "no answer");
        return FALSE;
    }
    return TRUE;
}
