/* test-nestapply.c: `virt-nest plan --apply` against the libvirt test
 * driver changes exactly what the plan says, and nothing else. */
#include "config.h"

#include <string.h>

#include "testutil.h"
#include "discover.h"
#include "plandefine.h"
#include "layerview.h"
#include "layerplan.h"

/* status --json of the layer, through one connection */
static char *
snapshot(virConnectPtr conn, const char *uri)
{
    VnDiscoverOptions o = { uri, NULL, VN_HOST_NO };
    g_autoptr(GError) err = NULL;
    g_autoptr(VnLayer) l = vn_discover_conn(conn, uri, &o, &err);
    g_autoptr(VnPlan) p = NULL;
    VnConfig config;
    VnStatus st = { 0 };

    assert_non_null(l);
    vn_config_init(&config);
    p = vn_plan_layer(l, &config, 0);
    st.layer = l;
    st.plan = p;
    return vn_status_json(&st);
}

static void
apply_changes_exactly_the_plan(void **state)
{
    g_autofree char *uri = g_strdup_printf("test://%s/plan/apply.xml", VN_TEST_DATA);
    virConnectPtr conn = vn_connect(uri, FALSE, NULL);
    VnDiscoverOptions o = { uri, NULL, VN_HOST_NO };
    VnNestOptions no = { "default", "debian", NULL, 2, NULL, 24 };
    g_autoptr(GError) err = NULL;
    g_autoptr(VnLayer) before = NULL, after = NULL;
    g_autoptr(VnNestPlan) plan = NULL;
    g_autoptr(GPtrArray) done = g_ptr_array_new_with_free_func(g_free);
    g_autoptr(GPtrArray) unchanged = g_ptr_array_new_with_free_func(g_free);
    g_autoptr(GPtrArray) undone = g_ptr_array_new_with_free_func(g_free);
    g_autofree char *json_before = NULL, *json_after = NULL, *json_expected = NULL;
    const VnGuest *g;
    const VnDhcpHost *h;
    char a[VN_CIDR_STRLEN];

    assert_non_null(conn);
    json_before = snapshot(conn, uri);
    before = vn_discover_conn(conn, uri, &o, NULL);
    plan = vn_nest_plan(before, NULL, &no, &err);
    assert_null(err);
    /* outside the DHCP range: .2 is the lowest free one (.10 is taken) */
    assert_cidr_str(&plan->address, "192.168.122.2/32");
    assert_false(plan->address_in_range);
    assert_true(plan->guest_exists);

    if (!vn_nest_apply(conn, NULL, plan, done, unchanged, undone, &err))
        fail_msg("%s", err->message);
    assert_null(err);
    assert_int_equal(done->len, 2);

    after = vn_discover_conn(conn, uri, &o, NULL);
    g = vn_layer_find_guest(after, "debian");
    assert_true(g->nest);
    assert_int_equal(g->routes->len, 2);
    assert_cidr_str(&g_array_index(g->routes, VnCidr, 0), "192.168.124.0/24");
    assert_cidr_str(&g_array_index(g->routes, VnCidr, 1), "192.168.125.0/24");
    h = vn_network_find_host(vn_layer_find_network(after, "default"),
                             "52:54:00:fc:38:e0");
    assert_non_null(h);
    assert_string_equal(vn_cidr_format(&h->ip, FALSE, a), "192.168.122.2");
    assert_string_equal(h->name, "debian");

    /* and nothing else: the status JSON differs by exactly those two */
    json_after = snapshot(conn, uri);
    {
        /* what the plan says, written into the JSON from before */
        g_autoptr(GString) s = g_string_new(json_before);

        g_string_replace(s, "          \"reservations\": [\n"
                            "            {\n"
                            "              \"mac\": \"52:54:00:00:00:10\",\n"
                            "              \"name\": \"other\",\n"
                            "              \"ip\": \"192.168.122.10\"\n"
                            "            }\n"
                            "          ]",
                         "          \"reservations\": [\n"
                         "            {\n"
                         "              \"mac\": \"52:54:00:00:00:10\",\n"
                         "              \"name\": \"other\",\n"
                         "              \"ip\": \"192.168.122.10\"\n"
                         "            },\n"
                         "            {\n"
                         "              \"mac\": \"52:54:00:fc:38:e0\",\n"
                         "              \"name\": \"debian\",\n"
                         "              \"ip\": \"192.168.122.2\"\n"
                         "            }\n"
                         "          ]", 1);
        json_expected = g_strdup(s->str);
    }
    /* the guest's nest and its address source changed too */
    assert_non_null(strstr(json_after, "\"source\": \"reservation\""));
    assert_non_null(strstr(json_after, "\"192.168.125.0/24\""));
    {
        /* compare the networks part: only the reservation is new */
        const char *a1 = strstr(json_after, "\"networks\"");
        const char *a2 = strstr(json_after, "\"guests\"");
        const char *e1 = strstr(json_expected, "\"networks\"");
        const char *e2 = strstr(json_expected, "\"guests\"");
        g_autofree char *na = g_strndup(a1, (gsize)(a2 - a1));
        g_autofree char *ne = g_strndup(e1, (gsize)(e2 - e1));

        assert_string_equal(na, ne);
    }
    virConnectClose(conn);
}

