/* fweval.c: what a firewall does to one packet at one hook.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include <string.h>
#include <linux/netfilter.h>

#include "fweval.h"

#define MAX_JUMPS 16

void
vn_fw_result_clear(VnFwResult *r)
{
    g_clear_pointer(&r->unknown, g_ptr_array_unref);
    g_clear_pointer(&r->unknown_chains, g_ptr_array_unref);
}

static gboolean
iface_matches(const char *want, gboolean neg, gboolean prefix, const char *have)
{
    gboolean m;

    if (!want)
        return TRUE;
    if (!have)
        return neg;         /* "! -i x" matches a packet with no interface */
    m = prefix ? g_str_has_prefix(have, want) : strcmp(have, want) == 0;
    return m != neg;
}

static gboolean
addr_matches(const VnCidr *want, gboolean neg, const VnCidr *have)
{
    if (vn_cidr_is_empty(want))
        return TRUE;
    if (want->family != have->family)
        return FALSE;
    return vn_cidr_contains(want, have) != neg;
}

gboolean
vn_fw_rule_matches(const VnFwRule *r, const VnPacket *p)
{
    return iface_matches(r->iif, r->iif_neg, r->iif_prefix, p->iif) &&
           iface_matches(r->oif, r->oif_neg, r->oif_prefix, p->oif) &&
           addr_matches(&r->src, r->src_neg, &p->src) &&
           addr_matches(&r->dst, r->dst_neg, &p->dst) &&
           (!r->l4proto || (r->l4proto == p->proto) != r->l4proto_neg) &&
           (!r->ct_state || (r->ct_state & p->ct)) &&
           /* the packets evaluated were not rewritten (no DNAT) */
           !r->ct_status &&
           (!r->nfproto ||
            r->nfproto == (p->src.family == AF_INET6 ? NFPROTO_IPV6
                                                     : NFPROTO_IPV4));
}

/* Chains by family, table and name, for jumps. */
static guint
chain_hash(gconstpointer p)
{
    const VnFwChain *c = p;

    return g_str_hash(c->name ? c->name : "") * 31u +
           g_str_hash(c->table ? c->table : "") + (guint)c->family +
           (c->legacy ? 7u : 0u);
}

static gboolean
chain_equal(gconstpointer a, gconstpointer b)
{
    const VnFwChain *x = a, *y = b;

    /* a jump never crosses between legacy xtables and nf_tables */
    return x->family == y->family && x->legacy == y->legacy &&
           !g_strcmp0(x->table, y->table) && !g_strcmp0(x->name, y->name);
}

static GHashTable *
chain_index_new(GPtrArray *chains)
{
    GHashTable *index = g_hash_table_new(chain_hash, chain_equal);

    for (guint i = 0; chains && i < chains->len; i++)
        if (!g_hash_table_contains(index, chains->pdata[i]))   /* first wins */
            g_hash_table_add(index, chains->pdata[i]);
    return index;
}

typedef struct {
    GHashTable *index;      /* VnFwChain, for jumps */
    const VnPacket *pkt;
    VnFwResult *out;
    GHashTable *unknown;    /* VnFwRule already in out->unknown */
    gboolean nat;
    guint64 left;           /* rule evaluations left */
} Eval;

static const VnFwChain *
jump_target(Eval *e, const VnFwChain *from, const char *name)
{
    VnFwChain key = { .family = from->family, .table = from->table,
                      .name = (char *)name, .legacy = from->legacy };

    return g_hash_table_lookup(e->index, &key);
}

static void
note_opaque(Eval *e, const VnFwChain *chain, const VnFwRule *r)
{
    if (r->verdict == VN_FW_CONTINUE || !g_hash_table_add(e->unknown, (gpointer)r))
        return;
    g_ptr_array_add(e->out->unknown, (gpointer)r);
    g_ptr_array_add(e->out->unknown_chains, (gpointer)chain);
}

static VnFwVerdict run_chain(Eval *e, const VnFwChain *chain, guint depth);

/* A jump or goto by @r in @chain: the verdict of the chain it leads to,
 * or CONTINUE to go on after @r; *@leave when a goto's chain returned. */
static VnFwVerdict
run_jump(Eval *e, const VnFwChain *chain, const VnFwRule *r, guint depth,
         gboolean *leave)
{
    const VnFwChain *t = jump_target(e, chain, r->target);
    VnFwVerdict v;

    if (!t)
        return VN_FW_CONTINUE;
    v = run_chain(e, t, depth + 1);
    *leave = v == VN_FW_CONTINUE && r->verdict == VN_FW_GOTO;
    return v;
}

/* Run @chain; returns a terminal verdict, or CONTINUE when the packet
 * falls off its end (or RETURNs), or when the budget ran out. */
