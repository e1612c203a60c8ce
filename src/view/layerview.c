/* layerview.c: `virt-nest status` as text, JSON, Mermaid and dot.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include <string.h>
#include <linux/netfilter.h>
#include <linux/rtnetlink.h>

#include "driftcheck.h"
#include "escape.h"
#include "facts.h"
#include "fwmodel.h"
#include "json.h"
#include "layerindex.h"
#include "layerview.h"
#include "proposal.h"
#include "picture.h"

/* ------------------------------------------------------------------ */
/* shared helpers                                                      */

/* What one rendering reads: the status, and its layer by hash. */
typedef struct {
    const VnStatus *st;
    const VnLayer *layer;
    VnLayerIndex *index;
} View;

static void
view_init(View *v, const VnStatus *st)
{
    v->st = st;
    v->layer = st->layer;
    v->index = vn_layer_index_new(st->layer);
}

static void
view_clear(View *v)
{
    g_clear_pointer(&v->index, vn_layer_index_free);
}

/* The TAP of a running interface: the host link whose MAC is the TAP MAC
 * when the host was read, else the XML's <target dev>. */
static const char *
iface_tap(const View *v, const VnGuest *guest, const VnIface *iface)
{
    g_autofree char *tapmac = NULL;
    const VnLink *l;

    if (guest->id < 0 && g_strcmp0(guest->state, "running") != 0)
        return NULL;
    tapmac = vn_mac_tap(iface->mac);
    if (v->layer->host && (l = vn_layer_index_link_by_mac(v->index, tapmac)))
        return l->name;
    return iface->target;
}

static gboolean
iface_address(const View *v, const VnGuest *guest, const VnIface *iface,
              int family, VnGuestAddr *out)
{
    return vn_layer_index_iface_address(v->index, guest, iface, v->st->now,
                                        family, out);
}

static char *
dhcp_range_text(const VnDhcpRange *r)
{
    char a[VN_CIDR_STRLEN], b[VN_CIDR_STRLEN];

    vn_cidr_format(&r->start, FALSE, a);
    vn_cidr_format(&r->end, FALSE, b);
    if (r->start.family == AF_INET && memcmp(r->start.addr, r->end.addr, 3) == 0)
        return g_strdup_printf("%s-%u", a, r->end.addr[3]);
    return g_strdup_printf("%s - %s", a, b);
}

/* The state of one needed route or rule. A rule goes into every backend
 * in the forward path (iptables-nft and legacy xtables, say), one drift
 * item each: the first that is not ok speaks for the rule, since the
 * packet needs every copy. */
static const VnDriftItem *
find_drift(const VnStatus *st, const char *object, const char *what)
{
    const VnDriftItem *found = NULL;

    for (guint i = 0; st->drift && i < st->drift->items->len; i++) {
        const VnDriftItem *d = st->drift->items->pdata[i];

        if (g_strcmp0(d->object, object) != 0 || g_strcmp0(d->what, what) != 0)
            continue;
        if (!found || (found->state == VN_DRIFT_OK && d->state != VN_DRIFT_OK))
            found = d;
    }
    return found;
}

/* ------------------------------------------------------------------ */
/* text                                                                */

typedef struct {
    guint ncols;
    GPtrArray *rows;        /* char** of ncols strings (NULL = "") */
} Table;

static Table *
table_new(guint ncols, ...)
{
    Table *t = g_new0(Table, 1);
    char **row = g_new0(char *, ncols + 1);
    va_list ap;

    t->ncols = ncols;
    t->rows = g_ptr_array_new_with_free_func((GDestroyNotify)g_strfreev);
    va_start(ap, ncols);
    for (guint i = 0; i < ncols; i++)
        row[i] = g_strdup(va_arg(ap, const char *));
    va_end(ap);
    /* a table without headers: table_new(n, NULL, ...) */
    if (row[0])
        g_ptr_array_add(t->rows, row);
    else
        g_strfreev(row);
    return t;
}

/* Add a row; takes ownership of nothing, copies the strings with what a
 * terminal would act on made visible. */
static void
table_add(Table *t, ...)
{
    char **row = g_new0(char *, t->ncols + 1);
    va_list ap;

    va_start(ap, t);
    for (guint i = 0; i < t->ncols; i++) {
        const char *s = va_arg(ap, const char *);

        row[i] = vn_escape_text(s ? s : "");
    }
    va_end(ap);
    g_ptr_array_add(t->rows, row);
}

/* A detail line under the last row, not part of the columns. */
static void G_GNUC_PRINTF(2, 3)
table_note(Table *t, const char *fmt, ...)
{
    char **row = g_new0(char *, t->ncols + 1);
    va_list ap;

    g_autofree char *note = NULL;

    va_start(ap, fmt);
    row[0] = g_strdup("\x01");      /* marks a note row */
    note = g_strdup_vprintf(fmt, ap);
    row[1] = vn_escape_text(note);
    va_end(ap);
    for (guint i = 2; i < t->ncols; i++)
        row[i] = g_strdup("");
    g_ptr_array_add(t->rows, row);
}

