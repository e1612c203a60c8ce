/* snapshot.c: a layer from `virt-nest status --json`.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include <string.h>
#include <linux/netfilter.h>

#include "error.h"
#include "fwmodel.h"
#include "json.h"
#include "layerview.h"
#include "loadctx.h"
#include "snapshot.h"

/* An optional address member: absent or null is fine, garbage is not. */
static gboolean
get_cidr(Ctx *c, const VnJson *obj, const char *key, VnCidrKind kind,
         VnCidr *out, const char *where)
{
    const VnJson *m = vn_json_get(obj, key);
    g_autoptr(GError) err = NULL;

    memset(out, 0, sizeof(*out));
    if (!m || m->type == VN_JSON_NULL)
        return TRUE;
    if (m->type != VN_JSON_STRING ||
        !vn_cidr_parse(m->string, kind, out, &err))
        return bad(c, "%s: \"%s\": %s", where, key,
                   err ? err->message : "not a string");
    return TRUE;
}

static char *
dup_string(const VnJson *obj, const char *key)
{
    return g_strdup(vn_json_get_string(obj, key));
}

static gboolean
read_network(Ctx *c, const VnJson *j, VnLayer *layer)
{
    g_autoptr(VnNetwork) n = vn_network_new();
    g_autofree char *where = NULL;
    const VnJson *ips, *nest, *routes;
    gboolean b;

    n->name = dup_string(j, "name");
    if (!n->name)
        return bad(c, "a network without a name");
    where = g_strdup_printf("network '%s'", n->name);
    n->uuid = dup_string(j, "uuid");
    n->bridge = dup_string(j, "bridge");
    n->forward_mode = g_strdup(vn_json_get_string(j, "forward") ?: "isolated");
    if (vn_json_get_bool(j, "active", &b))
        n->active = b;
    ips = vn_json_get(j, "ips");
    for (guint i = 0; i < vn_json_length(ips); i++) {
        const VnJson *ipj = vn_json_index(ips, i);
        const VnJson *hosts = vn_json_get(ipj, "reservations");
        const VnJson *ranges = vn_json_get(ipj, "dhcp_ranges");
        VnNetIp *ip = vn_net_ip_new();

        g_ptr_array_add(n->ips, ip);
        if (!get_cidr(c, ipj, "address", VN_CIDR_ANY, &ip->address, where))
            return FALSE;
        if (vn_cidr_is_empty(&ip->address))
            return bad(c, "%s: an ip without an address", where);
        ip->subnet = vn_cidr_network(&ip->address);
        for (guint k = 0; k < vn_json_length(ranges); k++) {
            VnDhcpRange r;

            if (!get_cidr(c, vn_json_index(ranges, k), "start", VN_CIDR_ADDRESS,
                          &r.start, where) ||
                !get_cidr(c, vn_json_index(ranges, k), "end", VN_CIDR_ADDRESS,
                          &r.end, where))
                return FALSE;
            g_array_append_val(ip->ranges, r);
        }
        for (guint k = 0; k < vn_json_length(hosts); k++) {
            const VnJson *hj = vn_json_index(hosts, k);
            VnDhcpHost *h = g_new0(VnDhcpHost, 1);

            g_ptr_array_add(ip->hosts, h);
            h->mac = vn_mac_normalize(vn_json_get_string(hj, "mac"));
            h->name = dup_string(hj, "name");
            if (!get_cidr(c, hj, "ip", VN_CIDR_ADDRESS, &h->ip, where))
                return FALSE;
        }
    }
    routes = vn_json_get(j, "routes");
    for (guint i = 0; i < vn_json_length(routes); i++) {
        VnNetRoute r;

        if (!get_cidr(c, vn_json_index(routes, i), "destination", VN_CIDR_SUBNET,
                      &r.dest, where) ||
            !get_cidr(c, vn_json_index(routes, i), "gateway", VN_CIDR_ADDRESS,
                      &r.gateway, where))
            return FALSE;
        g_array_append_val(n->routes, r);
    }
    nest = vn_json_get(j, "nest");
    if (nest && nest->type == VN_JSON_OBJECT) {
        const VnJson *peers = vn_json_get(nest, "peers");

        n->nest = TRUE;
        for (guint i = 0; i < vn_json_length(peers); i++) {
            const VnJson *p = vn_json_index(peers, i);
            g_autoptr(GError) err = NULL;
            VnCidr cidr;

            if (p->type != VN_JSON_STRING ||
                !vn_cidr_parse(p->string, VN_CIDR_SUBNET, &cidr, &err))
                return bad(c, "%s: a bad peer", where);
            g_array_append_val(n->peers, cidr);
        }
    }
    g_ptr_array_add(layer->networks, g_steal_pointer(&n));
    return TRUE;
}

