/* leases.c: libvirt's DHCP lease status files.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include <errno.h>
#include <string.h>

#include "error.h"
#include "json.h"
#include "leases.h"
#include "statepath.h"

gboolean
vn_leases_parse(const char *text, gssize len, const char *bridge,
                GPtrArray *leases, GError **error)
{
    g_autoptr(VnJson) root = NULL;
    g_autoptr(GError) err = NULL;
    g_autofree char *trimmed = NULL;
    const char *nul;

    if (len < 0)
        len = (gssize)strlen(text);
    /* a NUL would cut the text short and hide what follows it */
    if ((nul = memchr(text, '\0', (gsize)len))) {
        g_set_error(error, VN_ERROR, VN_ERROR_INVALID,
                    "lease file of %s: a NUL byte at offset %td; it is no "
                    "JSON", bridge, nul - text);
        return FALSE;
    }
    trimmed = g_strstrip(g_strndup(text, (gsize)len));
    if (!*trimmed)
        return TRUE;        /* leaseshelper writes nothing before a lease */
    if (!(root = vn_json_parse(trimmed, -1, &err))) {
        g_set_error(error, VN_ERROR, VN_ERROR_INVALID,
                    "lease file of %s: %s", bridge, err->message);
        return FALSE;
    }
    if (root->type != VN_JSON_ARRAY) {
        g_set_error(error, VN_ERROR, VN_ERROR_INVALID,
                    "lease file of %s: expected a JSON array", bridge);
        return FALSE;
    }
    for (guint i = 0; i < vn_json_length(root); i++) {
        const VnJson *e = vn_json_index(root, i);
        const char *ip = vn_json_get_string(e, "ip-address");
        const char *mac = vn_json_get_string(e, "mac-address");
        g_autoptr(VnLease) lease = NULL;
        gint64 expiry = 0;

        if (!ip || !mac)
            continue;
        lease = vn_lease_new();
        if (!vn_cidr_parse(ip, VN_CIDR_ADDRESS, &lease->ip, NULL) ||
            !(lease->mac = vn_mac_normalize(mac))) {
            g_set_error(error, VN_ERROR, VN_ERROR_INVALID,
                        "lease file of %s: entry %u: bad address '%s' or "
                        "MAC '%s'", bridge, i, ip, mac);
            return FALSE;
        }
        vn_json_get_int(e, "expiry-time", &expiry);
        lease->expiry = expiry;
        lease->hostname = g_strdup(vn_json_get_string(e, "hostname"));
        lease->client_id = g_strdup(vn_json_get_string(e, "client-id"));
        lease->bridge = g_strdup(bridge);
        g_ptr_array_add(leases, g_steal_pointer(&lease));
    }
    return TRUE;
}

gboolean
vn_leases_load(const char *dir, const char *bridge, GPtrArray *leases,
               GError **error)
{
    g_autofree char *text = NULL;
    g_autoptr(GError) err = NULL;
    char path[4096];
    gsize len;

    /* dnsmasq's file is BRIDGE.status: a bridge with '/' has none */
    if (vn_libvirt_path(path, sizeof(path), dir, bridge, "status") < 0)
        return TRUE;
    if (!g_file_get_contents(path, &text, &len, &err)) {
        if (g_error_matches(err, G_FILE_ERROR, G_FILE_ERROR_NOENT))
            return TRUE;
        g_set_error(error, VN_ERROR, VN_ERROR_FAILED, "%s", err->message);
        return FALSE;
    }
    return vn_leases_parse(text, (gssize)len, bridge, leases, error);
}
