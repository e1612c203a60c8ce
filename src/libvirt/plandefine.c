/* plandefine.c: `virt-nest plan --apply`, over the libvirt API.
 *
 * All or nothing, and idempotent: everything is looked up and checked on
 * both connections first; then each change is made, remembering how to
 * undo it; when one fails, the ones made before it are undone. What is in
 * place already (an earlier run's) is not changed again.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include <string.h>
#include <libvirt/virterror.h>

#include "discover.h"
#include "error.h"
#include "libvirtxml.h"
#include "plandefine.h"

typedef virNetwork VnVirNetwork;
static void
net_free(VnVirNetwork *n)
{
    virNetworkFree(n);
}
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VnVirNetwork, net_free)

typedef virDomain VnVirDomain;
static void
dom_free(VnVirDomain *d)
{
    virDomainFree(d);
}
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VnVirDomain, dom_free)

char *
vn_nest_bare_metadata(GArray *routes)
{
    return vn_nest_guest_element(routes, NULL, NULL, VN_META_BARE);
}

/* libvirt's message of the call that just failed, copied before the next
 * call (even virNetworkFree) resets it. transfer full. */
static char *
virt_error(void)
{
    return g_strdup(vn_virt_error());
}

/* ------------------------------------------------------------------ */
/* what is there                                                       */

static gboolean
ranges_same(GArray *a, GArray *b)
{
    if (a->len != b->len)
        return FALSE;
    for (guint i = 0; i < a->len; i++) {
        const VnDhcpRange *x = &g_array_index(a, VnDhcpRange, i);
        const VnDhcpRange *y = &g_array_index(b, VnDhcpRange, i);

        if (!vn_cidr_equal(&x->start, &y->start) ||
            !vn_cidr_equal(&x->end, &y->end))
            return FALSE;
    }
    return TRUE;
}

static gboolean
hosts_same(GPtrArray *a, GPtrArray *b)
{
    if (a->len != b->len)
        return FALSE;
    for (guint i = 0; i < a->len; i++) {
        const VnDhcpHost *x = a->pdata[i], *y = b->pdata[i];

        if (g_strcmp0(x->mac, y->mac) || g_strcmp0(x->name, y->name) ||
            !vn_cidr_equal(&x->ip, &y->ip))
            return FALSE;
    }
    return TRUE;
}

static gboolean
cidrs_same(GArray *a, GArray *b)
{
    if (a->len != b->len)
        return FALSE;
    for (guint i = 0; i < a->len; i++)
        if (!vn_cidr_equal(&g_array_index(a, VnCidr, i),
                           &g_array_index(b, VnCidr, i)))
            return FALSE;
    return TRUE;
}

/* @a and @b define the same network as virt-nest plans it: bridge,
 * forward mode, addresses, DHCP ranges and reservations, peers (libvirt
 * adds its UUID, MAC and NAT port range: those do not count). */
static gboolean
networks_same(const VnNetwork *a, const VnNetwork *b)
{
    if (g_strcmp0(a->bridge, b->bridge) ||
        g_strcmp0(a->forward_mode, b->forward_mode) ||
        a->ips->len != b->ips->len || a->nest != b->nest ||
        !cidrs_same(a->peers, b->peers))
        return FALSE;
    for (guint i = 0; i < a->ips->len; i++) {
        const VnNetIp *x = a->ips->pdata[i], *y = b->ips->pdata[i];

        if (!vn_cidr_equal(&x->address, &y->address) ||
            !ranges_same(x->ranges, y->ranges) ||
            !hosts_same(x->hosts, y->hosts))
            return FALSE;
    }
    return TRUE;
}

static VnNetwork *
network_read(virNetworkPtr net, unsigned int flags, const char *what,
             GError **error)
{
    char *xml = virNetworkGetXMLDesc(net, flags);
    g_autoptr(GError) err = NULL;
    VnNetwork *n;

    /* the test driver has no inactive definition of its own to give */
    if (!xml && flags && virGetLastErrorCode() == VIR_ERR_INVALID_ARG)
        xml = virNetworkGetXMLDesc(net, 0);

    if (!xml) {
        g_autofree char *msg = virt_error();

        g_set_error(error, VN_ERROR, VN_ERROR_FAILED,
                    "%s: cannot read its XML: %s", what, msg);
        return NULL;
    }
    n = vn_network_parse(xml, -1, NULL, &err);
    free(xml);
    if (!n)
        g_set_error(error, VN_ERROR, VN_ERROR_FAILED, "%s: %s", what,
                    err->message);
    return n;
}

