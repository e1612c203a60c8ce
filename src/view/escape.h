/* escape.h: names from libvirt, the kernel and other hosts' snapshots made
 * safe for text that reaches a terminal.
 *
 * libvirt forbids only '/' in a name; the kernel forbids '/', ':' and
 * white space in a link name and takes any other byte; a snapshot from
 * another layer is whatever its author wrote. Text views pass every name
 * through vn_escape_text(); the pictures (picture.h) do it before their
 * own escaping; JSON has its writer's.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/**
 * vn_escape_text_append:
 * @out: where to append
 * @s: (nullable): a name, or a line made of names
 *
 * Appends @s with what a terminal would act on made visible: C0 controls
 * (newline and tab included) and DEL as \xNN, C1 controls, Unicode format
 * characters (bidirectional overrides, zero-width ones) and line or
 * paragraph separators as \uNNNN, and bytes that are no UTF-8 as \xNN.
 * Everything else, non-ASCII letters included, is kept. Its output passes
 * through it unchanged, so escaping twice is harmless.
 */
void vn_escape_text_append(GString *out, const char *s);

/* The same, as a new string (transfer full); NULL for NULL. */
char *vn_escape_text(const char *s);

G_END_DECLS
