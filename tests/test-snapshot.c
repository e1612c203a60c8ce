/* test-snapshot.c: a snapshot read back is the layer that was written:
 * status JSON -> snapshot -> status JSON keeps the host view (links,
 * addresses, routes, sysctls, the firewall) byte for byte. */
#include "config.h"

#include <string.h>

#include "testutil.h"
#include "layerview.h"
#include "snapshot.h"
#include "vnconfig.h"

/* The text of the "host" member: from its key to the "networks" key. */
static char *
host_part(const char *json)
{
    const char *a = strstr(json, "\"host\": ");
    const char *b = a ? strstr(a, "\"networks\": ") : NULL;

    assert_non_null(a);
    assert_non_null(b);
    return g_strndup(a, (gsize)(b - a));
}

static void
round_trip_one(const char *name)
{
    g_autofree char *path = g_build_filename(VN_EXAMPLES, name, NULL);
    g_autofree char *text = NULL;
    g_autoptr(GError) err = NULL;
    g_autoptr(VnLayer) layer = NULL;
    g_autoptr(VnPlan) plan = NULL;
    g_autofree char *again = NULL;
    g_autofree char *h1 = NULL, *h2 = NULL;
    VnConfig config;
    VnStatus st = { 0 };

    assert_true(g_file_get_contents(path, &text, NULL, NULL));
    layer = vn_snapshot_parse(text, -1, name, &err);
    assert_null(err);
    assert_non_null(layer->host);
    assert_non_null(layer->host->firewall);
    vn_config_init(&config);
    plan = vn_plan_layer(layer, &config, 0);
    st.layer = layer;
    st.plan = plan;
    again = vn_status_json(&st);
    h1 = host_part(text);
    h2 = host_part(again);
    assert_string_equal(h1, h2);
}

static void
round_trip(void **state)
{
    round_trip_one("seed-nest-l0.json");
    round_trip_one("seed-nest-l1.json");
    round_trip_one("seed-nest-l2.json");
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(round_trip),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
