/* cli.h: the commands of the virt-nest CLI.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <glib.h>

#include "stitch.h"

G_BEGIN_DECLS

#define VN_EXIT_OK 0
#define VN_EXIT_FAILURE 1
#define VN_EXIT_USAGE 2

typedef struct {
    const char *name;
    const char *summary;
    int (*run)(int argc, char **argv);
} VnCommand;

/* Print "virt-nest: MESSAGE" on stderr. */
void vn_cli_error(const char *fmt, ...) G_GNUC_PRINTF(1, 2);

/* Report a getopt failure (opterr = 0) in one line. */
void vn_cli_bad_option(const char *command, const char *optstring,
                       char **argv);

/* The nest from the snapshot files (graph, doctor); NULL after printing
 * why, as "virt-nest: COMMAND: ...". */
VnNest *vn_cli_load_nest(const char *command, int n, char **paths);

int vn_cmd_status(int argc, char **argv);
int vn_cmd_reconcile(int argc, char **argv);
int vn_cmd_plan(int argc, char **argv);
int vn_cmd_graph(int argc, char **argv);
int vn_cmd_doctor(int argc, char **argv);
int vn_cmd_install_hooks(int argc, char **argv);
int vn_cmd_uninstall_hooks(int argc, char **argv);

G_END_DECLS
