/* fuzz-leases.c: libvirt's lease status files (vn_leases_parse), and
 * the MACs in them (vn_mac_normalize): a MAC read is six octets of two
 * lowercase hex digits, never more.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include "fuzz.h"
#include "leases.h"

static void
check_mac(const char *mac)
{
    VN_FUZZ_CHECK(strlen(mac) == 17);
    for (guint i = 0; i < 17; i++)
        VN_FUZZ_CHECK(i % 3 == 2 ? mac[i] == ':'
                                 : g_ascii_isxdigit(mac[i]) &&
                                   !g_ascii_isupper(mac[i]));
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    g_autoptr(GPtrArray) leases =
        g_ptr_array_new_with_free_func((GDestroyNotify)vn_lease_free);
    g_autoptr(GError) err = NULL;
    g_autofree char *text = g_strndup((const char *)data, size);
    g_autofree char *mac = vn_mac_normalize(text);
    gboolean ok = vn_leases_parse((const char *)data, (gssize)size, "virbr0",
                                  leases, &err);

    VN_FUZZ_CHECK(ok || err);
    VN_FUZZ_CHECK(ok || !memchr(data, '\0', size) || strstr(err->message, "NUL"));
    if (mac)
        check_mac(mac);
    for (guint i = 0; i < leases->len; i++) {
        const VnLease *l = leases->pdata[i];

        check_mac(l->mac);
        vn_leases_find(leases, l->mac, "virbr0", 0);
    }
    return 0;
}
