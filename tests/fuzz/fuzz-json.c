/* fuzz-json.c: the JSON reader (vn_json_parse), and every accessor on
 * what it returns.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include "fuzz.h"
#include "json.h"

static void
walk(const VnJson *j, guint depth)
{
    gint64 n;
    gboolean b;

    VN_FUZZ_CHECK(depth < 1000);
    if (!j)
        return;
    vn_json_get_string(j, "name");
    vn_json_get_int(j, "version", &n);
    vn_json_get_bool(j, "active", &b);
    walk(vn_json_get(j, "layer"), depth + 1);
    for (guint i = 0; i < vn_json_length(j); i++)
        walk(vn_json_index(j, i), depth + 1);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    g_autoptr(GError) err = NULL;
    g_autoptr(VnJson) j = vn_json_parse((const char *)data, (gssize)size, &err);

    VN_FUZZ_CHECK(j || err);
    walk(j, 0);
    return 0;
}
