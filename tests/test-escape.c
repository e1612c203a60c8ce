/* test-escape.c: names made safe for terminals and pictures (escape.h,
 * picture.h). */
#include "config.h"

#include <string.h>

#include "testutil.h"
#include "escape.h"
#include "picture.h"

static void
text_controls_are_visible(void **state)
{
    static const struct {
        const char *in, *out;
    } cases[] = {
        { "virbr0", "virbr0" },
        { "deb\x1b[2Jian", "deb\\x1b[2Jian" },
        { "a\nb\tc\rd", "a\\x0ab\\x09c\\x0dd" },
        { "del\x7f", "del\\x7f" },
        { "csi\xc2\x9b" "1m", "csi\\u009b1m" },             /* C1 */
        { "rlo\xe2\x80\xae" "txt", "rlo\\u202etxt" },        /* U+202E */
        { "zw\xe2\x80\x8b" "sp", "zw\\u200bsp" },            /* U+200B */
        { "ls\xe2\x80\xa8", "ls\\u2028" },                   /* U+2028 */
        { "bad\xff\xfe", "bad\\xff\\xfe" },                  /* no UTF-8 */
        { "cut\xc3", "cut\\xc3" },
        { "caf\xc3\xa9 \xe4\xb8\xad", "caf\xc3\xa9 \xe4\xb8\xad" }, /* kept */
        { "q\"b\\s", "q\"b\\s" },
    };

    for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_autofree char *e = vn_escape_text(cases[i].in);
        g_autofree char *twice = vn_escape_text(e);

        assert_string_equal(e, cases[i].out);
        assert_string_equal(twice, e);      /* escaping twice is harmless */
        for (const char *p = e; *p; p++)
            assert_true((guchar)*p >= 0x20 && *p != 0x7f);
    }
    assert_null(vn_escape_text(NULL));
}

static void
labels_escape_each_format(void **state)
{
    g_autoptr(VnPic) dot = vn_pic_new(TRUE);
    g_autoptr(VnPic) mmd = vn_pic_new(FALSE);
    const char *name = "eth0\\\"];x[\"&lt;#`<b>\x1b\nline 2";
    g_autofree char *d = vn_pic_label(dot, name);
    g_autofree char *m = vn_pic_label(mmd, name);

    /* DOT: a backslash is an escape there, a quote ends the string */
    assert_string_equal(d, "eth0\\\\\\\"];x[\\\"&amp;lt;#`<b>\\\\x1b\\nline 2");
    /* Mermaid: its entity codes; nothing that ends the string or starts
     * markup, an entity or a markdown string is left */
    assert_string_equal(m, "eth0\\#quot;];x[#quot;#38;lt;#35;#96;#lt;b#gt;"
                           "\\x1b<br/>line 2");
}

static void
ids_are_one_per_object(void **state)
{
    g_autoptr(VnPic) pic = vn_pic_new(FALSE);
    g_autofree char *a = g_strdup(vn_pic_id(pic, "net", "br-1"));
    g_autofree char *b = g_strdup(vn_pic_id(pic, "net", "br_1"));
    g_autofree char *c = g_strdup(vn_pic_id(pic, "net", "br.1"));
    g_autofree char *x = g_strdup(vn_pic_id(pic, "L1:a\"] link", "v\x1b"));

    assert_string_equal(a, "net_br_1");
    assert_string_equal(b, "net_br_1_2");
    assert_string_equal(c, "net_br_1_3");
    assert_string_equal(vn_pic_id(pic, "net", "br-1"), a);  /* the same */
    assert_string_equal(vn_pic_id(pic, "net", "br_1"), b);
    for (const char *p = x; *p; p++)
        assert_true(g_ascii_isalnum(*p) || *p == '_');
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(text_controls_are_visible),
        cmocka_unit_test(labels_escape_each_format),
        cmocka_unit_test(ids_are_one_per_object),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