static VnFwVerdict
run_chain(Eval *e, const VnFwChain *chain, guint depth)
{
    if (depth > MAX_JUMPS)
        return VN_FW_CONTINUE;
    for (guint i = 0; i < chain->rules->len; i++) {
        const VnFwRule *r = chain->rules->pdata[i];
        gboolean leave = FALSE;
        VnFwVerdict v;

        if (e->left == 0) {
            e->out->too_complex = TRUE;
            return VN_FW_CONTINUE;
        }
        e->left--;
        e->out->evaluated++;
        if (!vn_fw_rule_matches(r, e->pkt))
            continue;
        if (r->opaque) {
            note_opaque(e, chain, r);
            continue;
        }
        switch (r->verdict) {
        case VN_FW_CONTINUE:
            break;
        case VN_FW_RETURN:
            return VN_FW_CONTINUE;
        case VN_FW_JUMP:
        case VN_FW_GOTO:
            v = run_jump(e, chain, r, depth, &leave);
            if (v != VN_FW_CONTINUE || leave || e->out->too_complex)
                return v;
            break;
        case VN_FW_MASQUERADE:
        case VN_FW_SNAT:
        case VN_FW_DNAT:
            if (!e->nat)
                break;
            G_GNUC_FALLTHROUGH;
        default:
            e->out->chain = chain;
            e->out->rule = r;
            return r->verdict;
        }
    }
    return VN_FW_CONTINUE;
}

static gboolean
family_fits(int chain_family, int af)
{
    return chain_family == NFPROTO_INET ||
           (chain_family == NFPROTO_IPV4 && af == AF_INET) ||
           (chain_family == NFPROTO_IPV6 && af == AF_INET6);
}

/* By priority. At one priority the kernel runs the hook registered last
 * first (net/netfilter/core.c nf_hook_entries_grow() inserts a new hook
 * before the existing ones of its priority; seen: with the legacy filter
 * table made before an nf_tables output chain of priority 0, the nf_tables
 * chain sees the packet the legacy DROP then drops, and not the other way
 * round). Legacy xtables registers filter at NF_IP_PRI_FILTER = 0, like
 * iptables-nft's filter chains, and the order of registration is not in
 * any ruleset: nf_tables chains come first here, then legacy ones, then by
 * table. Only which drop is named can depend on it: every base chain must
 * accept either way. */
static int
cmp_prio(gconstpointer a, gconstpointer b)
{
    const VnFwChain *x = *(VnFwChain *const *)a;
    const VnFwChain *y = *(VnFwChain *const *)b;

    if (x->priority != y->priority)
        return x->priority < y->priority ? -1 : 1;
    if (x->legacy != y->legacy)
        return x->legacy ? 1 : -1;
    return g_strcmp0(x->table, y->table);
}

/* The base chains of @type at @hook for @pkt's family, by priority. */
static GPtrArray *
base_chains(GPtrArray *chains, const char *hook, const char *type,
            const VnPacket *pkt)
{
    GPtrArray *bases = g_ptr_array_new();

    for (guint i = 0; chains && i < chains->len; i++) {
        const VnFwChain *c = chains->pdata[i];

        if (!g_strcmp0(c->hook, hook) && !g_strcmp0(c->type, type) &&
            family_fits(c->family, pkt->src.family))
            g_ptr_array_add(bases, (gpointer)c);
    }
    g_ptr_array_sort(bases, cmp_prio);
    return bases;
}

/* Every base chain in turn, until one decides for good (a drop, a reject,
 * a NAT verdict at a NAT hook) or the budget runs out. */
static void
run_bases(Eval *e, GPtrArray *bases)
{
    VnFwResult *out = e->out;
    const VnFwChain *acc_base = NULL, *acc_chain = NULL;
    const VnFwRule *acc_rule = NULL;

    for (guint i = 0; i < bases->len; i++) {
        const VnFwChain *base = bases->pdata[i];
        VnFwVerdict v = run_chain(e, base, 0);

        if (out->too_complex) {
            out->verdict = VN_FW_CONTINUE;
            out->base = base;
            out->chain = NULL;
            out->rule = NULL;
            return;
        }
        if (v == VN_FW_CONTINUE) {
            if (!base->policy_drop)
                continue;
            out->verdict = VN_FW_DROP;
            out->base = out->chain = base;
            out->rule = NULL;
            return;
        }
        if (v == VN_FW_ACCEPT) {
            if (!acc_rule) {
                acc_base = base;
                acc_chain = out->chain;
                acc_rule = out->rule;
            }
            continue;       /* the next base chain has its say too */
        }
        out->verdict = v;
        out->base = base;
        if (e->nat || v == VN_FW_DROP || v == VN_FW_REJECT)
            return;
    }
    if (out->verdict == VN_FW_ACCEPT) {
        /* the first rule that accepted it, if one did */
        out->base = acc_base;
        out->chain = acc_chain;
        out->rule = acc_rule;
    }
}

void
vn_fw_eval(GPtrArray *chains, const char *hook, const char *type,
           const VnPacket *pkt, guint64 *budget, VnFwResult *out)
{
    g_autoptr(GPtrArray) bases = base_chains(chains, hook, type, pkt);
    g_autoptr(GHashTable) index = chain_index_new(chains);
    g_autoptr(GHashTable) unknown = g_hash_table_new(NULL, NULL);
    Eval e = { index, pkt, out, unknown, g_strcmp0(type, "nat") == 0,
               VN_FW_EVAL_BUDGET };

    memset(out, 0, sizeof(*out));
    out->verdict = VN_FW_ACCEPT;
    out->unknown = g_ptr_array_new();
    out->unknown_chains = g_ptr_array_new();
    if (budget)
        e.left = MIN(e.left, *budget);
    run_bases(&e, bases);
    if (budget)
        *budget -= out->evaluated;
}
