/* test-nestplan.c: virt-nest plan's allocator: the seed, bad input, and a
 * property test over many generated nests. */
#include "config.h"

#include <string.h>
#include <linux/rtnetlink.h>

#include "testutil.h"
#include "error.h"
#include "nestalloc.h"
#include "libvirtxml.h"
#include "xml.h"

#define NS "xmlns:nest='urn:virt-nest:1'"

static VnLayer *
seed_l0(gboolean delegated)
{
    VnLayer *l = vn_layer_new("test:///seed-l0");
    g_autofree char *dom = g_strdup_printf(
        "<domain id='1'><name>debian</name><metadata>%s</metadata><devices>"
        "<interface type='network'><mac address='52:54:00:fc:38:e0'/>"
        "<source network='default' bridge='virbr0'/></interface></devices></domain>",
        delegated ? "<nest:guest " NS "><nest:route subnet='192.168.124.0/24'/>"
                    "</nest:guest>" : "");

    g_ptr_array_add(l->networks, vn_network_parse(
        "<network><name>default</name><forward mode='nat'/><bridge name='virbr0'/>"
        "<ip address='192.168.122.1' netmask='255.255.255.0'><dhcp>"
        "<range start='192.168.122.2' end='192.168.122.254'/>"
        "<host mac='52:54:00:fc:38:e0' name='debian' ip='192.168.122.191'/>"
        "</dhcp></ip></network>", -1, NULL, NULL));
    g_ptr_array_add(l->guests, vn_guest_parse(dom, -1, NULL, NULL));
    return l;
}

static VnNestOptions
opts(const char *net, const char *guest, guint depth)
{
    VnNestOptions o = { net, guest, NULL, depth, NULL, 24 };

    return o;
}

static void
seed_new_guest(void **state)
{
    g_autoptr(VnLayer) l = seed_l0(TRUE);
    VnNestOptions o = opts("default", "fedora", 2);
    g_autoptr(GError) err = NULL;
    g_autoptr(VnNestPlan) p = vn_nest_plan(l, NULL, &o, &err);
    const VnNestLevel *l1, *l2;

    assert_null(err);
    assert_true(p->mac_generated);
    assert_false(p->guest_exists);
    /* the range covers the whole subnet: the highest free address in it */
    assert_cidr_str(&p->address, "192.168.122.254/32");
    assert_true(p->address_in_range);
    /* 192.168.124.0/24 is debian's */
    assert_int_equal(p->levels->len, 2);
    l1 = p->levels->pdata[0];
    l2 = p->levels->pdata[1];
    assert_cidr_str(&l1->subnet, "192.168.125.0/24");
    assert_cidr_str(&l2->subnet, "192.168.126.0/24");
    assert_int_equal(l1->peers->len, 1);
    assert_int_equal(l2->peers->len, 2);
    assert_string_equal(l1->guest, "fedora-l2");
    assert_cidr_str(&l1->guest_address, "192.168.125.2/32");
    assert_int_equal(l1->guest_routes->len, 1);
    assert_null(l2->guest);
    assert_int_equal(p->routes->len, 2);
}

static void
seed_existing_guest(void **state)
{
    g_autoptr(VnLayer) l = seed_l0(FALSE);
    VnNestOptions o = opts("default", "debian", 1);
    g_autoptr(VnNestPlan) p = vn_nest_plan(l, NULL, &o, NULL);

    assert_non_null(p);
    assert_true(p->guest_exists);
    assert_false(p->mac_generated);
    assert_string_equal(p->mac, "52:54:00:fc:38:e0");
    /* its reservation is used, not a new one */
    assert_true(p->address_exists);
    assert_cidr_str(&p->address, "192.168.122.191/32");
    assert_cidr_str(&((VnNestLevel *)p->levels->pdata[0])->subnet,
                    "192.168.124.0/24");
}

