/* plandefine.c: `virt-nest plan --apply`, over the libvirt API.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include <string.h>

#include "discover.h"
#include "error.h"
#include "plandefine.h"

char *
vn_nest_bare_metadata(GArray *routes)
{
    GString *s = g_string_new("<guest>");
    char a[VN_CIDR_STRLEN];

    for (guint i = 0; i < routes->len; i++)
        g_string_append_printf(s, "<route subnet='%s'/>",
                               vn_cidr_format(&g_array_index(routes, VnCidr, i),
                                              TRUE, a));
    g_string_append(s, "</guest>");
    return g_string_free(s, FALSE);
}

gboolean
vn_nest_apply(virConnectPtr conn, const VnNestPlan *plan, GPtrArray *done,
              GError **error)
{
    if (!plan->address_exists) {
        g_autofree char *host = vn_nest_dhcp_host_xml(plan->mac, plan->guest,
                                                      &plan->address);
        virNetworkPtr net = virNetworkLookupByName(conn, plan->network);
        unsigned int flags = VIR_NETWORK_UPDATE_AFFECT_CONFIG;
        int rc = -1;

        if (net && virNetworkIsActive(net) == 1)
            flags |= VIR_NETWORK_UPDATE_AFFECT_LIVE;
        if (net && virNetworkIsPersistent(net) == 0)
            flags &= ~VIR_NETWORK_UPDATE_AFFECT_CONFIG;
        if (net)
            rc = virNetworkUpdate(net, VIR_NETWORK_UPDATE_COMMAND_ADD_LAST,
                                  VIR_NETWORK_SECTION_IP_DHCP_HOST, -1, host,
                                  flags);
        if (net)
            virNetworkFree(net);
        if (rc < 0) {
            g_set_error(error, VN_ERROR, VN_ERROR_FAILED,
                        "network '%s': cannot add %s: %s", plan->network, host,
                        vn_virt_error());
            return FALSE;
        }
        g_ptr_array_add(done, g_strdup_printf("network '%s': added %s",
                                              plan->network, host));
    }
    if (plan->guest_exists) {
        virDomainPtr dom = virDomainLookupByName(conn, plan->guest);
        g_autofree char *meta = vn_nest_bare_metadata(plan->routes);
        unsigned int flags = VIR_DOMAIN_AFFECT_CONFIG;
        int rc = -1;

        if (dom && virDomainIsActive(dom) == 1)
            flags |= VIR_DOMAIN_AFFECT_LIVE;
        if (dom && virDomainIsPersistent(dom) == 0)
            flags &= ~VIR_DOMAIN_AFFECT_CONFIG;
        if (dom)
            rc = virDomainSetMetadata(dom, VIR_DOMAIN_METADATA_ELEMENT, meta,
                                      "nest", VN_NS_URI, flags);
        if (dom)
            virDomainFree(dom);
        if (rc < 0) {
            g_set_error(error, VN_ERROR, VN_ERROR_FAILED,
                        "domain '%s': cannot set its metadata: %s", plan->guest,
                        vn_virt_error());
            return FALSE;
        }
        g_ptr_array_add(done, g_strdup_printf("domain '%s': set its "
                                              "<nest:guest> metadata",
                                              plan->guest));
    }
    return TRUE;
}

gboolean
vn_nest_apply_inner(virConnectPtr conn, const VnNestPlan *plan,
                    GPtrArray *done, GError **error)
{
    const VnNestLevel *l = plan->levels->pdata[0];
    g_autofree char *xml = vn_nest_level_network_xml(l);
    virNetworkPtr old, net;
    gboolean active = FALSE;
    char a[VN_CIDR_STRLEN];

    /* redefine the network of that name in place: keep its UUID */
    if ((old = virNetworkLookupByName(conn, l->network))) {
        char uuid[VIR_UUID_STRING_BUFLEN];

        if (virNetworkGetUUIDString(old, uuid) == 0) {
            g_autofree char *rest = g_strdup(xml + strlen("<network>"));

            g_free(xml);
            xml = g_strdup_printf("<network>\n  <uuid>%s</uuid>%s", uuid, rest);
        }
        active = virNetworkIsActive(old) == 1;
        virNetworkFree(old);
    }
    if (!(net = virNetworkDefineXML(conn, xml))) {
        g_set_error(error, VN_ERROR, VN_ERROR_FAILED,
                    "network '%s': cannot define it: %s", l->network,
                    vn_virt_error());
        return FALSE;
    }
    virNetworkSetAutostart(net, 1);
    g_ptr_array_add(done, g_strdup_printf("level 1: network '%s' defined on %s",
                                          l->network,
                                          vn_cidr_format(&l->address, TRUE, a)));
    if (active) {
        g_ptr_array_add(done, g_strdup_printf(
            "level 1: network '%s' still runs with its old definition: restart "
            "it there (virsh net-destroy %s; virsh net-start %s)", l->network,
            l->network, l->network));
    } else if (virNetworkCreate(net) == 0) {
        g_ptr_array_add(done, g_strdup_printf("level 1: network '%s' started",
                                              l->network));
    } else {
        g_set_error(error, VN_ERROR, VN_ERROR_FAILED,
                    "network '%s' is defined but did not start: %s",
                    l->network, vn_virt_error());
        virNetworkFree(net);
        return FALSE;
    }
    virNetworkFree(net);
    return TRUE;
}