/* A reservation on @n in the way of the planned one: the same MAC, address
 * or name. */
static const VnDhcpHost *
host_in_way(const VnNetwork *n, const VnNestPlan *plan)
{
    gboolean named = vn_nest_host_name_ok(plan->guest);

    for (guint i = 0; i < n->ips->len; i++) {
        const VnNetIp *ip = n->ips->pdata[i];

        for (guint j = 0; j < ip->hosts->len; j++) {
            const VnDhcpHost *h = ip->hosts->pdata[j];

            if ((h->mac && g_ascii_strcasecmp(h->mac, plan->mac) == 0) ||
                vn_cidr_equal(&h->ip, &plan->address) ||
                (named && g_strcmp0(h->name, plan->guest) == 0))
                return h;
        }
    }
    return NULL;
}

/* Everything looked up and checked before anything changes, and what
 * undoes each change made. */
typedef struct {
    /* this layer */
    virNetworkPtr net;
    unsigned int net_flags;
    char *host;                 /* the <host/> to add, NULL: there */
    gboolean host_added;
    virDomainPtr dom;           /* NULL: not defined yet */
    unsigned int dom_flags;
    char *meta;                 /* the metadata to set, NULL: in place */
    char *old_live, *old_config;/* the guest's before, NULL: none */
    gboolean meta_set;
    /* the layer inside, with --connect-inner */
    char *inner_xml;            /* level 1's network, NULL: as planned */
    char *inner_old;            /* its definition before, NULL: none */
    gboolean inner_active;      /* it ran before */
    gboolean inner_start;       /* it is to be started */
    int inner_autostart;
    virNetworkPtr inner_net;    /* defined in this run */
} VnApplyRun;

static void
run_clear(VnApplyRun *r)
{
    if (r->net)
        virNetworkFree(r->net);
    if (r->dom)
        virDomainFree(r->dom);
    if (r->inner_net)
        virNetworkFree(r->inner_net);
    g_free(r->host);
    g_free(r->meta);
    g_free(r->old_live);
    g_free(r->old_config);
    g_free(r->inner_xml);
    g_free(r->inner_old);
}

static char *
domain_metadata(virDomainPtr dom, unsigned int flag)
{
    char *m = virDomainGetMetadata(dom, VIR_DOMAIN_METADATA_ELEMENT, VN_NS_URI,
                                   flag);
    char *copy = g_strdup(m);

    free(m);
    return copy;
}

static gboolean
check_layer(virConnectPtr conn, const VnNestPlan *plan, VnApplyRun *r,
            GPtrArray *unchanged, GError **error)
{
    g_autofree char *what = g_strdup_printf("network '%s'", plan->network);

    if (!(r->net = virNetworkLookupByName(conn, plan->network))) {
        g_autofree char *msg = virt_error();

        g_set_error(error, VN_ERROR, VN_ERROR_NOT_FOUND,
                    "network '%s': %s; plan again", plan->network, msg);
        return FALSE;
    }
    r->net_flags = 0;
    if (virNetworkIsActive(r->net) == 1)
        r->net_flags |= VIR_NETWORK_UPDATE_AFFECT_LIVE;
    if (virNetworkIsPersistent(r->net) != 0)
        r->net_flags |= VIR_NETWORK_UPDATE_AFFECT_CONFIG;
    r->host = vn_nest_dhcp_host_xml(plan->mac, plan->guest, &plan->address);
    if (plan->address_exists) {
        g_ptr_array_add(unchanged, g_strdup_printf("network '%s': %s is "
                                                   "there already",
                                                   plan->network, r->host));
        g_clear_pointer(&r->host, g_free);
    } else {
        /* as libvirt would refuse it, in both definitions */
        unsigned int fl[] = { 0, VIR_NETWORK_XML_INACTIVE };

        for (guint i = 0; i < G_N_ELEMENTS(fl); i++) {
            g_autoptr(VnNetwork) n = network_read(r->net, fl[i], what, error);
            const VnDhcpHost *h;
            char b[VN_CIDR_STRLEN];

            if (!n)
                return FALSE;
            if ((h = host_in_way(n, plan))) {
                g_set_error(error, VN_ERROR, VN_ERROR_CONFLICT,
                            "network '%s': its reservation <host mac='%s'"
                            "%s%s%s ip='%s'/> is in the way of %s; plan "
                            "again, or "
                            "remove it (virsh net-update %s delete "
                            "ip-dhcp-host ...)", plan->network, h->mac,
                            h->name ? " name='" : "", h->name ? h->name : "",
                            h->name ? "'" : "",
                            vn_cidr_format(&h->ip, FALSE, b),
                            r->host, plan->network);
                return FALSE;
            }
        }
    }

    r->dom = virDomainLookupByName(conn, plan->guest);
    if (!plan->guest_exists && r->dom) {
        g_set_error(error, VN_ERROR, VN_ERROR_CONFLICT,
                    "domain '%s' was defined since it was planned; plan again",
                    plan->guest);
        return FALSE;
    }
    if (plan->guest_exists && !r->dom) {
        g_autofree char *msg = virt_error();

        g_set_error(error, VN_ERROR, VN_ERROR_NOT_FOUND,
                    "domain '%s': %s; plan again", plan->guest, msg);
        return FALSE;
    }
    if (!r->dom)
        return TRUE;
    if (plan->metadata_exists) {
        g_ptr_array_add(unchanged, g_strdup_printf("domain '%s': its "
                                                   "<nest:guest> metadata is "
                                                   "in place already",
                                                   plan->guest));
        return TRUE;
    }
    r->dom_flags = 0;
    if (virDomainIsActive(r->dom) == 1) {
        r->dom_flags |= VIR_DOMAIN_AFFECT_LIVE;
        r->old_live = domain_metadata(r->dom, VIR_DOMAIN_AFFECT_LIVE);
    }
    if (virDomainIsPersistent(r->dom) != 0) {
        r->dom_flags |= VIR_DOMAIN_AFFECT_CONFIG;
        r->old_config = domain_metadata(r->dom, VIR_DOMAIN_AFFECT_CONFIG);
    }
    r->meta = vn_nest_bare_metadata(plan->routes);
    return TRUE;
}

