/* test-parse.c: libvirt XML and virt-nest metadata, on XML captured from
 * libvirt 9.0 and on hand-written defects. */
#include "config.h"

#include <string.h>

#include "testutil.h"
#include "leases.h"
#include "libvirtxml.h"

static void
network_hook_started(void **state)
{
    g_autofree char *xml = vn_test_read("hook/network-default-started-begin.xml");
    g_autoptr(GError) err = NULL, nest_err = NULL;
    g_autoptr(VnNetwork) net = vn_network_parse(xml, -1, &nest_err, &err);
    const VnNetIp *ip;
    const VnDhcpHost *h;

    assert_null(err);
    assert_null(nest_err);
    assert_non_null(net);
    assert_string_equal(net->name, "default");
    assert_string_equal(net->uuid, "6f1e3b52-8c1a-4c44-9a62-1d1b3c0a7a01");
    assert_string_equal(net->bridge, "virbr0");
    assert_string_equal(net->forward_mode, "nat");
    assert_false(net->nest);
    assert_int_equal(net->ips->len, 1);
    ip = net->ips->pdata[0];
    assert_cidr_str(&ip->address, "192.168.122.1/24");
    assert_cidr_str(&ip->subnet, "192.168.122.0/24");
    assert_int_equal(ip->ranges->len, 1);
    assert_cidr_str(&g_array_index(ip->ranges, VnDhcpRange, 0).start,
                    "192.168.122.2/32");
    h = vn_network_find_host(net, "52:54:00:FC:38:E0");
    assert_non_null(h);
    assert_cidr_str(&h->ip, "192.168.122.50/32");
    assert_string_equal(h->name, "nest-guest");
}

static void
network_port_created(void **state)
{
    g_autofree char *xml =
        vn_test_read("hook/network-default-port-created-begin.xml");
    g_autoptr(GError) err = NULL;
    g_autoptr(VnNetwork) net = vn_network_parse(xml, -1, NULL, &err);

    /* <hookData> with a <networkport>: the network is what we parse */
    assert_non_null(net);
    assert_string_equal(net->name, "default");
}

static void
network_routed(void **state)
{
    g_autofree char *xml = vn_test_read("hook/network-routed-started-begin.xml");
    g_autoptr(VnNetwork) net = vn_network_parse(xml, -1, NULL, NULL);

    assert_non_null(net);
    assert_string_equal(net->forward_mode, "route");
    assert_string_equal(net->bridge, "virbr1");
}

static void
network_foreign_metadata(void **state)
{
    /* the lab's metanet carries <nest:net>, not ours: an unknown element
     * in our namespace is an error that names the fix */
    g_autofree char *xml = vn_test_read("hook/network-metanet-started-begin.xml");
    g_autoptr(GError) err = NULL, nest_err = NULL;
    g_autoptr(VnNetwork) net = vn_network_parse(xml, -1, &nest_err, &err);

    assert_non_null(net);
    assert_false(net->nest);
    assert_error_contains(nest_err, "network 'metanet': <nest:net>: unknown "
                                    "element; here virt-nest expects "
                                    "<nest:network>");
}

static void
guest_hook_started(void **state)
{
    g_autofree char *xml = vn_test_read("hook/qemu-nestguest-started-begin.xml");
    g_autoptr(GError) err = NULL, nest_err = NULL;
    g_autoptr(VnGuest) g = vn_guest_parse(xml, -1, &nest_err, &err);
    const VnIface *iface;

    assert_null(err);
    assert_null(nest_err);
    assert_string_equal(g->name, "nestguest");
    assert_int_equal(g->id, 1);
    assert_string_equal(g->state, "running");
    assert_true(g->nest);
    assert_int_equal(g->routes->len, 1);
    assert_cidr_str(&g_array_index(g->routes, VnCidr, 0), "192.168.124.0/24");
    assert_int_equal(g->ifaces->len, 1);
    iface = g->ifaces->pdata[0];
    assert_string_equal(iface->type, "network");
    assert_string_equal(iface->mac, "52:54:00:fc:38:e0");
    assert_string_equal(iface->network, "default");
    assert_string_equal(iface->bridge, "virbr0");
    assert_string_equal(iface->target, "vnet0");
    assert_ptr_equal(vn_guest_uplink(g), iface);
}