static void
bad_input(void **state)
{
    g_autoptr(VnLayer) l = seed_l0(TRUE);
    g_autoptr(GArray) tiny = g_array_new(FALSE, TRUE, sizeof(VnCidr));
    VnCidr c;
    static const struct {
        const char *net, *guest, *mac;
        guint depth;
        gboolean tiny_pool;
        const char *msg;
    } cases[] = {
        { "nope", "x", NULL, 1, FALSE, "network 'nope' does not exist here; known: 'default'" },
        /* depth 1 plans debian's own subnet again (plan --apply run
         * twice); depth 2 asks for more than it delegates */
        { "default", "debian", NULL, 2, FALSE,
          "domain 'debian' already delegates 192.168.124.0/24, not the 2 /24 "
          "subnets of this plan; remove its <nest:guest> metadata to plan it "
          "again, or plan another guest" },
        { "default", "x", "52:54:00:fc:38:e0", 1, FALSE,
          "--mac 52:54:00:fc:38:e0 is in use by domain 'debian'" },
        { "default", "x", "zz", 1, FALSE, "not a MAC address" },
        { "default", "x", NULL, 1, TRUE, "no free /24 subnet left in the pool for level 1 of 1" },
        { "default", "x", NULL, 3, TRUE, "" },
    };

    vn_cidr_parse("192.168.124.0/23", VN_CIDR_SUBNET, &c, NULL);
    g_array_append_val(tiny, c);
    for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
        VnNestOptions o = opts(cases[i].net, cases[i].guest, cases[i].depth);
        g_autoptr(GError) err = NULL;
        g_autoptr(VnNestPlan) p = NULL;

        o.mac = cases[i].mac;
        if (cases[i].tiny_pool)
            o.pool = tiny;
        /* the /23 holds 124 (taken) and 125 (free): depth 1 fits once
         * the first case of the pool is taken too */
        if (cases[i].tiny_pool && cases[i].depth == 1) {
            VnCidr only;

            vn_cidr_parse("192.168.124.0/24", VN_CIDR_SUBNET, &only, NULL);
            o.pool = g_array_new(FALSE, TRUE, sizeof(VnCidr));
            g_array_append_val(o.pool, only);
        }
        p = vn_nest_plan(l, NULL, &o, &err);
        if (cases[i].tiny_pool && cases[i].depth == 1)
            g_array_unref(o.pool);
        if (p)
            fail_msg("case %u planned", i);
        assert_error_contains(err, cases[i].msg);
        if (cases[i].depth == 3)
            assert_error_contains(err, "for level 2 of 3");
    }
}

/* ------------------------------------------------------------------ */
/* property test                                                       */

static VnCidr
rand_subnet(GRand *r)
{
    VnCidr c = { .family = AF_INET };
    guint8 prefix = (guint8)g_rand_int_range(r, 16, 29);

    if (g_rand_boolean(r)) {
        c.addr[0] = 192;
        c.addr[1] = 168;
    } else {
        c.addr[0] = 10;
        c.addr[1] = (guint8)g_rand_int_range(r, 0, 4);
    }
    c.addr[2] = (guint8)g_rand_int_range(r, 0, 256);
    c.addr[3] = (guint8)g_rand_int_range(r, 0, 256);
    c.prefix = prefix;
    return vn_cidr_network(&c);
}

static char *
rand_mac(GRand *r)
{
    return g_strdup_printf("52:54:00:%02x:%02x:%02x", g_rand_int_range(r, 0, 4),
                           g_rand_int_range(r, 0, 256), g_rand_int_range(r, 0, 256));
}

