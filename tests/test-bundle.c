/* test-bundle.c: a walk's bundle (conf/bundle.c): the bundled example
 * (the seed's nest walked from L0) read and stitched as the three
 * snapshots are; what the walk's builder writes read back, with the
 * layers of an inner bundle renumbered; every structural fault refused
 * with its reason; the agent's guest-network-get-interfaces answer. */
#include "config.h"

#include <string.h>

#include "testutil.h"
#include "bundle.h"
#include "error.h"
#include "nestview.h"
#include "snapshot.h"
#include "stitch.h"

static char *
example(const char *name)
{
    g_autofree char *path = g_build_filename(VN_EXAMPLES, name, NULL);
    char *text = NULL;

    assert_true(g_file_get_contents(path, &text, NULL, NULL));
    return text;
}

/* The nest of a bundle, its layers named as the CLI names them. */
static VnNest *
stitch_bundle(VnBundle *b)
{
    g_autoptr(GPtrArray) layers = g_ptr_array_new_with_free_func(
        (GDestroyNotify)vn_layer_free);
    g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func(g_free);
    g_autoptr(GError) err = NULL;
    VnNest *nest;

    for (guint i = 0; i < b->layers->len; i++) {
        VnBundleLayer *bl = b->layers->pdata[i];

        g_ptr_array_add(layers, g_steal_pointer(&bl->layer));
        g_ptr_array_add(names, g_strdup_printf("L%u", i));
    }
    nest = vn_nest_stitch(layers, names, &err);
    assert_null(err);
    return nest;
}

static void
seed_example(void **state)
{
    g_autofree char *text = example("seed-nest-walk.json");
    g_autoptr(GError) err = NULL;
    g_autoptr(VnBundle) b = vn_bundle_parse(text, -1, "walk", &err);
    g_autoptr(GPtrArray) layers = g_ptr_array_new_with_free_func(
        (GDestroyNotify)vn_layer_free);
    g_autoptr(GPtrArray) names = g_ptr_array_new();
    g_autoptr(VnNest) nest = NULL;
    g_autoptr(VnNest) apart = NULL;
    const char *files[] = { "seed-nest-l0.json", "seed-nest-l1.json",
                            "seed-nest-l2.json" };
    const VnBundleLayer *l1, *l2;

    (void)state;
    assert_null(err);
    assert_int_equal(b->layers->len, 3);
    assert_int_equal(b->leaves->len, 0);
    l1 = b->layers->pdata[1];
    l2 = b->layers->pdata[2];
    assert_int_equal(((VnBundleLayer *)b->layers->pdata[0])->parent, -1);
    assert_null(((VnBundleLayer *)b->layers->pdata[0])->guest);
    assert_int_equal(l1->parent, 0);
    assert_string_equal(l1->guest, "debian");
    assert_string_equal(l1->mac, "52:54:00:fc:38:e0");
    assert_null(l1->reason);
    assert_int_equal(l2->parent, 1);
    assert_string_equal(l2->guest, "debian-l2");
    assert_string_equal(l2->mac, "52:54:00:5a:1a:8e");
    assert_string_equal(l2->layer->host->hostname, "debian-l2");

    /* stitched, the bundle is the nest the three snapshots make: the
     * same picture, layer by layer */
    nest = stitch_bundle(b);
    for (guint i = 0; i < G_N_ELEMENTS(files); i++) {
        g_autofree char *t = example(files[i]);

        g_ptr_array_add(layers, vn_snapshot_parse(t, -1, files[i], &err));
        assert_null(err);
        g_ptr_array_add(names, g_strdup_printf("L%u", i));
    }
    g_ptr_array_set_free_func(names, g_free);
    apart = vn_nest_stitch(layers, names, &err);
    assert_null(err);
    {
        g_autofree char *a = vn_graph_json(nest);
        g_autofree char *c = vn_graph_json(apart);

        assert_string_equal(a, c);
    }
    assert_int_equal(nest->layers->len, 3);
    for (guint i = 1; i < nest->layers->len; i++) {
        const VnNestLayer *nl = nest->layers->pdata[i];

        assert_non_null(nl->parent);
        assert_int_equal(nl->level, i);
        assert_string_equal(nl->guest->name, i == 1 ? "debian" : "debian-l2");
    }
}

/* A small status snapshot: one running guest per name in @guests, MACs
 * 52:54:00:00:00:NN from @mac0, and one host link with MAC @link_mac. */