static void
guest_hook_prepare(void **state)
{
    /* at prepare, there is no TAP and no live bridge yet */
    g_autofree char *xml = vn_test_read("hook/qemu-nestguest-prepare-begin.xml");
    g_autoptr(VnGuest) g = vn_guest_parse(xml, -1, NULL, NULL);
    const VnIface *iface = g->ifaces->pdata[0];

    assert_null(iface->target);
    assert_null(iface->bridge);
    assert_string_equal(iface->network, "default");
}

/* A domain with @meta inside <metadata>. */
static VnGuest *
guest_with(const char *meta, GError **nest_err)
{
    g_autofree char *xml = g_strdup_printf(
        "<domain type='qemu' id='3'><name>l1</name><metadata>%s</metadata>"
        "<devices><interface type='network'><mac address='52:54:00:fc:38:e0'/>"
        "<source network='default' bridge='virbr0'/><target dev='vnet0'/>"
        "</interface><interface type='bridge'><mac address='52:54:00:00:00:02'/>"
        "<source bridge='br0'/></interface></devices></domain>", meta);
    g_autoptr(GError) err = NULL;
    VnGuest *g = vn_guest_parse(xml, -1, nest_err, &err);

    assert_null(err);
    assert_non_null(g);
    return g;
}

#define NS "xmlns:nest='urn:virt-nest:1'"

static void
guest_metadata_ok(void **state)
{
    g_autoptr(GError) nest_err = NULL;
    g_autoptr(VnGuest) g = guest_with(
        "<other:x xmlns:other='urn:other'/>"
        "<nest:guest " NS "><nest:route subnet='192.168.124.0/24'/>"
        "<nest:route subnet='10.9.0.0/16'/>"
        "<nest:uplink mac='52:54:00:00:00:02' address='10.0.0.5'/></nest:guest>",
        &nest_err);

    assert_null(nest_err);
    assert_true(g->nest);
    assert_int_equal(g->routes->len, 2);
    /* sorted */
    assert_cidr_str(&g_array_index(g->routes, VnCidr, 0), "10.9.0.0/16");
    assert_string_equal(g->uplink_mac, "52:54:00:00:00:02");
    assert_cidr_str(&g->uplink_address, "10.0.0.5/32");
    assert_string_equal(vn_guest_uplink(g)->bridge, "br0");
}

static void
guest_metadata_bad(void **state)
{
    static const struct {
        const char *meta;
        const char *msg;
    } cases[] = {
        { "<nest:guest " NS "><nest:route subnet='300.1.1.0/24'/></nest:guest>",
          "domain 'l1': <nest:route subnet='300.1.1.0/24'>: '300.1.1.0/24' is "
          "not an IPv4 or IPv6 address" },
        { "<nest:guest " NS "><nest:route subnet='192.168.124.1/24'/></nest:guest>",
          "did you mean 192.168.124.0/24?" },
        { "<nest:guest " NS "><nest:route/></nest:guest>",
          "<nest:route>: the 'subnet' attribute is missing" },
        { "<nest:guest " NS "><nest:route subnet='10.0.0.0/8' via='1.2.3.4'/></nest:guest>",
          "unknown attribute 'via'" },
        { "<nest:guest " NS "><nest:routes subnet='10.0.0.0/8'/></nest:guest>",
          "<nest:routes subnet='10.0.0.0/8'>: unknown element in <nest:guest> "
          "(known: <nest:route>, <nest:uplink>)" },
        { "<nest:guest xmlns:nest='urn:virt-nest:2'><nest:route subnet='10.0.0.0/8'/></nest:guest>",
          "<guest xmlns='urn:virt-nest:2'>: unsupported namespace; this "
          "virt-nest reads xmlns:nest='urn:virt-nest:1'" },
        { "<nest:network " NS "/>",
          "<nest:network>: unknown element; here virt-nest expects <nest:guest>" },
        { "<nest:guest " NS "><nest:route subnet='10.0.0.0/8'/>"
          "<nest:route subnet='10.0.0.0/8'/></nest:guest>",
          "listed twice" },
        { "<nest:guest " NS "><nest:uplink mac='zz'/></nest:guest>",
          "'zz' is not a MAC address" },
        { "<nest:guest " NS "><nest:uplink mac='52:54:00:99:99:99'/></nest:guest>",
          "the domain has no interface with that MAC" },
        { "<nest:guest " NS "><nest:uplink address='10.0.0.0/24'/></nest:guest>",
          "not a plain address" },
        { "<nest:guest " NS "><nest:uplink/><nest:uplink/></nest:guest>",
          "only one <nest:uplink>" },
        { "<nest:guest " NS "><x:route xmlns:x='urn:x' subnet='10.0.0.0/8'/></nest:guest>",
          "unknown element in <nest:guest>" },
    };

    for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_autoptr(GError) nest_err = NULL;
        g_autoptr(VnGuest) g = guest_with(cases[i].meta, &nest_err);

        if (!nest_err)
            fail_msg("no error for %s", cases[i].meta);
        assert_error_contains(nest_err, cases[i].msg);
        assert_true(g_str_has_prefix(nest_err->message, "domain 'l1': "));
        assert_null(strchr(nest_err->message, '\n'));
        assert_false(g->nest);
        assert_int_equal(g->routes->len, 0);
    }
}