static VnLayer *
rand_layer(GRand *r, const char *uri)
{
    VnLayer *l = vn_layer_new(uri);
    guint nnet = (guint)g_rand_int_range(r, 1, 5);
    VnHost *h = vn_host_new();
    VnLink *link = g_new0(VnLink, 1);

    link->ifindex = 2;
    link->name = g_strdup("eth0");
    g_ptr_array_add(h->links, link);
    for (guint i = 0; i < nnet; i++) {
        VnNetwork *n = vn_network_new();
        VnNetIp *ip = vn_net_ip_new();
        VnCidr s = rand_subnet(r);
        VnDhcpRange range;

        if (s.prefix > 28)
            s.prefix = 24;
        s = vn_cidr_network(&s);
        n->name = g_strdup_printf("net%u", i);
        n->bridge = g_strdup_printf("virbr%u", i);
        n->forward_mode = g_strdup("nat");
        ip->subnet = s;
        vn_cidr_add(&s, 1, &ip->address);
        ip->address.prefix = s.prefix;
        vn_cidr_add(&s, (gint64)vn_cidr_size(&s) / 4, &range.start);
        vn_cidr_add(&s, (gint64)vn_cidr_size(&s) - 2, &range.end);
        range.start.prefix = range.end.prefix = 32;
        if (g_rand_boolean(r))
            g_array_append_val(ip->ranges, range);
        for (guint k = 0; k < (guint)g_rand_int_range(r, 0, 4); k++) {
            VnDhcpHost *hh = g_new0(VnDhcpHost, 1);

            hh->mac = rand_mac(r);
            vn_cidr_add(&s, g_rand_int_range(r, 2, (gint32)MIN(vn_cidr_size(&s) - 1, 250)),
                        &hh->ip);
            hh->ip.prefix = 32;
            g_ptr_array_add(ip->hosts, hh);
        }
        g_ptr_array_add(n->ips, ip);
        g_ptr_array_add(l->networks, n);
        for (guint k = 0; k < (guint)g_rand_int_range(r, 0, 3); k++) {
            VnLease *le = vn_lease_new();

            le->mac = rand_mac(r);
            le->bridge = g_strdup(n->bridge);
            vn_cidr_add(&s, g_rand_int_range(r, 2, (gint32)MIN(vn_cidr_size(&s) - 1, 250)),
                        &le->ip);
            le->ip.prefix = 32;
            g_ptr_array_add(l->leases, le);
        }
    }
    for (guint i = 0; i < (guint)g_rand_int_range(r, 0, 4); i++) {
        VnGuest *g = vn_guest_new();
        VnIface *iface = vn_iface_new();
        VnCidr d = rand_subnet(r);

        g->name = g_strdup_printf("g%u", i);
        g->nest = g_rand_boolean(r);
        if (g->nest)
            g_array_append_val(g->routes, d);
        iface->type = g_strdup("network");
        iface->mac = rand_mac(r);
        iface->network = g_strdup("net0");
        g_ptr_array_add(g->ifaces, iface);
        g_ptr_array_add(l->guests, g);
    }
    for (guint i = 0; i < (guint)g_rand_int_range(r, 0, 6); i++) {
        VnHostRoute *hr = g_new0(VnHostRoute, 1);

        hr->dst = rand_subnet(r);
        hr->type = RTN_UNICAST;
        hr->oif = 2;
        g_ptr_array_add(h->routes, hr);
    }
    l->host = h;
    vn_layer_sort(l);
    return l;
}

static char *
fingerprint(const VnNestPlan *p)
{
    GString *s = g_string_new(NULL);
    char a[VN_CIDR_STRLEN];

    g_string_append_printf(s, "%s %s", p->mac, vn_cidr_format(&p->address, TRUE, a));
    for (guint i = 0; i < p->levels->len; i++) {
        const VnNestLevel *l = p->levels->pdata[i];

        g_string_append_printf(s, " %s", vn_cidr_format(&l->subnet, TRUE, a));
        if (l->guest)
            g_string_append_printf(s, " %s %s", l->guest_mac,
                                   vn_cidr_format(&l->guest_address, TRUE, a));
    }
    return g_string_free(s, FALSE);
}

