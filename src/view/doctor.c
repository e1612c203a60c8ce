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
 * A Walker carries one run (both ways); a Hop is the packet on one
 * layer. Everything a snapshot drives is bounded: MAX_HOPS layers each
 * way, VN_DOCTOR_EVAL_BUDGET firewall rules in all, MAX_WARNINGS.
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
#include "escape.h"
#include "fweval.h"
#include "json.h"
#include "layerplan.h"

#define MAX_HOPS 32
#define MAX_WARNINGS 32

typedef struct {
    const VnNestLayer *layer;
    VnCidr orig;
    VnCidr mapped;
} NatMap;

/* One doctor run while it walks, there and then back. */
typedef struct {
    const VnNest *nest;
    const VnDoctorQuery *q;
    VnWalk *way;            /* the way being walked */
    GPtrArray *warnings;    /* the run's, char * */
    GHashTable *warned;     /* the same, as a set */
    guint dropped;          /* warnings past MAX_WARNINGS */
    GArray *nats;           /* NatMap, the way there's */
    gboolean reply;
    VnCidr osrc;            /* the way's source and destination as it */
    VnCidr odst;            /* started */
    guint64 budget;         /* firewall rule evaluations left */
} Walker;

/* The packet on one layer. */
typedef struct {
    const VnNestLayer *l;
    const VnHost *h;
    const VnLink *iif;      /* NULL: this layer sends it */
    VnCidr src;
    VnCidr dst;
    guint ct;
    const VnNestLayer *d;   /* the layer that has dst, if any */
    /* the route's decision */
    const VnHostRoute *route;
    const VnLink *oif;
    VnCidr gw;
    char *rtext;
} Hop;

static void
step_free(VnStep *s)
{
    g_free(s->text);
    g_free(s);
}

static void
way_clear(VnWalk *w)
{
    g_clear_pointer(&w->steps, g_ptr_array_unref);
    g_clear_pointer(&w->path, g_array_unref);
    g_clear_pointer(&w->death, g_free);
    g_clear_pointer(&w->fix, g_free);
    g_clear_pointer(&w->left, g_free);
}

void
vn_doctor_free(VnDoctor *doc)
{
    if (!doc)
        return;
    way_clear(&doc->there);
    way_clear(&doc->back);
    g_ptr_array_unref(doc->warnings);
    g_free(doc);
}

/* A text for people, with what a terminal would act on in names made
 * visible. */
static char *
say(const char *fmt, va_list ap) G_GNUC_PRINTF(1, 0);

static char *
say(const char *fmt, va_list ap)
{
    g_autofree char *m = g_strdup_vprintf(fmt, ap);

    return vn_escape_text(m);
}

static void G_GNUC_PRINTF(5, 6)
step(Walker *w, const VnNestLayer *l, const char *check, gboolean ok,
     const char *fmt, ...)
{
    VnStep *s = g_new0(VnStep, 1);
    va_list ap;

    s->layer = l->name;
    s->check = check;
    s->ok = ok;
    va_start(ap, fmt);
    s->text = say(fmt, ap);
    va_end(ap);
    g_ptr_array_add(w->way->steps, s);
}

/* The packet passes @link of @l (NULL: nothing to note). */
static void
pass(Walker *w, const VnNestLayer *l, const VnLink *link)
{
    VnWalkPoint p = { l, link };
    const VnWalkPoint *last;

    if (!link)
        return;
    last = w->way->path->len ? &g_array_index(w->way->path, VnWalkPoint,
                                              w->way->path->len - 1) : NULL;
    if (last && last->layer == l && last->link == link)
        return;
    g_array_append_val(w->way->path, p);
}

/* The way ends at @l with @result: death says why. */
static void G_GNUC_PRINTF(4, 5)
end(Walker *w, const VnNestLayer *l, VnWalkResult result, const char *fmt, ...)
{
    va_list ap;
    g_autofree char *m = NULL;
    g_autofree char *full = NULL;

    va_start(ap, fmt);
    m = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    full = g_strdup_printf("%s: %s", l->name, m);
    w->way->result = result;
    w->way->death_layer = l;
    w->way->death_link = NULL;
    if (w->way->path && w->way->path->len) {
        const VnWalkPoint *p = &g_array_index(w->way->path, VnWalkPoint,
                                              w->way->path->len - 1);

        if (p->layer == l)
            w->way->death_link = p->link;
    }
    g_free(w->way->death);
    w->way->death = vn_escape_text(full);
}

#define die(w, l, ...) end((w), (l), VN_WALK_DIES, __VA_ARGS__)

static void G_GNUC_PRINTF(2, 3)
fix(Walker *w, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    g_free(w->way->fix);
    w->way->fix = say(fmt, ap);
    va_end(ap);
}

static void G_GNUC_PRINTF(2, 3)
leave(Walker *w, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    w->way->result = VN_WALK_LEAVES;
    g_free(w->way->left);
    w->way->left = say(fmt, ap);
    va_end(ap);
}