static void
table_print_indent(Table *t, GString *out, guint indent)
{
    g_autofree guint *w = g_new0(guint, t->ncols);

    for (guint r = 0; r < t->rows->len; r++) {
        char **row = t->rows->pdata[r];

        if (row[0][0] == '\x01')
            continue;
        for (guint c = 0; c < t->ncols; c++)
            w[c] = MAX(w[c], (guint)g_utf8_strlen(row[c], -1));
    }
    for (guint r = 0; r < t->rows->len; r++) {
        char **row = t->rows->pdata[r];
        GString *line = g_string_new(NULL);

        for (guint k = 0; k < indent; k++)
            g_string_append_c(line, ' ');

        if (row[0][0] == '\x01') {
            g_string_append_printf(line, "  %s", row[1]);
        } else {
            for (guint c = 0; c < t->ncols; c++) {
                g_string_append(line, row[c]);
                if (c + 1 < t->ncols)
                    for (guint k = (guint)g_utf8_strlen(row[c], -1);
                         k < w[c] + 2; k++)
                        g_string_append_c(line, ' ');
            }
        }
        while (line->len && line->str[line->len - 1] == ' ')
            g_string_truncate(line, line->len - 1);
        g_string_append_printf(out, "%s\n", line->str);
        g_string_free(line, TRUE);
    }
    g_ptr_array_unref(t->rows);
    g_free(t);
}

static void
table_print(Table *t, GString *out)
{
    table_print_indent(t, out, 2);
}

static void
text_host(const VnStatus *st, GString *out)
{
    const VnHost *host = st->layer->host;
    Table *t;

    if (!host) {
        g_string_append(out, "Host: not read (the test driver describes no "
                              "real host; --host reads this machine)\n");
        return;
    }
    g_string_append(out, "Host ");
    vn_escape_text_append(out, host->hostname ? host->hostname : "(unnamed)");
    g_string_append_c(out, '\n');
    t = table_new(5, "LINK", "KIND", "MASTER", "MTU", "ADDRESSES");
    for (guint i = 0; i < host->links->len; i++) {
        const VnLink *l = host->links->pdata[i];
        const VnLink *m = vn_host_find_link(host, l->master);
        g_autoptr(GString) addrs = g_string_new(NULL);
        g_autofree char *mtu = g_strdup_printf("%u", l->mtu);

        /* link-local IPv6 addresses are noise here */
        vn_view_link_addresses(addrs, host, l, " ");
        table_add(t, l->name, l->kind ? l->kind : "-", m ? m->name : "-", mtu,
                  addrs->len ? addrs->str + 1 : "-");
    }
    table_print(t, out);
}

/* A network's rows: one per address, with its DHCP ranges. */
static void
network_rows(Table *t, const VnNetwork *n)
{
    const char *state = n->active ? "active" : "inactive";
    const char *bridge = n->bridge ? n->bridge : "-";

    if (!n->ips->len)
        table_add(t, n->name, state, n->forward_mode, bridge, "-", "-");
    for (guint j = 0; j < n->ips->len; j++) {
        const VnNetIp *ip = n->ips->pdata[j];
        char buf[VN_CIDR_STRLEN];
        g_autoptr(GString) dhcp = g_string_new(NULL);

        for (guint k = 0; k < ip->ranges->len; k++) {
            g_autofree char *r =
                dhcp_range_text(&g_array_index(ip->ranges, VnDhcpRange, k));

            g_string_append_printf(dhcp, "%s%s", k ? ", " : "", r);
        }
        table_add(t, j ? "" : n->name, j ? "" : state,
                  j ? "" : n->forward_mode, j ? "" : bridge,
                  vn_cidr_format(&ip->address, TRUE, buf),
                  dhcp->len ? dhcp->str : "-");
    }
}

/* A network's notes: reservations, libvirt's routes, virt-nest's peers. */
static void
network_notes(Table *t, const VnNetwork *n)
{
    char a[VN_CIDR_STRLEN], b[VN_CIDR_STRLEN];

    for (guint j = 0; j < n->ips->len; j++) {
        const VnNetIp *ip = n->ips->pdata[j];

        for (guint k = 0; k < ip->hosts->len; k++) {
            const VnDhcpHost *h = ip->hosts->pdata[k];

            table_note(t, "reservation %s -> %s%s%s", h->mac ? h->mac : "-",
                       vn_cidr_format(&h->ip, FALSE, a),
                       h->name ? " " : "", h->name ? h->name : "");
        }
    }
    for (guint j = 0; j < n->routes->len; j++) {
        const VnNetRoute *r = &g_array_index(n->routes, VnNetRoute, j);

        table_note(t, "libvirt route %s via %s",
                   vn_cidr_format(&r->dest, TRUE, a),
                   vn_cidr_format(&r->gateway, FALSE, b));
    }
    if (n->nest) {
        g_autofree char *p = vn_cidr_join(n->peers);

        table_note(t, "nest peers %s", *p ? p : "(none)");
    }
}

static void
text_networks(const VnStatus *st, GString *out)
{
    const VnLayer *layer = st->layer;
    Table *t;

    g_string_append(out, "\nNetworks\n");
    if (!layer->networks->len) {
        g_string_append(out, "  (none)\n");
        return;
    }
    t = table_new(6, "NAME", "STATE", "MODE", "BRIDGE", "ADDRESS", "DHCP");
    for (guint i = 0; i < layer->networks->len; i++) {
        network_rows(t, layer->networks->pdata[i]);
        network_notes(t, layer->networks->pdata[i]);
    }
    table_print(t, out);
}