static gboolean
read_guest(Ctx *c, const VnJson *j, VnLayer *layer)
{
    g_autoptr(VnGuest) g = vn_guest_new();
    g_autofree char *where = NULL;
    const VnJson *ifaces, *nest;

    g->name = dup_string(j, "name");
    if (!g->name)
        return bad(c, "a guest without a name");
    where = g_strdup_printf("guest '%s'", g->name);
    g->uuid = dup_string(j, "uuid");
    g->state = g_strdup(vn_json_get_string(j, "state") ?: "shut off");
    g->id = g_strcmp0(g->state, "shut off") == 0 ? -1 : 0;
    ifaces = vn_json_get(j, "interfaces");
    for (guint i = 0; i < vn_json_length(ifaces); i++) {
        const VnJson *ij = vn_json_index(ifaces, i);
        VnIface *iface = vn_iface_new();

        g_ptr_array_add(g->ifaces, iface);
        iface->type = dup_string(ij, "type");
        iface->mac = vn_mac_normalize(vn_json_get_string(ij, "mac"));
        iface->network = dup_string(ij, "network");
        iface->bridge = dup_string(ij, "bridge");
        iface->target = dup_string(ij, "tap");
    }
    nest = vn_json_get(j, "nest");
    if (nest && nest->type == VN_JSON_OBJECT) {
        const VnJson *routes = vn_json_get(nest, "routes");
        const VnJson *up = vn_json_get(nest, "uplink");

        g->nest = TRUE;
        for (guint i = 0; i < vn_json_length(routes); i++) {
            const VnJson *r = vn_json_index(routes, i);
            VnCidr cidr;

            if (r->type != VN_JSON_STRING ||
                !vn_cidr_parse(r->string, VN_CIDR_SUBNET, &cidr, NULL))
                return bad(c, "%s: a bad route", where);
            g_array_append_val(g->routes, cidr);
        }
        if (up && up->type == VN_JSON_OBJECT) {
            g->uplink_mac = vn_mac_normalize(vn_json_get_string(up, "mac"));
            if (!get_cidr(c, up, "address", VN_CIDR_ADDRESS,
                          &g->uplink_address, where))
                return FALSE;
        }
    }
    g_ptr_array_add(layer->guests, g_steal_pointer(&g));
    return TRUE;
}

static int
sysctl_of(const VnJson *obj, const char *key)
{
    gint64 v;

    return vn_json_get_int(obj, key, &v) ? (int)v : -1;
}

static void
read_iface_match(const VnJson *rj, const char *key, char **name,
                 gboolean *neg, gboolean *prefix)
{
    const VnJson *m = vn_json_get(rj, key);
    gboolean b;

    if (!m || m->type != VN_JSON_OBJECT)
        return;
    *name = g_strdup(vn_json_get_string(m, "name"));
    *neg = vn_json_get_bool(m, "not", &b) && b;
    *prefix = vn_json_get_bool(m, "prefix", &b) && b;
}

