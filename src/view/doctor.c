/* doctor.c: walk a packet and its reply across the layers of a nest.
 *
 * At each layer, as the kernel does: a local address delivers it (after
 * the input firewall); else the route lookup; for a forwarded packet
 * ip_forward, rp_filter and the forward firewall; for a local one the
 * output firewall; NAT at postrouting for a new connection; the MTU of
 * the way out; then the next hop on the link, which is another layer's
 * address on the same bridge. The reply walks back the same way, with the
 * NAT undone where it was done.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include <netinet/in.h>
#include <linux/rtnetlink.h>
#include <stdarg.h>
#include <string.h>

#include "doctor.h"
#include "error.h"
#include "fweval.h"
#include "json.h"
#include "layerplan.h"

#define MAX_HOPS 32

typedef struct {
    const VnNestLayer *layer;
    VnCidr orig;
    VnCidr mapped;
} NatMap;

typedef struct {
    const VnNest *nest;
    const VnDoctorQuery *q;
    VnWalk *w;
    GPtrArray *warnings;
    GArray *nats;           /* NatMap */
    gboolean reply;
    VnCidr osrc;            /* the source as it started */
    VnCidr odst;
} Walk;

static void
step_free(VnStep *s)
{
    g_free(s->text);
    g_free(s);
}

static void
walk_clear(VnWalk *w)
{
    g_clear_pointer(&w->steps, g_ptr_array_unref);
    g_clear_pointer(&w->death, g_free);
    g_clear_pointer(&w->fix, g_free);
    g_clear_pointer(&w->left, g_free);
}

void
vn_doctor_free(VnDoctor *doc)
{
    if (!doc)
        return;
    walk_clear(&doc->there);
    walk_clear(&doc->back);
    g_ptr_array_unref(doc->warnings);
    g_free(doc);
}

static void G_GNUC_PRINTF(5, 6)
step(Walk *k, const VnNestLayer *l, const char *check, gboolean ok,
     const char *fmt, ...)
{
    VnStep *s = g_new0(VnStep, 1);
    va_list ap;

    s->layer = l->name;
    s->check = check;
    s->ok = ok;
    va_start(ap, fmt);
    s->text = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    g_ptr_array_add(k->w->steps, s);
}

static void G_GNUC_PRINTF(3, 4)
die(Walk *k, const VnNestLayer *l, const char *fmt, ...)
{
    va_list ap;
    g_autofree char *m = NULL;

    va_start(ap, fmt);
    m = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    k->w->result = VN_WALK_DIES;
    k->w->death = g_strdup_printf("%s: %s", l->name, m);
}

static void G_GNUC_PRINTF(2, 3)
fix(Walk *k, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    g_free(k->w->fix);
    k->w->fix = g_strdup_vprintf(fmt, ap);
    va_end(ap);
}

static void G_GNUC_PRINTF(2, 3)
warn(Walk *k, const char *fmt, ...)
{
    va_list ap;
    g_autofree char *m = NULL;

    va_start(ap, fmt);
    m = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    for (guint i = 0; i < k->warnings->len; i++)
        if (!strcmp(k->warnings->pdata[i], m))
            return;
    g_ptr_array_add(k->warnings, g_steal_pointer(&m));
}

static char *
verdict(VnFwVerdict v)
{
    return g_ascii_strup(vn_fw_verdict_to_string(v), -1);
}

static const char *
fmt_addr(const VnCidr *c, char *buf)
{
    return vn_cidr_format(c, FALSE, buf);
}

/* ------------------------------------------------------------------ */
/* routes                                                              */

static const VnHostRoute *
route_lookup(const VnHost *h, const VnCidr *dst)
{
    const VnHostRoute *best = NULL;

    for (guint i = 0; i < h->routes->len; i++) {
        const VnHostRoute *r = h->routes->pdata[i];

        if (r->dst.family != dst->family || !vn_cidr_contains(&r->dst, dst))
            continue;
        if (!best || r->dst.prefix > best->dst.prefix ||
            (r->dst.prefix == best->dst.prefix && r->priority < best->priority))
            best = r;
    }
    return best;
}

static char *
route_text(const VnHost *h, const VnHostRoute *r)
{
    GString *s = g_string_new(NULL);
    char b[VN_CIDR_STRLEN];
    const VnLink *oif = vn_host_find_link(h, r->oif);

    if (r->dst.prefix == 0)
        g_string_append(s, "default");
    else
        g_string_append(s, vn_cidr_format(&r->dst, TRUE, b));
    if (r->type == RTN_BLACKHOLE)
        g_string_prepend(s, "blackhole ");
    else if (r->type == RTN_UNREACHABLE)
        g_string_prepend(s, "unreachable ");
    else if (r->type == RTN_PROHIBIT)
        g_string_prepend(s, "prohibit ");
    if (!vn_cidr_is_empty(&r->gateway))
        g_string_append_printf(s, " via %s", fmt_addr(&r->gateway, b));
    if (oif)
        g_string_append_printf(s, " dev %s", oif->name);
    if (r->protocol == VN_RTPROT)
        g_string_append(s, " proto virt-nest");
    else if (r->protocol == RTPROT_KERNEL)
        g_string_append(s, " (connected)");
    return g_string_free(s, FALSE);
}

