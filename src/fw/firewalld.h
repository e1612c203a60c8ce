/* firewalld.h: firewalld on this host, over D-Bus.
 *
 * firewalld (nftables backend) keeps a table of its own, inet firewalld,
 * whose base chain filter_FORWARD rejects forwarded traffic between zones
 * unless the ingress zone's target or a policy lets it through. An accept
 * in iptables' FORWARD (or anywhere else) ends nothing there.
 *
 * What works, found out against firewalld 1.3.3 (Debian 12), nftables
 * backend, uplink in zone public, virbr0 in zone libvirt as libvirt puts
 * it: a policy with ingress zone ANY, egress zone ANY, priority -100
 * (before the zones' own rules), target CONTINUE, holding one rich rule
 * per exception,
 *
 *   rule priority="-N" family="ipv4" source address="S" destination
 *        address="D" accept
 *
 * (the reverse direction is the exception of the other kind, a rule of
 * its own). Ping and TCP pass both ways with real addresses.
 *
 * firewalld creates policies in its permanent configuration only (a new
 * policy needs a reload, which flushes every iptables table and drops
 * runtime bindings), so the package ships the policy, empty, as
 * /usr/lib/firewalld/policies/virt-nest.xml (data/firewalld/), and the
 * hook adds and removes rich rules in its runtime configuration alone,
 * with policy.getPolicySettings and policy.setPolicySettings (firewalld
 * >= 0.9; only the rich_rules key is ever written). virt-nest never makes
 * a permanent change: a firewalld that runs without the policy is refused
 * with the fix (install the file, firewall-cmd --reload), not reloaded
 * behind the user's back.
 *
 * A rich rule carries no comment. The priority does the comment's job:
 * N is a hash of the rule's comment (vn_rule_comment()), so two networks
 * that need the same addresses get two rules, and each removes its own;
 * list() finds a network's rules by recomputing it. The ledger records
 * the rule's text as the entry's spec.
 *
 * The bus is the system bus (DBUS_SYSTEM_BUS_ADDRESS is honoured), opened
 * only when the table inet firewalld exists in this network namespace.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <glib.h>

#include "fwbackend.h"

G_BEGIN_DECLS

/* The policy virt-nest's rich rules go into. */
#define VN_FIREWALLD_POLICY "virt-nest"

/* The rich rule of @rule (IN or OUT), as firewalld prints it back.
 * transfer full. */
char *vn_firewalld_rich_rule(const VnRule *rule);

extern const VnFwBackendClass vn_fw_firewalld_class;

G_END_DECLS
