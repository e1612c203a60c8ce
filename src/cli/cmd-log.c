/* cmd-log.c: virt-nest log, the last changes the hooks and reconcile made
 * (state/changelog.h), and the part of status that shows them.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "changelog.h"
#include "cli.h"
#include "ledger.h"

#define DEFAULT_LINES 20

static void
usage(FILE *f)
{
    fprintf(f,
            "Usage: virt-nest log [-n N] [--json]\n\n"
            "The last changes virt-nest's hooks and reconcile made on this "
            "host\n(routes added, removed, adopted; rules inserted, removed; "
            "refusals),\noldest first, from the change log in the state "
            "directory.\n\n"
            "  -n, --lines N   the last N changes (default %d; 0: all that "
            "are kept)\n"
            "      --json      as JSON\n"
            "  -h, --help      show this help\n", DEFAULT_LINES);
}

void
vn_cli_record(const char *who, GPtrArray *changes)
{
    g_autoptr(GError) err = NULL;

    if (!vn_changelog_record(vn_state_dir(), who, changes, &err))
        vn_cli_error("change log: %s", err->message);
}

void
vn_cli_log_recent(GString *out, guint n)
{
    g_autoptr(GError) err = NULL;
    g_autoptr(GPtrArray) changes = vn_changelog_read(vn_state_dir(), n, &err);

    g_string_append(out, "\nRecent changes\n");
    if (!changes) {
        g_string_append_printf(out, "  not read: %s\n", err->message);
        return;
    }
    if (!changes->len)
        g_string_append_printf(out, "  none recorded in %s/%s\n",
                               vn_state_dir(), VN_CHANGELOG_FILE);
    for (guint i = 0; i < changes->len; i++)
        g_string_append_printf(out, "  %s\n",
                               ((VnChange *)changes->pdata[i])->line);
}

int
vn_cmd_log(int argc, char **argv)
{
    enum { OPT_JSON = 256 };
    static const struct option opts[] = {
        { "lines", required_argument, NULL, 'n' },
        { "json", no_argument, NULL, OPT_JSON },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    g_autoptr(GError) err = NULL;
    g_autoptr(GPtrArray) changes = NULL;
    gboolean json = FALSE;
    guint64 n = DEFAULT_LINES;
    int c;

    optind = 1;
    opterr = 0;
    while ((c = vn_cli_getopt(argc, argv, "n:h", opts)) != -1) {
        switch (c) {
        case 'n':
            if (!g_ascii_string_to_unsigned(optarg, 10, 0, G_MAXUINT, &n,
                                            NULL)) {
                vn_cli_error("log: --lines %s: not a number of lines; pass "
                             "0 or more", optarg);
                return VN_EXIT_USAGE;
            }
            break;
        case OPT_JSON:
            json = TRUE;
            break;
        case 'h':
            usage(stdout);
            return VN_EXIT_OK;
        default:
            vn_cli_bad_option("log", "n:h", argv);
            return VN_EXIT_USAGE;
        }
    }
    if (!vn_cli_no_operands("log", argc, argv))
        return VN_EXIT_USAGE;
    if (!(changes = vn_changelog_read(vn_state_dir(), (guint)n, &err))) {
        vn_cli_error("log: %s", err->message);
        return VN_EXIT_FAILURE;
    }
    if (json) {
        g_autofree char *text = vn_changelog_json(changes);

        fputs(text, stdout);
    } else if (!changes->len) {
        printf("no changes recorded in %s/%s\n", vn_state_dir(),
               VN_CHANGELOG_FILE);
    }
    for (guint i = 0; !json && i < changes->len; i++)
        printf("%s\n", ((VnChange *)changes->pdata[i])->line);
    return VN_EXIT_OK;
}
