/* fuzz.h: shared by the libFuzzer targets of tests/fuzz/.
 *
 * Each target defines LLVMFuzzerTestOneInput. With -Dfuzzing=true (clang)
 * it links libFuzzer; in every other build it links replay.c, whose main()
 * runs the inputs kept under tests/fuzz/crashes/TARGET/ and the seeds, so
 * every crash found stays a regression test of the ordinary suite.
 *
 * A target checks what must hold of the results, beyond "no crash", with
 * VN_FUZZ_CHECK: a violation aborts, in the fuzzer and in the replay.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <glib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define VN_FUZZ_CHECK(cond) do { \
        if (!(cond)) { \
            fprintf(stderr, "%s:%d: fuzz check failed: %s\n", __FILE__, \
                    __LINE__, #cond); \
            abort(); \
        } \
    } while (0)

/* The next part of the input, up to (not with) @sep or the end; moves
 * *@data past the separator. transfer full, NUL-terminated (with any NUL
 * of the input inside: @len says how long it is). */
static inline char *
vn_fuzz_next(const uint8_t **data, size_t *size, const char *sep, size_t *len)
{
    size_t n = strlen(sep), i = 0;
    char *part;

    while (i < *size && !(i + n <= *size && memcmp(*data + i, sep, n) == 0))
        i++;
    part = g_strndup((const char *)*data, i);
    if (len)
        *len = i;
    if (i < *size) {
        *data += i + n;
        *size -= i + n;
    } else {
        *data += i;
        *size = 0;
    }
    return part;
}
