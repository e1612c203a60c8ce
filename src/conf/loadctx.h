/* loadctx.h: what the JSON loaders (snapshot.c, bundle.c) share: their
 * context and their one-line error. Theirs alone, not installed.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <stdarg.h>
#include <glib.h>

#include "error.h"

typedef struct {
    const char *what;           /* "snapshot", "bundle" */
    const char *name;           /* the file, in messages */
    GError **error;
} Ctx;

/* Set VN_ERROR_INVALID "WHAT NAME: MESSAGE" on @c's error; FALSE. */
static inline gboolean G_GNUC_PRINTF(2, 3)
bad(Ctx *c, const char *fmt, ...)
{
    va_list ap;
    g_autofree char *msg = NULL;

    va_start(ap, fmt);
    msg = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    g_set_error(c->error, VN_ERROR, VN_ERROR_INVALID, "%s %s: %s", c->what,
                c->name, msg);
    return FALSE;
}
