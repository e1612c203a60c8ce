/* facts.c: what status and graph both say about the same objects.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include "facts.h"

void
vn_view_link_addresses(GString *out, const VnHost *host, const VnLink *link,
                       const char *sep)
{
    char b[VN_CIDR_STRLEN];

    for (guint i = 0; host && link && i < host->addrs->len; i++) {
        const VnHostAddr *a = host->addrs->pdata[i];

        if (a->ifindex == link->ifindex && !vn_cidr_is_link_local(&a->address))
            g_string_append_printf(out, "%s%s", sep,
                                   vn_cidr_format(&a->address, TRUE, b));
    }
}

void
vn_view_json_sysctl(VnJsonWriter *w, const char *key, int value)
{
    if (value < 0)
        vn_json_null(w, key);
    else
        vn_json_int(w, key, value);
}

void
vn_view_json_cidr(VnJsonWriter *w, const char *key, const VnCidr *c,
                  gboolean prefix)
{
    char b[VN_CIDR_STRLEN];

    if (vn_cidr_is_empty(c))
        vn_json_null(w, key);
    else
        vn_json_string(w, key, vn_cidr_format(c, prefix, b));
}