static void
network_metadata(void **state)
{
    static const char *const good =
        "<network><name>default</name><metadata><nest:network " NS ">"
        "<nest:peer subnet='192.168.122.0/24'/></nest:network></metadata>"
        "<bridge name='virbr0'/><ip address='192.168.124.1' prefix='24'/>"
        "<ip family='ipv6' address='fd00:124::1' prefix='64'/></network>";
    static const char *const bad =
        "<network><name>n</name><metadata><nest:network " NS ">"
        "<nest:peer subnet='192.168.122.0/244'/></nest:network></metadata>"
        "</network>";
    g_autoptr(GError) nest_err = NULL;
    g_autoptr(VnNetwork) net = vn_network_parse(good, -1, &nest_err, NULL);
    g_autoptr(VnNetwork) net2 = NULL;

    assert_null(nest_err);
    assert_true(net->nest);
    assert_string_equal(net->forward_mode, "isolated");
    assert_int_equal(net->peers->len, 1);
    assert_int_equal(net->ips->len, 2);
    assert_cidr_str(&((VnNetIp *)net->ips->pdata[1])->subnet, "fd00:124::/64");

    net2 = vn_network_parse(bad, -1, &nest_err, NULL);
    assert_non_null(net2);
    assert_false(net2->nest);
    assert_error_contains(nest_err, "network 'n': <nest:peer "
                                    "subnet='192.168.122.0/244'>");
}

static void
malformed(void **state)
{
    static const struct {
        const char *xml;
        const char *msg;
    } nets[] = {
        { "<network><name>x</name>", "network XML is malformed: line 1" },
        { "", "network XML: empty input" },
        { "<domain/>", "expected <network> or <hookData>, got <domain>" },
        { "<network/>", "<name> is missing" },
        { "<network><name>x</name><ip address='1.2.3'/></network>",
          "network 'x': <ip address='1.2.3'>" },
        { "<network><name>x</name><ip address='10.0.0.1' netmask='255.0.255.0'/></network>",
          "invalid netmask" },
        { "<!DOCTYPE x [<!ENTITY e SYSTEM 'file:///etc/passwd'>]><network>"
          "<name>&e;</name></network>", "" },
    };

    for (guint i = 0; i < G_N_ELEMENTS(nets); i++) {
        g_autoptr(GError) err = NULL;
        g_autoptr(VnNetwork) net = vn_network_parse(nets[i].xml, -1, NULL, &err);

        if (net) {
            /* external entities are never loaded */
            assert_null(strstr(net->name, "root:"));
            continue;
        }
        assert_error_contains(err, nets[i].msg);
        assert_null(strchr(err->message, '\n'));
    }
    {
        g_autoptr(GError) err = NULL;
        g_autoptr(VnGuest) g = vn_guest_parse("<domain><name>a</name>"
                                              "<devices><interface type='network'>"
                                              "<mac address='nope'/></interface>"
                                              "</devices></domain>", -1, NULL,
                                              &err);

        assert_null(g);
        assert_error_contains(err, "domain 'a': <interface><mac address='nope'>");
    }
}

