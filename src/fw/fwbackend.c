/* fwbackend.c: the firewall backends.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include <string.h>
#include <sys/socket.h>
#include <linux/netfilter.h>

#include "error.h"
#include "fwbackend.h"

const char *
vn_fw_backend_to_string(VnFwBackend backend)
{
    switch (backend) {
    case VN_FW_IPTABLES:
        return "iptables";
    case VN_FW_NFTABLES:
        return "nftables";
    case VN_FW_NONE:
        break;
    }
    return "none";
}

gboolean
vn_fw_chain(VnFwBackend backend, VnRuleKind kind, int family, VnNftChain *out)
{
    out->family = family == AF_INET6 ? NFPROTO_IPV6 : NFPROTO_IPV4;
    switch (backend) {
    case VN_FW_IPTABLES:
        out->table = kind == VN_RULE_NAT ? "nat" : "filter";
        out->chain = kind == VN_RULE_NAT ? "POSTROUTING" : "FORWARD";
        return TRUE;
    case VN_FW_NFTABLES:
        out->table = "libvirt_network";
        out->chain = kind == VN_RULE_NAT ? "guest_nat" : "forward";
        return TRUE;
    case VN_FW_NONE:
        break;
    }
    return FALSE;
}

/* legacy iptables registers its tables in /proc/net/ip_tables_names */
static gboolean
legacy_iptables(void)
{
    g_autofree char *names = NULL;

    if (!g_file_get_contents("/proc/net/ip_tables_names", &names, NULL, NULL))
        return FALSE;
    for (char *l = strtok(names, "\n"); l; l = strtok(NULL, "\n"))
        if (strcmp(l, "filter") == 0)
            return TRUE;
    return FALSE;
}

gboolean
vn_fw_detect(VnNft *nft, VnFwBackend *backend, GError **error)
{
    const char *force = g_getenv("VIRT_NEST_FIREWALL");
    int rc;

    if (force && *force) {
        if (strcmp(force, "iptables") == 0)
            *backend = VN_FW_IPTABLES;
        else if (strcmp(force, "nftables") == 0)
            *backend = VN_FW_NFTABLES;
        else if (strcmp(force, "none") == 0)
            *backend = VN_FW_NONE;
        else {
            g_set_error(error, VN_ERROR, VN_ERROR_INVALID,
                        "VIRT_NEST_FIREWALL='%s': use iptables, nftables or "
                        "none", force);
            return FALSE;
        }
        return TRUE;
    }
    if ((rc = vn_nft_exists(nft, NFPROTO_IPV4, "libvirt_network", NULL,
                            error)) < 0)
        return FALSE;
    if (rc) {
        *backend = VN_FW_NFTABLES;
        return TRUE;
    }
    if ((rc = vn_nft_exists(nft, NFPROTO_IPV4, "filter", "FORWARD", error)) < 0)
        return FALSE;
    if (rc) {
        *backend = VN_FW_IPTABLES;
        return TRUE;
    }
    if (legacy_iptables()) {
        g_set_error(error, VN_ERROR, VN_ERROR_UNSUPPORTED,
                    "libvirt's firewall rules are in legacy iptables, which "
                    "virt-nest cannot change; switch to iptables-nft "
                    "(update-alternatives --set iptables /usr/sbin/iptables-nft "
                    "and the same for ip6tables), then restart libvirtd");
        return FALSE;
    }
    *backend = VN_FW_NONE;
    return TRUE;
}