static void
text_guests(const View *v, GString *out)
{
    const VnLayer *layer = v->layer;
    Table *t;

    g_string_append(out, "\nGuests\n");
    if (!layer->guests->len) {
        g_string_append(out, "  (none)\n");
        return;
    }
    t = table_new(6, "NAME", "STATE", "MAC", "TAP", "NETWORK", "ADDRESS");
    for (guint i = 0; i < layer->guests->len; i++) {
        const VnGuest *g = layer->guests->pdata[i];

        if (!g->ifaces->len)
            table_add(t, g->name, g->state, "-", "-", "-", "-");
        for (guint j = 0; j < g->ifaces->len; j++) {
            const VnIface *iface = g->ifaces->pdata[j];
            const char *tap = iface_tap(v, g, iface);
            g_autofree char *addr = NULL;
            VnGuestAddr ga;

            if (iface_address(v, g, iface, AF_INET, &ga) ||
                iface_address(v, g, iface, AF_INET6, &ga)) {
                char buf[VN_CIDR_STRLEN];

                addr = g_strdup_printf("%s (%s)",
                                       vn_cidr_format(&ga.address, FALSE, buf),
                                       vn_source_to_string(ga.source));
            }
            table_add(t, j ? "" : g->name, j ? "" : g->state,
                      iface->mac ? iface->mac : "-", tap ? tap : "-",
                      iface->network ? iface->network
                                     : (iface->bridge ? iface->bridge : "-"),
                      addr ? addr : "-");
        }
        if (g->nest) {
            const VnIface *up = vn_guest_uplink(g);
            g_autofree char *s = vn_cidr_join(g->routes);

            table_note(t, "nests %s behind uplink %s", *s ? s : "(nothing)",
                       up && up->mac ? up->mac : "?");
        }
    }
    table_print(t, out);
}

/* One row of "This layer needs"; groups by object. */
static void
need_row(const VnStatus *st, Table **t, GString *out, char **group,
         const char *object, const char *what, const char *kind,
         const char *spec)
{
    const VnDriftItem *di = find_drift(st, object, what);

    if (g_strcmp0(*group, object) != 0) {
        if (*t)
            table_print_indent(*t, out, 4);
        g_string_append(out, "  ");
        vn_escape_text_append(out, object);
        g_string_append_c(out, '\n');
        *t = table_new(st->drift ? 3 : 2, NULL, NULL, NULL);
        g_free(*group);
        *group = g_strdup(object);
    }
    table_add(*t, kind, spec,
              di ? vn_drift_state_to_string(di->state) : "missing");
    /* under the row: why the traffic does not get through, and where a
     * route came from when it was not virt-nest's to begin with */
    if (di && di->where &&
        (di->state == VN_DRIFT_SHADOWED || di->state == VN_DRIFT_BLOCKED ||
         di->state == VN_DRIFT_MISSING || strcmp(kind, "route") == 0))
        table_note(*t, "%s", di->where);
}

/* The objects that need something, each once, in the order they first
 * ask (rules, then routes). */
static GPtrArray *
need_objects(const VnPlan *plan)
{
    GPtrArray *objects = g_ptr_array_new_with_free_func(g_free);

    for (guint i = 0; i < plan->rules->len + plan->routes->len; i++) {
        char *object = i < plan->rules->len
            ? vn_rule_object(plan->rules->pdata[i])
            : vn_route_object(plan->routes->pdata[i - plan->rules->len]);

        if (g_ptr_array_find_with_equal_func(objects, object, g_str_equal,
                                             NULL))
            g_free(object);
        else
            g_ptr_array_add(objects, object);
    }
    return objects;
}

static void
text_needs(const VnStatus *st, GString *out)
{
    const VnPlan *plan = st->plan;
    g_autoptr(GPtrArray) objects = NULL;
    g_autofree char *group = NULL;
    Table *t = NULL;

    g_string_append(out, "\nThis layer needs\n");
    if (!plan->routes->len && !plan->rules->len) {
        g_string_append(out, "  nothing: no guest or network carries virt-nest "
                              "metadata\n");
        return;
    }
    /* one group per object, even when another's subnets sort between its
     * own */
    objects = need_objects(plan);
    for (guint o = 0; o < objects->len; o++) {
        const char *want = objects->pdata[o];

        for (guint i = 0; i < plan->rules->len; i++) {
            const VnRule *r = plan->rules->pdata[i];
            g_autofree char *object = vn_rule_object(r);
            g_autofree char *what = NULL;
            g_autofree char *spec = NULL;

            if (strcmp(object, want) != 0)
                continue;
            what = vn_rule_what(r);
            spec = vn_rule_describe(r);
            /* the verdict is in the first column */
            if (g_str_has_suffix(spec, " -j ACCEPT"))
                spec[strlen(spec) - strlen(" -j ACCEPT")] = '\0';
            need_row(st, &t, out, &group, object, what,
                     r->kind == VN_RULE_NAT ? "no NAT" : "accept", spec);
        }
        for (guint i = 0; i < plan->routes->len; i++) {
            const VnRoute *r = plan->routes->pdata[i];
            g_autofree char *object = vn_route_object(r);
            g_autofree char *what = NULL;
            g_autofree char *d = NULL;
            g_autofree char *spec = NULL;

            if (strcmp(object, want) != 0)
                continue;
            what = vn_route_what(r);
            d = vn_route_describe(r);
            if (vn_cidr_is_empty(&r->via))
                spec = g_strdup_printf("%s (next hop not known yet)", d);
            else if (r->via_source == VN_SOURCE_AGENT)
                spec = g_strdup_printf("%s (next hop from the guest agent)",
                                       d);
            else
                spec = g_strdup_printf("%s (%s)", d,
                                       vn_source_to_string(r->via_source));
            need_row(st, &t, out, &group, object, what, "route", spec);
        }
    }
    if (t)
        table_print_indent(t, out, 4);
}