/* The subnet @addr belongs to on the layer that has it. */
static VnCidr
subnet_of(const VnNest *nest, const VnCidr *addr)
{
    VnCidr net = *addr;

    for (guint i = 0; i < nest->layers->len; i++) {
        const VnHost *h = ((VnNestLayer *)nest->layers->pdata[i])->layer->host;

        for (guint j = 0; h && j < h->addrs->len; j++) {
            const VnHostAddr *ha = h->addrs->pdata[j];
            VnCidr x = ha->address;

            x.prefix = addr->prefix;
            if (x.family == addr->family && vn_cidr_equal(&x, addr) &&
                ha->address.prefix < vn_cidr_max_prefix(addr->family))
                return vn_cidr_network(&ha->address);
        }
    }
    if (addr->family == AF_INET)
        net.prefix = 24;
    else
        net.prefix = 64;
    return vn_cidr_network(&net);
}

static const VnNestLayer *
child_toward(const VnNestLayer *l, const VnNestLayer *d)
{
    for (const VnNestLayer *p = d; p; p = p->parent)
        if (p->parent == l)
            return p;
    return NULL;
}

static gboolean
guest_routes_cover(const VnGuest *g, const VnCidr *dst)
{
    for (guint i = 0; g && g->nest && i < g->routes->len; i++)
        if (vn_cidr_contains(&g_array_index(g->routes, VnCidr, i), dst))
            return TRUE;
    return FALSE;
}

/* The fix for a layer that does not send @dst toward the layer @d has it. */
static void
fix_route(Walk *k, const VnNestLayer *l, const VnNestLayer *d,
          const VnCidr *dst)
{
    char s[VN_CIDR_STRLEN], a[VN_CIDR_STRLEN];
    VnCidr net = subnet_of(k->nest, dst);
    const VnNestLayer *c = d ? child_toward(l, d) : NULL;

    vn_cidr_format(&net, TRUE, s);
    if (c && c->guest && guest_routes_cover(c->guest, dst)) {
        fix(k, "guest %s on %s has <nest:route subnet='%s'/> (or a wider "
            "one), but the route is not installed: run 'virt-nest reconcile' "
            "on %s ('virt-nest status' there shows what drifted)",
            c->guest->name, l->name, s, l->name);
    } else if (c && c->guest) {
        fix(k, "add <nest:route subnet='%s'/> to guest %s on %s, or run "
            "virt-nest plan", s, c->guest->name, l->name);
    } else if (c) {
        VnCidr up;

        if (vn_link_address(c->layer->host, c->uplink, dst->family, &up))
            fix(k, "route %s via %s on %s (the guest that is %s is not in "
                "%s's libvirt view, so virt-nest cannot do it)", s,
                fmt_addr(&up, a), l->name, c->name, l->name);
        else
            fix(k, "route %s toward %s on %s", s, c->name, l->name);
    } else if (d && l->parent) {
        fix(k, "%s is outside %s: give %s a default route via its uplink %s",
            fmt_addr(dst, a), l->name, l->name,
            l->uplink ? l->uplink->name : "link");
    }
}

/* ------------------------------------------------------------------ */
/* firewall                                                            */

static gboolean
bridge_of_network(const VnLayer *layer, const char *name)
{
    return name && vn_layer_find_network_by_bridge(layer, name) != NULL;
}

static gboolean
is_virt_nest(const VnFwRule *r)
{
    return r && vn_rule_comment_is_ours(r->comment);
}

static gboolean
is_libvirt(const VnLayer *layer, const VnFwChain *c, const VnFwRule *r)
{
    if (is_virt_nest(r))
        return FALSE;
    if (c && (g_str_has_prefix(c->name, "LIBVIRT_") ||
              !g_strcmp0(c->table, "libvirt_network") ||
              !g_strcmp0(c->table, "libvirt")))
        return TRUE;
    /* libvirt before 5.1 put its rules straight into FORWARD */
    return r && (bridge_of_network(layer, r->iif) ||
                 bridge_of_network(layer, r->oif));
}

