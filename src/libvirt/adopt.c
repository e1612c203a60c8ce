/* adopt.c: the metadata writes of `virt-nest adopt`.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include <stdlib.h>
#include <libvirt/virterror.h>

#include "adopt.h"
#include "discover.h"
#include "error.h"
#include "libvirtxml.h"
#include "model.h"

gboolean
vn_adopt_set_guest(virConnectPtr conn, const char *guest,
                   const char *metadata_set, const char **where,
                   GError **error)
{
    virDomainPtr dom = virDomainLookupByName(conn, guest);
    unsigned int flags = 0;
    gboolean live, config;
    int rc;

    if (!dom) {
        g_set_error(error, VN_ERROR, VN_ERROR_FAILED, "domain '%s': %s",
                    guest, vn_virt_error());
        return FALSE;
    }
    live = virDomainIsActive(dom) == 1;
    config = virDomainIsPersistent(dom) == 1;
    if (live)
        flags |= VIR_DOMAIN_AFFECT_LIVE;
    if (config)
        flags |= VIR_DOMAIN_AFFECT_CONFIG;
    rc = virDomainSetMetadata(dom, VIR_DOMAIN_METADATA_ELEMENT, metadata_set,
                              VN_NS_PREFIX, VN_NS_URI, flags);
    /* libvirt's message before virDomainFree() resets it */
    if (rc < 0)
        g_set_error(error, VN_ERROR, VN_ERROR_FAILED,
                    "domain '%s': cannot set its metadata: %s", guest,
                    vn_virt_error());
    virDomainFree(dom);
    if (rc < 0)
        return FALSE;
    *where = live && config ? "live and config" : live ? "live" : "config";
    return TRUE;
}

char *
vn_network_xml_inactive(virNetworkPtr net)
{
    char *x = NULL;

    if (virNetworkIsPersistent(net) == 1)
        x = virNetworkGetXMLDesc(net, VIR_NETWORK_XML_INACTIVE);
    /* the test driver takes no flags: its one definition */
    return x ? x : virNetworkGetXMLDesc(net, 0);
}

gboolean
vn_adopt_set_network(virConnectPtr conn, const char *network,
                     const char *element, const char *element_set,
                     char **how, GError **error)
{
    virNetworkPtr net = virNetworkLookupByName(conn, network);
    g_autoptr(GError) err = NULL;
    g_autofree char *xml = NULL;
    g_autofree char *edited = NULL;
    gboolean active;
    virNetworkPtr def;
    char *x;

    if (!net) {
        g_set_error(error, VN_ERROR, VN_ERROR_FAILED, "network '%s': %s",
                    network, vn_virt_error());
        return FALSE;
    }
    active = virNetworkIsActive(net) == 1;
#if LIBVIR_CHECK_VERSION(9, 7, 0)
    {
        gboolean persistent = virNetworkIsPersistent(net) == 1;
        unsigned int flags = 0;
        int rc;

        if (active)
            flags |= VIR_NETWORK_UPDATE_AFFECT_LIVE;
        if (persistent)
            flags |= VIR_NETWORK_UPDATE_AFFECT_CONFIG;
        rc = virNetworkSetMetadata(net, VIR_NETWORK_METADATA_ELEMENT,
                                   element_set, VN_NS_PREFIX, VN_NS_URI,
                                   flags);
        /* libvirt's message before virNetworkFree() resets it */
        if (rc < 0)
            g_set_error(error, VN_ERROR, VN_ERROR_FAILED,
                        "network '%s': cannot set its metadata: %s",
                        network, vn_virt_error());
        virNetworkFree(net);
        if (rc < 0)
            return FALSE;
        *how = g_strdup_printf("network '%s': metadata set (%s)", network,
                               active && persistent ? "live and config" :
                               active ? "live" : "config");
        return TRUE;
    }
#else
    (void)element_set;
#endif
    x = vn_network_xml_inactive(net);
    /* libvirt's message before virNetworkFree() resets it */
    if (!x)
        g_set_error(error, VN_ERROR, VN_ERROR_FAILED,
                    "network '%s': cannot read its XML: %s", network,
                    vn_virt_error());
    virNetworkFree(net);
    if (!x)
        return FALSE;
    xml = g_strdup(x);
    free(x);
    if (!(edited = vn_xml_with_nest_metadata(xml, "network", element,
                                             &err))) {
        g_set_error(error, VN_ERROR, VN_ERROR_FAILED, "network '%s': %s",
                    network, err->message);
        return FALSE;
    }
    if (!(def = virNetworkDefineXML(conn, edited))) {
        g_set_error(error, VN_ERROR, VN_ERROR_FAILED,
                    "network '%s': cannot define it with the metadata: %s",
                    network, vn_virt_error());
        return FALSE;
    }
    virNetworkFree(def);
    if (active)
        *how = g_strdup_printf("network '%s': metadata defined; it runs "
                               "with its old definition until it starts "
                               "again (virsh net-destroy %s; virsh "
                               "net-start %s): libvirt before 9.7 cannot "
                               "change a running network's metadata",
                               network, network, network);
    else
        *how = g_strdup_printf("network '%s': metadata defined", network);
    return TRUE;
}