static void
apply_refuses_cleanly(void **state)
{
    g_autofree char *uri = g_strdup_printf("test://%s/plan/apply.xml", VN_TEST_DATA);
    virConnectPtr conn = vn_connect(uri, FALSE, NULL);
    VnDiscoverOptions o = { uri, NULL, VN_HOST_NO };
    VnNestOptions no = { "default", "debian", NULL, 1, NULL, 24 };
    g_autoptr(VnLayer) layer = vn_discover_conn(conn, uri, &o, NULL);
    g_autoptr(VnNestPlan) plan = vn_nest_plan(layer, NULL, &no, NULL);
    g_autoptr(GPtrArray) done = g_ptr_array_new_with_free_func(g_free);
    g_autoptr(GPtrArray) unchanged = g_ptr_array_new_with_free_func(g_free);
    g_autoptr(GPtrArray) undone = g_ptr_array_new_with_free_func(g_free);
    g_autoptr(GError) err = NULL;
    g_autofree char *json_before = snapshot(conn, uri), *json_after = NULL;

    /* the network went away between plan and apply */
    g_free(plan->network);
    plan->network = g_strdup("gone");
    assert_false(vn_nest_apply(conn, NULL, plan, done, unchanged, undone, &err));
    /* libvirt's own message reaches the user */
    assert_error_contains(err, "network 'gone': Network not found: no network "
                               "with matching name 'gone'; plan again");
    assert_int_equal(done->len, 0);
    json_after = snapshot(conn, uri);
    assert_string_equal(json_before, json_after);
    virConnectClose(conn);
}

/* The reservation of network 'default' for @mac, or NULL. */
static const VnDhcpHost *
host_of(virConnectPtr conn, const char *uri, const char *mac, VnLayer **keep)
{
    VnDiscoverOptions o = { uri, NULL, VN_HOST_NO };

    *keep = vn_discover_conn(conn, uri, &o, NULL);
    assert_non_null(*keep);
    return vn_network_find_host(vn_layer_find_network(*keep, "default"), mac);
}

static VnNestPlan *
plan_for(virConnectPtr conn, const char *uri, const char *guest)
{
    VnDiscoverOptions o = { uri, NULL, VN_HOST_NO };
    VnNestOptions no = { "default", guest, NULL, 2, NULL, 24 };
    g_autoptr(VnLayer) layer = vn_discover_conn(conn, uri, &o, NULL);
    g_autoptr(GError) err = NULL;
    VnNestPlan *plan;

    assert_non_null(layer);
    plan = vn_nest_plan(layer, NULL, &no, &err);
    if (!plan)
        fail_msg("plan %s: %s", guest, err->message);
    return plan;
}

/* issue 12 item 2: a second identical run, for a guest not defined yet,
 * takes the MAC and address the first reserved and changes nothing, on
 * either connection; so does one for a guest that exists */