/* Level 1's network on the layer inside: the one there of that name is
 * replaced (its UUID kept) unless it is the planned one already; no other
 * network there may have its bridge or overlap its subnet. */
static gboolean
check_inner(virConnectPtr inner, const VnNestPlan *plan, VnApplyRun *r,
            GPtrArray *unchanged, GError **error)
{
    const VnNestLevel *l = plan->levels->pdata[0];
    g_autofree char *xml = vn_nest_level_network_xml(l);
    g_autoptr(GError) err = NULL;
    g_autoptr(VnNetwork) want = vn_network_parse(xml, -1, NULL, &err);
    g_autoptr(VnVirNetwork) old = NULL;
    g_autoptr(GError) clash_err = NULL;
    virNetworkPtr *nets = NULL;
    char a[VN_CIDR_STRLEN];
    int n;

    if (!want) {
        g_set_error(error, VN_ERROR, VN_ERROR_FAILED, "level 1: network "
                    "'%s': %s", l->network, err->message);
        return FALSE;
    }
    if ((n = virConnectListAllNetworks(inner, &nets, 0)) < 0) {
        g_autofree char *msg = virt_error();

        g_set_error(error, VN_ERROR, VN_ERROR_FAILED,
                    "level 1: cannot list its networks: %s", msg);
        return FALSE;
    }
    for (int i = 0; i < n; i++) {
        const char *name = virNetworkGetName(nets[i]);
        g_autofree char *what = g_strdup_printf("level 1: network '%s'", name);
        g_autoptr(VnNetwork) o = NULL;
        gboolean clash = FALSE;

        if (!clash_err && g_strcmp0(name, l->network) &&
            (o = network_read(nets[i], VIR_NETWORK_XML_INACTIVE, what,
                              &clash_err))) {
            clash = o->bridge && !g_strcmp0(o->bridge, l->bridge);
            for (guint k = 0; k < o->ips->len && !clash; k++)
                clash = vn_cidr_overlaps(&((VnNetIp *)o->ips->pdata[k])->subnet,
                                         &l->subnet);
            if (clash)
                g_set_error(&clash_err, VN_ERROR, VN_ERROR_CONFLICT,
                            "level 1: network '%s' there (bridge %s) is in the "
                            "way of network '%s' on %s (%s); remove or "
                            "renumber it there first", name,
                            o->bridge ? o->bridge : "none", l->network,
                            l->bridge, vn_cidr_format(&l->subnet, TRUE, a));
        }
        virNetworkFree(nets[i]);
    }
    free(nets);
    if (clash_err) {
        g_propagate_error(error, g_steal_pointer(&clash_err));
        return FALSE;
    }

    r->inner_xml = g_steal_pointer(&xml);
    if ((old = virNetworkLookupByName(inner, l->network))) {
        g_autofree char *what = g_strdup_printf("level 1: network '%s'",
                                                l->network);
        g_autoptr(VnNetwork) have = network_read(old, VIR_NETWORK_XML_INACTIVE,
                                                 what, error);
        char *oldxml;

        if (!have)
            return FALSE;
        r->inner_active = virNetworkIsActive(old) == 1;
        if (virNetworkGetAutostart(old, &r->inner_autostart) < 0)
            r->inner_autostart = 0;
        if (networks_same(have, want) && virNetworkIsPersistent(old) == 1) {
            g_ptr_array_add(unchanged, g_strdup_printf(
                "level 1: network '%s' on %s is defined already", l->network,
                vn_cidr_format(&l->address, TRUE, a)));
            g_clear_pointer(&r->inner_xml, g_free);
            r->inner_start = !r->inner_active;
            return TRUE;
        }
        if (!(oldxml = virNetworkGetXMLDesc(old, VIR_NETWORK_XML_INACTIVE)) &&
            virGetLastErrorCode() == VIR_ERR_INVALID_ARG)
            oldxml = virNetworkGetXMLDesc(old, 0);
        if (!oldxml) {
            g_autofree char *msg = virt_error();

            g_set_error(error, VN_ERROR, VN_ERROR_FAILED,
                        "%s: cannot read its XML: %s", what, msg);
            return FALSE;
        }
        r->inner_old = g_strdup(oldxml);
        free(oldxml);
        /* keep its UUID: redefine it in place */
        if (have->uuid) {
            g_autofree char *rest = g_strdup(r->inner_xml +
                                             strlen("<network>"));

            g_free(r->inner_xml);
            r->inner_xml = g_strdup_printf("<network>\n  <uuid>%s</uuid>%s",
                                           have->uuid, rest);
        }
    }
    r->inner_start = !r->inner_active;
    return TRUE;
}

