/* test-changelog.c: the change log (state/changelog.h) in a scratch state
 * directory: its line format and its reading back (text and JSON), names
 * that hold quotes, newlines and backslashes, processes that append at the
 * same time (no line cut into another), the rotation that bounds it, and a
 * state directory others can write (refused, nothing written).
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "testutil.h"
#include "changelog.h"
#include "json.h"

static char *
make_tmpdir(void)
{
    g_autoptr(GError) err = NULL;
    char *dir = g_dir_make_tmp("vnL-log-XXXXXX", &err);

    assert_non_null(dir);
    return dir;
}

static void
rm_dir(const char *dir)
{
    const char *files[] = { "changes.log", "changes.log.1" };

    for (guint i = 0; i < G_N_ELEMENTS(files); i++) {
        g_autofree char *p = g_build_filename(dir, files[i], NULL);

        unlink(p);
    }
    assert_int_equal(rmdir(dir), 0);
}

static GPtrArray *
lines_of(const char *first, ...)
{
    GPtrArray *a = g_ptr_array_new_with_free_func(g_free);
    va_list ap;

    va_start(ap, first);
    for (const char *s = first; s; s = va_arg(ap, const char *))
        g_ptr_array_add(a, g_strdup(s));
    va_end(ap);
    return a;
}

static void
format_and_read_back(void **state)
{
    g_autofree char *dir = make_tmpdir();
    g_autofree char *path = g_build_filename(dir, "changes.log", NULL);
    g_autofree char *data = NULL;
    g_autofree char *json = NULL;
    g_autofree char *pid = g_strdup_printf("hook[%ld]: ", (long)getpid());
    g_autoptr(GPtrArray) changes = lines_of(
        "domain 'debian': add route 192.168.124.0/24 via 192.168.122.191 "
        "dev virbr0 proto 155",
        "network 'it's\n\\x': insert rule \"virt-nest a\" at the head of "
        "ip filter FORWARD",
        NULL);
    g_autoptr(GPtrArray) read = NULL;
    g_autoptr(GError) err = NULL;
    g_autoptr(VnJson) doc = NULL;
    const VnChange *c;
    const VnJson *arr, *e;
    struct stat st;

    (void)state;
    /* nothing yet: empty, no error */
    read = vn_changelog_read(dir, 5, &err);
    assert_non_null(read);
    assert_int_equal(read->len, 0);
    g_clear_pointer(&read, g_ptr_array_unref);

    assert_true(vn_changelog_record(dir, "hook", changes, &err));
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 07777, 0644);
    assert_true(g_file_get_contents(path, &data, NULL, NULL));
    /* two lines, time first, the name's quote and newline escaped */
    assert_non_null(strstr(data, pid));
    assert_non_null(strstr(data, "Z hook["));
    assert_non_null(strstr(data, "]: domain 'debian': add route "
                                 "192.168.124.0/24 via 192.168.122.191 dev "
                                 "virbr0 proto 155\n"));
    assert_non_null(strstr(data, "]: network 'it\\x27s\\x0a\\x5cx': "
                                 "insert rule "
                                 "\"virt-nest a\" at the head of ip filter "
                                 "FORWARD\n"));
    assert_int_equal(data[strlen(data) - 1], '\n');

    read = vn_changelog_read(dir, 1, &err);
    assert_non_null(read);
    assert_int_equal(read->len, 1);
    c = read->pdata[0];
    assert_string_equal(c->who, "hook");
    assert_int_equal(c->pid, getpid());
    assert_string_equal(c->object, "network 'it\\x27s\\x0a\\x5cx'");
    assert_string_equal(c->action, "insert");
    assert_int_equal(strlen(c->time), strlen("2026-12-03T13:01:32Z"));
    g_clear_pointer(&read, g_ptr_array_unref);

    read = vn_changelog_read(dir, 0, &err);
    assert_int_equal(read->len, 2);
    json = vn_changelog_json(read);
    doc = vn_json_parse(json, -1, &err);
    assert_non_null(doc);
    arr = vn_json_get(doc, "changes");
    assert_int_equal(vn_json_length(arr), 2);
    e = vn_json_index(arr, 0);
    assert_string_equal(vn_json_get_string(e, "kind"), "domain");
    assert_string_equal(vn_json_get_string(e, "name"), "debian");
    assert_string_equal(vn_json_get_string(e, "action"), "add");
    e = vn_json_index(arr, 1);
    assert_string_equal(vn_json_get_string(e, "kind"), "network");
    /* the name as libvirt has it, unescaped */
    assert_string_equal(vn_json_get_string(e, "name"), "it's\n\\x");
    assert_string_equal(vn_json_get_string(e, "what"),
                        "insert rule \"virt-nest a\" at the head of ip "
                        "filter FORWARD");
    rm_dir(dir);
}