static void
text_drift(const VnStatus *st, GString *out)
{
    gboolean header = FALSE;

    if (!st->drift) {
        g_string_append_printf(out, "\nInstalled: not checked (%s)\n",
                               st->drift_note ? st->drift_note : "test driver");
        return;
    }
    for (guint i = 0; i < st->drift->items->len; i++) {
        const VnDriftItem *d = st->drift->items->pdata[i];
        g_autofree char *line = NULL;

        if (d->state != VN_DRIFT_STALE && d->state != VN_DRIFT_FOREIGN)
            continue;
        if (!header)
            g_string_append(out, "\nInstalled but not needed\n");
        header = TRUE;
        line = g_strdup_printf("  %s: %s%s%s (%s%s%s)", d->object, d->what,
                               d->where ? " at " : "", d->where ? d->where : "",
                               vn_drift_state_to_string(d->state),
                               d->note ? ": " : "", d->note ? d->note : "");
        vn_escape_text_append(out, line);
        g_string_append_c(out, '\n');
    }
    if (vn_drift_needs_reconcile(st->drift))
        g_string_append(out, "\nDrift: what is installed differs from what "
                              "this layer needs; run 'virt-nest reconcile'.\n");
}

static void
text_hand_fixes(const VnStatus *st, GString *out)
{
    if (!st->hand_fixes || !st->hand_fixes->len)
        return;
    g_string_append(out, "\nHand fixes that virt-nest makes unnecessary\n");
    for (guint i = 0; i < st->hand_fixes->len; i++) {
        const VnHandFix *f = st->hand_fixes->pdata[i];

        g_string_append_printf(out, "  %s: %s\n    %s\n    fix: %s\n",
                               f->where, f->text, f->what, f->fix);
    }
}

static void
text_nested(const VnStatus *st, GString *out)
{
    if (!st->agent_notes)
        return;
    g_string_append(out, "\nNested, as the guest agents report (routed only "
                    "by metadata)\n");
    if (!st->proposals->len && !st->agent_notes->len)
        g_string_append(out, "  no running guest's agent reports a subnet "
                        "this layer does not route to\n");
    for (guint i = 0; i < st->proposals->len; i++) {
        g_autoptr(GString) t = g_string_new(NULL);
        g_auto(GStrv) lines = NULL;

        vn_proposal_append_text(t, st->proposals->pdata[i]);
        lines = g_strsplit(t->str, "\n", -1);
        for (guint j = 0; lines[j]; j++) {
            if (*lines[j])
                g_string_append_printf(out, "  %s\n", lines[j]);
        }
    }
    for (guint i = 0; i < st->agent_notes->len; i++) {
        g_string_append(out, "  note: ");
        vn_escape_text_append(out, st->agent_notes->pdata[i]);
        g_string_append_c(out, '\n');
    }
}

char *
vn_status_text(const VnStatus *st)
{
    GString *out = g_string_new("Layer ");
    const VnLayer *layer = st->layer;
    View v;

    view_init(&v, st);
    vn_escape_text_append(out, layer->uri ? layer->uri : "-");
    g_string_append_c(out, '\n');
    text_host(st, out);
    text_networks(st, out);
    text_guests(&v, out);
    text_needs(st, out);
    text_drift(st, out);
    text_hand_fixes(st, out);
    text_nested(st, out);
    if (layer->problems->len || st->plan->problems->len)
        g_string_append_printf(out, "\nProblems: %u, each on its own line "
                               "on stderr\n",
                               layer->problems->len + st->plan->problems->len);
    view_clear(&v);
    return g_string_free(out, FALSE);
}

/* ------------------------------------------------------------------ */
/* JSON                                                                */

static const char *
family_name(int family)
{
    return family == AF_INET6 ? "ipv6" : "ipv4";
}

static void
json_iface_match(VnJsonWriter *w, const char *key, const char *name,
                 gboolean neg, gboolean prefix)
{
    if (!name) {
        vn_json_null(w, key);
        return;
    }
    vn_json_begin_object(w, key);
    vn_json_string(w, "name", name);
    vn_json_bool(w, "not", neg);
    vn_json_bool(w, "prefix", prefix);
    vn_json_end_object(w);
}

static void
json_addr_match(VnJsonWriter *w, const char *key, const VnCidr *c, gboolean neg)
{
    char buf[VN_CIDR_STRLEN];

    if (vn_cidr_is_empty(c)) {
        vn_json_null(w, key);
        return;
    }
    vn_json_begin_object(w, key);
    vn_json_string(w, "subnet", vn_cidr_format(c, TRUE, buf));
    vn_json_bool(w, "not", neg);
    vn_json_end_object(w);
}

/* The forward path's firewall, in a form `virt-nest doctor` evaluates:
 * every chain (nf_tables' and legacy xtables'), each rule reduced to its interfaces, addresses, protocol,
 * conntrack states and verdict (and "opaque" for what is left out). */
