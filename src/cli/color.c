/* color.c: colour on a terminal for status and doctor text, as ls and git
 * do it: --color=auto (the default) colours only when standard output is a
 * terminal, NO_COLOR is unset or empty (https://no-color.org) and TERM is
 * set and not "dumb"; always and never decide alone. Problems red, drift
 * and warnings yellow, ok green.
 *
 * The renderers (view/) stay plain text, which the goldens compare: the
 * colours are put on the finished text here, line by line, by the words
 * that the renderers print for each state.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

#define RED "\033[31m"
#define YELLOW "\033[33m"
#define GREEN "\033[32m"
#define RESET "\033[0m"

gboolean
vn_cli_color_parse(const char *arg, VnColor *color)
{
    if (!arg || !strcmp(arg, "always"))
        *color = VN_COLOR_ALWAYS;       /* --color alone, as ls */
    else if (!strcmp(arg, "auto"))
        *color = VN_COLOR_AUTO;
    else if (!strcmp(arg, "never"))
        *color = VN_COLOR_NEVER;
    else
        return FALSE;
    return TRUE;
}

gboolean
vn_cli_color_on(VnColor color)
{
    const char *no = getenv("NO_COLOR");
    const char *term = getenv("TERM");

    if (color != VN_COLOR_AUTO)
        return color == VN_COLOR_ALWAYS;
    return isatty(STDOUT_FILENO) && !(no && *no) && term && *term &&
           strcmp(term, "dumb") != 0;
}

/* @line onto @out in @color. */
static void
paint(GString *out, const char *color, const char *line, gsize len)
{
    g_string_append(out, color);
    g_string_append_len(out, line, len);
    g_string_append(out, RESET);
}

/* The state word a status table row ends with ("  ok"), and its colour;
 * NULL for a line that is no such row. */
static const char *
state_color(const char *line, gsize len, gsize *word)
{
    static const struct { const char *word; const char *color; } states[] = {
        { "ok", GREEN }, { "missing", YELLOW }, { "shadowed", YELLOW },
        { "stale", YELLOW }, { "foreign", YELLOW }, { "blocked", RED },
    };

    for (guint i = 0; i < G_N_ELEMENTS(states); i++) {
        gsize n = strlen(states[i].word);

        if (len >= n + 2 && !memcmp(line + len - n, states[i].word, n) &&
            !memcmp(line + len - n - 2, "  ", 2)) {
            *word = n;
            return states[i].color;
        }
    }
    return NULL;
}

char *
vn_cli_color_status(const char *text)
{
    GString *out = g_string_new(NULL);
    enum { OTHER, NEEDS, STALE, RECENT } part = OTHER;

    for (const char *p = text; *p;) {
        const char *nl = strchr(p, '\n');
        gsize len = nl ? (gsize)(nl - p) : strlen(p);
        const char *color;
        gsize word;

        if (len && p[0] != ' ')
            part = !strncmp(p, "This layer needs", len) ? NEEDS
                   : !strncmp(p, "Installed but not needed", len) ? STALE
                   : !strncmp(p, "Recent changes", len) ? RECENT : OTHER;
        if (g_str_has_prefix(p, "Problems: "))
            paint(out, RED, p, len);
        else if (g_str_has_prefix(p, "Drift: "))
            paint(out, YELLOW, p, len);
        else if (part == STALE && p[0] == ' ')
            paint(out, YELLOW, p, len);
        else if (part == RECENT && (g_strstr_len(p, len, "]: network '") ||
                                    g_strstr_len(p, len, "]: domain '")) &&
                 (g_strstr_len(p, len, "': refuse ") ||
                  g_strstr_len(p, len, "': fail ")))
            paint(out, RED, p, len);
        else if (part == NEEDS && (color = state_color(p, len, &word))) {
            g_string_append_len(out, p, len - word);
            paint(out, color, p + len - word, word);
        } else
            g_string_append_len(out, p, len);
        if (!nl)
            break;
        g_string_append_c(out, '\n');
        p = nl + 1;
    }
    return g_string_free(out, FALSE);
}

char *
vn_cli_color_doctor(const char *text)
{
    GString *out = g_string_new(NULL);

    for (const char *p = text; *p;) {
        const char *nl = strchr(p, '\n');
        gsize len = nl ? (gsize)(nl - p) : strlen(p);

        if (g_str_has_prefix(p, "NOT REACHABLE: ") ||
            (p[0] == ' ' && g_strstr_len(p, len, "  FAILS: ")))
            paint(out, RED, p, len);
        else if (g_str_has_prefix(p, "warning: "))
            paint(out, YELLOW, p, len);
        else if (g_str_has_prefix(p, "reachable: ") ||
                 g_str_has_prefix(p, "no problem found"))
            paint(out, GREEN, p, len);
        else
            g_string_append_len(out, p, len);
        if (!nl)
            break;
        g_string_append_c(out, '\n');
        p = nl + 1;
    }
    return g_string_free(out, FALSE);
}