static char *
where(const VnFwChain *c, const VnFwRule *r)
{
    g_autofree char *d = r ? vn_fw_rule_describe(r) : NULL;

    /* legacy xtables' chains are named as iptables-legacy shows them:
     * "legacy ip filter LIBVIRT_FWI rule 2" is `iptables-legacy -L
     * LIBVIRT_FWI --line-numbers`' rule 2 */
    const char *legacy = c && c->legacy ? "legacy " : "";

    if (!c)
        return g_strdup("no rule (policy accept)");
    if (!r)
        return g_strdup_printf("the %s policy of %s%s %s %s",
                               c->policy_drop ? "drop" : "accept", legacy,
                               vn_fw_family_to_string(c->family), c->table,
                               c->name);
    return g_strdup_printf("%s%s %s %s rule %" G_GUINT64_FORMAT ": %s",
                           legacy, vn_fw_family_to_string(c->family), c->table,
                           c->name, r->handle, d);
}

static void
note_unknown(Walk *k, const VnNestLayer *l, const VnFwResult *res)
{
    for (guint i = 0; i < res->unknown->len; i++) {
        const VnFwRule *r = res->unknown->pdata[i];
        const VnFwChain *c = res->unknown_chains->pdata[i];
        g_autofree char *w = where(c, r);

        warn(k, "%s: %s might match too, but uses %s, which virt-nest does "
             "not evaluate", l->name, w, r->opaque);
    }
}

/* The network on @l whose bridge is @link. */
static const VnNetwork *
network_on(const VnNestLayer *l, const VnLink *link)
{
    return link ? vn_layer_find_network_by_bridge(l->layer, link->name) : NULL;
}

static gboolean
network_has_peer(const VnNetwork *n, const VnCidr *src)
{
    for (guint i = 0; n && n->nest && i < n->peers->len; i++)
        if (vn_cidr_contains(&g_array_index(n->peers, VnCidr, i), src))
            return TRUE;
    return FALSE;
}

/* Returns FALSE when the firewall drops the packet. */
static gboolean
firewall(Walk *k, const VnNestLayer *l, const char *hook, const VnCidr *src,
         const VnCidr *dst, guint ct, const VnLink *iif, const VnLink *oif)
{
    const VnHost *h = l->layer->host;
    VnPacket p = { *src, *dst, k->q->proto, iif ? iif->name : NULL,
                   oif ? oif->name : NULL, ct };
    VnFwResult res;
    g_autofree char *w = NULL;
    char s[VN_CIDR_STRLEN], d[VN_CIDR_STRLEN], n[VN_CIDR_STRLEN];

    if (!h->firewall) {
        step(k, l, hook, TRUE, "not checked: %s",
             h->firewall_error ? h->firewall_error : "the snapshot has no "
             "firewall");
        return TRUE;
    }
    vn_fw_eval(h->firewall, hook, "filter", &p, &res);
    note_unknown(k, l, &res);
    w = where(res.chain, res.rule);
    if (res.verdict == VN_FW_ACCEPT) {
        step(k, l, hook, TRUE, "accepted%s%s: %s",
             is_virt_nest(res.rule) ? " by virt-nest" : "",
             is_libvirt(l->layer, res.chain, res.rule) ? " by libvirt" : "", w);
        vn_fw_result_clear(&res);
        return TRUE;
    }
    g_autofree char *vs = verdict(res.verdict);

    step(k, l, hook, FALSE, "%s: %s", vs, w);
    fmt_addr(src, s);
    fmt_addr(dst, d);
    if (is_libvirt(l->layer, res.chain, res.rule)) {
        const VnNetwork *in = network_on(l, oif);
        const VnNetwork *out = network_on(l, iif);
        const VnNetwork *net = in ? in : out;
        VnCidr peer = subnet_of(k->nest, in ? &k->osrc : &k->odst);

        const char *xt = res.chain->legacy ? " (legacy iptables)" : "";

        if (res.rule)
            die(k, l, "libvirt's %s in %s%s drops %s -> %s", vs,
                res.chain->name, xt, s, d);
        else
            die(k, l, "libvirt's drop policy in %s%s drops %s -> %s",
                res.chain->name, xt, s, d);
        vn_cidr_format(&peer, TRUE, n);
        if (net && network_has_peer(net, &peer))
            fix(k, "network %s on %s has the peer %s, but its exceptions are "
                "not in place: run 'virt-nest reconcile' on %s ('virt-nest "
                "status' there shows what drifted)", net->name, l->name, n,
                l->name);
        else if (net)
            fix(k, "add <nest:network><nest:peer subnet='%s'/> to network %s "
                "on %s", n, net->name, l->name);
    } else {
        die(k, l, "%s drops %s -> %s", w, s, d);
        fix(k, "that rule is not libvirt's: allow %s -> %s there yourself "
            "(virt-nest places its exceptions only above libvirt's rules)",
            s, d);
    }
    vn_fw_result_clear(&res);
    return FALSE;
}

