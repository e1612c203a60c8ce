/* testutil.h: helpers shared by the cmocka tests.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <glib.h>
#include <string.h>

/* Read tests/data/@name; fails the test if it cannot. */
static inline char *
vn_test_read(const char *name)
{
    g_autofree char *path = g_build_filename(VN_TEST_DATA, name, NULL);
    char *text = NULL;

    if (!g_file_get_contents(path, &text, NULL, NULL))
        fail_msg("cannot read %s", path);
    return text;
}

#define assert_cidr_str(cidr, expected) do { \
        char _b[VN_CIDR_STRLEN]; \
        assert_string_equal(vn_cidr_format((cidr), TRUE, _b), (expected)); \
    } while (0)

/* Assert that @err is set and its message contains @needle. */
#define assert_error_contains(err, needle) do { \
        assert_non_null(err); \
        if (!strstr((err)->message, (needle))) \
            fail_msg("error '%s' lacks '%s'", (err)->message, (needle)); \
    } while (0)

/* Golden cases: every folder of tests/golden/@sub is one case; @render
 * turns the folder into text, compared with the folder's `expected` file
 * (VN_REGENERATE=1 rewrites them all; review the diff like code). At
 * least @min cases must be there. */
static inline void
vn_test_golden(const char *sub, char *(*render)(const char *dir), guint min)
{
    g_autofree char *root = g_build_filename(VN_TEST_GOLDEN, sub, NULL);
    g_autoptr(GDir) d = g_dir_open(root, 0, NULL);
    g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func(g_free);
    gboolean regen = g_strcmp0(g_getenv("VN_REGENERATE"), "1") == 0;
    const char *n;
    guint failed = 0;

    assert_non_null(d);
    while ((n = g_dir_read_name(d)))
        g_ptr_array_add(names, g_strdup(n));
    g_ptr_array_sort(names, (GCompareFunc)g_strcmp0);
    assert_true(names->len >= min);
    for (guint i = 0; i < names->len; i++) {
        g_autofree char *dir = g_build_filename(root, names->pdata[i], NULL);
        g_autofree char *exp_path = g_build_filename(dir, "expected", NULL);
        g_autofree char *got = render(dir);
        g_autofree char *want = NULL;

        if (regen) {
            assert_true(g_file_set_contents(exp_path, got, -1, NULL));
            continue;
        }
        if (!g_file_get_contents(exp_path, &want, NULL, NULL) ||
            strcmp(want, got) != 0) {
            print_error("%s differs (VN_REGENERATE=1 rewrites it); got:\n%s\n",
                        exp_path, got);
            failed++;
        }
    }
    assert_int_equal(failed, 0);
}