static void
json_firewall(VnJsonWriter *w, const VnHost *host)
{
    if (!host->firewall) {
        vn_json_null(w, "firewall");
        vn_json_string(w, "firewall_error", host->firewall_error);
        return;
    }
    vn_json_begin_array(w, "firewall");
    for (guint i = 0; i < host->firewall->len; i++) {
        const VnFwChain *c = host->firewall->pdata[i];

        vn_json_begin_object(w, NULL);
        vn_json_string(w, "family", vn_fw_family_to_string(c->family));
        /* only on legacy xtables' chains: the snapshots of hosts without
         * them stay as they were */
        if (c->legacy)
            vn_json_bool(w, "legacy", TRUE);
        vn_json_string(w, "table", c->table);
        vn_json_string(w, "chain", c->name);
        vn_json_string(w, "hook", c->hook);
        vn_json_string(w, "type", c->type);
        vn_json_int(w, "priority", c->priority);
        vn_json_string(w, "policy", c->hook ? (c->policy_drop ? "drop" : "accept")
                                           : NULL);
        vn_json_begin_array(w, "rules");
        for (guint j = 0; j < c->rules->len; j++) {
            const VnFwRule *r = c->rules->pdata[j];
            g_autofree char *text = vn_fw_rule_describe(r);

            vn_json_begin_object(w, NULL);
            vn_json_int(w, "handle", (gint64)r->handle);
            vn_json_string(w, "text", text);
            json_iface_match(w, "iif", r->iif, r->iif_neg, r->iif_prefix);
            json_iface_match(w, "oif", r->oif, r->oif_neg, r->oif_prefix);
            json_addr_match(w, "source", &r->src, r->src_neg);
            json_addr_match(w, "destination", &r->dst, r->dst_neg);
            if (r->l4proto) {
                vn_json_begin_object(w, "protocol");
                vn_json_int(w, "number", r->l4proto);
                vn_json_bool(w, "not", r->l4proto_neg);
                vn_json_end_object(w);
            } else {
                vn_json_null(w, "protocol");
            }
            vn_json_int(w, "ct_state", r->ct_state);
            if (r->ct_status)
                vn_json_int(w, "ct_status", r->ct_status);
            if (r->nfproto)
                vn_json_string(w, "nfproto", r->nfproto == NFPROTO_IPV6
                                             ? "ipv6" : "ipv4");
            vn_json_string(w, "verdict", vn_fw_verdict_to_string(r->verdict));
            vn_json_string(w, "target", r->target);
            vn_json_string(w, "comment", r->comment);
            vn_json_string(w, "opaque", r->opaque);
            vn_json_end_object(w);
        }
        vn_json_end_array(w);
        vn_json_end_object(w);
    }
    vn_json_end_array(w);
    /* always there, null when the firewall was read */
    vn_json_string(w, "firewall_error", host->firewall_error);
}

static void
json_host(VnJsonWriter *w, const VnHost *host)
{
    if (!host) {
        vn_json_null(w, "host");
        return;
    }
    vn_json_begin_object(w, "host");
    vn_json_string(w, "hostname", host->hostname);
    vn_view_json_sysctl(w, "ip_forward", host->ip_forward);
    vn_view_json_sysctl(w, "ip6_forward", host->ip6_forward);
    vn_view_json_sysctl(w, "rp_filter", host->rp_filter_all);
    vn_json_begin_array(w, "links");
    for (guint i = 0; i < host->links->len; i++) {
        const VnLink *l = host->links->pdata[i];
        const VnLink *m = vn_host_find_link(host, l->master);

        vn_json_begin_object(w, NULL);
        vn_json_int(w, "ifindex", l->ifindex);
        vn_json_string(w, "name", l->name);
        vn_json_string(w, "kind", l->kind);
        vn_json_string(w, "mac", l->mac);
        vn_json_string(w, "master", m ? m->name : NULL);
        vn_json_int(w, "mtu", l->mtu);
        vn_json_bool(w, "up", l->up);
        vn_view_json_sysctl(w, "rp_filter", l->rp_filter);
        vn_json_begin_array(w, "addresses");
        for (guint j = 0; j < host->addrs->len; j++) {
            const VnHostAddr *a = host->addrs->pdata[j];

            if (a->ifindex == l->ifindex)
                vn_view_json_cidr(w, NULL, &a->address, TRUE);
        }
        vn_json_end_array(w);
        vn_json_end_object(w);
    }
    vn_json_end_array(w);
    vn_json_begin_array(w, "routes");
    for (guint i = 0; i < host->routes->len; i++) {
        const VnHostRoute *r = host->routes->pdata[i];
        const VnLink *l = vn_host_find_link(host, r->oif);

        vn_json_begin_object(w, NULL);
        vn_view_json_cidr(w, "destination", &r->dst, TRUE);
        vn_view_json_cidr(w, "gateway", &r->gateway, FALSE);
        vn_json_string(w, "dev", l ? l->name : NULL);
        vn_json_int(w, "protocol", r->protocol);
        vn_json_int(w, "scope", r->scope);
        vn_json_int(w, "type", r->type);
        vn_json_int(w, "metric", r->priority);
        vn_json_end_object(w);
    }
    vn_json_end_array(w);
    json_firewall(w, host);
    vn_json_end_object(w);
}

static void
json_ip(VnJsonWriter *w, const VnNetIp *ip)
{
    vn_json_begin_object(w, NULL);
    vn_json_string(w, "family", family_name(ip->address.family));
    vn_view_json_cidr(w, "address", &ip->address, TRUE);
    vn_view_json_cidr(w, "subnet", &ip->subnet, TRUE);
    vn_json_begin_array(w, "dhcp_ranges");
    for (guint k = 0; k < ip->ranges->len; k++) {
        const VnDhcpRange *r = &g_array_index(ip->ranges, VnDhcpRange, k);

        vn_json_begin_object(w, NULL);
        vn_view_json_cidr(w, "start", &r->start, FALSE);
        vn_view_json_cidr(w, "end", &r->end, FALSE);
        vn_json_end_object(w);
    }
    vn_json_end_array(w);
    vn_json_begin_array(w, "reservations");
    for (guint k = 0; k < ip->hosts->len; k++) {
        const VnDhcpHost *h = ip->hosts->pdata[k];

        vn_json_begin_object(w, NULL);
        vn_json_string(w, "mac", h->mac);
        vn_json_string(w, "name", h->name);
        vn_view_json_cidr(w, "ip", &h->ip, FALSE);
        vn_json_end_object(w);
    }
    vn_json_end_array(w);
    vn_json_end_object(w);
}