/* Names by XML rules in the XML plan prints and defines (issue 11, point
 * 5): quotes, '<', '&', tabs round-trip through a parser; a guest name
 * with a control character XML cannot carry is refused, a network's loses it as in libvirt's. */
static void
hostile_names(void **state)
{
    VnXmlNode *up;
    static const char hostile[] = "a\"<&'b>\t";
    g_autoptr(VnLayer) l = seed_l0(TRUE);
    VnNestOptions o = opts("default", hostile, 2);
    g_autoptr(GError) err = NULL;
    g_autoptr(VnNestPlan) p = vn_nest_plan(l, NULL, &o, &err);
    g_autofree char *host = NULL, *net = NULL, *meta = NULL;
    g_autoptr(VnXmlNode) h = NULL, n = NULL, m = NULL;
    VnNestLevel *lv;

    assert_null(err);
    host = vn_nest_dhcp_host_xml(p->mac, p->guest, &p->address);
    h = vn_xml_parse(host, -1, "host", &err);
    assert_null(err);
    /* not a name libvirt takes for DNS: the reservation goes without it */
    assert_null(vn_xml_attr(h, "name"));
    assert_string_equal(vn_xml_attr(h, "mac"), p->mac);
    assert_false(vn_nest_host_name_ok(hostile));
    assert_false(vn_nest_host_name_ok("o'brien"));
    assert_false(vn_nest_host_name_ok("\xc3\xbcnic"));
    assert_false(vn_nest_host_name_ok("1abc"));
    assert_true(vn_nest_host_name_ok("fedora-l2.example"));

    lv = p->levels->pdata[0];
    g_free(lv->network);
    lv->network = g_strdup("n\"<&'\001x");
    g_free(lv->bridge);
    lv->bridge = g_strdup("br'\"&<");
    net = vn_nest_level_network_xml(lv);
    n = vn_xml_parse(net, -1, "network", &err);
    assert_null(err);
    assert_string_equal(vn_xml_child(n, "name")->text, "n\"<&'x");
    assert_string_equal(vn_xml_attr(vn_xml_child(n, "bridge"), "name"),
                        "br'\"&<");
    assert_null(vn_xml_attr(vn_xml_child(vn_xml_child(
        vn_xml_child(n, "ip"), "dhcp"), "host"), "name"));

    meta = vn_nest_guest_metadata(lv->guest_routes, "52:54:00:'\"<&");
    m = vn_xml_parse(meta, -1, "metadata", &err);
    assert_null(err);
    for (up = m->children; up && g_strcmp0(up->name, "uplink") != 0;
         up = up->next)
        ;
    assert_non_null(up);
    assert_string_equal(vn_xml_attr(up, "mac"), "52:54:00:'\"<&");

    for (int c = 1; c < 0x20; c++) {
        if (c == '\t' || c == '\n' || c == '\r')
            continue;
        g_autofree char *name = g_strdup_printf("x%cy", c);
        VnNestOptions bad = opts("default", name, 1);
        g_autoptr(GError) e = NULL;
        g_autoptr(VnNestPlan) q = vn_nest_plan(l, NULL, &bad, &e);

        assert_null(q);
        assert_error_contains(e, "a name with control characters cannot be "
                                 "written in libvirt's XML; choose another name");
    }
}