static void G_GNUC_PRINTF(2, 3)
warn(Walker *w, const char *fmt, ...)
{
    va_list ap;
    char *m;

    va_start(ap, fmt);
    m = say(fmt, ap);
    va_end(ap);
    if (g_hash_table_contains(w->warned, m)) {
        g_free(m);
        return;
    }
    if (w->warnings->len >= MAX_WARNINGS) {
        w->dropped++;
        g_free(m);
        return;
    }
    g_hash_table_add(w->warned, m);
    g_ptr_array_add(w->warnings, g_strdup(m));
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
route_text(const VnNestLayer *l, const VnHostRoute *r)
{
    GString *s = g_string_new(NULL);
    char b[VN_CIDR_STRLEN];
    const VnLink *oif = vn_layer_index_link(l->index, r->oif);

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
    net.prefix = addr->family == AF_INET ? 24 : 64;
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

/* The fix for a layer @l that does not send @dst toward the layer @d
 * that has it. */
static void
fix_route(Walker *w, const VnNestLayer *l, const VnNestLayer *d,
          const VnCidr *dst)
{
    char s[VN_CIDR_STRLEN], a[VN_CIDR_STRLEN];
    VnCidr net = subnet_of(w->nest, dst), up;
    const VnNestLayer *c = d ? child_toward(l, d) : NULL;

    vn_cidr_format(&net, TRUE, s);
    if (c && c->guest && guest_routes_cover(c->guest, dst))
        fix(w, "guest %s on %s has <nest:route subnet='%s'/> (or a wider "
            "one), but the route is not installed: run 'virt-nest reconcile' "
            "on %s ('virt-nest status' there shows what drifted)",
            c->guest->name, l->name, s, l->name);
    else if (c && c->guest)
        fix(w, "add <nest:route subnet='%s'/> to guest %s on %s, or run "
            "virt-nest plan", s, c->guest->name, l->name);
    else if (c && vn_nest_layer_link_address(c, c->uplink, dst->family, &up))
        fix(w, "route %s via %s on %s (the guest that is %s is not in "
            "%s's libvirt view, so virt-nest cannot do it)", s,
            fmt_addr(&up, a), l->name, c->name, l->name);
    else if (c)
        fix(w, "route %s toward %s on %s", s, c->name, l->name);
    else if (d && l->parent)
        fix(w, "%s is outside %s: give %s a default route via its uplink %s",
            fmt_addr(dst, a), l->name, l->name,
            l->uplink ? l->uplink->name : "link");
    else if (!d)
        fix(w, "%s is on no layer doctor sees: add a route to %s on %s, or "
            "pass the snapshots of every layer of the nest ('virt-nest status "
            "--json --host' on each)", fmt_addr(dst, a), s, l->name);
}

/* The route decision on @hop's layer; FALSE when it drops the packet. */
static gboolean
hop_route(Walker *w, Hop *hop)
{
    char s[VN_CIDR_STRLEN];
    const VnHostRoute *r = NULL;
    int oifx = 0;

    if (w->q->lookup) {
        if (w->q->lookup(hop->l, &hop->dst, &oifx, &hop->gw, &hop->rtext,
                         w->q->lookup_data))
            hop->oif = vn_layer_index_link(hop->l->index, oifx);
    } else if ((r = route_lookup(hop->h, &hop->dst))) {
        hop->rtext = route_text(hop->l, r);
        if (r->type == RTN_UNICAST) {
            hop->oif = vn_layer_index_link(hop->l->index, r->oif);
            hop->gw = r->gateway;
        }
    }
    if (hop->oif) {
        step(w, hop->l, "route", TRUE, "%s", hop->rtext);
        pass(w, hop->l, hop->oif);
        return TRUE;
    }
    step(w, hop->l, "route", FALSE, "%s", hop->rtext ? hop->rtext : "no route");
    if (r && r->type == RTN_UNICAST) {
        die(w, hop->l, "the route '%s' goes out of a link %s's snapshot does "
            "not have, so %s goes nowhere", hop->rtext, hop->l->name,
            fmt_addr(&hop->dst, s));
        fix(w, "take %s's snapshot again with 'virt-nest status --json "
            "--host' (this one names a link in a route and not in its links)",
            hop->l->name);
        return FALSE;
    }
    if (r)
        die(w, hop->l, "the route '%s' drops %s", hop->rtext,
            fmt_addr(&hop->dst, s));
    else
        die(w, hop->l, "no route to %s", fmt_addr(&hop->dst, s));
    fix_route(w, hop->l, hop->d, &hop->dst);
    return FALSE;
}

/* ------------------------------------------------------------------ */
/* firewall                                                            */

static gboolean
is_virt_nest(const VnFwRule *r)
{
    return r && vn_rule_comment_is_ours(r->comment);
}

static gboolean
is_libvirt(const VnNestLayer *l, const VnFwChain *c, const VnFwRule *r)
{
    if (is_virt_nest(r))
        return FALSE;
    if (c && (g_str_has_prefix(c->name, "LIBVIRT_") ||
              !g_strcmp0(c->table, "libvirt_network") ||
              !g_strcmp0(c->table, "libvirt")))
        return TRUE;
    /* libvirt before 5.1 put its rules straight into FORWARD */
    return r && (vn_layer_index_network_by_bridge(l->index, r->iif) ||
                 vn_layer_index_network_by_bridge(l->index, r->oif));
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
note_unknown(Walker *w, const VnNestLayer *l, const VnFwResult *res)
{
    for (guint i = 0; i < res->unknown->len; i++) {
        const VnFwRule *r = res->unknown->pdata[i];
        const VnFwChain *c = res->unknown_chains->pdata[i];
        g_autofree char *at = where(c, r);

        warn(w, "%s: %s might match too, but uses %s, which virt-nest does "
             "not evaluate", l->name, at, r->opaque);
    }
}

/* The network on @l whose bridge is @link. */
static const VnNetwork *
network_on(const VnNestLayer *l, const VnLink *link)
{
    return link ? vn_layer_index_network_by_bridge(l->index, link->name)
                : NULL;
}

static gboolean
network_has_peer(const VnNetwork *n, const VnCidr *src)
{
    for (guint i = 0; n && n->nest && i < n->peers->len; i++)
        if (vn_cidr_contains(&g_array_index(n->peers, VnCidr, i), src))
            return TRUE;
    return FALSE;
}

/* The budget ran out at @hook: the way ends, undecided. */
static void
too_complex(Walker *w, const Hop *hop, const char *hook,
            const VnFwResult *res)
{
    const VnFwChain *b = res->base;
    g_autofree char *base = g_strdup_printf("%s %s %s",
                                            vn_fw_family_to_string(b->family),
                                            b->table, b->name);
    gboolean one = res->evaluated >= VN_FW_EVAL_BUDGET;
    g_autofree char *why = one ?
        g_strdup_printf("more than %u rule evaluations for this one packet",
                        VN_FW_EVAL_BUDGET) :
        g_strdup_printf("this run's %" G_GUINT64_FORMAT " rule evaluations "
                        "are used up", VN_DOCTOR_EVAL_BUDGET);

    step(w, hop->l, hook, FALSE, "too complex to evaluate: %s: %s", base, why);
    end(w, hop->l, VN_WALK_TOO_COMPLEX, "the %s firewall is too complex to "
        "evaluate (%s: %s), so virt-nest cannot say whether the packet "
        "passes", hook, base, why);
    if (one)
        fix(w, "look at the jumps from %s on %s ('nft list ruleset' there): "
            "no kernel loads jumps that loop back, so a snapshot with them is "
            "not what %s runs; take the snapshot again with 'virt-nest status "
            "--json --host' on %s", base, hop->l->name, hop->l->name,
            hop->l->name);
    else
        fix(w, "the firewalls on the way cost more than virt-nest evaluates "
            "for one walk: look for jumps that loop back in each layer's "
            "ruleset ('nft list ruleset'), and take the snapshots again with "
            "'virt-nest status --json --host'");
}

/* libvirt's rule or policy dropped it: which network, which fix. */
static void
blame_libvirt(Walker *w, const Hop *hop, const VnFwResult *res,
              const char *vs, const VnLink *oif)
{
    const VnNestLayer *l = hop->l;
    const VnNetwork *in = network_on(l, oif);
    const VnNetwork *net = in ? in : network_on(l, hop->iif);
    VnCidr peer = subnet_of(w->nest, in ? &w->osrc : &w->odst);
    char s[VN_CIDR_STRLEN], d[VN_CIDR_STRLEN], n[VN_CIDR_STRLEN];

    fmt_addr(&hop->src, s);
    fmt_addr(&hop->dst, d);
    vn_cidr_format(&peer, TRUE, n);
    const char *xt = res->chain->legacy ? " (legacy iptables)" : "";

    if (res->rule)
        die(w, l, "libvirt's %s in %s%s drops %s -> %s", vs, res->chain->name,
            xt, s, d);
    else
        die(w, l, "libvirt's drop policy in %s%s drops %s -> %s",
            res->chain->name, xt, s, d);
    if (net && network_has_peer(net, &peer))
        fix(w, "network %s on %s has the peer %s, but its exceptions are not "
            "in place: run 'virt-nest reconcile' on %s ('virt-nest status' "
            "there shows what drifted)", net->name, l->name, n, l->name);
    else if (net)
        fix(w, "add <nest:network><nest:peer subnet='%s'/> to network %s on "
            "%s", n, net->name, l->name);
}

/* Evaluates @hook's filter chains on @hop's layer (@oif: the way out, NULL
 * for input); FALSE when the packet goes no further. */
static gboolean
firewall(Walker *w, const Hop *hop, const char *hook, const VnLink *iif,
         const VnLink *oif)
{
    VnPacket p = { hop->src, hop->dst, w->q->proto, iif ? iif->name : NULL,
                   oif ? oif->name : NULL, hop->ct };
    g_auto(VnFwResult) res = { 0 };
    g_autofree char *at = NULL, *vs = NULL;
    char s[VN_CIDR_STRLEN], d[VN_CIDR_STRLEN];

    if (!hop->h->firewall) {
        step(w, hop->l, hook, TRUE, "not checked: %s",
             hop->h->firewall_error ? hop->h->firewall_error :
             "the snapshot has no firewall");
        return TRUE;
    }
    vn_fw_eval(hop->h->firewall, hook, "filter", &p, &w->budget, &res);
    note_unknown(w, hop->l, &res);
    if (res.too_complex) {
        too_complex(w, hop, hook, &res);
        return FALSE;
    }
    at = where(res.chain, res.rule);
    if (res.verdict == VN_FW_ACCEPT) {
        step(w, hop->l, hook, TRUE, "accepted%s%s: %s",
             is_virt_nest(res.rule) ? " by virt-nest" : "",
             is_libvirt(hop->l, res.chain, res.rule) ? " by libvirt" : "", at);
        return TRUE;
    }
    vs = verdict(res.verdict);
    step(w, hop->l, hook, FALSE, "%s: %s", vs, at);
    if (is_libvirt(hop->l, res.chain, res.rule)) {
        blame_libvirt(w, hop, &res, vs, oif);
        return FALSE;
    }
    fmt_addr(&hop->src, s);
    fmt_addr(&hop->dst, d);
    die(w, hop->l, "%s drops %s -> %s", at, s, d);
    fix(w, "that rule is not libvirt's: allow %s -> %s there yourself "
        "(virt-nest places its exceptions only above libvirt's rules)", s, d);
    return FALSE;
}

/* Source NAT at postrouting, for a new connection; FALSE when the NAT
 * chains are too complex to evaluate. */
static gboolean
nat(Walker *w, Hop *hop)
{
    VnPacket p = { hop->src, hop->dst, w->q->proto,
                   hop->iif ? hop->iif->name : NULL, hop->oif->name,
                   VN_CT_NEW };
    g_auto(VnFwResult) res = { 0 };
    g_autofree char *at = NULL, *vs = NULL;
    char a[VN_CIDR_STRLEN], b[VN_CIDR_STRLEN];
    NatMap m = { hop->l, hop->src, { 0 } };

    if (!hop->h->firewall)
        return TRUE;
    vn_fw_eval(hop->h->firewall, "postrouting", "nat", &p, &w->budget, &res);
    if (res.too_complex) {
        too_complex(w, hop, "nat", &res);
        return FALSE;
    }
    at = res.rule ? where(res.chain, res.rule) : NULL;
    if (res.verdict != VN_FW_MASQUERADE && res.verdict != VN_FW_SNAT) {
        if (res.rule && res.verdict == VN_FW_ACCEPT)
            step(w, hop->l, "nat", TRUE, "not NATed: %s", at);
        return TRUE;
    }
    vs = verdict(res.verdict);
    if (!vn_nest_layer_link_address(hop->l, hop->oif, hop->src.family,
                                    &m.mapped)) {
        step(w, hop->l, "nat", TRUE, "%s, but %s has no address: %s", vs,
             hop->oif->name, at);
        return TRUE;
    }
    m.mapped.prefix = vn_cidr_max_prefix(hop->src.family);
    if (vn_cidr_equal(&m.mapped, &hop->src)) {
        step(w, hop->l, "nat", TRUE, "%s keeps the source %s, %s's own "
             "address: %s", vs, fmt_addr(&hop->src, a), hop->oif->name, at);
        return TRUE;
    }
    step(w, hop->l, "nat", TRUE, "%s: source %s becomes %s: %s", vs,
         fmt_addr(&hop->src, a), fmt_addr(&m.mapped, b), at);
    g_array_append_val(w->nats, m);
    hop->src = m.mapped;
    return TRUE;
}

/* ------------------------------------------------------------------ */
/* a forwarded packet                                                  */

static gboolean
check_ip_forward(Walker *w, const Hop *hop)
{
    gboolean v4 = hop->dst.family == AF_INET;
    int fwd = v4 ? hop->h->ip_forward : hop->h->ip6_forward;
    const char *knob = v4 ? "net.ipv4.ip_forward"
                          : "net.ipv6.conf.all.forwarding";
    char s[VN_CIDR_STRLEN], t[VN_CIDR_STRLEN];

    if (fwd != 0) {
        step(w, hop->l, "ip_forward", TRUE, "%s = %d%s", knob, fwd,
             fwd < 0 ? " (unknown)" : "");
        return TRUE;
    }
    step(w, hop->l, "ip_forward", FALSE, "%s = 0", knob);
    die(w, hop->l, "%s is 0, so %s does not forward %s -> %s", knob,
        hop->l->name, fmt_addr(&hop->src, s), fmt_addr(&hop->dst, t));
    fix(w, "sysctl -w %s=1 on %s, and keep it in /etc/sysctl.d/ (libvirt "
        "turns it on when it starts a NAT or routed network; something "
        "turned it off)", knob, hop->l->name);
    return FALSE;
}

/* rp_filter (IPv4): the way back to the source must leave by the link it
 * came in on (strict) or by some link (loose). */
static gboolean
check_rp_filter(Walker *w, const Hop *hop)
{
    const VnLink *iif = hop->iif;
    int mode = MAX(hop->h->rp_filter_all, iif->rp_filter);
    const VnHostRoute *back;
    const VnLink *bl;
    char s[VN_CIDR_STRLEN], t[VN_CIDR_STRLEN];
    g_autofree char *why = NULL;

    if (hop->dst.family != AF_INET || mode <= 0)
        return TRUE;
    back = route_lookup(hop->h, &hop->src);
    bl = back ? vn_layer_index_link(hop->l->index, back->oif) : NULL;
    if (back && back->type == RTN_UNICAST &&
        (mode == 2 || back->oif == iif->ifindex)) {
        step(w, hop->l, "rp_filter", TRUE, "%d on %s: the way back leaves by "
             "%s", mode, iif->name, bl ? bl->name : "?");
        return TRUE;
    }
    step(w, hop->l, "rp_filter", FALSE, "%d on %s", mode, iif->name);
    why = bl ? g_strdup_printf("leaves by %s, not %s", bl->name, iif->name)
             : g_strdup("has no route");
    fmt_addr(&hop->src, s);
    die(w, hop->l, "rp_filter=%d (%s) drops %s -> %s coming in on %s: the way "
        "back to %s %s", mode, mode == 1 ? "strict" : "loose", s,
        fmt_addr(&hop->dst, t), iif->name, s, why);
    if (bl)
        fix(w, "route %s back through %s on %s, or set sysctl "
            "net.ipv4.conf.%s.rp_filter=2 (loose)", s, iif->name,
            hop->l->name, iif->name);
    else
        fix(w, "add a route back to %s on %s", s, hop->l->name);
    return FALSE;
}

/* ------------------------------------------------------------------ */
/* the wire                                                            */

/* The layer on the other end of @oif that has @nh, and its link. */
static const VnNestLayer *
next_layer(const VnNestLayer *l, const VnLink *oif, const VnCidr *nh,
           const VnLink **in, gboolean *segment)
{
    const VnNestLayer *p = l;
    const VnLink *bridge = oif, *link = NULL;
    g_autoptr(GPtrArray) kids = NULL;

    *segment = FALSE;
    if (l->parent && l->uplink && oif->ifindex == l->uplink->ifindex) {
        p = l->parent;
        bridge = l->bridge;
    }
    kids = vn_nest_children_on(p, bridge);
    if (p == l && kids->len == 0)
        return NULL;
    *segment = TRUE;
    if (p != l && vn_nest_layer_has_address(p, nh, &link)) {
        *in = bridge ? bridge : link;
        return p;
    }
    for (guint i = 0; i < kids->len; i++) {
        const VnNestLayer *c = kids->pdata[i];

        if (c != l && vn_nest_layer_has_address(c, nh, NULL)) {
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

/* The wire between guest layer @c and its parent; FALSE when a packet of
 * --size dies on it. */
static gboolean
wire_mtu(Walker *w, const VnNestLayer *c)
{
    const VnNetwork *net = c->bridge ? vn_layer_index_network_by_bridge(
        c->parent->index, c->bridge->name) : NULL;
    guint lim = wire_limit(c), small;
    const char *tap = c->tap ? c->tap->name : "TAP";

    if (!c->uplink)
        return TRUE;
    if (w->q->size && lim && w->q->size > lim) {
        step(w, c, "mtu", FALSE, "%u bytes > %u, the smaller MTU of %s %s and "
             "%s %s", w->q->size, lim, c->parent->name, tap, c->name,
             c->uplink->name);
        die(w, c, "a packet of %u bytes is dropped on guest %s's link, whose "
            "ends have MTU %u (%s %s) and %u (%s %s), without an error",
            w->q->size, c->guest ? c->guest->name : c->name,
            c->tap ? c->tap->mtu : 0, c->parent->name, tap, c->uplink->mtu,
            c->name, c->uplink->name);
        fix(w, "give both ends the same MTU: <mtu size='%u'/> on network %s on "
            "%s, or the MTU %u on %s in %s", lim, net ? net->name : "?",
            c->parent->name, lim, c->uplink->name, c->name);
        return FALSE;
    }
    if (!c->tap || !c->tap->mtu || !c->uplink->mtu ||
        c->tap->mtu == c->uplink->mtu)
        return TRUE;
    small = MIN(c->tap->mtu, c->uplink->mtu);
    warn(w, "MTU mismatch between %s %s (%u) and %s %s (%u), the two ends of "
         "guest %s's link: frames over %u bytes are dropped without an "
         "error; give network %s on %s the smaller MTU (<mtu size='%u'/>) or "
         "set %s's MTU to %u in %s", c->parent->name, c->tap->name,
         c->tap->mtu, c->name, c->uplink->name, c->uplink->mtu,
         c->guest ? c->guest->name : c->name, small, net ? net->name : "?",
         c->parent->name, small, c->uplink->name, small, c->name);
    return TRUE;
}

/* The MTU of the way out: the smallest so far, and --size; FALSE when the
 * packet does not fit. */
static gboolean
hop_mtu(Walker *w, const Hop *hop)
{
    const VnLink *oif = hop->oif;

    if (oif->mtu && (!w->way->mtu || oif->mtu < w->way->mtu)) {
        g_autofree char *x = g_strdup_printf("%s %s", hop->l->name, oif->name);

        w->way->mtu = oif->mtu;
        w->way->mtu_where = g_intern_string(x);
    }
    if (!w->q->size || !oif->mtu || w->q->size <= oif->mtu)
        return TRUE;
    step(w, hop->l, "mtu", FALSE, "%u bytes > MTU %u of %s", w->q->size,
         oif->mtu, oif->name);
    die(w, hop->l, "a packet of %u bytes that must not be fragmented does not "
        "fit the MTU %u of %s", w->q->size, oif->mtu, oif->name);
    fix(w, "send at most %u bytes (path MTU discovery needs the ICMP "
        "'fragmentation needed' from %s to get through), or raise the MTU of "
        "%s on %s", oif->mtu, hop->l->name, oif->name, hop->l->name);
    return FALSE;
}

/* No layer has the next hop: out of the nest, or lost on the way. */
static void
nowhere(Walker *w, const Hop *hop, const VnCidr *nh, gboolean segment)
{
    const VnNestLayer *l = hop->l, *d = hop->d;
    const VnNestLayer *c = d ? child_toward(l, d) : NULL;
    char s[VN_CIDR_STRLEN], g[VN_CIDR_STRLEN];

    fmt_addr(&hop->dst, s);
    fmt_addr(nh, g);
    if (!d || d == l) {
        leave(w, "%s by %s toward %s%s", l->name, hop->oif->name, g,
              w->q->lookup ? "" : ": no snapshot goes further");
        return;
    }
    if (c && c->parent == l && c->guest && !vn_guest_running(c->guest)) {
        /* the layer's snapshot is older than its guest's stop, or a
         * stand-in: nothing on this layer leads there now */
        die(w, l, "guest %s, which holds %s (%s), is %s on %s: no TAP of "
            "it is on %s", c->guest->name, s, c->name,
            c->guest->state ? c->guest->state : "not running", l->name,
            hop->oif->name);
        fix(w, "start guest %s on %s (virsh start %s)", c->guest->name,
            l->name, c->guest->name);
        return;
    }
    if (!segment)
        die(w, l, "the route '%s' takes %s out of the nest, away from %s%s%s(%s)",
            hop->rtext, s, c && c->guest ? "guest " : "",
            c && c->guest ? c->guest->name : "", c && c->guest ? " " : "",
            c ? c->name : d->name);
    else
        die(w, l, "no layer on %s has the next hop %s; %s is on %s",
            hop->oif->name, g, s, d->name);
    fix_route(w, l, d, &hop->dst);
}

/* Over the wire to the layer that has the next hop; FALSE when the walk
 * ends here. */
static gboolean
hop_next(Walker *w, Hop *hop)
{
    const VnNestLayer *l = hop->l, *next;
    const VnLink *oif = hop->oif, *in = NULL;
    VnCidr nh = vn_cidr_is_empty(&hop->gw) ? hop->dst : hop->gw;
    gboolean segment;

    nh.prefix = vn_cidr_max_prefix(nh.family);
    if (!(next = next_layer(l, oif, &nh, &in, &segment))) {
        nowhere(w, hop, &nh, segment);
        return FALSE;
    }
    if (next->parent == l) {
        step(w, l, "link", TRUE, "%s -> %s -> %s %s (guest %s, %s)", oif->name,
             next->tap ? next->tap->name : "TAP", next->name,
             next->uplink->name, next->guest ? next->guest->name : "?",
             next->uplink->mac);
        pass(w, l, next->tap);
        if (!wire_mtu(w, next))
            return FALSE;
    } else if (l->parent == next) {
        step(w, l, "link", TRUE, "%s (%s) -> %s %s -> %s %s", oif->name,
             oif->mac, next->name, l->tap ? l->tap->name : "TAP", next->name,
             in ? in->name : "?");
        pass(w, next, l->tap);
        if (!wire_mtu(w, l))
            return FALSE;
    } else {
        step(w, l, "link", TRUE, "%s -> %s %s (same bridge)", oif->name,
             next->name, in ? in->name : "?");
    }
    hop->l = next;
    hop->iif = in;
    return TRUE;
}

/* ------------------------------------------------------------------ */
/* the walk                                                            */

/* A reply to an address this layer NATed goes back to the original. */
static void
hop_undo_nat(Walker *w, Hop *hop)
{
    char s[VN_CIDR_STRLEN], t[VN_CIDR_STRLEN];

    for (guint i = 0; w->reply && hop->iif && i < w->nats->len; i++) {
        const NatMap *m = &g_array_index(w->nats, NatMap, i);

        if (m->layer != hop->l || !vn_cidr_equal(&m->mapped, &hop->dst))
            continue;
        step(w, hop->l, "nat", TRUE, "reply to %s goes back to %s (conntrack "
             "undoes the NAT)", fmt_addr(&hop->dst, s), fmt_addr(&m->orig, t));
        hop->dst = m->orig;
        hop->d = vn_nest_find_address(w->nest, &hop->dst, NULL);
        return;
    }
}

/* Delivery to a local address, after the input firewall. */
static void
hop_deliver(Walker *w, const Hop *hop, const VnLink *local)
{
    char s[VN_CIDR_STRLEN];

    if (hop->iif && !firewall(w, hop, "input", hop->iif, NULL))
        return;
    step(w, hop->l, "deliver", TRUE, "%s is %s's address on %s",
         fmt_addr(&hop->dst, s), hop->l->name, local ? local->name : "?");
    pass(w, hop->l, local);
    w->way->result = VN_WALK_REACHED;
}

/* The packet through one layer; FALSE when the way ends there. */
static gboolean
hop_through(Walker *w, Hop *hop)
{
    const VnLink *local = NULL;
    gboolean on;

    if (!(hop->h = hop->l->layer->host)) {
        leave(w, "%s has no host view; take its snapshot with --host",
              hop->l->name);
        return FALSE;
    }
    pass(w, hop->l, hop->iif);
    hop_undo_nat(w, hop);
    if (vn_nest_layer_has_address(hop->l, &hop->dst, &local)) {
        hop_deliver(w, hop, local);
        return FALSE;
    }
    if (!hop_route(w, hop))
        return FALSE;
    if (hop->iif)
        on = check_ip_forward(w, hop) && check_rp_filter(w, hop) &&
             firewall(w, hop, "forward", hop->iif, hop->oif);
    else
        on = firewall(w, hop, "output", NULL, hop->oif);
    return on && (hop->ct != VN_CT_NEW || nat(w, hop)) && hop_mtu(w, hop) &&
           hop_next(w, hop);
}

/* Walks one way, into @w->way, from @start (in on @iif, NULL when @start
 * sends it). */
static void
walk(Walker *w, const VnNestLayer *start, const VnLink *iif, VnCidr src,
     VnCidr dst, guint ct)
{
    Hop hop = { .l = start, .iif = iif, .src = src, .dst = dst, .ct = ct };
    char s[VN_CIDR_STRLEN];

    w->way->steps = g_ptr_array_new_with_free_func((GDestroyNotify)step_free);
    w->way->path = g_array_new(FALSE, FALSE, sizeof(VnWalkPoint));
    w->osrc = src;
    w->odst = dst;
    hop.d = vn_nest_find_address(w->nest, &dst, NULL);
    if (iif)
        step(w, start, "arrive", TRUE, "%s comes in on %s, the way back to it",
             fmt_addr(&src, s), iif->name);
    for (guint n = 0; n < MAX_HOPS; n++) {
        gboolean on = hop_through(w, &hop);

        g_clear_pointer(&hop.rtext, g_free);
        hop.route = NULL;
        hop.oif = NULL;
        memset(&hop.gw, 0, sizeof(hop.gw));
        if (!on)
            return;
    }
    die(w, hop.l, "more than %u hops: a routing loop", MAX_HOPS);
}

/* ------------------------------------------------------------------ */
/* where the packet starts                                             */

/* From outside the nest: it comes into the outermost layer where the way
 * back to its source goes out; NULL when that layer has no route back. */
static const VnLink *
way_in(const VnNest *nest, const VnDoctorQuery *q)
{
    const VnNestLayer *l = nest->layers->pdata[0];
    const VnHost *h = l->layer->host;
    g_autofree char *text = NULL;
    VnCidr gw;
    int oif = 0;

    if (!h)
        return NULL;
    if (q->lookup) {
        q->lookup(l, &q->from, &oif, &gw, &text, q->lookup_data);
    } else {
        const VnHostRoute *r = route_lookup(h, &q->from);

        oif = r && r->type == RTN_UNICAST ? r->oif : 0;
    }
    return vn_layer_index_link(l->index, oif);
}

static void
no_such_source(const VnNest *nest, const VnDoctorQuery *q, GError **error)
{
    char b[VN_CIDR_STRLEN];
    g_autoptr(GString) names = g_string_new(NULL);

    for (guint i = 0; i < nest->layers->len; i++) {
        const VnNestLayer *l = nest->layers->pdata[i];

        g_string_append_printf(names, "%s%s", i ? ", " : "", l->source);
    }
    g_set_error(error, VN_ERROR, VN_ERROR_INVALID,
                "--from %s is no address of any layer (%s), and the outermost "
                "one has no route back to it; give an address of one of their "
                "links", fmt_addr(&q->from, b), names->str);
}

VnDoctor *
vn_doctor_run(const VnNest *nest, const VnDoctorQuery *q, GError **error)
{
    g_autoptr(VnDoctor) doc = g_new0(VnDoctor, 1);
    g_autoptr(GArray) nats = g_array_new(FALSE, TRUE, sizeof(NatMap));
    g_autoptr(GHashTable) warned = g_hash_table_new_full(g_str_hash,
                                                         g_str_equal,
                                                         g_free, NULL);
    Walker w = { nest, q, &doc->there, NULL, warned, 0, nats, FALSE, { 0 },
                 { 0 }, VN_DOCTOR_EVAL_BUDGET };
    const VnNestLayer *from;
    const VnLink *from_iif = NULL;
    VnCidr back_dst = q->from;

    doc->warnings = g_ptr_array_new_with_free_func(g_free);
    w.warnings = doc->warnings;
    if (q->from.family != q->to.family) {
        g_set_error(error, VN_ERROR, VN_ERROR_INVALID,
                    "--from and --to are of different families; give two "
                    "IPv4 or two IPv6 addresses");
        return NULL;
    }
    if (!(from = vn_nest_find_address(nest, &q->from, NULL)) &&
        (from_iif = way_in(nest, q)))
        from = nest->layers->pdata[0];
    if (!from) {
        no_such_source(nest, q, error);
        return NULL;
    }
    doc->from_layer = from;
    doc->from_iif = from_iif ? from_iif->name : NULL;
    doc->to_layer = vn_nest_find_address(nest, &q->to, NULL);
    walk(&w, from, from_iif, q->from, q->to, VN_CT_NEW);
    if (doc->there.result == VN_WALK_REACHED) {
        /* the reply, from where it arrived, to the address it came from */
        if (nats->len)
            back_dst = g_array_index(nats, NatMap, nats->len - 1).mapped;
        w.way = &doc->back;
        w.reply = TRUE;
        walk(&w, doc->to_layer, NULL, q->to, back_dst, VN_CT_ESTABLISHED);
        doc->reachable = doc->back.result == VN_WALK_REACHED;
    }
    if (w.dropped)
        g_ptr_array_add(doc->warnings, g_strdup_printf(
            "and %u more warnings like these", w.dropped));
    doc->evaluated = VN_DOCTOR_EVAL_BUDGET - w.budget;
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
text_way(GString *o, const char *title, const VnWalk *w)
{
    g_string_append_printf(o, "%s:\n", title);
    for (guint i = 0; w->steps && i < w->steps->len; i++) {
        const VnStep *s = w->steps->pdata[i];
        g_autofree char *layer = vn_escape_text(s->layer);

        g_string_append_printf(o, "  %-6s %-10s %s%s\n", layer, s->check,
                               s->ok ? "" : "FAILS: ", s->text);
    }
    switch (w->result) {
    case VN_WALK_REACHED:
        g_string_append(o, "  arrives\n");
        break;
    case VN_WALK_DIES:
    case VN_WALK_TOO_COMPLEX:
        g_string_append_printf(o, "  %s at %s\n",
                               w->result == VN_WALK_DIES ? "DIES"
                                                         : "UNDECIDED",
                               w->death);
        if (w->fix)
            g_string_append_printf(o, "  fix: %s\n", w->fix);
        break;
    case VN_WALK_LEAVES:
        g_string_append_printf(o, "  leaves %s\n", w->left);
        break;
    }
}

static void
text_query(GString *o, const VnDoctor *doc, const VnDoctorQuery *q)
{
    char a[VN_CIDR_STRLEN], b[VN_CIDR_STRLEN];
    g_autofree char *fromwhere = doc->from_iif ?
        g_strdup_printf("outside %s, in on %s", doc->from_layer->name,
                        doc->from_iif) : g_strdup(doc->from_layer->name);
    g_autofree char *line = g_strdup_printf(
        "%s (%s) -> %s (%s), %s", fmt_addr(&q->from, a), fromwhere,
        fmt_addr(&q->to, b), doc->to_layer ? doc->to_layer->name : "no snapshot",
        proto_name(q->proto));

    vn_escape_text_append(o, line);
    if (q->size)
        g_string_append_printf(o, ", %u bytes", q->size);
    g_string_append(o, "\n\n");
}

/* The last line: reachable, where it dies, or how far the snapshots go. */
static void
text_verdict(GString *o, const VnDoctor *doc, const VnDoctorQuery *q)
{
    const VnWalk *bad = doc->there.result == VN_WALK_REACHED ? &doc->back
                                                             : &doc->there;
    const char *reply = bad == &doc->back ? "the reply dies: " : "";

    g_autofree char *mtu_where = vn_escape_text(doc->there.mtu_where);

    if (doc->reachable && !doc->there.mtu) {
        /* delivered where it started: no link, no MTU to speak of */
        g_autofree char *at = vn_escape_text(doc->from_layer->name);

        g_string_append_printf(o, "reachable: there and back, on %s itself "
                               "(no link on the way)\n", at);
    } else if (doc->reachable)
        g_string_append_printf(o, "reachable: there and back; the smallest "
                               "MTU on the way is %u (%s)\n", doc->there.mtu,
                               mtu_where ? mtu_where : "?");
    else if (bad->result == VN_WALK_DIES || bad->result == VN_WALK_TOO_COMPLEX)
        g_string_append_printf(o, "%s: %s%s\n",
                               bad->result == VN_WALK_DIES ? "NOT REACHABLE"
                                                           : "UNDECIDED",
                               bad->result == VN_WALK_DIES ? reply : "",
                               bad->death);
    else if (q->lookup)
        g_string_append_printf(o, "no problem found on this layer: the "
                               "packet leaves %s; give doctor the snapshots "
                               "of every layer to follow it further\n",
                               bad->left);
    else
        g_string_append_printf(o, "no problem found as far as the snapshots "
                               "go: the packet leaves %s\n", bad->left);
    /* a death without a fix has said all it knows in its line */
    if ((bad->result == VN_WALK_DIES || bad->result == VN_WALK_TOO_COMPLEX) &&
        bad->fix)
        g_string_append_printf(o, "fix: %s\n", bad->fix);
}

char *
vn_doctor_text(const VnDoctor *doc, const VnDoctorQuery *q)
{
    GString *o = g_string_new(NULL);

    text_query(o, doc, q);
    text_way(o, "there", &doc->there);
    if (doc->back.steps) {
        g_string_append_c(o, '\n');
        text_way(o, "back", &doc->back);
    }
    if (doc->warnings->len) {
        g_string_append_c(o, '\n');
        for (guint i = 0; i < doc->warnings->len; i++)
            g_string_append_printf(o, "warning: %s\n",
                                   (char *)doc->warnings->pdata[i]);
    }
    g_string_append_c(o, '\n');
    text_verdict(o, doc, q);
    return g_string_free(o, FALSE);
}

static const char *
result_name(VnWalkResult r)
{
    switch (r) {
    case VN_WALK_REACHED: return "arrives";
    case VN_WALK_DIES: return "dies";
    case VN_WALK_LEAVES: return "leaves";
    case VN_WALK_TOO_COMPLEX: return "too_complex";
    }
    return "?";
}

static void
json_way(VnJsonWriter *j, const char *key, const VnWalk *w)
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
    json_way(j, "there", &doc->there);
    json_way(j, "back", &doc->back);
    vn_json_begin_array(j, "warnings");
    for (guint i = 0; i < doc->warnings->len; i++)
        vn_json_string(j, NULL, doc->warnings->pdata[i]);
    vn_json_end_array(j);
    vn_json_end_object(j);
    return vn_json_writer_finish(j);
}