/* ------------------------------------------------------------------ */
/* the changes, and their undoing                                      */

static void
undo(VnApplyRun *r, const VnNestPlan *plan, virConnectPtr inner,
     GPtrArray *undone, GString *failed)
{
    if (r->inner_net) {
        const VnNestLevel *l = plan->levels->pdata[0];
        virNetworkPtr back = NULL;
        int rc;

        if (r->inner_old) {
            back = virNetworkDefineXML(inner, r->inner_old);
            rc = back ? 0 : -1;
            if (back) {
                virNetworkSetAutostart(back, r->inner_autostart);
                virNetworkFree(back);
            }
        } else {
            rc = virNetworkUndefine(r->inner_net);
        }
        if (rc == 0) {
            g_ptr_array_add(undone, g_strdup_printf(
                "level 1: network '%s' %s", l->network,
                r->inner_old ? "defined as it was before" : "undefined again"));
        } else {
            g_autofree char *msg = virt_error();

            g_string_append_printf(failed, "; level 1: network '%s' could not "
                                   "be put back (%s): virsh net-undefine %s "
                                   "there", l->network, msg, l->network);
        }
    }
    if (r->meta_set) {
        int rc = 0;

        if (r->dom_flags & VIR_DOMAIN_AFFECT_LIVE)
            rc |= virDomainSetMetadata(r->dom, VIR_DOMAIN_METADATA_ELEMENT,
                                       r->old_live, r->old_live ? "nest" : NULL,
                                       VN_NS_URI, VIR_DOMAIN_AFFECT_LIVE);
        if (r->dom_flags & VIR_DOMAIN_AFFECT_CONFIG)
            rc |= virDomainSetMetadata(r->dom, VIR_DOMAIN_METADATA_ELEMENT,
                                       r->old_config,
                                       r->old_config ? "nest" : NULL,
                                       VN_NS_URI, VIR_DOMAIN_AFFECT_CONFIG);
        if (rc == 0) {
            g_ptr_array_add(undone, g_strdup_printf(
                "domain '%s': its metadata as it was before", plan->guest));
        } else {
            g_autofree char *msg = virt_error();

            g_string_append_printf(failed, "; domain '%s': its metadata could "
                                   "not be put back (%s): virsh metadata %s "
                                   "--uri %s --remove", plan->guest, msg,
                                   plan->guest, VN_NS_URI);
        }
    }
    if (r->host_added) {
        if (virNetworkUpdate(r->net, VIR_NETWORK_UPDATE_COMMAND_DELETE,
                             VIR_NETWORK_SECTION_IP_DHCP_HOST, -1, r->host,
                             r->net_flags) == 0) {
            g_ptr_array_add(undone, g_strdup_printf(
                "network '%s': removed %s again", plan->network, r->host));
        } else {
            g_autofree char *msg = virt_error();

            g_string_append_printf(failed, "; network '%s': %s could not be "
                                   "removed (%s): virsh net-update %s delete "
                                   "ip-dhcp-host \"%s\"", plan->network,
                                   r->host, msg, plan->network, r->host);
        }
    }
}

