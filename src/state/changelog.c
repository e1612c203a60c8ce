/* changelog.c: the record of what the hooks and reconcile changed
 * (changelog.h says the format).
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <syslog.h>
#include <unistd.h>

#include "changelog.h"
#include "error.h"
#include "json.h"
#include "statepath.h"

void
vn_change_free(VnChange *change)
{
    if (!change)
        return;
    g_free(change->time);
    g_free(change->who);
    g_free(change->object);
    g_free(change->action);
    g_free(change->what);
    g_free(change->line);
    g_free(change);
}

/* @s onto @out, control bytes (and, with @name, quotes and backslashes)
 * as \xHH. */
static void
append_escaped(GString *out, const char *s, gssize len, gboolean name)
{
    for (gssize i = 0; len < 0 ? s[i] != '\0' : i < len; i++) {
        unsigned char c = (unsigned char)s[i];

        if (c < 0x20 || c == 0x7f || (name && (c == '\'' || c == '\\')))
            g_string_append_printf(out, "\\x%02x", c);
        else
            g_string_append_c(out, (char)c);
    }
}

/* "OBJECT: what" as stored: the name in OBJECT escaped. */
static void
append_change(GString *out, const char *change)
{
    static const char *const kinds[] = { "network '", "domain '" };

    for (guint i = 0; i < G_N_ELEMENTS(kinds); i++) {
        const char *name = change + strlen(kinds[i]);
        const char *end;

        if (!g_str_has_prefix(change, kinds[i]) || !(end = strstr(name, "': ")))
            continue;
        g_string_append(out, kinds[i]);
        append_escaped(out, name, end - name, TRUE);
        g_string_append(out, "': ");
        append_escaped(out, end + 3, -1, FALSE);
        return;
    }
    append_escaped(out, change, -1, FALSE);
}

/* Append @line (with its newline) to @path in one write(); rotate the
 * file when it has grown past the bound. */
static gboolean
append_line(const char *path, const char *line, gsize len, GError **error)
{
    struct stat st, now;
    ssize_t n;
    int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_NOFOLLOW | O_CLOEXEC,
                  0644);

    if (fd < 0) {
        g_set_error(error, VN_ERROR, VN_ERROR_FAILED, "cannot open %s: %s",
                    path, g_strerror(errno));
        return FALSE;
    }
    do
        n = write(fd, line, len);
    while (n < 0 && errno == EINTR);
    if (n != (ssize_t)len) {
        g_set_error(error, VN_ERROR, VN_ERROR_FAILED, "cannot write %s: %s",
                    path, n < 0 ? g_strerror(errno) : "short write");
        close(fd);
        return FALSE;
    }
    /* one rotation per full file: under its lock, and only while the name
     * still is the file written to (another process may have rotated) */
    if (fstat(fd, &st) == 0 && st.st_size >= VN_CHANGELOG_MAX_BYTES &&
        flock(fd, LOCK_EX) == 0) {
        if (lstat(path, &now) == 0 && now.st_ino == st.st_ino &&
            now.st_dev == st.st_dev) {
            g_autofree char *old = g_strconcat(path, ".1", NULL);

            if (rename(path, old) < 0) {
                g_set_error(error, VN_ERROR, VN_ERROR_FAILED,
                            "cannot rotate %s: %s", path, g_strerror(errno));
                close(fd);
                return FALSE;
            }
        }
    }
    close(fd);
    return TRUE;
}

gboolean
vn_changelog_record(const char *dir, const char *who, GPtrArray *changes,
                    GError **error)
{
    g_autoptr(GDateTime) t = g_date_time_new_now_utc();
    g_autofree char *stamp = g_date_time_format(t, "%Y-%m-%dT%H:%M:%SZ");
    g_autofree char *path = g_build_filename(dir, VN_CHANGELOG_FILE, NULL);
    char msg[4400];
    gboolean ok = TRUE;

    if (!changes->len)
        return TRUE;
    openlog("virt-nest", LOG_PID, LOG_DAEMON);
    for (guint i = 0; i < changes->len; i++) {
        const char *c = changes->pdata[i];
        int prio = strstr(c, ": refuse ") || strstr(c, ": fail ")
                   ? LOG_WARNING : LOG_NOTICE;

        syslog(prio, "%s: %s", who, c);
    }
    closelog();
    /* the file: only into a directory that is safe to write */
    if (vn_state_dir_check(dir, msg, sizeof(msg)) < 0) {
        g_set_error_literal(error, VN_ERROR, VN_ERROR_FAILED, msg);
        return FALSE;
    }
    if (g_mkdir_with_parents(dir, 0755) < 0) {
        g_set_error(error, VN_ERROR, VN_ERROR_FAILED, "cannot create %s: %s",
                    dir, g_strerror(errno));
        return FALSE;
    }
    for (guint i = 0; ok && i < changes->len; i++) {
        g_autoptr(GString) line = g_string_new(NULL);

        g_string_append_printf(line, "%s %s[%ld]: ", stamp, who,
                               (long)getpid());
        append_change(line, changes->pdata[i]);
        g_string_append_c(line, '\n');
        ok = append_line(path, line->str, line->len, error);
    }
    return ok;
}