/* Source NAT at postrouting, for a new connection. */
static void
nat(Walk *k, const VnNestLayer *l, VnCidr *src, const VnCidr *dst,
    const VnLink *iif, const VnLink *oif)
{
    const VnHost *h = l->layer->host;
    VnPacket p = { *src, *dst, k->q->proto, iif ? iif->name : NULL,
                   oif ? oif->name : NULL, VN_CT_NEW };
    VnFwResult res;
    NatMap m;
    char a[VN_CIDR_STRLEN], b[VN_CIDR_STRLEN];
    g_autofree char *w = NULL;
    g_autofree char *vs = NULL;

    if (!h->firewall)
        return;
    vn_fw_eval(h->firewall, "postrouting", "nat", &p, &res);
    if (res.verdict != VN_FW_MASQUERADE && res.verdict != VN_FW_SNAT) {
        if (res.rule && res.verdict == VN_FW_ACCEPT) {
            g_autofree char *x = where(res.chain, res.rule);

            step(k, l, "nat", TRUE, "not NATed: %s", x);
        }
        vn_fw_result_clear(&res);
        return;
    }
    w = where(res.chain, res.rule);
    vs = verdict(res.verdict);
    m.layer = l;
    m.orig = *src;
    if (!vn_link_address(h, oif, src->family, &m.mapped)) {
        step(k, l, "nat", TRUE, "%s, but %s has no address: %s", vs,
             oif ? oif->name : "?", w);
        vn_fw_result_clear(&res);
        return;
    }
    m.mapped.prefix = vn_cidr_max_prefix(src->family);
    if (vn_cidr_equal(&m.mapped, src)) {
        step(k, l, "nat", TRUE, "%s keeps the source %s, %s's own address: %s",
             vs, fmt_addr(src, a), oif->name, w);
        vn_fw_result_clear(&res);
        return;
    }
    step(k, l, "nat", TRUE, "%s: source %s becomes %s: %s", vs,
         fmt_addr(src, a), fmt_addr(&m.mapped, b), w);
    g_array_append_val(k->nats, m);
    *src = m.mapped;
    vn_fw_result_clear(&res);
}

/* ------------------------------------------------------------------ */
/* the walk                                                            */

/* The layer on the other end of @oif that has @nh, and its link. */
static const VnNestLayer *
next_layer(const VnNestLayer *l, const VnLink *oif, const VnCidr *nh,
           const VnLink **in, gboolean *segment)
{
    const VnNestLayer *p = NULL;
    const VnLink *bridge = NULL;
    g_autoptr(GPtrArray) kids = NULL;
    const VnLink *link;

    *segment = FALSE;
    if (!oif)
        return NULL;
    if (l->parent && l->uplink && oif->ifindex == l->uplink->ifindex) {
        p = l->parent;
        bridge = l->bridge;
    } else {
        p = l;
        bridge = oif;
    }
    kids = vn_nest_children_on(p, bridge);
    if (p == l && kids->len == 0)
        return NULL;
    *segment = TRUE;
    if (p != l && vn_host_has_address(p->layer->host, nh, &link)) {
        *in = bridge ? bridge : link;
        return p;
    }
    for (guint i = 0; i < kids->len; i++) {
        const VnNestLayer *c = kids->pdata[i];

        if (c != l && vn_host_has_address(c->layer->host, nh, &link)) {
            *in = c->uplink;
            return c;
        }
    }
    return NULL;
}

static guint
wire_limit(const VnNestLayer *c)
{
    guint m = c->uplink ? c->uplink->mtu : 0;

    if (c->tap && c->tap->mtu && (!m || c->tap->mtu < m))
        m = c->tap->mtu;
    return m;
}

/* Returns FALSE when a packet of --size dies on the wire. */
static gboolean
wire_mtu(Walk *k, const VnNestLayer *c)
{
    const VnNetwork *net = c->bridge ?
        vn_layer_find_network_by_bridge(c->parent->layer, c->bridge->name) : NULL;
    guint lim = wire_limit(c);

    if (!c->uplink)
        return TRUE;
    if (k->q->size && lim && k->q->size > lim) {
        step(k, c, "mtu", FALSE, "%u bytes > %u, the smaller MTU of %s %s "
             "and %s %s", k->q->size, lim, c->parent->name,
             c->tap ? c->tap->name : "TAP", c->name, c->uplink->name);
        die(k, c, "a packet of %u bytes is dropped on guest %s's link, whose "
            "ends have MTU %u (%s %s) and %u (%s %s), without an error",
            k->q->size, c->guest ? c->guest->name : c->name,
            c->tap ? c->tap->mtu : 0, c->parent->name,
            c->tap ? c->tap->name : "TAP", c->uplink->mtu, c->name,
            c->uplink->name);
        fix(k, "give both ends the same MTU: <mtu size='%u'/> on network %s "
            "on %s, or the MTU %u on %s in %s", lim, net ? net->name : "?",
            c->parent->name, lim, c->uplink->name, c->name);
        return FALSE;
    }
    if (!c->tap || !c->uplink || !c->tap->mtu || !c->uplink->mtu ||
        c->tap->mtu == c->uplink->mtu)
        return TRUE;
    warn(k, "MTU mismatch between %s %s (%u) and %s %s (%u), the two ends of "
         "guest %s's link: frames over %u bytes are dropped without an "
         "error; give network %s on %s the smaller MTU (<mtu size='%u'/>) "
         "or set %s's MTU to %u in %s",
         c->parent->name, c->tap->name, c->tap->mtu, c->name, c->uplink->name,
         c->uplink->mtu, c->guest ? c->guest->name : c->name,
         MIN(c->tap->mtu, c->uplink->mtu),
         net ? net->name : "?", c->parent->name,
         MIN(c->tap->mtu, c->uplink->mtu), c->uplink->name,
         MIN(c->tap->mtu, c->uplink->mtu), c->name);
    return TRUE;
}

