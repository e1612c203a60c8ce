/* proposal.h: what status says of a guest's proposal (plan/propose.h):
 * the nested subnets its agent reports, whether delegated, and the change
 * that would delegate them. Pure.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <glib.h>

#include "json.h"
#include "propose.h"

G_BEGIN_DECLS

/* Lines for status' text, each ending in a newline; names escaped for a
 * terminal, the guest's name quoted for the shell in the virsh line. */
void vn_proposal_append_text(GString *out, const VnProposal *proposal);

/* An object under @key (NULL inside an array): "guest", "source"
 * ("guest agent"), "nested" [{"interface", "address", "subnet", "state",
 * "reason"}], "metadata" and "metadata_set" (null when nothing is
 * proposed). */
void vn_proposal_write_json(VnJsonWriter *w, const char *key,
                            const VnProposal *proposal);

G_END_DECLS