static char *
snap(const char *host, const char *link_mac, const char *const *guests,
     guint mac0)
{
    GString *s = g_string_new("{\"format\": \"virt-nest-status\", "
                              "\"version\": 1, \"guests\": [");

    for (guint i = 0; guests && guests[i]; i++)
        g_string_append_printf(s, "%s{\"name\": \"%s\", \"state\": "
                               "\"running\", \"interfaces\": [{\"type\": "
                               "\"network\", \"mac\": "
                               "\"52:54:00:00:00:%02x\"}]}", i ? ", " : "",
                               guests[i], mac0 + i);
    g_string_append_printf(s, "], \"host\": {\"hostname\": \"%s\", "
                           "\"links\": [{\"name\": \"eth0\", \"mac\": "
                           "\"%s\", \"addresses\": []}]}}", host, link_mac);
    return g_string_free(s, FALSE);
}

static VnJson *
json(const char *text)
{
    g_autoptr(GError) err = NULL;
    VnJson *j = vn_json_parse(text, -1, &err);

    assert_null(err);
    return j;
}

static void
builder(void **state)
{
    const char *const top[] = { "a", "b", "c", NULL };
    const char *const in_a[] = { "a1", NULL };
    g_autofree char *s0 = snap("top", "00:16:3e:00:00:01", top, 1);
    g_autofree char *sa = snap("a", "52:54:00:00:00:01", in_a, 0x10);
    g_autofree char *sa1 = snap("a1", "52:54:00:00:00:10", NULL, 0);
    g_autoptr(VnBundleBuilder) inner = vn_bundle_builder_new(json(sa));
    g_autoptr(VnBundleBuilder) b = vn_bundle_builder_new(json(s0));
    g_autoptr(GPtrArray) ifaces = vn_agent_ifaces_new();
    g_autoptr(VnAgentIface) ai = NULL;
    g_autoptr(GError) err = NULL;
    g_autofree char *inner_text = NULL;
    g_autofree char *text = NULL;
    g_autoptr(VnBundle) back = NULL;
    const VnBundleLayer *l;
    const VnBundleLeaf *lf;

    (void)state;
    /* inside a: its guest a1 entered, a2 a leaf */
    assert_true(vn_bundle_builder_add(inner, 0, "a1", "52:54:00:00:00:10",
                                      json(sa1), &err));
    vn_bundle_builder_add_leaf(inner, 0, "a1-other", "no agent: x");
    inner_text = vn_bundle_builder_finish(inner);

    /* the top: a's bundle, b partial, c a leaf */
    assert_true(vn_bundle_builder_add(b, 0, "a", "52:54:00:00:00:01",
                                      json(inner_text), &err));
    assert_int_equal(vn_bundle_builder_count(b), 3);
    ai = vn_agent_iface_new("eth0", "52:54:00:00:00:02", &err);
    assert_true(vn_agent_iface_add_address(ai, "10.0.0.2", 24, &err));
    g_ptr_array_add(ifaces, g_steal_pointer(&ai));
    assert_true(vn_bundle_builder_add_partial(b, 0, "b", "52:54:00:00:00:02",
                                              ifaces, "guest-exec is "
                                              "disabled in the guest's agent",
                                              &err));
    vn_bundle_builder_add_leaf(b, 0, "c", "no agent answered in 5 s");
    text = vn_bundle_builder_finish(b);

    back = vn_bundle_parse(text, -1, "built", &err);
    assert_null(err);
    assert_int_equal(back->layers->len, 4);
    l = back->layers->pdata[1];
    assert_int_equal(l->parent, 0);
    assert_string_equal(l->guest, "a");
    assert_string_equal(l->layer->host->hostname, "a");
    l = back->layers->pdata[2];
    assert_int_equal(l->parent, 1);     /* renumbered: a1 hangs off a */
    assert_string_equal(l->guest, "a1");
    l = back->layers->pdata[3];
    assert_int_equal(l->parent, 0);
    assert_string_equal(l->guest, "b");
    assert_string_equal(l->reason, "guest-exec is disabled in the guest's "
                                   "agent");
    assert_string_equal(l->layer->uri, "agent:b");
    assert_int_equal(l->layer->host->links->len, 1);
    assert_int_equal(l->layer->host->addrs->len, 1);
    assert_int_equal(back->leaves->len, 2);
    lf = back->leaves->pdata[0];
    assert_int_equal(lf->parent, 1);    /* a1-other is a's */
    assert_string_equal(lf->guest, "a1-other");
    lf = back->leaves->pdata[1];
    assert_int_equal(lf->parent, 0);
    assert_string_equal(lf->reason, "no agent answered in 5 s");
    {
        /* the partial layer hangs off its guest as a full one would */
        g_autoptr(VnNest) nest = stitch_bundle(back);

        assert_int_equal(nest->layers->len, 4);
    }
}

