/* fwbackend.h: the firewall backends: where an exception must go to beat
 * the REJECT or DROP it is for.
 *
 * On one netfilter hook every base chain of every table, and legacy
 * xtables besides, must accept a packet; an accept in one of them ends
 * nothing. So a host's forward path may need an exception in several
 * places at once, each written the way that place's owner writes it:
 *
 *   iptables   iptables-nft's tables, where libvirt's iptables backend,
 *              Docker and ufw put their rules: the head of ip/ip6 filter
 *              FORWARD (above libvirt's LIBVIRT_FW* jumps), NAT
 *              exemptions at the head of ip/ip6 nat POSTROUTING; over
 *              nf_tables netlink, in expressions iptables-nft can list
 *   nftables   libvirt's own nftables backend: the head of its base chain
 *              ip/ip6 libvirt_network forward; NAT at the head of
 *              guest_nat; over nf_tables netlink
 *   legacy     legacy xtables (the iptables alternative is
 *              iptables-legacy): the head of filter FORWARD and nat
 *              POSTROUTING, with the iptables-legacy binary, as libvirt
 *              itself does on such a host
 *   firewalld  firewalld's runtime configuration, over D-Bus: its own
 *              table inet firewalld rejects forwarded traffic between
 *              zones that no policy allows
 *
 * An accept in a table of our own would not help.
 *
 * Every backend is a VnFwBackendClass; the applier (state/apply.c) asks
 * each whether it is in this host's forward path, places every exception
 * in each that is, decides the operations (state/ops.h), and has them
 * executed all or nothing.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <glib.h>

#include "layerplan.h"

G_BEGIN_DECLS

typedef enum {
    VN_FW_NONE,             /* no firewall: nothing to beat */
    VN_FW_IPTABLES,
    VN_FW_NFTABLES,
    VN_FW_LEGACY,
    VN_FW_FIREWALLD,
} VnFwBackend;

#define VN_FW_N_BACKENDS (VN_FW_FIREWALLD + 1)

/* A chain by family (NFPROTO_IPV4/NFPROTO_IPV6), table and name. */
typedef struct {
    int family;
    const char *table;
    const char *chain;
} VnChainRef;

/* "ip filter FORWARD". transfer full. */
char *vn_chain_ref_describe(const VnChainRef *ref);

/* The nf_tables netlink socket (nftables.h). */
typedef struct _VnNft VnNft;

/* "none", "iptables", "nftables", "legacy", "firewalld" */
const char *vn_fw_backend_to_string(VnFwBackend backend);
gboolean vn_fw_backend_from_string(const char *s, VnFwBackend *out);

/* One exception as one backend holds it: what the ledger records, and
 * what an operation inserts or deletes. */
typedef struct {
    VnFwBackend backend;
    int family;             /* NFPROTO_IPV4 / NFPROTO_IPV6 */
    char *table;            /* nf_tables or xtables table; firewalld: the
                             * policy (or zone) the rule went into */
    char *chain;            /* the chain; firewalld: NULL */
    char *comment;          /* vn_rule_comment(): who it is for */
    guint64 handle;         /* nf_tables: the rule handle; 0 elsewhere */
    char *spec;             /* legacy: the rule after "-I CHAIN" as
                             * iptables-legacy-save prints it; firewalld:
                             * the rich rule; NULL for nf_tables */
} VnFwEntry;

VnFwEntry *vn_fw_entry_new(VnFwBackend backend, int family,
                           const char *table, const char *chain,
                           const char *comment);
VnFwEntry *vn_fw_entry_copy(const VnFwEntry *entry);
void vn_fw_entry_free(VnFwEntry *entry);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VnFwEntry, vn_fw_entry_free)

/* Same backend, family, table, chain and comment (handle and spec aside). */
gboolean vn_fw_entry_same_place(const VnFwEntry *a, const VnFwEntry *b);

/* "ip filter FORWARD", "legacy ip filter FORWARD", "firewalld policy P".
 * transfer full. */
char *vn_fw_entry_where(const VnFwEntry *entry);

/* The per-run context every backend draws its sockets and caches from:
 * nothing is opened before a backend needs it. */
typedef struct _VnFw VnFw;

VnFw *vn_fw_new(void);
void vn_fw_free(VnFw *fw);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VnFw, vn_fw_free)

/* What a backend in the forward path could not take and why, with the
 * fix, one line each (firewalld without virt-nest's policy): the start
 * goes on without that backend's share, and status says why the traffic
 * still dies there. vn_fw_notes() is NULL when there is none. */
void vn_fw_note(VnFw *fw, const char *note);
const GPtrArray *vn_fw_notes(VnFw *fw);

/* The nf_tables socket, opened on first use. */
VnNft *vn_fw_nft(VnFw *fw, GError **error);

/* A backend's private state in @fw (one pointer per backend, freed with
 * @free_func when @fw is). */