static void
json_network(VnJsonWriter *w, const VnNetwork *n)
{
    vn_json_begin_object(w, NULL);
    vn_json_string(w, "name", n->name);
    vn_json_string(w, "uuid", n->uuid);
    vn_json_bool(w, "active", n->active);
    vn_json_bool(w, "persistent", n->persistent);
    vn_json_bool(w, "autostart", n->autostart);
    vn_json_string(w, "forward", n->forward_mode);
    vn_json_string(w, "bridge", n->bridge);
    vn_json_begin_array(w, "ips");
    for (guint j = 0; j < n->ips->len; j++)
        json_ip(w, n->ips->pdata[j]);
    vn_json_end_array(w);
    vn_json_begin_array(w, "routes");
    for (guint j = 0; j < n->routes->len; j++) {
        const VnNetRoute *r = &g_array_index(n->routes, VnNetRoute, j);

        vn_json_begin_object(w, NULL);
        vn_view_json_cidr(w, "destination", &r->dest, TRUE);
        vn_view_json_cidr(w, "gateway", &r->gateway, FALSE);
        vn_json_end_object(w);
    }
    vn_json_end_array(w);
    if (n->nest) {
        vn_json_begin_object(w, "nest");
        vn_json_begin_array(w, "peers");
        for (guint j = 0; j < n->peers->len; j++)
            vn_view_json_cidr(w, NULL, &g_array_index(n->peers, VnCidr, j), TRUE);
        vn_json_end_array(w);
        vn_json_end_object(w);
    } else {
        vn_json_null(w, "nest");
    }
    vn_json_end_object(w);
}

static void
json_networks(VnJsonWriter *w, const VnLayer *layer)
{
    vn_json_begin_array(w, "networks");
    for (guint i = 0; i < layer->networks->len; i++)
        json_network(w, layer->networks->pdata[i]);
    vn_json_end_array(w);
}

static void
json_iface(VnJsonWriter *w, const View *v, const VnGuest *g,
           const VnIface *iface)
{
    const VnNetwork *net = vn_layer_index_iface_network(v->index, iface);
    g_autofree char *tapmac = vn_mac_tap(iface->mac);

    vn_json_begin_object(w, NULL);
    vn_json_string(w, "type", iface->type);
    vn_json_string(w, "mac", iface->mac);
    vn_json_string(w, "network", iface->network);
    vn_json_string(w, "bridge", vn_iface_bridge(iface, net));
    vn_json_string(w, "tap", iface_tap(v, g, iface));
    vn_json_string(w, "tap_mac", tapmac);
    vn_json_bool(w, "uplink", g->nest && iface == vn_guest_uplink(g));
    vn_json_begin_array(w, "addresses");
    for (int f = 0; f < 2; f++) {
        VnGuestAddr ga;

        if (!iface_address(v, g, iface, f ? AF_INET6 : AF_INET, &ga))
            continue;
        vn_json_begin_object(w, NULL);
        vn_view_json_cidr(w, "address", &ga.address, FALSE);
        vn_json_string(w, "source", vn_source_to_string(ga.source));
        vn_json_end_object(w);
    }
    vn_json_end_array(w);
    vn_json_end_object(w);
}

static void
json_guest(VnJsonWriter *w, const View *v, const VnGuest *g)
{
    vn_json_begin_object(w, NULL);
    vn_json_string(w, "name", g->name);
    vn_json_string(w, "uuid", g->uuid);
    vn_json_string(w, "state", g->state);
    vn_json_bool(w, "persistent", g->persistent);
    vn_json_begin_array(w, "interfaces");
    for (guint j = 0; j < g->ifaces->len; j++)
        json_iface(w, v, g, g->ifaces->pdata[j]);
    vn_json_end_array(w);
    if (g->nest) {
        vn_json_begin_object(w, "nest");
        vn_json_begin_array(w, "routes");
        for (guint j = 0; j < g->routes->len; j++)
            vn_view_json_cidr(w, NULL, &g_array_index(g->routes, VnCidr, j), TRUE);
        vn_json_end_array(w);
        vn_json_begin_object(w, "uplink");
        vn_json_string(w, "mac", g->uplink_mac);
        vn_view_json_cidr(w, "address", &g->uplink_address, FALSE);
        vn_json_end_object(w);
        vn_json_end_object(w);
    } else {
        vn_json_null(w, "nest");
    }
    vn_json_end_object(w);
}

static void
json_guests(VnJsonWriter *w, const View *v)
{
    vn_json_begin_array(w, "guests");
    for (guint i = 0; i < v->layer->guests->len; i++)
        json_guest(w, v, v->layer->guests->pdata[i]);
    vn_json_end_array(w);
}

static void
json_leases(VnJsonWriter *w, const VnLayer *layer)
{
    vn_json_begin_array(w, "leases");
    for (guint i = 0; i < layer->leases->len; i++) {
        const VnLease *l = layer->leases->pdata[i];

        vn_json_begin_object(w, NULL);
        vn_json_string(w, "mac", l->mac);
        vn_view_json_cidr(w, "ip", &l->ip, FALSE);
        vn_json_string(w, "hostname", l->hostname);
        vn_json_string(w, "bridge", l->bridge);
        vn_json_int(w, "expiry", l->expiry);
        vn_json_end_object(w);
    }
    vn_json_end_array(w);
}

