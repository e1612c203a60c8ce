/* test-plan.c: the planner, its safety limits and its determinism. */
#include "config.h"

#include <string.h>
#include <linux/rtnetlink.h>

#include "testutil.h"
#include "error.h"
#include "libvirtxml.h"
#include "layerplan.h"

#define NS "xmlns:nest='urn:virt-nest:1'"

static VnNetwork *
net_l0(void)
{
    return vn_network_parse(
        "<network><name>default</name><forward mode='nat'/>"
        "<bridge name='virbr0'/><ip address='192.168.122.1' netmask='255.255.255.0'>"
        "<dhcp><range start='192.168.122.2' end='192.168.122.254'/>"
        "<host mac='52:54:00:fc:38:e0' name='debian' ip='192.168.122.191'/>"
        "</dhcp></ip></network>", -1, NULL, NULL);
}

static VnGuest *
guest(const char *routes, const char *mac)
{
    g_autofree char *xml = g_strdup_printf(
        "<domain id='1'><name>debian</name><metadata><nest:guest " NS ">%s"
        "</nest:guest></metadata><devices><interface type='network'>"
        "<mac address='%s'/><source network='default' bridge='virbr0'/>"
        "</interface></devices></domain>", routes, mac);
    g_autoptr(GError) nest_err = NULL;
    VnGuest *g = vn_guest_parse(xml, -1, &nest_err, NULL);

    assert_null(nest_err);
    return g;
}

static void
route_via_reservation(void **state)
{
    g_autoptr(GPtrArray) nets = g_ptr_array_new_with_free_func((GDestroyNotify)vn_network_free);
    g_autoptr(VnGuest) g = guest("<nest:route subnet='192.168.124.0/24'/>",
                                 "52:54:00:fc:38:e0");
    g_autoptr(VnPlan) plan = vn_plan_new();
    g_autoptr(GError) err = NULL;
    VnConfig config;
    const VnRoute *r;
    g_autofree char *d = NULL;

    vn_config_init(&config);
    g_ptr_array_add(nets, net_l0());
    assert_true(vn_plan_guest(plan, g, nets, NULL, NULL, &config, 0, &err));
    assert_int_equal(plan->routes->len, 1);
    r = plan->routes->pdata[0];
    d = vn_route_describe(r);
    assert_string_equal(d, "192.168.124.0/24 via 192.168.122.191 dev virbr0");
    assert_int_equal(r->via_source, VN_SOURCE_RESERVATION);
    assert_string_equal(r->guest, "debian");
    assert_string_equal(r->network, "default");
}

static void
route_via_metadata_then_lease(void **state)
{
    g_autoptr(GPtrArray) nets = g_ptr_array_new_with_free_func((GDestroyNotify)vn_network_free);
    g_autoptr(GPtrArray) leases = g_ptr_array_new_with_free_func((GDestroyNotify)vn_lease_free);
    g_autoptr(VnGuest) g1 = guest("<nest:route subnet='10.9.0.0/16'/>"
                                  "<nest:uplink address='192.168.122.7'/>",
                                  "52:54:00:fc:38:e0");
    g_autoptr(VnGuest) g2 = guest("<nest:route subnet='10.9.0.0/16'/>",
                                  "52:54:00:00:00:99");
    g_autoptr(VnPlan) plan = vn_plan_new();
    VnLease *l = vn_lease_new();
    VnConfig config;

    vn_config_init(&config);
    g_ptr_array_add(nets, net_l0());
    l->mac = g_strdup("52:54:00:00:00:99");
    l->bridge = g_strdup("virbr0");
    vn_cidr_parse("192.168.122.99", VN_CIDR_ADDRESS, &l->ip, NULL);
    l->expiry = 1000;
    g_ptr_array_add(leases, l);

    assert_true(vn_plan_guest(plan, g1, nets, leases, NULL, &config, 0, NULL));
    assert_true(vn_plan_guest(plan, g2, nets, leases, NULL, &config, 999, NULL));
    /* expired: the route is planned with an unknown next hop */
    assert_true(vn_plan_guest(plan, g2, nets, leases, NULL, &config, 1001, NULL));
    assert_int_equal(plan->routes->len, 3);
    assert_int_equal(((VnRoute *)plan->routes->pdata[0])->via_source,
                     VN_SOURCE_METADATA);
    assert_cidr_str(&((VnRoute *)plan->routes->pdata[0])->via, "192.168.122.7/32");
    assert_int_equal(((VnRoute *)plan->routes->pdata[1])->via_source,
                     VN_SOURCE_LEASE);
    assert_true(vn_cidr_is_empty(&((VnRoute *)plan->routes->pdata[2])->via));
}

