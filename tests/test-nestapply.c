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

    assert_true(vn_nest_apply(conn, plan, done, &err));
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
    g_autoptr(GError) err = NULL;
    g_autofree char *json_before = snapshot(conn, uri), *json_after = NULL;

    /* the network went away between plan and apply */
    g_free(plan->network);
    plan->network = g_strdup("gone");
    assert_false(vn_nest_apply(conn, plan, done, &err));
    assert_error_contains(err, "network 'gone': cannot add <host mac='52:54:00:fc:38:e0'");
    assert_int_equal(done->len, 0);
    json_after = snapshot(conn, uri);
    assert_string_equal(json_before, json_after);
    virConnectClose(conn);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(apply_changes_exactly_the_plan),
        cmocka_unit_test(apply_refuses_cleanly),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
