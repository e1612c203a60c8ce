/* facts.h: what status and graph both say about the same objects, said
 * once: a link's addresses, and the JSON of sysctls and addresses (one
 * type for one fact in every format).
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <glib.h>

#include "json.h"
#include "model.h"

G_BEGIN_DECLS

/* Appends each address of @link on @host that is not link-local, each
 * after @sep, with its prefix. */
void vn_view_link_addresses(GString *out, const VnHost *host,
                            const VnLink *link, const char *sep);

/* A sysctl as the kernel has it (an integer: 0, 1, 2), or null when it
 * was not read (< 0). */
void vn_view_json_sysctl(VnJsonWriter *w, const char *key, int value);

/* An address or subnet as a string, null when empty. */
void vn_view_json_cidr(VnJsonWriter *w, const char *key, const VnCidr *c,
                       gboolean prefix);

G_END_DECLS