static void
walk(Walk *k, const VnNestLayer *start, const VnLink *start_iif, VnCidr src,
     VnCidr dst, guint ct)
{
    const VnNestLayer *l = start;
    const VnLink *iif = start_iif;
    const VnNestLayer *d = vn_nest_find_address(k->nest, &dst, NULL);
    char s[VN_CIDR_STRLEN], t[VN_CIDR_STRLEN], g[VN_CIDR_STRLEN];

    k->w->steps = g_ptr_array_new_with_free_func((GDestroyNotify)step_free);
    k->osrc = src;
    k->odst = dst;
    if (iif)
        step(k, l, "arrive", TRUE, "%s comes in on %s, the way back to it",
             fmt_addr(&src, s), iif->name);
    for (guint hop = 0; hop < MAX_HOPS; hop++) {
        const VnHost *h = l->layer->host;
        const VnLink *local = NULL, *oif = NULL, *in = NULL;
        const VnHostRoute *r = NULL;
        g_autofree char *rtext = NULL;
        VnCidr gw = { 0 }, nh;
        int oifx = 0;
        gboolean segment;
        const VnNestLayer *next;

        if (!h) {
            k->w->result = VN_WALK_LEAVES;
            k->w->left = g_strdup_printf("%s has no host view; take its "
                                         "snapshot with --host", l->name);
            return;
        }
        /* a reply to an address this layer NATed */
        for (guint i = 0; k->reply && iif && i < k->nats->len; i++) {
            const NatMap *m = &g_array_index(k->nats, NatMap, i);

            if (m->layer == l && vn_cidr_equal(&m->mapped, &dst)) {
                step(k, l, "nat", TRUE, "reply to %s goes back to %s "
                     "(conntrack undoes the NAT)", fmt_addr(&dst, s),
                     fmt_addr(&m->orig, t));
                dst = m->orig;
                d = vn_nest_find_address(k->nest, &dst, NULL);
                break;
            }
        }
        if (vn_host_has_address(h, &dst, &local)) {
            if (iif && !firewall(k, l, "input", &src, &dst, ct, iif, NULL))
                return;
            step(k, l, "deliver", TRUE, "%s is %s's address on %s",
                 fmt_addr(&dst, s), l->name, local ? local->name : "?");
            k->w->result = VN_WALK_REACHED;
            return;
        }
        if (k->q->lookup) {
            if (k->q->lookup(l, &dst, &oifx, &gw, &rtext,
                             k->q->lookup_data))
                oif = vn_host_find_link(h, oifx);
        } else if ((r = route_lookup(h, &dst)) && r->type == RTN_UNICAST) {
            oif = vn_host_find_link(h, r->oif);
            gw = r->gateway;
            rtext = route_text(h, r);
        }
        if (!oif) {
            if (r)
                rtext = route_text(h, r);
            step(k, l, "route", FALSE, "%s", rtext ? rtext : "no route");
            if (r)
                die(k, l, "the route '%s' drops %s", rtext, fmt_addr(&dst, s));
            else
                die(k, l, "no route to %s", fmt_addr(&dst, s));
            fix_route(k, l, d, &dst);
            return;
        }
        step(k, l, "route", TRUE, "%s", rtext);
        if (iif) {
            int fwd = dst.family == AF_INET ? h->ip_forward : h->ip6_forward;
            const char *knob = dst.family == AF_INET ? "net.ipv4.ip_forward"
                                                     : "net.ipv6.conf.all.forwarding";

            if (fwd == 0) {
                step(k, l, "ip_forward", FALSE, "%s = 0", knob);
                die(k, l, "%s is 0, so %s does not forward %s -> %s", knob,
                    l->name, fmt_addr(&src, s), fmt_addr(&dst, t));
                fix(k, "sysctl -w %s=1 on %s, and keep it in /etc/sysctl.d/ "
                    "(libvirt turns it on when it starts a NAT or routed "
                    "network; something turned it off)", knob, l->name);
                return;
            }
            step(k, l, "ip_forward", TRUE, "%s = %d%s", knob, fwd,
                 fwd < 0 ? " (unknown)" : "");
            if (dst.family == AF_INET) {
                int mode = MAX(h->rp_filter_all, iif->rp_filter);

                if (mode > 0) {
                    const VnHostRoute *back = route_lookup(h, &src);
                    gboolean ok = back && back->type == RTN_UNICAST &&
                                  (mode == 2 || back->oif == iif->ifindex);
                    const VnLink *bl = back ? vn_host_find_link(h, back->oif)
                                            : NULL;

                    if (!ok) {
                        step(k, l, "rp_filter", FALSE, "%d on %s", mode,
                             iif->name);
                        g_autofree char *why = bl ?
                            g_strdup_printf("leaves by %s, not %s", bl->name,
                                            iif->name) :
                            g_strdup("has no route");

                        die(k, l, "rp_filter=%d (%s) drops %s -> %s coming in "
                            "on %s: the way back to %s %s", mode,
                            mode == 1 ? "strict" : "loose", fmt_addr(&src, s),
                            fmt_addr(&dst, t), iif->name, s, why);
                        if (bl)
                            fix(k, "route %s back through %s on %s, or set "
                                "sysctl net.ipv4.conf.%s.rp_filter=2 (loose)",
                                s, iif->name, l->name, iif->name);
                        else
                            fix(k, "add a route back to %s on %s", s, l->name);
                        return;
                    }
                    step(k, l, "rp_filter", TRUE, "%d on %s: the way back "
                         "leaves by %s", mode, iif->name, bl ? bl->name : "?");
                }
            }
            if (!firewall(k, l, "forward", &src, &dst, ct, iif, oif))
                return;
        } else if (!firewall(k, l, "output", &src, &dst, ct, NULL, oif)) {
            return;
        }
        if (ct == VN_CT_NEW)
            nat(k, l, &src, &dst, iif, oif);
        if (oif->mtu && (!k->w->mtu || oif->mtu < k->w->mtu)) {
            g_autofree char *x = g_strdup_printf("%s %s", l->name, oif->name);

            k->w->mtu = oif->mtu;
            k->w->mtu_where = g_intern_string(x);
        }
        if (k->q->size && oif->mtu && k->q->size > oif->mtu) {
            step(k, l, "mtu", FALSE, "%u bytes > MTU %u of %s", k->q->size,
                 oif->mtu, oif->name);
            die(k, l, "a packet of %u bytes that must not be fragmented does "
                "not fit the MTU %u of %s", k->q->size, oif->mtu, oif->name);
            fix(k, "send at most %u bytes (path MTU discovery needs the ICMP "
                "'fragmentation needed' from %s to get through), or raise "
                "the MTU of %s on %s", oif->mtu, l->name, oif->name, l->name);
            return;
        }
        nh = vn_cidr_is_empty(&gw) ? dst : gw;
        nh.prefix = vn_cidr_max_prefix(nh.family);
        next = next_layer(l, oif, &nh, &in, &segment);
        if (!next) {
            if (d && d != l) {
                const VnNestLayer *c = child_toward(l, d);

                if (!segment)
                    die(k, l, "the route '%s' takes %s out of the nest, away "
                        "from %s%s%s(%s)", rtext, fmt_addr(&dst, s),
                        c && c->guest ? "guest " : "",
                        c && c->guest ? c->guest->name : "",
                        c && c->guest ? " " : "",
                        c ? c->name : d->name);
                else
                    die(k, l, "no layer on %s has the next hop %s; %s is on %s",
                        oif->name, fmt_addr(&nh, g), fmt_addr(&dst, s), d->name);
                fix_route(k, l, d, &dst);
                return;
            }
            k->w->result = VN_WALK_LEAVES;
            k->w->left = g_strdup_printf("%s by %s toward %s: no snapshot "
                                         "goes further", l->name, oif->name,
                                         fmt_addr(&nh, g));
            return;
        }
        if (next->parent == l) {
            step(k, l, "link", TRUE, "%s -> %s -> %s %s (guest %s, %s)",
                 oif->name, next->tap ? next->tap->name : "TAP", next->name,
                 next->uplink->name, next->guest ? next->guest->name : "?",
                 next->uplink->mac);
            if (!wire_mtu(k, next))
                return;
        } else if (l->parent == next) {
            step(k, l, "link", TRUE, "%s (%s) -> %s %s -> %s %s", oif->name,
                 oif->mac, next->name, l->tap ? l->tap->name : "TAP",
                 next->name, in ? in->name : "?");
            if (!wire_mtu(k, l))
                return;
        } else {
            step(k, l, "link", TRUE, "%s -> %s %s (same bridge)", oif->name,
                 next->name, in ? in->name : "?");
        }
        l = next;
        iif = in;
    }
    die(k, l, "more than %u hops: a routing loop", MAX_HOPS);
}