static void
apply_twice_changes_nothing(void **state)
{
    g_autofree char *uri = g_strdup_printf("test://%s/plan/apply.xml", VN_TEST_DATA);
    g_autofree char *iuri = g_strdup_printf("test://%s/plan/inner-empty.xml",
                                            VN_TEST_DATA);
    virConnectPtr conn = vn_connect(uri, FALSE, NULL);
    virConnectPtr inner = vn_connect(iuri, FALSE, NULL);
    const char *guests[] = { "fedora", "debian" };

    assert_non_null(conn);
    assert_non_null(inner);
    for (guint k = 0; k < G_N_ELEMENTS(guests); k++) {
        g_autoptr(VnNestPlan) p1 = plan_for(conn, uri, guests[k]);
        g_autoptr(VnNestPlan) p2 = NULL;
        g_autoptr(GPtrArray) done = g_ptr_array_new_with_free_func(g_free);
        g_autoptr(GPtrArray) unchanged = g_ptr_array_new_with_free_func(g_free);
        g_autoptr(GPtrArray) undone = g_ptr_array_new_with_free_func(g_free);
        g_autoptr(GError) err = NULL;
        g_autoptr(VnLayer) l1 = NULL, l2 = NULL;
        g_autofree char *inner_before = NULL, *inner_after = NULL;
        virNetworkPtr n;

        assert_false(p1->address_exists);
        /* the first run: inside, a network is defined and started */
        if (!vn_nest_apply(conn, k ? NULL : inner, p1, done, unchanged, undone,
                           &err))
            fail_msg("%s: %s", guests[k], err->message);
        assert_int_equal(done->len, k ? 2 : 3);
        assert_non_null(host_of(conn, uri, p1->mac, &l1));

        /* the second: the same MAC, address and subnets, nothing changed */
        p2 = plan_for(conn, uri, guests[k]);
        assert_string_equal(p2->mac, p1->mac);
        assert_true(vn_cidr_equal(&p2->address, &p1->address));
        assert_true(p2->address_exists);
        assert_int_equal(p2->mac_reserved, !k);
        assert_int_equal(p2->metadata_exists, k);
        assert_int_equal(p2->levels->len, 2);
        for (guint i = 0; i < 2; i++)
            assert_true(vn_cidr_equal(&g_array_index(p2->routes, VnCidr, i),
                                      &g_array_index(p1->routes, VnCidr, i)));
        n = virNetworkLookupByName(inner, "default");
        assert_non_null(n);
        inner_before = virNetworkGetXMLDesc(n, 0);
        virNetworkFree(n);
        g_ptr_array_set_size(done, 0);
        g_ptr_array_set_size(unchanged, 0);
        if (!vn_nest_apply(conn, k ? NULL : inner, p2, done, unchanged, undone,
                           &err))
            fail_msg("%s again: %s", guests[k], err->message);
        assert_int_equal(done->len, 0);
        assert_int_equal(undone->len, 0);
        assert_int_equal(unchanged->len, 2);
        assert_non_null(strstr(unchanged->pdata[1], k ? "metadata is in place"
                                                      : "defined already"));
        assert_non_null(strstr(unchanged->pdata[0], "is there already"));
        n = virNetworkLookupByName(inner, "default");
        inner_after = virNetworkGetXMLDesc(n, 0);
        virNetworkFree(n);
        assert_string_equal(inner_before, inner_after);
        assert_non_null(host_of(conn, uri, p1->mac, &l2));
    }
    virConnectClose(inner);
    virConnectClose(conn);
}

/* all or nothing: what the inner layer refuses, at the check (a network
 * in the way) or at the change (a read-only connection), leaves this
 * layer as it was, and libvirt's message reaches the user */
