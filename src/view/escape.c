/* escape.c: names made safe for text that reaches a terminal.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include <string.h>

#include "escape.h"

/* Is @c, a valid character, one a terminal or a reader could be fooled by? */
static gboolean
unsafe_char(gunichar c)
{
    switch (g_unichar_type(c)) {
    case G_UNICODE_CONTROL:             /* C0, DEL, C1 */
    case G_UNICODE_FORMAT:              /* U+200B.., U+202A..U+202E, U+2066.. */
    case G_UNICODE_LINE_SEPARATOR:
    case G_UNICODE_PARAGRAPH_SEPARATOR:
        return TRUE;
    default:
        return FALSE;
    }
}

void
vn_escape_text_append(GString *out, const char *s)
{
    const char *p = s, *end;

    if (!s)
        return;
    end = s + strlen(s);
    while (p < end) {
        gunichar c = g_utf8_get_char_validated(p, end - p);

        if (c == (gunichar)-1 || c == (gunichar)-2) {
            g_string_append_printf(out, "\\x%02x", (guchar)*p);
            p++;
            continue;
        }
        if (c < 0x80 && !unsafe_char(c))
            g_string_append_c(out, (char)c);
        else if (c < 0x80)
            g_string_append_printf(out, "\\x%02x", c);
        else if (unsafe_char(c))
            g_string_append_printf(out, "\\u%04x", c);
        else
            g_string_append_len(out, p, g_utf8_next_char(p) - p);
        p = g_utf8_next_char(p);
    }
}

char *
vn_escape_text(const char *s)
{
    GString *out;

    if (!s)
        return NULL;
    out = g_string_sized_new(strlen(s));
    vn_escape_text_append(out, s);
    return g_string_free(out, FALSE);
}