/* Split one stored line; NULL fields when it is not of the format. */
static VnChange *
parse_line(const char *line)
{
    VnChange *c = g_new0(VnChange, 1);
    const char *sp, *br, *end, *obj, *oend;
    char *pid_end;
    gint64 pid;

    c->line = g_strdup(line);
    if (!(sp = strchr(line, ' ')) || !(br = strchr(sp + 1, '[')) ||
        !(end = strstr(br, "]: ")))
        return c;
    pid = g_ascii_strtoll(br + 1, &pid_end, 10);
    if (pid_end != end)
        return c;
    obj = end + 3;
    /* "KIND 'NAME': what"; the name holds no quote (escaped), and a word
     * and a space come before it (object_name() takes the word) */
    if (!(oend = strchr(obj, '\'')) || oend - obj < 2 || oend[-1] != ' ' ||
        !(oend = strstr(oend + 1, "': ")))
        return c;
    c->time = g_strndup(line, sp - line);
    c->who = g_strndup(sp + 1, br - sp - 1);
    c->pid = pid;
    c->object = g_strndup(obj, oend + 1 - obj);
    c->what = g_strdup(oend + 3);
    /* "refuse prepare begin: ...", "refuse: ..." */
    c->action = g_strndup(c->what, strcspn(c->what, " :"));
    return c;
}

/* Every line of @path onto @lines (char*); a missing file is none. */
static gboolean
read_lines(const char *path, GPtrArray *lines, GError **error)
{
    g_autofree char *data = NULL;
    g_autoptr(GError) err = NULL;
    g_autofree char **split = NULL;   /* the strings move to @lines */
    gsize len;

    if (!g_file_get_contents(path, &data, &len, &err)) {
        if (g_error_matches(err, G_FILE_ERROR, G_FILE_ERROR_NOENT))
            return TRUE;
        if (g_error_matches(err, G_FILE_ERROR, G_FILE_ERROR_ACCES))
            g_set_error(error, VN_ERROR, VN_ERROR_FAILED, "cannot read %s: "
                        "permission denied; run it as root, or make the "
                        "file readable (the hook writes it 0644)", path);
        else
            g_set_error(error, VN_ERROR, VN_ERROR_FAILED, "%s", err->message);
        return FALSE;
    }
    split = g_strsplit(data, "\n", -1);
    for (guint i = 0; split[i]; i++) {
        if (*split[i])
            g_ptr_array_add(lines, split[i]);
        else
            g_free(split[i]);
    }
    return TRUE;
}

GPtrArray *
vn_changelog_read(const char *dir, guint n, GError **error)
{
    g_autofree char *path = g_build_filename(dir, VN_CHANGELOG_FILE, NULL);
    g_autofree char *old = g_strconcat(path, ".1", NULL);
    g_autoptr(GPtrArray) lines = g_ptr_array_new_with_free_func(g_free);
    GPtrArray *out;
    guint from;

    if (!read_lines(old, lines, error) || !read_lines(path, lines, error))
        return NULL;
    from = n && lines->len > n ? lines->len - n : 0;
    out = g_ptr_array_new_with_free_func((GDestroyNotify)vn_change_free);
    for (guint i = from; i < lines->len; i++)
        g_ptr_array_add(out, parse_line(lines->pdata[i]));
    return out;
}

/* The name inside "KIND 'NAME'", \xHH decoded. */
static char *
object_name(const char *object, char **kind)
{
    const char *q = strchr(object, '\'');
    GString *name = g_string_new(NULL);

    *kind = g_strndup(object, q ? (gsize)(q - object - 1) : 0);
    for (const char *p = q ? q + 1 : object; *p && p[1]; p++) {
        int hi, lo;

        if (p[0] == '\\' && p[1] == 'x' &&
            (hi = g_ascii_xdigit_value(p[2])) >= 0 &&
            (lo = g_ascii_xdigit_value(p[3])) >= 0) {
            g_string_append_c(name, (char)(hi * 16 + lo));
            p += 3;
        } else {
            g_string_append_c(name, *p);
        }
    }
    return g_string_free(name, FALSE);
}

char *
vn_changelog_json(GPtrArray *changes)
{
    g_autoptr(VnJsonWriter) w = vn_json_writer_new();

    vn_json_begin_object(w, NULL);
    vn_json_int(w, "version", 1);
    vn_json_begin_array(w, "changes");
    for (guint i = 0; i < changes->len; i++) {
        const VnChange *c = changes->pdata[i];

        vn_json_begin_object(w, NULL);
        if (c->object) {
            g_autofree char *kind = NULL;
            g_autofree char *name = object_name(c->object, &kind);

            vn_json_string(w, "time", c->time);
            vn_json_string(w, "who", c->who);
            vn_json_int(w, "pid", c->pid);
            vn_json_string(w, "kind", kind);
            vn_json_string(w, "name", name);
            vn_json_string(w, "action", c->action);
            vn_json_string(w, "what", c->what);
        } else {
            vn_json_string(w, "line", c->line);
        }
        vn_json_end_object(w);
    }
    vn_json_end_array(w);
    vn_json_end_object(w);
    return vn_json_writer_finish(w);
}
