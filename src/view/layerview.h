/* layerview.h: `virt-nest status` in its four forms: text for people, JSON for
 * programs, Mermaid and Graphviz dot for pictures.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <glib.h>

#include "model.h"
#include "layerplan.h"
#include "drift.h"
#include "handfix.h"

G_BEGIN_DECLS

/* What status shows: the layer, what it needs, and, when known, what
 * virt-nest installed and how that compares (drift.h). All borrowed. */
typedef struct {
    const VnLayer *layer;
    const VnPlan *plan;
    const VnDrift *drift;   /* NULL when not checked */
    const char *drift_note; /* why it was not checked */
    GPtrArray *hand_fixes;  /* VnHandFix (handfix.h), or NULL: not looked */
    /* The guests' proposals (VnProposal, propose.h) and one line per agent
     * that did not answer (char *); both NULL when the agents were not
     * asked, as for the test driver. */
    GPtrArray *proposals;
    GPtrArray *agent_notes;
    gint64 now;             /* for lease expiry */
} VnStatus;

/* The JSON format's version; bumped on incompatible changes only. */
#define VN_STATUS_JSON_VERSION 1

/* Each returns a newly allocated, newline-terminated text. */
char *vn_status_text(const VnStatus *status);
char *vn_status_json(const VnStatus *status);
char *vn_status_mermaid(const VnStatus *status);
char *vn_status_dot(const VnStatus *status);

G_END_DECLS