/* A bundle of @layers (JSON text of the list's items) and no leaves. */
static char *
bundle_of(const char *version, const char *layers)
{
    return g_strdup_printf("{\"format\": \"virt-nest-bundle\", \"version\": "
                           "%s, \"layers\": [%s], \"leaves\": []}", version,
                           layers);
}

static void
refuse(const char *text, gssize len, const char *want)
{
    g_autoptr(GError) err = NULL;
    g_autoptr(VnBundle) b = vn_bundle_parse(text, len, "bad", &err);

    assert_null(b);
    assert_non_null(err);
    if (!strstr(err->message, want))
        fail_msg("'%s' does not say '%s'", err->message, want);
    assert_true(g_error_matches(err, VN_ERROR, VN_ERROR_INVALID));
}

static void
strict(void **state)
{
    const char *const guests[] = { "g", NULL };
    g_autofree char *s = snap("top", "00:16:3e:00:00:01", guests, 1);
    g_autofree char *leaf = snap("g", "52:54:00:00:00:01", NULL, 0);
    g_autofree char *l0 = g_strdup_printf("{\"parent\": null, \"snapshot\": "
                                          "%s}", s);
    g_autofree char *ok = NULL;
    struct { const char *version; char *layers; const char *why; } cases[] = {
        { "2", g_strdup(l0), "version 2 is newer" },
        { "0", g_strdup(l0), "no version" },
        { "1", g_strdup(""), "no \"layers\" list" },
        /* a parent after the layer, itself: a cycle is not possible */
        { "1", g_strdup_printf("%s, {\"parent\": 2, \"guest\": {\"name\": "
                               "\"g\"}, \"snapshot\": %s}, {\"parent\": 1, "
                               "\"guest\": {\"name\": \"g\"}, \"snapshot\": "
                               "%s}", l0, leaf, leaf),
          "not the index of an earlier layer" },
        { "1", g_strdup_printf("%s, {\"parent\": 1, \"guest\": {\"name\": "
                               "\"g\"}, \"snapshot\": %s}", l0, leaf),
          "not the index of an earlier layer" },
        { "1", g_strdup_printf("%s, {\"parent\": -1, \"guest\": {\"name\": "
                               "\"g\"}, \"snapshot\": %s}", l0, leaf),
          "not the index of an earlier layer" },
        { "1", g_strdup_printf("%s, {\"parent\": 0, \"guest\": {\"name\": "
                               "\"nosuch\"}, \"snapshot\": %s}", l0, leaf),
          "layer 0 has no guest 'nosuch'" },
        { "1", g_strdup_printf("%s, {\"parent\": 0, \"guest\": {\"name\": "
                               "\"g\"}, \"snapshot\": %s}, {\"parent\": 0, "
                               "\"guest\": {\"name\": \"g\"}, \"snapshot\": "
                               "%s}", l0, leaf, leaf),
          "given twice" },
        { "1", g_strdup_printf("{\"parent\": 0, \"snapshot\": %s}", s),
          "layer 0 is where the walk started" },
        { "1", g_strdup_printf("%s, {\"parent\": 0, \"guest\": {\"name\": "
                               "\"g\", \"mac\": \"nope\"}, \"snapshot\": %s}",
                               l0, leaf),
          "its mac is not a MAC address" },
        { "1", g_strdup_printf("%s, {\"parent\": 0, \"guest\": {\"name\": "
                               "\"g\"}, \"snapshot\": %s, \"partial\": "
                               "{\"reason\": \"x\", \"interfaces\": []}}",
                               l0, leaf),
          "one of them" },
        { "1", g_strdup_printf("%s, {\"parent\": 0, \"guest\": {\"name\": "
                               "\"g\"}, \"partial\": {\"interfaces\": []}}",
                               l0),
          "without its reason" },
        /* a partial layer has no guests to be the parent of */
        { "1", g_strdup_printf("%s, {\"parent\": 0, \"guest\": {\"name\": "
                               "\"g\"}, \"partial\": {\"reason\": \"x\", "
                               "\"interfaces\": []}}, {\"parent\": 1, "
                               "\"guest\": {\"name\": \"g\"}, \"snapshot\": "
                               "%s}", l0, leaf),
          "is partial and has no guests" },
        { "1", g_strdup_printf("%s, {\"parent\": 0, \"guest\": {\"name\": "
                               "\"g\"}, \"partial\": {\"reason\": \"x\", "
                               "\"interfaces\": [{\"name\": \"eth0\", "
                               "\"addresses\": [\"300.1.1.1/24\"]}]}}", l0),
          "interface 0" },
        /* a snapshot inside that the snapshot reader refuses */
        { "1", g_strdup_printf("%s, {\"parent\": 0, \"guest\": {\"name\": "
                               "\"g\"}, \"snapshot\": {\"format\": \"x\"}}",
                               l0),
          "not a virt-nest status snapshot" },
    };
    GString *many = g_string_new(l0);

    (void)state;
    ok = bundle_of("1", l0);
    {
        g_autoptr(GError) err = NULL;
        g_autoptr(VnBundle) b = vn_bundle_parse(ok, -1, "ok", &err);

        assert_null(err);
        assert_int_equal(b->layers->len, 1);
    }
    for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_autofree char *t = bundle_of(cases[i].version, cases[i].layers);

        refuse(t, -1, cases[i].why);
        g_free(cases[i].layers);
    }
    refuse("{\"format\": \"virt-nest-status\", \"version\": 1}", -1,
           "not a virt-nest bundle");
    refuse("[1, 2", -1, "JSON");
    /* too large: refused before it is read */
    refuse(ok, (gssize)VN_BUNDLE_MAX_BYTES + 1, "more than");
    /* too many layers: the leaf snapshot's guest list is the top's */
    for (guint i = 0; i < VN_BUNDLE_MAX_LAYERS; i++)
        g_string_append_printf(many, ", {\"parent\": 0, \"guest\": "
                               "{\"name\": \"g%u\"}, \"snapshot\": %s}", i,
                               leaf);
    {
        g_autofree char *t = bundle_of("1", many->str);

        refuse(t, -1, "layers, more than 256");
    }
    g_string_free(many, TRUE);
    {
        g_autofree char *t = g_strdup_printf(
            "{\"format\": \"virt-nest-bundle\", \"version\": 1, \"layers\": "
            "[%s], \"leaves\": [{\"parent\": 3, \"guest\": \"x\", "
            "\"reason\": \"y\"}]}", l0);

        refuse(t, -1, "leaf 0");
    }
}