/* 8 processes append 400 lines each at once: every line whole. */
#define WRITERS 8
#define PER_WRITER 400

static void
concurrent_appends_stay_whole(void **state)
{
    g_autofree char *dir = make_tmpdir();
    g_autoptr(GPtrArray) read = NULL;
    g_autoptr(GError) err = NULL;
    guint counts[WRITERS] = { 0 };
    pid_t pids[WRITERS];

    (void)state;
    for (int w = 0; w < WRITERS; w++) {
        pids[w] = fork();
        assert_true(pids[w] >= 0);
        if (pids[w] == 0) {
            for (int i = 0; i < PER_WRITER; i++) {
                g_autoptr(GPtrArray) one =
                    g_ptr_array_new_with_free_func(g_free);

                g_ptr_array_add(one, g_strdup_printf(
                    "domain 'w%d': add route 10.%d.%d.0/24 via 192.168.122.2 "
                    "dev virbr0 proto 155 padding padding padding padding",
                    w, w, i % 256));
                if (!vn_changelog_record(dir, "hook", one, NULL))
                    _exit(1);
            }
            /* the child's copy (_exit runs no cleanup; valgrind looks) */
            g_free(dir);
            _exit(0);
        }
    }
    for (int w = 0; w < WRITERS; w++) {
        int status;

        assert_int_equal(waitpid(pids[w], &status, 0), pids[w]);
        assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    }
    /* about 400 KiB were written: rotated at least once, and what is
     * kept is bounded by two files */
    read = vn_changelog_read(dir, 0, &err);
    assert_non_null(read);
    assert_true(read->len > 0);
    assert_true(read->len < WRITERS * PER_WRITER);
    for (guint i = 0; i < read->len; i++) {
        const VnChange *c = read->pdata[i];
        int w = -1;

        if (!c->object || sscanf(c->object, "domain 'w%d'", &w) != 1 ||
            w < 0 || w >= WRITERS || !g_str_has_prefix(c->what, "add route ") ||
            !g_str_has_suffix(c->what, " padding padding padding padding"))
            fail_msg("line %u is cut or mixed: %s", i, c->line);
        counts[w]++;
    }
    {
        g_autofree char *p = g_build_filename(dir, "changes.log", NULL);
        g_autofree char *p1 = g_build_filename(dir, "changes.log.1", NULL);
        struct stat st, st1;

        assert_int_equal(stat(p1, &st1), 0);
        /* a file passes the bound by at most the lines written while it
         * was being rotated */
        assert_true(st1.st_size < VN_CHANGELOG_MAX_BYTES + WRITERS * 256);
        if (stat(p, &st) == 0)
            assert_true(st.st_size < VN_CHANGELOG_MAX_BYTES + WRITERS * 256);
    }
    rm_dir(dir);
}

/* A state directory others can write: refused, nothing written. */
static void
unsafe_dir_refused(void **state)
{
    g_autofree char *dir = make_tmpdir();
    g_autofree char *path = g_build_filename(dir, "changes.log", NULL);
    g_autoptr(GPtrArray) changes = lines_of("domain 'a': add route x", NULL);
    g_autoptr(GError) err = NULL;

    (void)state;
    assert_int_equal(chmod(dir, 0777), 0);
    assert_false(vn_changelog_record(dir, "hook", changes, &err));
    assert_error_contains(err, "writable by group or others");
    assert_int_equal(access(path, F_OK), -1);
    assert_int_equal(chmod(dir, 0755), 0);
    rm_dir(dir);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(format_and_read_back),
        cmocka_unit_test(concurrent_appends_stay_whole),
        cmocka_unit_test(unsafe_dir_refused),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
