/* nestview.h: the whole nest as one picture: each layer with its links,
 * bridges, TAPs and guests, the wires between layers, the NAT boundaries,
 * and the routes and exceptions that carry traffic across.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <glib.h>

#include "stitch.h"

G_BEGIN_DECLS

#define VN_GRAPH_JSON_VERSION 1

/* Each returns a newly allocated, newline-terminated text. */
char *vn_graph_text(const VnNest *nest);
char *vn_graph_json(const VnNest *nest);
char *vn_graph_mermaid(const VnNest *nest);
char *vn_graph_dot(const VnNest *nest);

G_END_DECLS
