/* replay.c: main() of the fuzz targets outside libFuzzer: runs every file
 * named, and every file under every directory named, through the target
 * once, in name order. Exit 0 when each ran to its end; a crash, an
 * abort of VN_FUZZ_CHECK or a sanitizer report fails the test.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <string.h>

#include "fuzz.h"

static void
collect(const char *path, GPtrArray *files)
{
    g_autoptr(GDir) d = NULL;
    g_autoptr(GPtrArray) names = NULL;
    const char *n;

    if (!g_file_test(path, G_FILE_TEST_IS_DIR)) {
        g_ptr_array_add(files, g_strdup(path));
        return;
    }
    if (!(d = g_dir_open(path, 0, NULL)))
        return;
    names = g_ptr_array_new_with_free_func(g_free);
    while ((n = g_dir_read_name(d)))
        g_ptr_array_add(names, g_build_filename(path, n, NULL));
    g_ptr_array_sort(names, (GCompareFunc)g_strcmp0);
    for (guint i = 0; i < names->len; i++)
        collect(names->pdata[i], files);
}

int
main(int argc, char **argv)
{
    g_autoptr(GPtrArray) files = g_ptr_array_new_with_free_func(g_free);

    for (int i = 1; i < argc; i++) {
        if (!g_file_test(argv[i], G_FILE_TEST_EXISTS)) {
            fprintf(stderr, "replay: %s does not exist\n", argv[i]);
            return 1;
        }
        collect(argv[i], files);
    }
    for (guint i = 0; i < files->len; i++) {
        g_autofree char *data = NULL;
        g_autoptr(GError) err = NULL;
        gsize len;

        if (!g_file_get_contents(files->pdata[i], &data, &len, &err)) {
            fprintf(stderr, "replay: %s\n", err->message);
            return 1;
        }
        LLVMFuzzerTestOneInput((const uint8_t *)data, len);
    }
    printf("replayed %u inputs\n", files->len);
    return 0;
}