static gboolean
read_addr_match(Ctx *c, const VnJson *rj, const char *key, VnCidr *out,
                gboolean *neg)
{
    const VnJson *m = vn_json_get(rj, key);
    gboolean b;

    if (!m || m->type != VN_JSON_OBJECT)
        return TRUE;
    *neg = vn_json_get_bool(m, "not", &b) && b;
    return get_cidr(c, m, "subnet", VN_CIDR_SUBNET, out, "firewall rule");
}

static gboolean
read_firewall(Ctx *c, const VnJson *list, VnHost *host)
{
    host->firewall = g_ptr_array_new_with_free_func((GDestroyNotify)vn_fw_chain_free);
    for (guint i = 0; i < vn_json_length(list); i++) {
        const VnJson *cj = vn_json_index(list, i);
        const VnJson *rules = vn_json_get(cj, "rules");
        VnFwChain *ch = vn_fw_chain_new();
        gboolean legacy;
        gint64 v;

        g_ptr_array_add(host->firewall, ch);
        ch->family = vn_fw_family_from_string(vn_json_get_string(cj, "family"));
        ch->legacy = vn_json_get_bool(cj, "legacy", &legacy) && legacy;
        ch->table = dup_string(cj, "table");
        ch->name = dup_string(cj, "chain");
        ch->hook = dup_string(cj, "hook");
        ch->type = dup_string(cj, "type");
        ch->priority = vn_json_get_int(cj, "priority", &v) ? (int)v : 0;
        ch->policy_drop = !g_strcmp0(vn_json_get_string(cj, "policy"), "drop");
        if (ch->family < 0 || !ch->table || !ch->name)
            return bad(c, "firewall chain %u: family, table and chain are needed", i);
        for (guint k = 0; k < vn_json_length(rules); k++) {
            const VnJson *rj = vn_json_index(rules, k);
            const VnJson *proto = vn_json_get(rj, "protocol");
            VnFwRule *r = vn_fw_rule_new();
            gboolean b;

            g_ptr_array_add(ch->rules, r);
            r->handle = vn_json_get_int(rj, "handle", &v) ? (guint64)v : 0;
            read_iface_match(rj, "iif", &r->iif, &r->iif_neg, &r->iif_prefix);
            read_iface_match(rj, "oif", &r->oif, &r->oif_neg, &r->oif_prefix);
            if (!read_addr_match(c, rj, "source", &r->src, &r->src_neg) ||
                !read_addr_match(c, rj, "destination", &r->dst, &r->dst_neg))
                return FALSE;
            if (proto && proto->type == VN_JSON_OBJECT) {
                r->l4proto = vn_json_get_int(proto, "number", &v) ? (guint8)v : 0;
                r->l4proto_neg = vn_json_get_bool(proto, "not", &b) && b;
            }
            r->ct_state = vn_json_get_int(rj, "ct_state", &v) ? (guint)v : 0;
            r->ct_status = vn_json_get_int(rj, "ct_status", &v) ? (guint)v : 0;
            if (!g_strcmp0(vn_json_get_string(rj, "nfproto"), "ipv6"))
                r->nfproto = NFPROTO_IPV6;
            else if (!g_strcmp0(vn_json_get_string(rj, "nfproto"), "ipv4"))
                r->nfproto = NFPROTO_IPV4;
            if (!vn_fw_verdict_from_string(vn_json_get_string(rj, "verdict"),
                                           &r->verdict))
                return bad(c, "firewall chain %s: rule %u: unknown verdict",
                           ch->name, k);
            r->target = dup_string(rj, "target");
            r->comment = dup_string(rj, "comment");
            r->opaque = dup_string(rj, "opaque");
        }
    }
    return TRUE;
}

/* A member that must be an array when it is there. */
static gboolean
array_or_absent(Ctx *c, const VnJson *j, const char *key, const char *where)
{
    const VnJson *m = vn_json_get(j, key);

    if (!m || m->type == VN_JSON_ARRAY || m->type == VN_JSON_NULL)
        return TRUE;
    return bad(c, "%s: \"%s\" is not a list", where, key);
}