static void
property(void **state)
{
    GRand *r = g_rand_new_with_seed(1124);
    guint planned = 0, refused = 0;

    for (guint round = 0; round < 500; round++) {
        g_autoptr(VnLayer) l = rand_layer(r, "this");
        g_autoptr(GPtrArray) others =
            g_ptr_array_new_with_free_func((GDestroyNotify)vn_layer_free);
        g_autoptr(GPtrArray) used =
            g_ptr_array_new_with_free_func((GDestroyNotify)vn_in_use_free);
        VnNestOptions o = opts("net0", "newguest", (guint)g_rand_int_range(r, 1, 5));
        g_autoptr(GError) err = NULL;
        g_autoptr(VnNestPlan) p = NULL, p2 = NULL;
        g_autofree char *f1 = NULL, *f2 = NULL;
        const VnNetwork *net0 = vn_layer_find_network(l, "net0");
        const VnNetIp *ip0 = net0->ips->pdata[0];

        for (guint k = 0; k < (guint)g_rand_int_range(r, 0, 3); k++) {
            g_autofree char *name = g_strdup_printf("other%u", k);

            g_ptr_array_add(others, rand_layer(r, name));
        }
        o.prefix = (guint)g_rand_int_range(r, 20, 29);
        p = vn_nest_plan(l, others, &o, &err);
        if (!p) {
            /* only for reasons the user can fix */
            assert_true(err->code == VN_ERROR_CONFLICT);
            refused++;
            continue;
        }
        planned++;
        vn_in_use_collect(l, "", used);
        for (guint k = 0; k < others->len; k++)
            vn_in_use_collect(others->pdata[k], "", used);
        for (guint i = 0; i < p->levels->len; i++) {
            const VnNestLevel *li = p->levels->pdata[i];

            assert_int_equal(li->subnet.prefix, o.prefix);
            for (guint k = 0; k < used->len; k++) {
                const VnInUse *u = used->pdata[k];

                if (vn_cidr_overlaps(&u->cidr, &li->subnet)) {
                    char x[VN_CIDR_STRLEN], y[VN_CIDR_STRLEN];

                    fail_msg("level %u %s overlaps %s (%s)", li->level,
                             vn_cidr_format(&li->subnet, TRUE, x),
                             vn_cidr_format(&u->cidr, TRUE, y), u->what);
                }
            }
            for (guint j = 0; j < i; j++)
                assert_false(vn_cidr_overlaps(&li->subnet,
                                              &((VnNestLevel *)p->levels->pdata[j])->subnet));
        }
        /* the reservation: in the network, not its edges, not in use */
        assert_true(vn_cidr_contains(&ip0->subnet, &p->address));
        if (!p->address_exists) {
            VnCidr net = vn_cidr_network(&ip0->subnet), last = vn_cidr_last(&ip0->subnet);
            VnCidr gw = ip0->address;

            net.prefix = last.prefix = gw.prefix = 32;
            assert_false(vn_cidr_equal(&p->address, &net));
            assert_false(vn_cidr_equal(&p->address, &last));
            assert_false(vn_cidr_equal(&p->address, &gw));
            for (guint k = 0; k < ip0->hosts->len; k++)
                assert_false(vn_cidr_equal(&p->address,
                                           &((VnDhcpHost *)ip0->hosts->pdata[k])->ip));
            for (guint k = 0; k < l->leases->len; k++)
                if (!g_strcmp0(((VnLease *)l->leases->pdata[k])->bridge, net0->bridge))
                    assert_false(vn_cidr_equal(&p->address,
                                               &((VnLease *)l->leases->pdata[k])->ip));
        }
        /* a generated MAC is nobody's */
        for (guint k = 0; p->mac_generated && k < l->guests->len; k++) {
            const VnGuest *g = l->guests->pdata[k];

            for (guint j = 0; j < g->ifaces->len; j++)
                assert_string_not_equal(((VnIface *)g->ifaces->pdata[j])->mac, p->mac);
        }
        /* deterministic */
        p2 = vn_nest_plan(l, others, &o, NULL);
        f1 = fingerprint(p);
        f2 = fingerprint(p2);
        assert_string_equal(f1, f2);
    }
    g_rand_free(r);
    print_message("planned %u nests, refused %u (no room)\n", planned, refused);
    assert_true(planned > 400);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(seed_new_guest),
        cmocka_unit_test(seed_existing_guest),
        cmocka_unit_test(bad_input),
        cmocka_unit_test(hostile_names),
        cmocka_unit_test(property),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
