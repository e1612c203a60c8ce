/* proposal.c: a guest's proposal, in text and JSON.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include <string.h>

#include "escape.h"
#include "proposal.h"

/* @word as a shell word: as it is when it needs no quoting. */
static char *
shell_word(const char *word)
{
    for (const char *c = word; *c; c++) {
        if (!g_ascii_isalnum(*c) && !strchr("._+-:/@", *c))
            return g_shell_quote(word);
    }
    return *word ? g_strdup(word) : g_shell_quote(word);
}

void
vn_proposal_append_text(GString *out, const VnProposal *p)
{
    g_autofree char *guest = vn_escape_text(p->guest);
    char a[VN_CIDR_STRLEN], s[VN_CIDR_STRLEN];

    if (p->subnets->len == 0)
        return;
    g_string_append_printf(out, "guest %s hosts, as its guest agent says "
                           "(never routed on that alone):\n", guest);
    for (guint i = 0; i < p->subnets->len; i++) {
        const VnNestedSubnet *n = g_ptr_array_index(p->subnets, i);
        g_autofree char *iface = n->iface ? vn_escape_text(n->iface) : NULL;

        if (iface)
            g_string_append_printf(out, "  %s on %s (%s): ",
                                   vn_cidr_format(&n->subnet, TRUE, s), iface,
                                   vn_cidr_format(&n->address, TRUE, a));
        else
            g_string_append_printf(out, "  %s (as named): ",
                                   vn_cidr_format(&n->subnet, TRUE, s));
        switch (n->state) {
        case VN_NESTED_DELEGATED:
            g_string_append(out, "delegated\n");
            break;
        case VN_NESTED_PROPOSED:
            g_string_append(out, "not delegated\n");
            break;
        case VN_NESTED_REFUSED: {
            g_autofree char *reason = vn_escape_text(n->reason);

            g_string_append_printf(out, "not delegated, and cannot be: %s\n",
                                   reason);
            break;
        }
        }
    }
    if (p->metadata_set) {
        g_autofree char *quoted = shell_word(p->guest);
        g_autofree char *shown = vn_escape_text(quoted);
        g_autofree char *set = g_shell_quote(p->metadata_set);

        g_auto(GStrv) lines = g_strsplit(p->metadata, "\n", -1);

        g_string_append(out, "  the metadata that delegates them:\n");
        for (guint i = 0; lines[i]; i++) {
            if (!*lines[i])
                continue;
            g_string_append(out, "    ");
            vn_escape_text_append(out, lines[i]);
            g_string_append_c(out, '\n');
        }
        g_string_append_printf(out, "  to delegate: virt-nest adopt %s\n",
                               shown);
        g_string_append_printf(out, "  or by hand: virsh metadata %s "
                               "urn:virt-nest:1 --key nest --live --config "
                               "--set %s\n", shown, set);
    }
}

void
vn_proposal_write_json(VnJsonWriter *w, const char *key, const VnProposal *p)
{
    char buf[VN_CIDR_STRLEN];

    vn_json_begin_object(w, key);
    vn_json_string(w, "guest", p->guest);
    vn_json_string(w, "source", "guest agent");
    vn_json_begin_array(w, "nested");
    for (guint i = 0; i < p->subnets->len; i++) {
        const VnNestedSubnet *n = g_ptr_array_index(p->subnets, i);

        vn_json_begin_object(w, NULL);
        vn_json_string(w, "interface", n->iface);
        vn_json_string(w, "address", vn_cidr_is_empty(&n->address) ? NULL :
                       vn_cidr_format(&n->address, TRUE, buf));
        vn_json_string(w, "subnet", vn_cidr_format(&n->subnet, TRUE, buf));
        vn_json_string(w, "state", vn_nested_state_to_string(n->state));
        vn_json_string(w, "reason", n->reason);
        vn_json_end_object(w);
    }
    vn_json_end_array(w);
    vn_json_string(w, "metadata", p->metadata);
    vn_json_string(w, "metadata_set", p->metadata_set);
    vn_json_end_object(w);
}
