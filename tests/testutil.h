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
