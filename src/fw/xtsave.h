/* xtsave.h: the text of legacy xtables, as iptables-legacy-save prints it
 * and iptables-legacy-restore reads it: virt-nest's exceptions as rule
 * text, and a saved ruleset in the firewall model (fwmodel.h). Pure: text
 * in, structs out.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <glib.h>

#include "fwmodel.h"
#include "layerplan.h"

G_BEGIN_DECLS

/* One chain as iptables-legacy-save prints it. */
typedef struct {
    char *name;             /* "FORWARD", "LIBVIRT_FWI" */
    char *policy;           /* built-in chains: "ACCEPT", "DROP"; else NULL */
    GPtrArray *rules;       /* char *: each rule after "-A NAME ", exactly
                             * as printed, without counters */
} VnXtChain;

/* One table: "*filter" to "COMMIT". */
typedef struct {
    char *name;             /* "filter", "nat", "mangle", "raw", "security" */
    GPtrArray *chains;      /* VnXtChain, in the order printed */
} VnXtTable;

/* The output of one iptables-legacy-save or ip6tables-legacy-save. */
typedef struct {
    int family;             /* NFPROTO_IPV4 / NFPROTO_IPV6 */
    GPtrArray *tables;      /* VnXtTable */
} VnXtRuleset;

/**
 * vn_xt_ruleset_parse:
 * @text: what iptables-legacy-save prints (with or without -c)
 * @family: NFPROTO_IPV4 for iptables, NFPROTO_IPV6 for ip6tables
 * @error: set when a line is neither a table, a chain, a rule, COMMIT
 *   nor a comment
 *
 * Pure. Returns: (transfer full): the tables.
 */
VnXtRuleset *vn_xt_ruleset_parse(const char *text, int family,
                                 GError **error);
void vn_xt_ruleset_free(VnXtRuleset *rs);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VnXtRuleset, vn_xt_ruleset_free)

/* The chain @chain of table @table, or NULL. Borrowed from @rs. */
const VnXtChain *vn_xt_ruleset_chain(const VnXtRuleset *rs, const char *table,
                                     const char *chain);

/**
 * vn_xt_rule_spec:
 * @rule: the exception
 *
 * The exception as iptables-legacy-save prints it after "-A CHAIN ", the
 * form that goes after "-I CHAIN 1 " or "-D CHAIN " in
 * iptables-legacy-restore's input (pure):
 *
 *   in   -s PEER -d SUBNET -o BR -m comment --comment "..." -j ACCEPT
 *   out  -s SUBNET -d PEER -i BR -m comment --comment "..." -j ACCEPT
 *   nat  -s SUBNET -d PEER -m comment --comment "..." -j ACCEPT
 *
 * The comment is vn_rule_comment()'s, quoted as iptables-save quotes it.
 * Returns: (transfer full): the spec.
 */
char *vn_xt_rule_spec(const VnRule *rule);

/**
 * vn_xt_rule_parse:
 * @spec: a rule as iptables-legacy-save prints it after "-A CHAIN "
 * @family: NFPROTO_IPV4 / NFPROTO_IPV6
 * @table: (nullable): its table, to tell a jump to one of its chains from
 *   a target extension
 *
 * The rule in the firewall model (pure): -s/-d with ! and a prefix, -i/-o
 * with ! and +, -p, -m conntrack --ctstate, -m state --state, -m comment,
 * -j ACCEPT/DROP/REJECT/RETURN/MASQUERADE/SNAT/DNAT or a chain, -g; the
 * rest (ports, marks, sets, other matches and targets) goes into opaque.
 * The handle is 0: the caller numbers the rules.
 *
 * Returns: (transfer full): the rule.
 */
VnFwRule *vn_xt_rule_parse(const char *spec, int family,
                           const VnXtTable *table);

/* The comment of a spec's -m comment, or NULL. transfer full. */
char *vn_xt_spec_comment(const char *spec);

/**
 * vn_xt_ruleset_model:
 * @rs: the tables
 * @chains: (element-type VnFwChain): where the chains go
 *
 * Appends every chain of @rs to @chains as a legacy chain (pure): the
 * built-in ones as base chains at their hook and priority, as the kernel
 * registers them (raw -300, mangle -150, nat -100 before and 100 after
 * routing, filter 0, security 50), each rule numbered from 1 in its chain.
 */
void vn_xt_ruleset_model(const VnXtRuleset *rs, GPtrArray *chains);

G_END_DECLS