static void
agent_reply(void **state)
{
    /* qemu-ga 7.2's answer, as virsh qemu-agent-command prints it */
    const char *reply =
        "{\"return\":[{\"name\":\"lo\",\"ip-addresses\":[{\"ip-address-type\":"
        "\"ipv4\",\"ip-address\":\"127.0.0.1\",\"prefix\":8}],"
        "\"hardware-address\":\"00:00:00:00:00:00\"},{\"name\":\"eth0\","
        "\"ip-addresses\":[{\"ip-address-type\":\"ipv4\",\"ip-address\":"
        "\"192.168.161.60\",\"prefix\":24},{\"ip-address-type\":\"ipv6\","
        "\"ip-address\":\"fe80::5054:ff:fe17:60\",\"prefix\":64}],"
        "\"hardware-address\":\"52:54:00:17:00:60\"},{\"name\":\"virbr0\","
        "\"ip-addresses\":[{\"ip-address-type\":\"ipv4\",\"ip-address\":"
        "\"192.168.124.1\",\"prefix\":24}],\"hardware-address\":"
        "\"4e:1c:22:aa:01:02\"}]}";
    g_autoptr(GError) err = NULL;
    g_autoptr(GPtrArray) ifaces = vn_agent_ifaces_parse("g", reply, &err);
    const VnAgentIface *eth0;
    const char *bad[] = {
        "{\"return\": {}}",
        "{\"error\": {\"class\": \"GenericError\"}}",
        "{\"return\": [{\"name\": \"eth0\", \"hardware-address\": \"xx\"}]}",
        ("{\"return\": [{\"name\": \"eth0\", \"ip-addresses\": [{\"ip-address-"
         "type\": \"ipv4\", \"ip-address\": \"10.0.0.1\", \"prefix\": 33}]}]}"),
        "{\"return\": [{\"name\": \"\"}]}",
        "not json",
    };

    (void)state;
    assert_null(err);
    assert_int_equal(ifaces->len, 3);
    eth0 = ifaces->pdata[1];
    assert_string_equal(eth0->name, "eth0");
    assert_string_equal(eth0->mac, "52:54:00:17:00:60");
    assert_int_equal(eth0->addrs->len, 2);
    assert_true(vn_agent_iface_is_loopback(ifaces->pdata[0]));
    for (guint i = 0; i < G_N_ELEMENTS(bad); i++) {
        g_autoptr(GError) e = NULL;
        g_autoptr(GPtrArray) none = vn_agent_ifaces_parse("g", bad[i], &e);

        assert_null(none);
        assert_non_null(e);
        assert_non_null(strstr(e->message, "domain 'g'"));
    }
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(seed_example),
        cmocka_unit_test(builder),
        cmocka_unit_test(strict),
        cmocka_unit_test(agent_reply),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