gpointer vn_fw_get_data(VnFw *fw, VnFwBackend backend);
void vn_fw_set_data(VnFw *fw, VnFwBackend backend, gpointer data,
                    GDestroyNotify free_func);

/* One insert or delete, for VnFwBackendClass.commit. */
typedef struct {
    gboolean insert;        /* at the head of entry's chain / into the policy */
    const VnRule *rule;     /* insert: what to build; borrowed */
    VnFwEntry *entry;       /* insert: filled with the handle; borrowed */
} VnFwChange;

typedef struct {
    VnFwBackend backend;

    /* 1 when this backend is in this host's forward path for @family
     * (NFPROTO_IPV4/NFPROTO_IPV6) and would stop what it does not let
     * through, 0 when not, -1 with @error. */
    int (*detect)(VnFw *fw, int family, GError **error);

    /* Where @rule goes in this backend (table, chain, spec; no handle):
     * *@out is a new entry, or NULL when the backend needs nothing for
     * this kind of rule here (firewalld does not masquerade libvirt's
     * networks; a host without an ip6 nat table has no MASQUERADE to
     * exempt from). FALSE with @error when it cannot tell. */
    gboolean (*place)(VnFw *fw, const VnRule *rule, VnFwEntry **out,
                      GError **error);

    /* 1 when the recorded @entry is still there, and still ours, 0 when
     * not, -1 with @error. */
    int (*exists)(VnFw *fw, const VnFwEntry *entry, GError **error);

    /* Every entry in the chains this backend uses for @family whose
     * comment starts with @prefix (NULL: any comment of virt-nest's, in
     * both encodings iptables writes), in chain order, appended to @out
     * (VnFwEntry). For the runs that must find rules without a ledger,
     * restored copies included, and for stop, which removes every copy. */
    gboolean (*list)(VnFw *fw, int family, const char *prefix,
                     GPtrArray *out, GError **error);

    /* Whether a rule that is not virt-nest's comes before @entry in its
     * chain (for status and reconcile); 0 no, 1 yes, -1 error. */
    int (*preceded)(VnFw *fw, const VnFwEntry *entry, GError **error);

    /* Execute @changes (VnFwChange), deletions and inserts, all or
     * nothing; inserts end up at the head in the order given. Fills the
     * handles of inserted nf_tables entries. An insert without a rule
     * rebuilds the entry from its spec: the executor uses that to put
     * back what it deleted when a later step fails, so every backend but
     * nf_tables (which commits last, in one batch) must support it.
     * Backends that share a commit function (iptables and nftables) are
     * committed together, in one call. */
    gboolean (*commit)(VnFw *fw, GPtrArray *changes, GError **error);
} VnFwBackendClass;

/* Whether @backend is in this host's forward path for @family
 * (NFPROTO_IPV4/6), asked once per @fw. VIRT_NEST_FIREWALL=none, or a
 * comma-separated list of backend names, forces the answer (for tests). */
gboolean vn_fw_active(VnFw *fw, VnFwBackend backend, int family,
                      gboolean *active, GError **error);

/* The backends in @family's forward path, appended to @out (VnFwBackend),
 * in a fixed order. */
gboolean vn_fw_backends(VnFw *fw, int family, GArray *out, GError **error);

/* The built-in class of @backend, or NULL for VN_FW_NONE or one not
 * built in. */
const VnFwBackendClass *vn_fw_backend_class(VnFwBackend backend);

/* The class @fw uses for @backend: the built-in one, unless a test put
 * another in its place with vn_fw_set_class(). */
const VnFwBackendClass *vn_fw_class(VnFw *fw, VnFwBackend backend);

/* For tests: make @fw use @klass (NULL: none) for @backend, e.g. one that
 * answers from a description of a kernel's ruleset instead of netlink. */
void vn_fw_set_class(VnFw *fw, VnFwBackend backend,
                     const VnFwBackendClass *klass);

/* The backends' classes, defined in their own files. */
extern const VnFwBackendClass vn_fw_iptables_class;
extern const VnFwBackendClass vn_fw_nftables_class;
extern const VnFwBackendClass vn_fw_legacy_class;       /* xtables.c */

/* 1 when firewalld's table inet firewalld exists in this network
 * namespace (firewalld's nftables backend runs, or ran and left it), 0
 * when not, -1 with @error. Netlink only: the static hook asks it to know
 * whether it must hand the event to virt-nest-hook-firewalld. */
int vn_fw_firewalld_table(VnFw *fw, GError **error);

/* Whether the firewalld backend (firewalld.c, GIO) is linked into this
 * program: the static hook goes without it. */
gboolean vn_fw_firewalld_built_in(void);

/* The chain a rule of @kind and @family (AF_INET/AF_INET6) goes into in
 * one of the chain-based backends (iptables, nftables, legacy); FALSE for
 * the others. */
gboolean vn_fw_chain_ref(VnFwBackend backend, VnRuleKind kind, int family,
                         VnChainRef *out);

G_END_DECLS