static void
leases(void **state)
{
    g_autofree char *text = vn_test_read("leases/virbr0.status");
    g_autoptr(GPtrArray) list =
        g_ptr_array_new_with_free_func((GDestroyNotify)vn_lease_free);
    g_autoptr(GError) err = NULL;
    const VnLease *l;

    assert_true(vn_leases_parse(text, -1, "virbr0", list, &err));
    assert_int_equal(list->len, 1);
    l = list->pdata[0];
    assert_string_equal(l->mac, "52:54:00:fc:38:e0");
    assert_cidr_str(&l->ip, "192.168.122.50/32");
    assert_int_equal(l->expiry, 1795543370);
    assert_ptr_equal(vn_leases_find(list, "52:54:00:fc:38:e0", "virbr0",
                                    1795543370 - 1), l);
    /* expired, or on another bridge */
    assert_null(vn_leases_find(list, "52:54:00:fc:38:e0", "virbr0",
                               1795543370 + 1));
    assert_null(vn_leases_find(list, "52:54:00:fc:38:e0", "virbr1", 0));

    assert_true(vn_leases_parse("", 0, "virbr0", list, NULL));
    assert_false(vn_leases_parse("{}", -1, "virbr0", list, &err));
    assert_error_contains(err, "expected a JSON array");
    g_clear_error(&err);
    assert_false(vn_leases_parse("[{\"ip-address\": \"x\", "
                                 "\"mac-address\": \"52:54:00:00:00:01\"}]",
                                 -1, "virbr0", list, &err));
    assert_error_contains(err, "lease file of virbr0: entry 0");
}

static void
tap_mac(void **state)
{
    g_autofree char *a = vn_mac_tap("52:54:00:FC:38:E0");
    g_autofree char *b = vn_mac_tap("fe:54:00:fc:38:e0");
    g_autofree char *c = vn_mac_tap("52:54:00:fc:38");

    assert_string_equal(a, "fe:54:00:fc:38:e0");
    assert_string_equal(b, "fa:54:00:fc:38:e0");
    assert_null(c);
}

/* What looks like virt-nest's namespace (issue 12 item 6), and what does
 * not: libvirt's own words have "virt" everywhere. */
static void
ns_lookalike(void **state)
{
    static const char *const yes[] = {
        "urn:virtnest:1", "urn:virt_nest:1", "urn:virt-nest:2",
        "URN:VIRT-NEST:1", "urn:Virt.Nest:1", "http://x/virt--nest",
        "virt-nest", "urn:virt:nest", NULL,
    };
    static const char *const no[] = {
        "virtio", "libvirt/qemu", "virt-manager",
        "urn:virtual-nest:1", "urn:virt----nest:1", "virtnes", "",
        "http://libvirt.org/schemas/domain/qemu/1.0", NULL,
    };

    for (guint i = 0; yes[i]; i++)
        assert_true(vn_ns_lookalike(yes[i], strlen(yes[i])));
    for (guint i = 0; no[i]; i++)
        if (vn_ns_lookalike(no[i], strlen(no[i])))
            fail_msg("'%s' taken for virt-nest's namespace", no[i]);
    /* bounded by @len, not by a NUL */
    assert_false(vn_ns_lookalike("virt-nest", 8));
}

static void
guest_namespace_warnings(void **state)
{
    g_autoptr(GError) nest_err = NULL, err = NULL;
    g_autoptr(VnGuest) g = vn_guest_parse(
        "<domain><name>d</name><metadata>"
        "<a:guest xmlns:a='urn:virtnest:1'/>"
        "<guest xmlns='http://example.org/virtualization/1'/>"
        "<nest:guest xmlns:nest='urn:virt-nest:1'>"
        "<nest:route subnet='10.9.0.0/16'/></nest:guest>"
        "</metadata><devices><interface type='network'>"
        "<mac address='52:54:00:00:00:01'/><source network='n'/>"
        "</interface></devices></domain>", -1, &nest_err, &err);

    assert_non_null(g);
    assert_null(nest_err);
    assert_true(g->nest);
    assert_int_equal(g->routes->len, 1);
    assert_int_equal(g->warnings->len, 1);
    assert_string_equal(g->warnings->pdata[0],
                        "<a:guest xmlns:a='urn:virtnest:1'> is ignored: "
                        "'urn:virtnest:1' is not virt-nest's namespace; "
                        "write <nest:guest xmlns:nest='urn:virt-nest:1'>");
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(network_hook_started),
        cmocka_unit_test(network_port_created),
        cmocka_unit_test(network_routed),
        cmocka_unit_test(network_foreign_metadata),
        cmocka_unit_test(guest_hook_started),
        cmocka_unit_test(guest_hook_prepare),
        cmocka_unit_test(guest_metadata_ok),
        cmocka_unit_test(guest_metadata_bad),
        cmocka_unit_test(network_metadata),
        cmocka_unit_test(malformed),
        cmocka_unit_test(leases),
        cmocka_unit_test(tap_mac),
        cmocka_unit_test(ns_lookalike),
        cmocka_unit_test(guest_namespace_warnings),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
