/* fuzz-config.c: virt-nest.conf (vn_config_parse, the parser of
 * vn_config_load): what it accepts stays within the documented bounds.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include "fuzz.h"
#include "vnconfig.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    g_autoptr(GError) err = NULL;
    VnConfig c;

    if (!vn_config_parse((const char *)data, (gssize)size, "fuzz.conf", &c,
                         &err)) {
        VN_FUZZ_CHECK(err && g_str_has_prefix(err->message, "fuzz.conf: "));
        return 0;
    }
    VN_FUZZ_CHECK(c.min_prefix_v4 <= 32 && c.min_prefix_v6 <= 128 &&
                  c.max_entries <= 4096);
    return 0;
}