VnDoctor *
vn_doctor_run(const VnNest *nest, const VnDoctorQuery *q, GError **error)
{
    g_autoptr(VnDoctor) doc = g_new0(VnDoctor, 1);
    g_autoptr(GArray) nats = g_array_new(FALSE, TRUE, sizeof(NatMap));
    const VnNestLayer *from;
    const VnLink *from_iif = NULL;
    Walk k = { nest, q, &doc->there, NULL, nats, FALSE, { 0 }, { 0 } };
    VnCidr back_dst;

    doc->warnings = g_ptr_array_new_with_free_func(g_free);
    k.warnings = doc->warnings;
    if (q->from.family != q->to.family) {
        g_set_error(error, VN_ERROR, VN_ERROR_INVALID,
                    "--from and --to are of different families; give two "
                    "IPv4 or two IPv6 addresses");
        return NULL;
    }
    from = vn_nest_find_address(nest, &q->from, NULL);
    if (!from) {
        /* from outside the nest: it comes into the outermost layer where
         * the way back to its source goes out */
        const VnNestLayer *l = nest->layers->pdata[0];
        const VnHost *h = l->layer->host;
        g_autofree char *text = NULL;
        VnCidr gw;
        int oif = 0;

        if (h && q->lookup)
            q->lookup(l, &q->from, &oif, &gw, &text, q->lookup_data);
        else if (h) {
            const VnHostRoute *r = route_lookup(h, &q->from);

            oif = r && r->type == RTN_UNICAST ? r->oif : 0;
        }
        from_iif = h ? vn_host_find_link(h, oif) : NULL;
        if (from_iif)
            from = l;
    }
    if (!from) {
        char b[VN_CIDR_STRLEN];
        g_autoptr(GString) names = g_string_new(NULL);

        for (guint i = 0; i < nest->layers->len; i++) {
            const VnNestLayer *l = nest->layers->pdata[i];

            g_string_append_printf(names, "%s%s", i ? ", " : "", l->source);
        }
        g_set_error(error, VN_ERROR, VN_ERROR_INVALID,
                    "--from %s is no address of any layer (%s), and the "
                    "outermost one has no route back to it; give an address "
                    "of one of their links", fmt_addr(&q->from, b), names->str);
        return NULL;
    }
    doc->from_layer = from;
    doc->from_iif = from_iif ? from_iif->name : NULL;
    doc->to_layer = vn_nest_find_address(nest, &q->to, NULL);
    walk(&k, from, from_iif, q->from, q->to, VN_CT_NEW);
    if (doc->there.result != VN_WALK_REACHED)
        return g_steal_pointer(&doc);
    /* the reply, from where it arrived, to the address it came from */
    back_dst = q->from;
    if (nats->len)
        back_dst = g_array_index(nats, NatMap, nats->len - 1).mapped;
    k.w = &doc->back;
    k.reply = TRUE;
    walk(&k, vn_nest_find_address(nest, &q->to, NULL), NULL, q->to, back_dst,
         VN_CT_ESTABLISHED);
    doc->reachable = doc->back.result == VN_WALK_REACHED;
    return g_steal_pointer(&doc);
}

