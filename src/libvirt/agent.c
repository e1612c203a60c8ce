/* agent.c: a guest's interfaces from its QEMU agent, through libvirt.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include <libvirt/virterror.h>

#include "agent.h"
#include "discover.h"
#include "error.h"

GPtrArray *
vn_agent_ifaces_from_libvirt(const char *guest, virDomainInterfacePtr *ifaces,
                             int n, GError **error)
{
    g_autoptr(GPtrArray) out = vn_agent_ifaces_new();

    if (n > VN_AGENT_MAX_IFACES) {
        g_set_error(error, VN_ERROR, VN_ERROR_INVALID,
                    "domain '%s': its guest agent reported %d interfaces, "
                    "more than %d", guest, n, VN_AGENT_MAX_IFACES);
        return NULL;
    }
    for (int i = 0; i < n; i++) {
        const virDomainInterface *vi = ifaces[i];
        g_autoptr(GError) err = NULL;
        g_autoptr(VnAgentIface) ai = NULL;

        ai = vn_agent_iface_new(vi->name, vi->hwaddr, &err);
        if (ai && vi->naddrs > VN_AGENT_MAX_ADDRS) {
            g_autofree char *shown = g_strescape(vi->name, NULL);
            g_set_error(&err, VN_ERROR, VN_ERROR_INVALID,
                        "guest interface '%s': more than %d addresses",
                        shown, VN_AGENT_MAX_ADDRS);
            g_clear_pointer(&ai, vn_agent_iface_free);
        }
        for (unsigned int j = 0; ai && j < vi->naddrs; j++) {
            const virDomainIPAddress *a = &vi->addrs[j];

            if (a->type != VIR_IP_ADDR_TYPE_IPV4 &&
                a->type != VIR_IP_ADDR_TYPE_IPV6)
                continue;
            if (!vn_agent_iface_add_address(ai, a->addr, a->prefix, &err))
                g_clear_pointer(&ai, vn_agent_iface_free);
        }
        if (!ai) {
            g_set_error(error, VN_ERROR, VN_ERROR_INVALID, "domain '%s': %s",
                        guest, err->message);
            return NULL;
        }
        g_ptr_array_add(out, g_steal_pointer(&ai));
    }
    return g_steal_pointer(&out);
}

GPtrArray *
vn_agent_ifaces_read(virDomainPtr dom, GError **error)
{
    virDomainInterfacePtr *ifaces = NULL;
    const char *name = virDomainGetName(dom);
    GPtrArray *out;
    int n;

    n = virDomainInterfaceAddresses(dom, &ifaces,
                                    VIR_DOMAIN_INTERFACE_ADDRESSES_SRC_AGENT,
                                    0);
    if (n < 0) {
        g_set_error(error, VN_ERROR, VN_ERROR_FAILED,
                    "domain '%s': its guest agent did not tell its "
                    "interfaces: %s", name ? name : "?", vn_virt_error());
        return NULL;
    }
    out = vn_agent_ifaces_from_libvirt(name ? name : "?", ifaces, n, error);
    for (int i = 0; i < n; i++)
        virDomainInterfaceFree(ifaces[i]);
    free(ifaces);
    return out;
}