static void
route_refusals(void **state)
{
    static const struct {
        const char *routes;
        const char *msg;
    } cases[] = {
        { "<nest:route subnet='0.0.0.0/0'/>",
          "domain 'debian': <nest:route subnet='0.0.0.0/0'>: a default route "
          "is never delegated; name the nested subnets" },
        { "<nest:route subnet='::/0'/>", "a default route is never delegated" },
        { "<nest:route subnet='10.0.0.0/7'/>",
          "10.0.0.0/7 is wider than /8; use narrower subnets, or allow it by "
          "lowering min_prefix_v4 to 7 in [limits] of virt-nest.conf" },
        { "<nest:route subnet='fd00::/15'/>",
          "fd00::/15 is wider than /16; use narrower subnets, or allow it by "
          "lowering min_prefix_v6 to 15" },
        { "<nest:route subnet='192.168.0.0/16'/>",
          "overlaps this host's network 'default' (192.168.122.0/24)" },
        { "<nest:route subnet='10.1.0.0/16'/><nest:route subnet='10.2.0.0/16'/>"
          "<nest:route subnet='10.3.0.0/16'/>",
          "3 <nest:route> entries, more than the limit of 2" },
        { "<nest:route subnet='172.24.21.0/24'/>",
          "overlaps this host's connected network 172.24.21.0/24 on eth1" },
        { "<nest:route subnet='10.61.2.254/32'/>",
          "overlaps this host's address 10.61.2.254/32 on eth0" },
    };
    g_autoptr(GPtrArray) nets = g_ptr_array_new_with_free_func((GDestroyNotify)vn_network_free);
    g_autoptr(VnHost) host = vn_host_new();
    VnLink *eth0 = g_new0(VnLink, 1), *eth1 = g_new0(VnLink, 1);
    VnHostAddr *a = g_new0(VnHostAddr, 1);
    VnHostRoute *r = g_new0(VnHostRoute, 1);
    VnConfig config;

    vn_config_init(&config);
    config.max_entries = 2;
    g_ptr_array_add(nets, net_l0());
    /* the seed's WSL2 host: eth0 10.61.2.254/32, eth1 on 172.24.21.0/24 */
    eth0->ifindex = 2;
    eth0->name = g_strdup("eth0");
    eth1->ifindex = 3;
    eth1->name = g_strdup("eth1");
    g_ptr_array_add(host->links, eth0);
    g_ptr_array_add(host->links, eth1);
    a->ifindex = 2;
    vn_cidr_parse("10.61.2.254/32", VN_CIDR_ANY, &a->address, NULL);
    g_ptr_array_add(host->addrs, a);
    r->oif = 3;
    r->scope = RT_SCOPE_LINK;
    r->type = RTN_UNICAST;
    vn_cidr_parse("172.24.21.0/24", VN_CIDR_SUBNET, &r->dst, NULL);
    g_ptr_array_add(host->routes, r);

    for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_autoptr(VnGuest) g = guest(cases[i].routes, "52:54:00:fc:38:e0");
        g_autoptr(VnPlan) plan = vn_plan_new();
        g_autoptr(GError) err = NULL;

        assert_false(vn_plan_guest(plan, g, nets, NULL, host, &config, 0, &err));
        assert_error_contains(err, cases[i].msg);
        assert_int_equal(err->code, VN_ERROR_REFUSED);
        /* a refusal plans nothing, not even the good routes */
        assert_int_equal(plan->routes->len, 0);
    }
}

static VnNetwork *
net_l1(const char *peers)
{
    g_autofree char *xml = g_strdup_printf(
        "<network><name>default</name><metadata><nest:network " NS ">%s"
        "</nest:network></metadata><forward mode='nat'/><bridge name='virbr0'/>"
        "<ip address='192.168.124.1' prefix='24'/>"
        "<ip family='ipv6' address='fd00:124::1' prefix='64'/></network>",
        peers);
    g_autoptr(GError) nest_err = NULL;
    VnNetwork *n = vn_network_parse(xml, -1, &nest_err, NULL);

    assert_null(nest_err);
    return n;
}