static gboolean
read_host(Ctx *c, const VnJson *j, VnLayer *layer)
{
    g_autoptr(VnHost) host = vn_host_new();
    const VnJson *links = vn_json_get(j, "links");
    const VnJson *routes = vn_json_get(j, "routes");

    if (!array_or_absent(c, j, "links", "host") ||
        !array_or_absent(c, j, "routes", "host") ||
        !array_or_absent(c, j, "firewall", "host"))
        return FALSE;
    for (guint i = 0; i < vn_json_length(links); i++) {
        const VnJson *lj = vn_json_index(links, i);

        if (!lj || lj->type != VN_JSON_OBJECT ||
            !vn_json_get_string(lj, "name") || !vn_json_get_string(lj, "mac"))
            return bad(c, "host link %u: an object with a name and a mac is "
                          "needed", i);
    }

    host->hostname = dup_string(j, "hostname");
    host->ip_forward = sysctl_of(j, "ip_forward");
    host->ip6_forward = sysctl_of(j, "ip6_forward");
    host->rp_filter_all = sysctl_of(j, "rp_filter");
    for (guint i = 0; i < vn_json_length(links); i++) {
        const VnJson *lj = vn_json_index(links, i);
        const VnJson *addrs = vn_json_get(lj, "addresses");
        VnLink *l = g_new0(VnLink, 1);
        gint64 v;
        gboolean b;

        g_ptr_array_add(host->links, l);
        l->name = dup_string(lj, "name");
        l->mac = dup_string(lj, "mac");
        l->kind = dup_string(lj, "kind");
        l->ifindex = vn_json_get_int(lj, "ifindex", &v) ? (int)v : (int)i + 1;
        l->mtu = vn_json_get_int(lj, "mtu", &v) ? (guint)v : 0;
        l->up = vn_json_get_bool(lj, "up", &b) && b;
        l->rp_filter = sysctl_of(lj, "rp_filter");
        for (guint k = 0; k < vn_json_length(addrs); k++) {
            const VnJson *a = vn_json_index(addrs, k);
            VnHostAddr ha = { l->ifindex, { 0 } };

            if (a->type != VN_JSON_STRING ||
                !vn_cidr_parse(a->string, VN_CIDR_ANY, &ha.address, NULL))
                return bad(c, "host link %s: a bad address", l->name);
            g_ptr_array_add(host->addrs, g_memdup2(&ha, sizeof(ha)));
        }
    }
    /* masters by name, once every link is known */
    for (guint i = 0; i < vn_json_length(links); i++) {
        const char *m = vn_json_get_string(vn_json_index(links, i), "master");
        const VnLink *ml = vn_host_find_link_by_name(host, m);

        if (ml)
            ((VnLink *)host->links->pdata[i])->master = ml->ifindex;
    }
    for (guint i = 0; i < vn_json_length(routes); i++) {
        const VnJson *rj = vn_json_index(routes, i);
        const VnLink *l = vn_host_find_link_by_name(host,
                                                    vn_json_get_string(rj, "dev"));
        VnHostRoute r = { { 0 } };
        gint64 v;

        if (!get_cidr(c, rj, "destination", VN_CIDR_ANY, &r.dst, "host route") ||
            !get_cidr(c, rj, "gateway", VN_CIDR_ADDRESS, &r.gateway, "host route"))
            return FALSE;
        r.dst = vn_cidr_network(&r.dst);
        r.oif = l ? l->ifindex : 0;
        r.protocol = vn_json_get_int(rj, "protocol", &v) ? (guint8)v : 0;
        r.scope = vn_json_get_int(rj, "scope", &v) ? (guint8)v : 0;
        r.type = vn_json_get_int(rj, "type", &v) ? (guint8)v : 1;
        r.priority = vn_json_get_int(rj, "metric", &v) ? (guint32)v : 0;
        r.table = 254;
        g_ptr_array_add(host->routes, g_memdup2(&r, sizeof(r)));
    }
    if (vn_json_get(j, "firewall") && vn_json_get(j, "firewall")->type == VN_JSON_ARRAY &&
        !read_firewall(c, vn_json_get(j, "firewall"), host))
        return FALSE;
    host->firewall_error = dup_string(j, "firewall_error");
    layer->host = g_steal_pointer(&host);
    return TRUE;
}

