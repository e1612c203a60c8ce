/* cli.h: the commands of the virt-nest CLI.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <glib.h>
#include <stdio.h>

#include "doctor.h"
#include "stitch.h"
#include "walk.h"
#include "vnconfig.h"

G_BEGIN_DECLS

#define VN_EXIT_OK 0
#define VN_EXIT_FAILURE 1
#define VN_EXIT_USAGE 2
#define VN_EXIT_DRIFT 3         /* status --exit-code: reconcile would change
                                 * something */

typedef struct {
    const char *name;
    const char *summary;
    int (*run)(int argc, char **argv);
} VnCommand;

/* Print "virt-nest: MESSAGE" on stderr, one line: controls in it are
 * shown escaped (vn_escape_text()). */
void vn_cli_error(const char *fmt, ...) G_GNUC_PRINTF(1, 2);

struct option;

/* getopt_long(), but a long option only by its whole name: an abbreviation
 * ("--keep" for "--keep-installed") is refused as '?', and
 * vn_cli_bad_option() then names it. */
int vn_cli_getopt(int argc, char **argv, const char *optstring,
                  const struct option *opts);

/* Report a getopt failure (opterr = 0) in one line. */
void vn_cli_bad_option(const char *command, const char *optstring,
                       char **argv);

/* After the options: TRUE when no word of @argv is left (optind is
 * @argc), else FALSE after saying "COMMAND: unexpected argument 'WORD'". */
gboolean vn_cli_no_operands(const char *command, int argc, char **argv);

/* The nest from the snapshot files (graph, doctor), each a status
 * snapshot or a walk's bundle (told apart by its "format"); NULL after
 * printing why, as "virt-nest: COMMAND: ...". */
VnNest *vn_cli_load_nest(const char *command, int n, char **paths);

/* The walk's options, shared by status, graph and doctor. */
enum {
    VN_CLI_OPT_WALK = 1024,
    VN_CLI_OPT_WALK_DEPTH,
    VN_CLI_OPT_WALK_TIMEOUT,
};
#define VN_CLI_WALK_OPTIONS \
    { "walk", no_argument, NULL, VN_CLI_OPT_WALK }, \
    { "walk-depth", required_argument, NULL, VN_CLI_OPT_WALK_DEPTH }, \
    { "walk-timeout", required_argument, NULL, VN_CLI_OPT_WALK_TIMEOUT }

/* One of them into @w (zeroed first); FALSE with *@rc after saying
 * why. */
gboolean vn_cli_walk_option(const char *command, int opt, const char *arg,
                            VnWalkOptions *w, int *rc);

/* After the options: --walk-depth and --walk-timeout only with --walk
 * (@walk), and the defaults. FALSE with *@rc after saying why. */
gboolean vn_cli_walk_check(const char *command, gboolean walk,
                           VnWalkOptions *w, int *rc);

/* `virt-nest status --json [--host] --walk` at @uri, in-process: the
 * bundle's text, or NULL with @error. */
char *vn_cli_walk(const char *uri, gboolean host, const VnWalkOptions *o,
                  GError **error);

/* The nest of a bundle's text (vn_cli_walk()), named @name in messages;
 * NULL after printing why, as "virt-nest: COMMAND: ...". */
VnNest *vn_cli_bundle_nest(const char *command, const char *text,
                           const char *name);
/* doctor's --size BYTES into @size; VN_EXIT_OK, else VN_EXIT_USAGE after
 * saying why as "virt-nest: COMMAND: ...". */
int vn_cli_parse_size(const char *command, const char *arg, guint *size);

/* doctor's --tcp (@tcp) or --udp into @proto; VN_EXIT_OK, else (the other
 * one given before) VN_EXIT_USAGE after saying so as "virt-nest: COMMAND:
 * ...". */
int vn_cli_parse_proto(const char *command, gboolean tcp, guint8 *proto);

/* doctor's --from and --to into @q (and its protocol, ICMP unless --tcp
 * or --udp set it), for doctor and graph alike; VN_EXIT_OK, else
 * VN_EXIT_USAGE after saying why. */
int vn_cli_doctor_query(const char *command, const char *from, const char *to,
                        VnDoctorQuery *q);

/* What one reconcile is asked (virt-nest reconcile, virt-nest watch). */
typedef struct {
    const char *uri;        /* NULL: the default */
    const char *leases_dir; /* NULL: libvirt's */
    gboolean dry_run;
    gboolean quiet;         /* no "nothing to change" line */
    const char *who;        /* in the change log; NULL: "reconcile" */
} VnReconcileOptions;

/* One reconcile, in-process: each change on @out as PREFIX + one line,
 * problems and errors on stderr ("virt-nest: ..."). Returns VN_EXIT_*;
 * @n_changes (may be NULL) gets how many changes were made. */
int vn_cli_reconcile(const VnReconcileOptions *o, FILE *out,
                     const char *prefix, guint *n_changes);

/* The SVG of Graphviz dot text, laid out by dot, through libgvc
 * (svgwrite.c); NULL with @error set when Graphviz cannot. */
char *vn_cli_svg_from_dot(const char *dot, GError **error);

/* The "Recent changes" part of status: the last @n lines of the change
 * log under a heading, onto @out (cmd-log.c). */
void vn_cli_log_recent(GString *out, guint n);

/* Record @changes ("OBJECT: what") in syslog and the change log as made
 * by @who; a change log that cannot be written is one line on stderr. */
void vn_cli_record(const char *who, GPtrArray *changes);

/* --color=WHEN (color.c) */
typedef enum {
    VN_COLOR_AUTO,      /* a terminal, NO_COLOR unset, TERM not dumb */
    VN_COLOR_ALWAYS,
    VN_COLOR_NEVER,
} VnColor;

/* "auto", "always" (or NULL: --color alone), "never"; FALSE otherwise. */
gboolean vn_cli_color_parse(const char *arg, VnColor *color);

/* Whether to colour standard output. */
gboolean vn_cli_color_on(VnColor color);

/* The text of status or doctor with colours; transfer full. */
char *vn_cli_color_status(const char *text);
char *vn_cli_color_doctor(const char *text);

/* The proposals (VnProposal) of every guest whose agent answered in
 * @layer->agents with a subnet to show; *@notes gets one line (char *)
 * per agent that did not answer, and layer->agent_note (cmd-adopt.c). */
GPtrArray *vn_cli_proposals(const VnLayer *layer, const VnConfig *config,
                            GPtrArray **notes);

int vn_cmd_status(int argc, char **argv);
int vn_cmd_adopt(int argc, char **argv);
int vn_cmd_log(int argc, char **argv);
int vn_cmd_reconcile(int argc, char **argv);
int vn_cmd_plan(int argc, char **argv);
int vn_cmd_graph(int argc, char **argv);
int vn_cmd_doctor(int argc, char **argv);
int vn_cmd_watch(int argc, char **argv);
int vn_cmd_install_hooks(int argc, char **argv);
int vn_cmd_uninstall_hooks(int argc, char **argv);

G_END_DECLS