static void
network_rules(void **state)
{
    g_autoptr(VnNetwork) n = net_l1("<nest:peer subnet='fd00:122::/64'/>"
                                    "<nest:peer subnet='192.168.122.0/24'/>");
    g_autoptr(VnPlan) plan = vn_plan_new();
    g_autoptr(GString) all = g_string_new(NULL);
    VnConfig config;

    vn_config_init(&config);
    assert_true(vn_plan_network(plan, n, &config, NULL));
    vn_plan_sort(plan);
    for (guint i = 0; i < plan->rules->len; i++) {
        g_autofree char *d = vn_rule_describe(plan->rules->pdata[i]);
        g_autofree char *c = vn_rule_comment(plan->rules->pdata[i]);

        g_string_append_printf(all, "%s | %s\n", d, c);
    }
    assert_string_equal(all->str,
        "-s 192.168.122.0/24 -d 192.168.124.0/24 -o virbr0 -j ACCEPT | virt-nest default in 192.168.122.0/24>192.168.124.0/24\n"
        "-s 192.168.124.0/24 -d 192.168.122.0/24 -i virbr0 -j ACCEPT | virt-nest default out 192.168.124.0/24>192.168.122.0/24\n"
        "-s 192.168.124.0/24 -d 192.168.122.0/24 -j ACCEPT | virt-nest default nat 192.168.124.0/24>192.168.122.0/24\n"
        "-s fd00:122::/64 -d fd00:124::/64 -o virbr0 -j ACCEPT | virt-nest default in fd00:122::/64>fd00:124::/64\n"
        "-s fd00:124::/64 -d fd00:122::/64 -i virbr0 -j ACCEPT | virt-nest default out fd00:124::/64>fd00:122::/64\n"
        "-s fd00:124::/64 -d fd00:122::/64 -j ACCEPT | virt-nest default nat fd00:124::/64>fd00:122::/64\n");

    /* masquerade_peers=true keeps libvirt's NAT: no "nat" rules */
    {
        g_autoptr(VnPlan) p2 = vn_plan_new();

        config.masquerade_peers = TRUE;
        assert_true(vn_plan_network(p2, n, &config, NULL));
        assert_int_equal(p2->rules->len, 4);
    }
}

static void
network_refusals(void **state)
{
    static const struct {
        const char *peers;
        gboolean allow_any;
        const char *msg;
    } cases[] = {
        { "<nest:peer subnet='0.0.0.0/0'/>", FALSE,
          "network 'default': <nest:peer subnet='0.0.0.0/0'>: 0.0.0.0/0 lets "
          "every address in; name the outer subnets, or set allow_any_peer=true" },
        { "<nest:peer subnet='::/0'/>", FALSE, "lets every address in" },
        { "<nest:peer subnet='192.168.0.0/16'/>", FALSE,
          "overlaps the network's own subnet 192.168.124.0/24" },
        { "<nest:peer subnet='64.0.0.0/2'/>", FALSE,
          "64.0.0.0/2 is wider than /8; use narrower subnets, or allow it by "
          "lowering min_prefix_v4 to 2" },
    };
    VnConfig config;

    vn_config_init(&config);
    for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_autoptr(VnNetwork) n = net_l1(cases[i].peers);
        g_autoptr(VnPlan) plan = vn_plan_new();
        g_autoptr(GError) err = NULL;

        config.allow_any_peer = cases[i].allow_any;
        assert_false(vn_plan_network(plan, n, &config, &err));
        assert_error_contains(err, cases[i].msg);
        assert_int_equal(plan->rules->len, 0);
    }
    /* allowed when configured */
    {
        g_autoptr(VnNetwork) n = net_l1("<nest:peer subnet='0.0.0.0/0'/>");
        g_autoptr(VnPlan) plan = vn_plan_new();

        config.allow_any_peer = TRUE;
        assert_true(vn_plan_network(plan, n, &config, NULL));
        assert_int_equal(plan->rules->len, 3);
    }
    /* no bridge, no ip */
    {
        g_autoptr(VnNetwork) n = vn_network_parse(
            "<network><name>b</name><metadata><nest:network " NS ">"
            "<nest:peer subnet='10.0.0.0/8'/></nest:network></metadata>"
            "<forward mode='bridge'/></network>", -1, NULL, NULL);
        g_autoptr(VnNetwork) n2 = vn_network_parse(
            "<network><name>c</name><metadata><nest:network " NS ">"
            "<nest:peer subnet='10.0.0.0/8'/></nest:network></metadata>"
            "<bridge name='virbr5'/></network>", -1, NULL, NULL);
        g_autoptr(VnPlan) plan = vn_plan_new();
        g_autoptr(GError) err = NULL, err2 = NULL;

        assert_false(vn_plan_network(plan, n, &config, &err));
        assert_error_contains(err, "needs a network with a bridge of its own");
        assert_false(vn_plan_network(plan, n2, &config, &err2));
        assert_error_contains(err2, "the network has no <ip>");
    }
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(route_via_reservation),
        cmocka_unit_test(route_via_metadata_then_lease),
        cmocka_unit_test(route_refusals),
        cmocka_unit_test(network_rules),
        cmocka_unit_test(network_refusals),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