static void
json_needs(VnJsonWriter *w, const VnStatus *st)
{
    const VnPlan *plan = st->plan;

    vn_json_begin_object(w, "needs");
    vn_json_begin_array(w, "routes");
    for (guint i = 0; i < plan->routes->len; i++) {
        const VnRoute *r = plan->routes->pdata[i];
        g_autofree char *object = vn_route_object(r);
        g_autofree char *what = vn_route_what(r);
        const VnDriftItem *d = find_drift(st, object, what);

        vn_json_begin_object(w, NULL);
        vn_view_json_cidr(w, "destination", &r->dst, TRUE);
        vn_view_json_cidr(w, "via", &r->via, FALSE);
        vn_json_string(w, "via_source", vn_cidr_is_empty(&r->via) ? NULL :
                       vn_source_to_string(r->via_source));
        vn_json_string(w, "dev", r->dev);
        vn_json_string(w, "guest", r->guest);
        vn_json_string(w, "network", r->network);
        if (st->drift)
            vn_json_string(w, "state", vn_drift_state_to_string(
                               d ? d->state : VN_DRIFT_MISSING));
        vn_json_end_object(w);
    }
    vn_json_end_array(w);
    vn_json_begin_array(w, "rules");
    for (guint i = 0; i < plan->rules->len; i++) {
        const VnRule *r = plan->rules->pdata[i];
        g_autofree char *ipt = vn_rule_describe(r);
        g_autofree char *comment = vn_rule_comment(r);
        g_autofree char *object = vn_rule_object(r);
        g_autofree char *what = vn_rule_what(r);
        const VnDriftItem *d = find_drift(st, object, what);

        vn_json_begin_object(w, NULL);
        vn_json_string(w, "network", r->network);
        vn_json_string(w, "kind", vn_rule_kind_to_string(r->kind));
        vn_json_string(w, "family", family_name(r->src.family));
        vn_view_json_cidr(w, "source", &r->src, TRUE);
        vn_view_json_cidr(w, "destination", &r->dst, TRUE);
        vn_json_string(w, "bridge", r->bridge);
        vn_json_string(w, "iptables", ipt);
        vn_json_string(w, "comment", comment);
        if (st->drift)
            vn_json_string(w, "state", vn_drift_state_to_string(
                               d ? d->state : VN_DRIFT_MISSING));
        vn_json_end_object(w);
    }
    vn_json_end_array(w);
    vn_json_end_object(w);
}

static void
json_problems(VnJsonWriter *w, const VnStatus *st)
{
    GPtrArray *lists[] = { st->layer->problems, st->plan->problems };

    vn_json_begin_array(w, "problems");
    for (guint k = 0; k < G_N_ELEMENTS(lists); k++) {
        for (guint i = 0; i < lists[k]->len; i++) {
            const VnProblem *p = lists[k]->pdata[i];

            vn_json_begin_object(w, NULL);
            vn_json_string(w, "object", p->object);
            vn_json_string(w, "message", p->message);
            vn_json_end_object(w);
        }
    }
    vn_json_end_array(w);
}

static void
json_drift(VnJsonWriter *w, const VnStatus *st)
{
    if (!st->drift) {
        vn_json_null(w, "installed");
        return;
    }
    vn_json_begin_object(w, "installed");
    vn_json_string(w, "firewall", st->drift->backend);
    vn_json_bool(w, "reconcile_needed", vn_drift_needs_reconcile(st->drift));
    vn_json_begin_array(w, "items");
    for (guint i = 0; i < st->drift->items->len; i++) {
        const VnDriftItem *d = st->drift->items->pdata[i];

        vn_json_begin_object(w, NULL);
        vn_json_string(w, "object", d->object);
        vn_json_string(w, "what", d->what);
        vn_json_string(w, "where", d->where);
        vn_json_string(w, "state", vn_drift_state_to_string(d->state));
        vn_json_string(w, "note", d->note);
        vn_json_end_object(w);
    }
    vn_json_end_array(w);
    vn_json_end_object(w);
}

static void
json_hand_fixes(VnJsonWriter *w, const VnStatus *st)
{
    if (!st->hand_fixes)
        return;
    vn_json_begin_array(w, "hand_fixes");
    for (guint i = 0; i < st->hand_fixes->len; i++) {
        const VnHandFix *f = st->hand_fixes->pdata[i];

        vn_json_begin_object(w, NULL);
        vn_json_string(w, "where", f->where);
        vn_json_string(w, "text", f->text);
        vn_json_string(w, "what", f->what);
        vn_json_string(w, "fix", f->fix);
        vn_json_end_object(w);
    }
    vn_json_end_array(w);
}

static void
json_nested(VnJsonWriter *w, const VnStatus *st)
{
    if (!st->agent_notes)
        return;
    vn_json_begin_object(w, "nested");
    vn_json_begin_array(w, "proposals");
    for (guint i = 0; i < st->proposals->len; i++)
        vn_proposal_write_json(w, NULL, st->proposals->pdata[i]);
    vn_json_end_array(w);
    vn_json_begin_array(w, "notes");
    for (guint i = 0; i < st->agent_notes->len; i++)
        vn_json_string(w, NULL, st->agent_notes->pdata[i]);
    vn_json_end_array(w);
    vn_json_end_object(w);
}

char *
vn_status_json(const VnStatus *st)
{
    g_autoptr(VnJsonWriter) w = vn_json_writer_new();
    View v;

    view_init(&v, st);
    vn_json_begin_object(w, NULL);
    vn_json_string(w, "format", "virt-nest-status");
    vn_json_int(w, "version", VN_STATUS_JSON_VERSION);
    vn_json_string(w, "uri", st->layer->uri);
    json_host(w, st->layer->host);
    json_networks(w, st->layer);
    json_guests(w, &v);
    json_leases(w, st->layer);
    json_needs(w, st);
    json_drift(w, st);
    json_hand_fixes(w, st);
    json_nested(w, st);
    json_problems(w, st);
    vn_json_end_object(w);
    view_clear(&v);
    return vn_json_writer_finish(w);
}

/* ------------------------------------------------------------------ */
/* pictures                                                            */

