/* handfix.h: the user's own fixes from before virt-nest, which it makes
 * unnecessary: hand-made accept rules in the firewall that duplicate its
 * exceptions, and the boot-time places that bring such fixes back (a
 * wsl.conf `command=`, an if-up.d script, rc.local, the rules that
 * netfilter-persistent restores).
 *
 * Pure: the plan, the firewall model and file texts in, findings out
 * (`virt-nest status` reads the files, vn_hand_fix_paths() says which).
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <glib.h>

#include "fwmodel.h"
#include "layerplan.h"

G_BEGIN_DECLS

typedef struct {
    char *where;            /* "/etc/wsl.conf:3", "ip filter FORWARD" */
    char *text;             /* the line or rule as it stands */
    char *what;             /* what it does that virt-nest does now */
    char *fix;              /* the command or edit that removes it */
} VnHandFix;

void vn_hand_fix_free(VnHandFix *fix);

/**
 * vn_hand_fixes_in_firewall:
 * @plan: what this layer needs
 * @chains: (element-type VnFwChain): the host's firewall
 * @out: (element-type VnHandFix): where the findings go
 *
 * Accept rules that are not virt-nest's and let exactly an exception's
 * traffic through (same subnets; an interface, if any, the bridge's).
 */
void vn_hand_fixes_in_firewall(const VnPlan *plan, GPtrArray *chains,
                               GPtrArray *out);

/**
 * vn_hand_fixes_in_text:
 * @path: the file's path, for the findings
 * @text: its contents
 * @plan: what this layer needs
 * @out: (element-type VnHandFix): where the findings go
 *
 * Lines that add one of @plan's routes (`ip route add|replace DST ...`,
 * `route add -net`), insert or append an accept for one of its
 * exceptions (`iptables -I|-A FORWARD -s PEER -d SUBNET ...`, an
 * iptables-save line `-A FORWARD ...`), delete libvirt's REJECT of one of
 * its bridges, or are virt-nest's own rules saved by iptables-save.
 */
void vn_hand_fixes_in_text(const char *path, const char *text,
                           const VnPlan *plan, GPtrArray *out);

/* Where hand fixes come back from at boot: files, and folders whose
 * every file counts (a trailing '/'), relative to the root. NULL-ended. */
extern const char *const vn_hand_fix_paths[];

G_END_DECLS