/* ------------------------------------------------------------------ */
/* output                                                              */

static const char *
proto_name(guint8 p)
{
    switch (p) {
    case IPPROTO_TCP: return "tcp";
    case IPPROTO_UDP: return "udp";
    case IPPROTO_ICMPV6: return "icmpv6";
    default: return "icmp";
    }
}

static void
text_walk(GString *o, const char *title, const VnWalk *w)
{
    g_string_append_printf(o, "%s:\n", title);
    for (guint i = 0; w->steps && i < w->steps->len; i++) {
        const VnStep *s = w->steps->pdata[i];

        g_string_append_printf(o, "  %-6s %-10s %s%s\n", s->layer, s->check,
                               s->ok ? "" : "FAILS: ", s->text);
    }
    switch (w->result) {
    case VN_WALK_REACHED:
        g_string_append(o, "  arrives\n");
        break;
    case VN_WALK_DIES:
        g_string_append_printf(o, "  DIES at %s\n", w->death);
        if (w->fix)
            g_string_append_printf(o, "  fix: %s\n", w->fix);
        break;
    case VN_WALK_LEAVES:
        g_string_append_printf(o, "  leaves %s\n", w->left);
        break;
    }
}

char *
vn_doctor_text(const VnDoctor *doc, const VnDoctorQuery *q)
{
    GString *o = g_string_new(NULL);
    char a[VN_CIDR_STRLEN], b[VN_CIDR_STRLEN];

    g_autofree char *fromwhere = doc->from_iif ?
        g_strdup_printf("outside %s, in on %s", doc->from_layer->name,
                        doc->from_iif) : g_strdup(doc->from_layer->name);

    g_string_append_printf(o, "%s (%s) -> %s (%s), %s", fmt_addr(&q->from, a),
                           fromwhere, fmt_addr(&q->to, b),
                           doc->to_layer ? doc->to_layer->name : "no snapshot",
                           proto_name(q->proto));
    if (q->size)
        g_string_append_printf(o, ", %u bytes", q->size);
    g_string_append(o, "\n\n");
    text_walk(o, "there", &doc->there);
    if (doc->back.steps) {
        g_string_append_c(o, '\n');
        text_walk(o, "back", &doc->back);
    }
    if (doc->warnings->len) {
        g_string_append_c(o, '\n');
        for (guint i = 0; i < doc->warnings->len; i++)
            g_string_append_printf(o, "warning: %s\n",
                                   (char *)doc->warnings->pdata[i]);
    }
    g_string_append_c(o, '\n');
    if (doc->reachable)
        g_string_append_printf(o, "reachable: there and back; the smallest "
                               "MTU on the way is %u (%s)\n",
                               doc->there.mtu, doc->there.mtu_where ?
                               doc->there.mtu_where : "?");
    else if (doc->there.result == VN_WALK_DIES)
        g_string_append_printf(o, "NOT REACHABLE: %s\nfix: %s\n",
                               doc->there.death,
                               doc->there.fix ? doc->there.fix : "see above");
    else if (doc->back.result == VN_WALK_DIES)
        g_string_append_printf(o, "NOT REACHABLE: the reply dies: %s\nfix: "
                               "%s\n", doc->back.death,
                               doc->back.fix ? doc->back.fix : "see above");
    else
        g_string_append_printf(o, "no problem found as far as the snapshots "
                               "go: the packet leaves %s\n",
                               doc->there.result == VN_WALK_LEAVES ?
                               doc->there.left : doc->back.left);
    return g_string_free(o, FALSE);
}

