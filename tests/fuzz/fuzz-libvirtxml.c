/* fuzz-libvirtxml.c: libvirt network and domain XML (vn_network_parse,
 * vn_guest_parse, and the XML reader under them), then the planners on
 * what they return. Every rule planned must carry a comment that nft keeps
 * (127 bytes) in bytes iptables-save and shells do not mangle.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include "fuzz.h"
#include "layerplan.h"
#include "libvirtxml.h"

static void
check_comments(const VnPlan *plan)
{
    for (guint i = 0; i < plan->rules->len; i++) {
        g_autofree char *c = vn_rule_comment(plan->rules->pdata[i]);
        const VnRule *r = plan->rules->pdata[i];
        g_autofree char *prefix = vn_rule_comment_prefix(r->network);

        VN_FUZZ_CHECK(strlen(c) <= 127);
        VN_FUZZ_CHECK(g_str_has_prefix(c, prefix));
        VN_FUZZ_CHECK(vn_rule_comment_is_ours(c));
        for (const char *p = c; *p; p++)
            VN_FUZZ_CHECK(*p >= 0x20 && *p < 0x7f && *p != '"' &&
                          *p != '\\' && *p != '\'');
    }
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *xml = (const char *)data;
    g_autoptr(GError) err = NULL, nest_err = NULL;
    g_autoptr(GError) gerr = NULL, gnest_err = NULL;
    g_autoptr(VnNetwork) net = vn_network_parse(xml, (gssize)size, &nest_err,
                                                &err);
    g_autoptr(VnGuest) guest = vn_guest_parse(xml, (gssize)size, &gnest_err,
                                              &gerr);
    VnConfig config;

    VN_FUZZ_CHECK(net || err);
    VN_FUZZ_CHECK(guest || gerr);
    vn_config_init(&config);
    if (net && net->nest && !nest_err) {
        g_autoptr(VnPlan) plan = vn_plan_new();

        vn_plan_network(plan, net, &config, NULL);
        vn_plan_sort(plan);
        check_comments(plan);
    }
    if (guest && guest->nest && !gnest_err) {
        g_autoptr(VnPlan) plan = vn_plan_new();
        g_autoptr(GPtrArray) networks =
            g_ptr_array_new_with_free_func((GDestroyNotify)vn_network_free);
        g_autoptr(GPtrArray) leases =
            g_ptr_array_new_with_free_func((GDestroyNotify)vn_lease_free);

        if (net)
            g_ptr_array_add(networks, g_steal_pointer(&net));
        vn_plan_guest(plan, guest, networks, leases, NULL, &config, 0, NULL);
        vn_plan_sort(plan);
    }
    return 0;
}
