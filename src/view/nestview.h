/* nestview.h: the whole nest as one picture: each layer with its links,
 * bridges, TAPs and guests, the wires between layers, the NAT boundaries,
 * and the routes and exceptions that carry traffic across.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <glib.h>

#include "doctor.h"
#include "stitch.h"

G_BEGIN_DECLS

#define VN_GRAPH_JSON_VERSION 1

/* What the pictures show besides the nest. */
typedef struct {
    gboolean all_links;     /* links unrelated to the nest too, dimmed;
                             * else they are left out */
    const VnDoctor *doctor; /* a walk through the nest, or NULL: its way
                             * in bold, where it dies in red, and a
                             * legend */
    const VnDoctorQuery *query;     /* the doctor's query, with @doctor */
} VnGraphOptions;

/* Each returns a newly allocated, newline-terminated text. @opts: NULL
 * for the defaults. */
char *vn_graph_text(const VnNest *nest);
char *vn_graph_json(const VnNest *nest);
char *vn_graph_mermaid(const VnNest *nest, const VnGraphOptions *opts);
char *vn_graph_dot(const VnNest *nest, const VnGraphOptions *opts);

G_END_DECLS