static void
pic_networks(VnPic *pic, const View *v)
{
    for (guint i = 0; i < v->layer->networks->len; i++) {
        const VnNetwork *n = v->layer->networks->pdata[i];
        g_autoptr(GString) t = g_string_new(NULL);

        vn_pic_network_text(t, n, NULL, NULL);
        vn_pic_node(pic, vn_pic_id(pic, "net", n->name), VN_PIC_BRIDGE, t->str);
    }
}

/* A guest, each of its interfaces wired to its network through its TAP
 * (or dashed, "shut off", when it has none). */
static void
pic_guest(VnPic *pic, const View *v, const VnGuest *g)
{
    g_autoptr(GString) t = g_string_new(NULL);
    const char *gid = vn_pic_id(pic, "guest", g->name);

    vn_pic_guest_text(t, v->index, g, v->st->now);
    vn_pic_node(pic, gid, VN_PIC_GUEST, t->str);
    for (guint j = 0; j < g->ifaces->len; j++) {
        const VnIface *iface = g->ifaces->pdata[j];
        const VnNetwork *net = vn_layer_index_iface_network(v->index, iface);
        const char *tap = iface_tap(v, g, iface);
        g_autofree char *key = g_strdup_printf("%s_%u", g->name, j);
        g_autofree char *tapmac = vn_mac_tap(iface->mac);
        g_autoptr(GString) tt = g_string_new(NULL);
        const char *nid, *tid;

        if (!net)
            continue;
        nid = vn_pic_id(pic, "net", net->name);
        if (!tap) {
            vn_pic_edge(pic, nid, gid, "shut off", TRUE);
            continue;
        }
        tid = vn_pic_id(pic, "tap", key);
        vn_pic_tap_text(tt, tap, tapmac);
        vn_pic_node(pic, tid, VN_PIC_TAP, tt->str);
        vn_pic_edge(pic, nid, tid, NULL, FALSE);
        vn_pic_edge(pic, tid, gid, NULL, FALSE);
    }
}

/* The nested subnets, with the routes this layer needs to reach them. */
static void
pic_nested(VnPic *pic, const View *v)
{
    const VnStatus *st = v->st;

    for (guint i = 0; i < st->plan->routes->len; i++) {
        const VnRoute *r = st->plan->routes->pdata[i];
        char d[VN_CIDR_STRLEN], via[VN_CIDR_STRLEN];
        g_autofree char *object = vn_route_object(r);
        g_autofree char *what = vn_route_what(r);
        const VnDriftItem *di = find_drift(st, object, what);
        g_autofree char *text = NULL, *edge = NULL;
        const char *sid;

        vn_cidr_format(&r->dst, TRUE, d);
        sid = vn_pic_id(pic, "nested", d);
        text = g_strdup_printf("nested %s", d);
        vn_pic_node(pic, sid, VN_PIC_SUBNET, text);
        edge = g_strdup_printf("route via %s dev %s%s%s",
                               vn_cidr_is_empty(&r->via) ? "?" :
                               vn_cidr_format(&r->via, FALSE, via), r->dev,
                               di ? ", " : "",
                               di ? vn_drift_state_to_string(di->state) : "");
        vn_pic_edge(pic, vn_pic_id(pic, "guest", r->guest), sid, edge, TRUE);
    }
}

static gboolean
exempts_nat(const VnPlan *plan, const VnNetwork *n)
{
    for (guint k = 0; k < plan->rules->len; k++) {
        const VnRule *r = plan->rules->pdata[k];

        if (r->kind == VN_RULE_NAT && g_strcmp0(r->network, n->name) == 0)
            return TRUE;
    }
    return FALSE;
}

/* The peers each network lets in, with the NAT choice. */
static void
pic_peers(VnPic *pic, const View *v)
{
    for (guint i = 0; i < v->layer->networks->len; i++) {
        const VnNetwork *n = v->layer->networks->pdata[i];
        gboolean nat = !exempts_nat(v->st->plan, n);

        for (guint j = 0; n->nest && j < n->peers->len; j++) {
            char p[VN_CIDR_STRLEN];
            g_autofree char *text = NULL;
            const char *pid;

            vn_cidr_format(&g_array_index(n->peers, VnCidr, j), TRUE, p);
            pid = vn_pic_id(pic, "peer", p);
            text = g_strdup_printf("outer %s", p);
            vn_pic_node(pic, pid, VN_PIC_SUBNET, text);
            vn_pic_edge(pic, pid, vn_pic_id(pic, "net", n->name),
                        nat ? "accepted in (replies NATed)"
                            : "accepted in, no NAT back", TRUE);
        }
    }
}

static char *
picture(const VnStatus *st, gboolean dot)
{
    VnPic *pic = vn_pic_new(dot);
    const VnLayer *layer = st->layer;
    g_autofree char *title = layer->host && layer->host->hostname ?
        g_strdup_printf("host %s", layer->host->hostname) :
        g_strdup(layer->uri ? layer->uri : "layer");
    View v;

    view_init(&v, st);
    vn_pic_cluster_begin(pic, "layer", title);
    pic_networks(pic, &v);
    for (guint i = 0; i < layer->guests->len; i++)
        pic_guest(pic, &v, layer->guests->pdata[i]);
    pic_nested(pic, &v);
    pic_peers(pic, &v);
    vn_pic_cluster_end(pic);
    view_clear(&v);
    return vn_pic_finish(pic);
}

char *
vn_status_mermaid(const VnStatus *st)
{
    return picture(st, FALSE);
}

char *
vn_status_dot(const VnStatus *st)
{
    return picture(st, TRUE);
}
