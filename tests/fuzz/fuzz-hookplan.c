/* fuzz-hookplan.c: the hook's planner (vn_hook_plan), as libvirt calls the
 * hook. The input is a golden case's args and stdin.xml one after the
 * other: "DRIVER NAME OP SUBOP\n" then the XML. The files it reads are
 * those of the golden cases: the network XML the hook kept
 * (qemu-started-lease/state), libvirt's status files
 * (qemu-started-libvirt-status/run) and the leases
 * (qemu-started-lease/leases).
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include "fuzz.h"
#include "hookevent.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    g_autofree char *args = vn_fuzz_next(&data, &size, "\n", NULL);
    g_auto(GStrv) a = g_strsplit(args, " ", 5);
    g_autoptr(GError) err = NULL;
    VnHookAction action;
    VnConfig config;
    VnHookEnv env;
    VnHookPlan hp;
    gboolean ok;

    if (g_strv_length(a) != 4)
        return 0;
    action = vn_hook_action(a[0], a[2], a[3]);
    if (action == VN_HOOK_NOTHING)
        return 0;
    vn_config_init(&config);
    memset(&env, 0, sizeof(env));
    env.state_dir = VN_FUZZ_GOLDEN "/hook/qemu-started-lease/state";
    env.libvirt_network_dir = VN_FUZZ_GOLDEN "/hook/qemu-started-libvirt-status/run";
    env.leases_dir = VN_FUZZ_GOLDEN "/hook/qemu-started-lease/leases";
    env.config = &config;
    env.now = 1795543000;
    ok = vn_hook_plan(a[0], a[1], action, (const char *)data, size, &env, &hp,
                      &err);
    VN_FUZZ_CHECK(ok || err);
    VN_FUZZ_CHECK(hp.plan && hp.subnets && hp.name);
    if (action == VN_HOOK_REMOVE)
        VN_FUZZ_CHECK(!hp.plan->routes->len && !hp.plan->rules->len);
    for (guint i = 0; i < hp.plan->rules->len; i++) {
        g_autofree char *c = vn_rule_comment(hp.plan->rules->pdata[i]);

        VN_FUZZ_CHECK(strlen(c) <= 127);
    }
    vn_hook_plan_clear(&hp);
    return 0;
}