static void
apply_all_or_nothing(void **state)
{
    g_autofree char *uri = g_strdup_printf("test://%s/plan/apply.xml", VN_TEST_DATA);
    g_autofree char *curi = g_strdup_printf("test://%s/plan/inner-clash.xml",
                                            VN_TEST_DATA);
    g_autofree char *euri = g_strdup_printf("test://%s/plan/inner-empty.xml",
                                            VN_TEST_DATA);
    virConnectPtr conn = vn_connect(uri, FALSE, NULL);
    virConnectPtr inners[] = { vn_connect(curi, FALSE, NULL),
                               vn_connect(euri, TRUE, NULL) };
    const char *want[] = {
        "level 1: network 'lan' there (bridge virbr0) is in the way of "
        "network 'default' on virbr0 (192.168.124.0/24)",
        "level 1: network 'default': cannot define it: operation forbidden: "
        "read only access prevents virNetworkDefineXML",
    };
    g_autofree char *before = snapshot(conn, uri);

    for (guint k = 0; k < G_N_ELEMENTS(inners); k++) {
        g_autoptr(VnNestPlan) p = plan_for(conn, uri, "debian");
        g_autoptr(GPtrArray) done = g_ptr_array_new_with_free_func(g_free);
        g_autoptr(GPtrArray) unchanged = g_ptr_array_new_with_free_func(g_free);
        g_autoptr(GPtrArray) undone = g_ptr_array_new_with_free_func(g_free);
        g_autoptr(GError) err = NULL;
        g_autofree char *after = NULL;

        assert_non_null(inners[k]);
        assert_false(vn_nest_apply(conn, inners[k], p, done, unchanged, undone,
                                   &err));
        assert_error_contains(err, want[k]);
        assert_int_equal(done->len, 0);
        /* the check changes nothing; the change undoes the reservation and
         * the metadata it made */
        assert_int_equal(undone->len, k ? 2 : 0);
        after = snapshot(conn, uri);
        assert_string_equal(before, after);
        virConnectClose(inners[k]);
    }
    virConnectClose(conn);
}

/* issue 12 item 7: a running guest whose live metadata is not its
 * persistent one is named in status, with the fix */
static void
status_names_live_metadata_change(void **state)
{
    g_autofree char *uri = g_strdup_printf("test://%s/plan/apply.xml", VN_TEST_DATA);
    virConnectPtr conn = vn_connect(uri, FALSE, NULL);
    VnDiscoverOptions o = { uri, NULL, VN_HOST_NO };
    const char *meta = "<guest><route subnet='192.168.124.0/24'/></guest>";
    virDomainPtr dom;
    g_autofree char *json = NULL;

    assert_non_null(conn);
    dom = virDomainLookupByName(conn, "debian");
    assert_non_null(dom);
    assert_int_equal(virDomainIsActive(dom), 1);
    for (guint k = 0; k < 3; k++) {
        g_autoptr(VnLayer) l = NULL;
        const VnProblem *p = NULL;

        /* 0: as defined; 1: set --live only; 2: --config too */
        if (k)
            assert_int_equal(virDomainSetMetadata(dom,
                                 VIR_DOMAIN_METADATA_ELEMENT, meta, "nest",
                                 VN_NS_URI, k == 1 ? VIR_DOMAIN_AFFECT_LIVE
                                                   : VIR_DOMAIN_AFFECT_CONFIG),
                             0);
        l = vn_discover_conn(conn, uri, &o, NULL);
        assert_non_null(l);
        for (guint i = 0; i < l->problems->len; i++)
            if (!g_strcmp0(((VnProblem *)l->problems->pdata[i])->object,
                           "domain 'debian'"))
                p = l->problems->pdata[i];
        if (k != 1) {
            assert_null(p);
            continue;
        }
        assert_non_null(p);
        assert_non_null(strstr(p->message, "its live <nest:guest> metadata "
                                           "differs from its persistent one"));
        assert_non_null(strstr(p->message, "run 'virt-nest reconcile'"));
        assert_non_null(strstr(p->message, "--live --config"));
        json = snapshot(conn, uri);
        assert_non_null(strstr(json, "\"object\": \"domain 'debian'\""));
        assert_non_null(strstr(json, "its live <nest:guest> metadata"));
    }
    virDomainFree(dom);
    virConnectClose(conn);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(status_names_live_metadata_change),
        cmocka_unit_test(apply_changes_exactly_the_plan),
        cmocka_unit_test(apply_refuses_cleanly),
        cmocka_unit_test(apply_twice_changes_nothing),
        cmocka_unit_test(apply_all_or_nothing),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
