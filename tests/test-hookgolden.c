/* test-hookgolden.c: golden tests of the hook's planner. Each folder of
 * tests/golden/hook/ is one event:
 *
 *   args            "DRIVER NAME OP SUBOP", as libvirt passes them
 *   stdin.xml       what libvirt writes to the hook's stdin
 *   state/          the state directory (the network XML the hook kept)
 *   run/            libvirt's network status files (/run/libvirt/network)
 *   leases/         lease status files (/var/lib/libvirt/dnsmasq)
 *   virt-nest.conf  the configuration, if not the defaults
 *   outside/        files beside those folders that no name in the XML may
 *                   lead the hook to ("../outside/evil": *-escape)
 *   expected        the warnings, then the refusal or the routes and rules
 *                   as text, each rule with its
 *                   nftables bytecode as libnftnl prints it
 *
 * VN_REGENERATE=1 rewrites every expected file; review the diff like code.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>
#include <linux/netfilter.h>

#include "testutil.h"
#include "fwbackend.h"
#include "hookevent.h"
#include "nftables.h"

static char *
render(const char *dir)
{
    g_autofree char *args_path = g_build_filename(dir, "args", NULL);
    g_autofree char *xml_path = g_build_filename(dir, "stdin.xml", NULL);
    g_autofree char *conf_path = g_build_filename(dir, "virt-nest.conf", NULL);
    g_autofree char *state = g_build_filename(dir, "state", NULL);
    g_autofree char *run = g_build_filename(dir, "run", NULL);
    g_autofree char *leases = g_build_filename(dir, "leases", NULL);
    g_autofree char *args_text = NULL, *xml = NULL;
    g_auto(GStrv) args = NULL;
    g_autoptr(GError) err = NULL;
    GString *out = g_string_new(NULL);
    VnConfig config;
    VnHookEnv env;
    VnHookPlan hp;
    VnHookAction action;
    gboolean ok;
    gsize len = 0;

    if (!g_file_get_contents(args_path, &args_text, NULL, NULL) ||
        !g_file_get_contents(xml_path, &xml, &len, NULL))
        fail_msg("%s: needs args and stdin.xml", dir);
    args = g_strsplit(g_strstrip(args_text), " ", -1);
    assert_int_equal(g_strv_length(args), 4);
    if (!vn_config_load(conf_path, &config, &err))
        fail_msg("%s", err->message);
    memset(&env, 0, sizeof(env));
    env.state_dir = state;
    env.libvirt_network_dir = run;
    env.leases_dir = leases;
    env.config = &config;
    env.now = 1795543000;   /* a fixed clock for lease expiry */
    action = vn_hook_action(args[0], args[2], args[3]);

    g_string_append_printf(out, "$ %s %s %s %s -\n", args[0], args[1],
                           args[2], args[3]);
    if (action == VN_HOOK_NOTHING) {
        g_string_append(out, "nothing to do\n");
        return g_string_free(out, FALSE);
    }
    ok = vn_hook_plan(args[0], args[1], action, xml, len, &env, &hp, &err);
    for (guint i = 0; i < hp.warnings->len; i++)
        g_string_append_printf(out, "warning: %s\n",
                               (char *)hp.warnings->pdata[i]);
    if (!ok) {
        g_string_append_printf(out, "refused: %s\n", err->message);
        vn_hook_plan_clear(&hp);
        return g_string_free(out, FALSE);
    }
    g_string_append(out, action == VN_HOOK_INSTALL
                             ? "install what the object needs now\n"
                         : action == VN_HOOK_CHECK
                             ? "check the metadata before libvirt creates "
                               "anything; change nothing\n"
                             : "remove all that virt-nest installed for it\n");
    for (guint i = 0; i < hp.subnets->len; i++) {
        char b[VN_CIDR_STRLEN];

        g_string_append_printf(out, "metadata subnet %s\n",
                               vn_cidr_format(&g_array_index(hp.subnets, VnCidr, i),
                                              TRUE, b));
    }
    for (guint i = 0; i < hp.plan->routes->len; i++) {
        const VnRoute *r = hp.plan->routes->pdata[i];
        g_autofree char *d = vn_route_describe(r);

        g_string_append_printf(out, "route %s proto %d (next hop: %s)\n", d,
                               VN_RTPROT, vn_cidr_is_empty(&r->via)
                               ? "not known yet, pending"
                               : vn_source_to_string(r->via_source));
    }
    for (guint i = 0; i < hp.plan->rules->len; i++) {
        const VnRule *r = hp.plan->rules->pdata[i];
        g_autofree char *d = vn_rule_describe(r);
        g_autofree char *comment = vn_rule_comment(r);
        VnChainRef ipt, nft;
        g_autofree char *ipt_name = NULL, *nft_name = NULL, *payload = NULL;

        vn_fw_chain_ref(VN_FW_IPTABLES, r->kind, r->src.family, &ipt);
        vn_fw_chain_ref(VN_FW_NFTABLES, r->kind, r->src.family, &nft);
        ipt_name = vn_chain_ref_describe(&ipt);
        nft_name = vn_chain_ref_describe(&nft);
        payload = vn_nft_rule_payload(r, &ipt);
        g_string_append_printf(out, "rule %s\n  comment \"%s\"\n"
                               "  iptables: insert at the head of %s\n"
                               "  nftables: insert at the head of %s\n%s",
                               d, comment, ipt_name, nft_name, payload);
        if (!g_str_has_suffix(out->str, "\n"))
            g_string_append_c(out, '\n');
    }
    vn_hook_plan_clear(&hp);
    return g_string_free(out, FALSE);
}

static void
cases(void **state)
{
    vn_test_golden("hook", render, 10);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(cases),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