static const char *
result_name(VnWalkResult r)
{
    switch (r) {
    case VN_WALK_REACHED: return "arrives";
    case VN_WALK_DIES: return "dies";
    case VN_WALK_LEAVES: return "leaves";
    }
    return "?";
}

static void
json_walk(VnJsonWriter *j, const char *key, const VnWalk *w)
{
    if (!w->steps) {
        vn_json_null(j, key);
        return;
    }
    vn_json_begin_object(j, key);
    vn_json_string(j, "result", result_name(w->result));
    vn_json_begin_array(j, "steps");
    for (guint i = 0; i < w->steps->len; i++) {
        const VnStep *s = w->steps->pdata[i];

        vn_json_begin_object(j, NULL);
        vn_json_string(j, "layer", s->layer);
        vn_json_string(j, "check", s->check);
        vn_json_bool(j, "ok", s->ok);
        vn_json_string(j, "text", s->text);
        vn_json_end_object(j);
    }
    vn_json_end_array(j);
    vn_json_string(j, "death", w->death);
    vn_json_string(j, "fix", w->fix);
    vn_json_string(j, "left", w->left);
    if (w->mtu)
        vn_json_int(j, "mtu", w->mtu);
    else
        vn_json_null(j, "mtu");
    vn_json_string(j, "mtu_where", w->mtu_where);
    vn_json_end_object(j);
}

char *
vn_doctor_json(const VnDoctor *doc, const VnDoctorQuery *q)
{
    g_autoptr(VnJsonWriter) j = vn_json_writer_new();
    char a[VN_CIDR_STRLEN];

    vn_json_begin_object(j, NULL);
    vn_json_string(j, "format", "virt-nest-doctor");
    vn_json_int(j, "version", 1);
    vn_json_string(j, "from", fmt_addr(&q->from, a));
    vn_json_string(j, "from_layer", doc->from_iif ? NULL : doc->from_layer->name);
    vn_json_string(j, "from_iif", doc->from_iif);
    vn_json_string(j, "to", fmt_addr(&q->to, a));
    vn_json_string(j, "to_layer", doc->to_layer ? doc->to_layer->name : NULL);
    vn_json_string(j, "protocol", proto_name(q->proto));
    vn_json_bool(j, "reachable", doc->reachable);
    json_walk(j, "there", &doc->there);
    json_walk(j, "back", &doc->back);
    vn_json_begin_array(j, "warnings");
    for (guint i = 0; i < doc->warnings->len; i++)
        vn_json_string(j, NULL, doc->warnings->pdata[i]);
    vn_json_end_array(j);
    vn_json_end_object(j);
    return vn_json_writer_finish(j);
}