static gboolean
change(VnApplyRun *r, const VnNestPlan *plan, virConnectPtr inner,
       GPtrArray *done, GError **error)
{
    const VnNestLevel *l = plan->levels->pdata[0];
    char a[VN_CIDR_STRLEN];

    if (r->host) {
        if (virNetworkUpdate(r->net, VIR_NETWORK_UPDATE_COMMAND_ADD_LAST,
                             VIR_NETWORK_SECTION_IP_DHCP_HOST, -1, r->host,
                             r->net_flags) < 0) {
            g_autofree char *msg = virt_error();

            g_set_error(error, VN_ERROR, VN_ERROR_FAILED,
                        "network '%s': cannot add %s: %s", plan->network,
                        r->host, msg);
            return FALSE;
        }
        r->host_added = TRUE;
        g_ptr_array_add(done, g_strdup_printf("network '%s': added %s",
                                              plan->network, r->host));
    }
    if (r->meta) {
        if (virDomainSetMetadata(r->dom, VIR_DOMAIN_METADATA_ELEMENT, r->meta,
                                 "nest", VN_NS_URI, r->dom_flags) < 0) {
            g_autofree char *msg = virt_error();

            g_set_error(error, VN_ERROR, VN_ERROR_FAILED,
                        "domain '%s': cannot set its metadata: %s",
                        plan->guest, msg);
            return FALSE;
        }
        r->meta_set = TRUE;
        g_ptr_array_add(done, g_strdup_printf("domain '%s': set its "
                                              "<nest:guest> metadata",
                                              plan->guest));
    }
    if (!inner)
        return TRUE;
    if (r->inner_xml) {
        if (!(r->inner_net = virNetworkDefineXML(inner, r->inner_xml))) {
            g_autofree char *msg = virt_error();

            g_set_error(error, VN_ERROR, VN_ERROR_FAILED,
                        "level 1: network '%s': cannot define it: %s",
                        l->network, msg);
            return FALSE;
        }
        virNetworkSetAutostart(r->inner_net, 1);
        g_ptr_array_add(done, g_strdup_printf(
            "level 1: network '%s' defined on %s", l->network,
            vn_cidr_format(&l->address, TRUE, a)));
        if (r->inner_active)
            g_ptr_array_add(done, g_strdup_printf(
                "level 1: network '%s' still runs with its old definition: "
                "restart it there (virsh net-destroy %s; virsh net-start %s)",
                l->network, l->network, l->network));
    }
    if (r->inner_start) {
        g_autoptr(VnVirNetwork) net = r->inner_net ? NULL
            : virNetworkLookupByName(inner, l->network);
        virNetworkPtr start = r->inner_net ? r->inner_net : net;

        if (!start || virNetworkCreate(start) < 0) {
            g_autofree char *msg = virt_error();

            g_set_error(error, VN_ERROR, VN_ERROR_FAILED,
                        "level 1: network '%s' did not start: %s", l->network,
                        msg);
            return FALSE;
        }
        g_ptr_array_add(done, g_strdup_printf("level 1: network '%s' started",
                                              l->network));
    }
    return TRUE;
}

gboolean
vn_nest_apply(virConnectPtr conn, virConnectPtr inner, const VnNestPlan *plan,
              GPtrArray *done, GPtrArray *unchanged, GPtrArray *undone,
              GError **error)
{
    VnApplyRun r = { 0 };
    g_autoptr(GError) err = NULL;
    gboolean ok;

    ok = check_layer(conn, plan, &r, unchanged, error) &&
         (!inner || check_inner(inner, plan, &r, unchanged, error));
    if (ok && !change(&r, plan, inner, done, &err)) {
        g_autoptr(GString) failed = g_string_new(err->message);

        undo(&r, plan, inner, undone, failed);
        g_ptr_array_set_size(done, 0);
        g_set_error_literal(error, err->domain, err->code, failed->str);
        ok = FALSE;
    }
    run_clear(&r);
    return ok;
}
