/* changelog.h: what the hooks and reconcile changed, one line per change,
 * in syslog (ident "virt-nest", facility LOG_DAEMON) and in virt-nest's
 * own change log under the state directory:
 *
 *   $STATE/changes.log     the newest lines
 *   $STATE/changes.log.1   the lines before them: changes.log becomes
 *                          changes.log.1 (replacing the older one) once
 *                          it holds VN_CHANGELOG_MAX_BYTES or more
 *
 * So at most about twice that is kept. A line is, as journald and
 * `nft monitor` print theirs (time, who, object, action, what):
 *
 *   2026-12-03T13:01:32Z hook[4242]: domain 'debian': add route
 *     192.168.124.0/24 via 192.168.122.191 dev virbr0 proto 155
 *
 * (one line): the time in UTC, who made the change (hook, reconcile,
 * watch, uninstall-hooks) with its process id, the object ("network
 * 'NAME'" or "domain 'NAME'"), and what was done, its first word the
 * action (add, replace, adopt, give, delete, insert, move, refuse, fail).
 * In the object's name a quote, a backslash and control bytes are
 * written \xHH, elsewhere control bytes are: one change stays one line,
 * and the name ends at the first "': ".
 *
 * Each line is written with one write() on a file opened O_APPEND:
 * hooks that run at the same time never interleave their lines.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define VN_CHANGELOG_FILE "changes.log"
#define VN_CHANGELOG_MAX_BYTES (128 * 1024)

/* One line of the change log, split. */
typedef struct {
    char *time;     /* "2026-12-03T13:01:32Z" */
    char *who;      /* "hook", "reconcile", ... */
    gint64 pid;
    char *object;   /* "domain 'debian'", as stored (escaped) */
    char *action;   /* the first word of @what */
    char *what;     /* "add route ..." */
    char *line;     /* the whole line, without its newline */
} VnChange;

void vn_change_free(VnChange *change);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VnChange, vn_change_free)

/**
 * vn_changelog_record:
 * @dir: the state directory
 * @who: "hook", "reconcile", ...
 * @changes: (element-type utf8): "OBJECT: what" lines, as
 *   vn_apply_changes() gives them
 * @error: set when the change log could not be written (syslog has the
 *   lines all the same)
 *
 * Sends each change to syslog, and appends it to $dir/changes.log (made
 * 0644, and @dir 0755 when missing; never into a state directory others
 * can write, vn_state_dir_check), rotating the file as above.
 */
gboolean vn_changelog_record(const char *dir, const char *who,
                             GPtrArray *changes, GError **error);

/**
 * vn_changelog_read:
 * @dir: the state directory
 * @n: how many of the last lines; 0 for all that are kept
 * @error: set when a file exists but cannot be read
 *
 * Returns: (element-type VnChange) (transfer full): the last @n changes,
 * oldest first; empty when nothing was recorded. A line that is not of
 * the format above is returned with only @line set.
 */
GPtrArray *vn_changelog_read(const char *dir, guint n, GError **error);

/* @changes (VnChange) as a JSON document: {"version": 1, "changes":
 * [{"time", "who", "pid", "object", "action", "what"}, ...]}. transfer
 * full. */
char *vn_changelog_json(GPtrArray *changes);

G_END_DECLS
