/* nftables.h: the forward exceptions as nftables rules, built with libnftnl and
 * sent with libmnl.
 *
 * Every rule uses only expressions that iptables-nft can list (meta iifname
 * and oifname, payload, bitwise, cmp, counter, immediate), so that libvirt's
 * own `iptables -S` keeps working on `ip filter`, and carries its comment as
 * rule userdata, which iptables lists as `-m comment`.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <glib.h>
#include <libnftnl/rule.h>

#include "fwbackend.h"
#include "layerplan.h"

G_BEGIN_DECLS

typedef struct nftnl_rule nftnl_rule;
G_DEFINE_AUTOPTR_CLEANUP_FUNC(nftnl_rule, nftnl_rule_free)

/**
 * vn_nft_rule_build:
 * @rule: the exception
 * @chain: where it goes
 *
 * Builds the rule; pure (no socket).
 * -s SRC -d DST -o BR -j ACCEPT is, in nft terms:
 *   oifname "BR" ip saddr SRC ip daddr DST counter accept comment "..."
 *
 * Returns: (transfer full): the rule.
 */
struct nftnl_rule *vn_nft_rule_build(const VnRule *rule, const VnChainRef *chain);

/* The rule's expressions as libnftnl prints them (the format of nftables'
 * tests/py *.payload files), for golden tests. transfer full. */
char *vn_nft_rule_payload(const VnRule *rule, const VnChainRef *chain);

/* virt-nest's comment of a rule, as rule userdata (what a libnftnl
 * writer stores) or as an xtables comment match (what iptables-restore
 * writes), or NULL. Borrowed from @r. */
const char *vn_nft_rule_get_comment(const struct nftnl_rule *r);

/* A netlink socket to nf_tables. */
VnNft *vn_nft_open(GError **error);
void vn_nft_close(VnNft *nft);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VnNft, vn_nft_close)

/* 1 if the table (and the chain, when not NULL) exists, 0 if not, -1 on
 * error. */
int vn_nft_exists(VnNft *nft, int family, const char *table,
                  const char *chain, GError **error);

/**
 * vn_nft_get_comment:
 * @handle: the rule handle
 * @comment: (out): the rule's comment, NULL if it has none; transfer full
 *
 * One rule by handle, without dumping the chain.
 *
 * Returns: 1 if the rule exists, 0 if not, -1 on error.
 */
int vn_nft_get_comment(VnNft *nft, const VnChainRef *chain, guint64 handle,
                       char **comment, GError **error);

/**
 * vn_nft_find_tagged:
 * @prefix: (nullable): the comment prefix that marks virt-nest's rules of
 *   one object; NULL lists every rule
 * @handles: (out): GArray of guint64, the handles found, in chain order
 * @comments: (out): GPtrArray of char *, their comments (NULL for none)
 *
 * Dumps one chain: to find rules by comment when the record of handles was
 * lost, and for reconcile to check that virt-nest's rules still come first.
 */
gboolean vn_nft_find_tagged(VnNft *nft, const VnChainRef *chain,
                            const char *prefix, GArray *handles,
                            GPtrArray *comments, GError **error);

/* Dump every chain (NFT_MSG_GETCHAIN) or every rule (NFT_MSG_GETRULE) of
 * every table, calling @fn with each nftnl_chain or nftnl_rule (borrowed).
 * For status and doctor: the hooks never dump a ruleset. */
typedef void (*VnNftDumpFunc)(const void *obj, void *data);
gboolean vn_nft_dump_chains(VnNft *nft, VnNftDumpFunc fn, void *data,
                            GError **error);
gboolean vn_nft_dump_rules(VnNft *nft, VnNftDumpFunc fn, void *data,
                           GError **error);

/* The elements of set @set of @family's table @table, calling @fn with
 * each nftnl_set_elem (borrowed): the anonymous sets a rule looks up
 * (ct state { established, related }). */
gboolean vn_nft_dump_set_elems(VnNft *nft, int family, const char *table,
                               const char *set, VnNftDumpFunc fn, void *data,
                               GError **error);

/* A transaction: inserts at chain heads and deletions by handle, sent as
 * one netlink batch that the kernel commits whole or not at all. */
typedef struct _VnNftBatch VnNftBatch;

VnNftBatch *vn_nft_batch_new(VnNft *nft);
void vn_nft_batch_free(VnNftBatch *batch);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VnNftBatch, vn_nft_batch_free)

/* Insert @rule at the head of @chain; the commit writes the kernel's
 * handle for it to @handle (nullable). Rules inserted in one batch end up
 * in the order they were added. */
void vn_nft_batch_insert(VnNftBatch *batch, const VnRule *rule,
                         const VnChainRef *chain, guint64 *handle);
void vn_nft_batch_delete(VnNftBatch *batch, const VnChainRef *chain,
                         guint64 handle, const char *what);
guint vn_nft_batch_size(const VnNftBatch *batch);

/**
 * vn_nft_batch_commit:
 *
 * Sends the batch and reads every ACK; each insert's handle comes from
 * the kernel's echo.
 *
 * Returns: FALSE with @error naming the failing rule; nothing changed then.
 */
gboolean vn_nft_batch_commit(VnNftBatch *batch, GError **error);

G_END_DECLS