VnLayer *
vn_snapshot_parse(const char *text, gssize len, const char *name,
                  GError **error)
{
    Ctx c = { "snapshot", name, error };
    g_autoptr(GError) err = NULL;
    g_autoptr(VnJson) root = vn_json_parse(text, len, &err);

    if (!root) {
        bad(&c, "%s", err->message);
        return NULL;
    }
    return vn_snapshot_read(root, name, error);
}

VnLayer *
vn_snapshot_read(const VnJson *root, const char *name, GError **error)
{
    Ctx c = { "snapshot", name, error };
    g_autoptr(VnLayer) layer = NULL;
    const char *format;
    const VnJson *list, *host;
    gint64 version;

    format = vn_json_get_string(root, "format");
    if (g_strcmp0(format, "virt-nest-status") != 0) {
        bad(&c, "not a virt-nest status snapshot; take one with "
                "'virt-nest status --json'");
        return NULL;
    }
    if (!vn_json_get_int(root, "version", &version) || version < 1) {
        bad(&c, "no version");
        return NULL;
    }
    if (version > VN_STATUS_JSON_VERSION) {
        bad(&c, "version %" G_GINT64_FORMAT " is newer than this virt-nest "
                "reads (%d); update virt-nest here", version,
            VN_STATUS_JSON_VERSION);
        return NULL;
    }
    layer = vn_layer_new(vn_json_get_string(root, "uri"));
    list = vn_json_get(root, "networks");
    for (guint i = 0; i < vn_json_length(list); i++)
        if (!read_network(&c, vn_json_index(list, i), layer))
            return NULL;
    list = vn_json_get(root, "guests");
    for (guint i = 0; i < vn_json_length(list); i++)
        if (!read_guest(&c, vn_json_index(list, i), layer))
            return NULL;
    list = vn_json_get(root, "leases");
    for (guint i = 0; i < vn_json_length(list); i++) {
        const VnJson *lj = vn_json_index(list, i);
        VnLease *l = vn_lease_new();
        gint64 v;

        g_ptr_array_add(layer->leases, l);
        l->mac = vn_mac_normalize(vn_json_get_string(lj, "mac"));
        l->hostname = dup_string(lj, "hostname");
        l->bridge = dup_string(lj, "bridge");
        l->expiry = vn_json_get_int(lj, "expiry", &v) ? v : 0;
        if (!get_cidr(&c, lj, "ip", VN_CIDR_ADDRESS, &l->ip, "lease"))
            return NULL;
    }
    host = vn_json_get(root, "host");
    if (host && host->type != VN_JSON_OBJECT && host->type != VN_JSON_NULL) {
        bad(&c, "\"host\" is neither an object nor null");
        return NULL;
    }
    if (host && host->type == VN_JSON_OBJECT && !read_host(&c, host, layer))
        return NULL;
    vn_layer_sort(layer);
    return g_steal_pointer(&layer);
}

VnLayer *
vn_snapshot_load(const char *path, GError **error)
{
    g_autofree char *text = NULL;
    g_autoptr(GError) err = NULL;
    gsize len;

    if (!g_file_get_contents(path, &text, &len, &err)) {
        g_set_error(error, VN_ERROR, VN_ERROR_FAILED,
                    "snapshot %s: %s; take one on each layer with "
                    "'virt-nest status --json --host > FILE'", path,
                    err->message);
        return NULL;
    }
    return vn_snapshot_parse(text, (gssize)len, path, error);
}
