/* test-json.c: the JSON reader and writer. */
#include "config.h"

#include <string.h>

#include "testutil.h"
#include "json.h"

static void
parse_values(void **state)
{
    g_autoptr(GError) err = NULL;
    g_autoptr(VnJson) j = vn_json_parse(
        " {\"a\": [1, -2.5e3, true, false, null], \"s\": \"x\\u00e9\\n\\ud83d\\ude00\","
        " \"o\": {}, \"n\": 1795543370}", -1, &err);
    const VnJson *a;
    gint64 n;

    assert_null(err);
    assert_non_null(j);
    a = vn_json_get(j, "a");
    assert_int_equal(vn_json_length(a), 5);
    assert_int_equal(vn_json_index(a, 0)->type, VN_JSON_NUMBER);
    assert_true(vn_json_index(a, 1)->number == -2500.0);
    assert_true(vn_json_index(a, 2)->boolean);
    assert_false(vn_json_index(a, 3)->boolean);
    assert_int_equal(vn_json_index(a, 3)->type, VN_JSON_BOOL);
    assert_int_equal(vn_json_index(a, 4)->type, VN_JSON_NULL);
    assert_string_equal(vn_json_get_string(j, "s"), "x\xc3\xa9\n\xf0\x9f\x98\x80");
    assert_true(vn_json_get_int(j, "n", &n));
    assert_int_equal(n, 1795543370);
    assert_false(vn_json_get_int(j, "s", &n));
    assert_null(vn_json_get(j, "missing"));
}

static void
parse_errors(void **state)
{
    static const char *const bad[] = {
        "", "{", "[1,]", "{\"a\" 1}", "\"unterminated", "01", "1.", "-",
        "[1] x", "\"\\ud800\"", "\"\\q\"", "{\"a\":1,}", "tru", "\"a\x01\"",
    };

    for (guint i = 0; i < G_N_ELEMENTS(bad); i++) {
        g_autoptr(GError) err = NULL;
        g_autoptr(VnJson) j = vn_json_parse(bad[i], -1, &err);

        if (j)
            fail_msg("'%s' parsed", bad[i]);
        assert_error_contains(err, "JSON: offset");
    }
}

static void
deep_nesting(void **state)
{
    g_autoptr(GString) s = g_string_new(NULL);
    g_autoptr(GError) err = NULL;
    g_autoptr(VnJson) j = NULL;

    for (int i = 0; i < 1000; i++)
        g_string_append_c(s, '[');
    j = vn_json_parse(s->str, -1, &err);
    assert_null(j);
    assert_error_contains(err, "nested too deeply");
}

static void
write_roundtrip(void **state)
{
    g_autoptr(VnJsonWriter) w = vn_json_writer_new();
    g_autofree char *text = NULL;
    g_autoptr(VnJson) back = NULL;

    vn_json_begin_object(w, NULL);
    vn_json_string(w, "name", "de\"fault\\\n");
    vn_json_int(w, "n", -42);
    vn_json_bool(w, "yes", TRUE);
    vn_json_null(w, "nothing");
    vn_json_begin_array(w, "empty");
    vn_json_end_array(w);
    vn_json_begin_array(w, "list");
    vn_json_string(w, NULL, "a");
    vn_json_string(w, NULL, NULL);
    vn_json_end_array(w);
    vn_json_end_object(w);
    text = vn_json_writer_finish(w);

    assert_string_equal(text,
                        "{\n"
                        "  \"name\": \"de\\\"fault\\\\\\n\",\n"
                        "  \"n\": -42,\n"
                        "  \"yes\": true,\n"
                        "  \"nothing\": null,\n"
                        "  \"empty\": [],\n"
                        "  \"list\": [\n"
                        "    \"a\",\n"
                        "    null\n"
                        "  ]\n"
                        "}\n");
    back = vn_json_parse(text, -1, NULL);
    assert_non_null(back);
    assert_string_equal(vn_json_get_string(back, "name"), "de\"fault\\\n");
}

/* What a terminal would act on leaves the writer as \uXXXX, and bytes that
 * are no UTF-8 (a kernel link name can be any) as U+FFFD: the output is
 * valid JSON that reads back the same names. */
static void
write_hostile_names(void **state)
{
    const char *name = "a\x1b[2J\x7f\xc2\x9b" "1m\xe2\x80\xae\xe2\x80\xa8" "\xc3\xa9";
    g_autoptr(VnJsonWriter) w = vn_json_writer_new();
    g_autofree char *text = NULL;
    g_autoptr(VnJson) back = NULL;

    vn_json_begin_object(w, NULL);
    vn_json_string(w, "name", name);
    vn_json_string(w, "bad", "x\xff\xfey");
    vn_json_end_object(w);
    text = vn_json_writer_finish(w);
    assert_string_equal(text,
                        "{\n"
                        "  \"name\": \"a\\u001b[2J\\u007f\\u009b1m"
                        "\\u202e\\u2028\xc3\xa9\",\n"
                        "  \"bad\": \"x\\ufffd\\ufffdy\"\n"
                        "}\n");
    back = vn_json_parse(text, -1, NULL);
    assert_non_null(back);
    assert_string_equal(vn_json_get_string(back, "name"), name);
    assert_string_equal(vn_json_get_string(back, "bad"),
                        "x\xef\xbf\xbd\xef\xbf\xbdy");
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(parse_values),
        cmocka_unit_test(parse_errors),
        cmocka_unit_test(deep_nesting),
        cmocka_unit_test(write_roundtrip),
        cmocka_unit_test(write_hostile_names),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
