/* nftread.c: read the nftables ruleset into the firewall model.
 *
 * Expressions are followed register by register, the way iptables-nft
 * and nft build them: a meta, payload or ct load, an optional bitwise
 * mask, then a cmp. What does not fit (sets, ports, marks, fib, ...) makes
 * the rule "opaque": the doctor then says it could not evaluate it.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include <string.h>
#include <net/if.h>
#include <netinet/in.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/xt_state.h>
#include <libnftnl/chain.h>
#include <libnftnl/expr.h>
#include <libnftnl/rule.h>
#include <libnftnl/set.h>

#include "error.h"
#include "nftread.h"
#include "nftables.h"
#include "xtables.h"

typedef enum {
    REG_NONE,
    REG_IIFNAME,
    REG_OIFNAME,
    REG_IIF,                /* meta iif/oif: an ifindex, as libvirt's */
    REG_OIF,                /* nftables backend matches its bridges */
    REG_L4PROTO,
    REG_NFPROTO,
    REG_SADDR,
    REG_DADDR,
    REG_CTSTATE,
    REG_CTSTATUS,
    REG_OTHER,
} RegKind;

typedef struct {
    RegKind kind;
    guint len;
    guint8 mask[16];
    gboolean masked;
} Reg;

typedef struct {
    VnFwRule *rule;
    int family;             /* of the table; inet narrows with meta nfproto */
    Reg regs[NFT_REG32_15 + 1];
    GString *opaque;
    char *ct_set;           /* ct state looked up in this set: its
                             * elements are read after the dump */
} Ctx;

static void
opaque(Ctx *c, const char *what)
{
    if (c->opaque->len)
        g_string_append(c->opaque, ", ");
    g_string_append(c->opaque, what);
}

static Reg *
reg(Ctx *c, guint32 r)
{
    /* NFT_REG_1..4 are 16-byte registers; NFT_REG32_x 4-byte ones */
    if (r >= NFT_REG32_00)
        r = (r - NFT_REG32_00) / 4 + NFT_REG_1;
    return r < G_N_ELEMENTS(c->regs) ? &c->regs[r] : &c->regs[0];
}

static void
on_meta(Ctx *c, struct nftnl_expr *e)
{
    Reg *r;

    if (!nftnl_expr_is_set(e, NFTNL_EXPR_META_DREG)) {
        opaque(c, "meta set");
        return;
    }
    r = reg(c, nftnl_expr_get_u32(e, NFTNL_EXPR_META_DREG));
    memset(r, 0, sizeof(*r));
    switch (nftnl_expr_get_u32(e, NFTNL_EXPR_META_KEY)) {
    case NFT_META_IIFNAME:
        r->kind = REG_IIFNAME;
        break;
    case NFT_META_OIFNAME:
        r->kind = REG_OIFNAME;
        break;
    case NFT_META_IIF:
        r->kind = REG_IIF;
        break;
    case NFT_META_OIF:
        r->kind = REG_OIF;
        break;
    case NFT_META_L4PROTO:
        r->kind = REG_L4PROTO;
        break;
    case NFT_META_NFPROTO:
        r->kind = REG_NFPROTO;
        break;
    default:
        r->kind = REG_OTHER;
    }
}

static void
on_payload(Ctx *c, struct nftnl_expr *e)
{
    guint32 base = nftnl_expr_get_u32(e, NFTNL_EXPR_PAYLOAD_BASE);
    guint32 off = nftnl_expr_get_u32(e, NFTNL_EXPR_PAYLOAD_OFFSET);
    guint32 len = nftnl_expr_get_u32(e, NFTNL_EXPR_PAYLOAD_LEN);
    Reg *r;

    if (!nftnl_expr_is_set(e, NFTNL_EXPR_PAYLOAD_DREG)) {
        opaque(c, "payload set");
        return;
    }
    r = reg(c, nftnl_expr_get_u32(e, NFTNL_EXPR_PAYLOAD_DREG));
    memset(r, 0, sizeof(*r));
    r->len = len;
    r->kind = REG_OTHER;
    if (base != NFT_PAYLOAD_NETWORK_HEADER)
        return;
    if (c->family == NFPROTO_IPV6) {
        if (off == 8 && len <= 16)
            r->kind = REG_SADDR;
        else if (off == 24 && len <= 16)
            r->kind = REG_DADDR;
    } else {
        if (off == 12 && len <= 4)
            r->kind = REG_SADDR;
        else if (off == 16 && len <= 4)
            r->kind = REG_DADDR;
    }
}

static void
on_ct(Ctx *c, struct nftnl_expr *e)
{
    Reg *r;

    if (!nftnl_expr_is_set(e, NFTNL_EXPR_CT_DREG)) {
        opaque(c, "ct set");
        return;
    }
    r = reg(c, nftnl_expr_get_u32(e, NFTNL_EXPR_CT_DREG));
    memset(r, 0, sizeof(*r));
    switch (nftnl_expr_get_u32(e, NFTNL_EXPR_CT_KEY)) {
    case NFT_CT_STATE:
        r->kind = REG_CTSTATE;
        break;
    case NFT_CT_STATUS:
        r->kind = REG_CTSTATUS;
        break;
    default:
        r->kind = REG_OTHER;
    }
}

static void
on_bitwise(Ctx *c, struct nftnl_expr *e)
{
    Reg *src = reg(c, nftnl_expr_get_u32(e, NFTNL_EXPR_BITWISE_SREG));
    Reg *dst = reg(c, nftnl_expr_get_u32(e, NFTNL_EXPR_BITWISE_DREG));
    guint32 len = 0;
    const void *mask = nftnl_expr_get(e, NFTNL_EXPR_BITWISE_MASK, &len);
    Reg copy = *src;

    copy.masked = mask != NULL && len <= sizeof(copy.mask);
    if (copy.masked)
        memcpy(copy.mask, mask, len);
    else
        copy.kind = REG_OTHER;
    *dst = copy;
}

static int
mask_prefix(const guint8 *mask, guint len)
{
    int p = 0;

    for (guint i = 0; i < len; i++) {
        for (int b = 7; b >= 0; b--) {
            if (mask[i] & (1 << b))
                p++;
            else
                return p;
        }
    }
    return p;
}

static void
set_addr(Ctx *c, Reg *r, const guint8 *data, guint len, gboolean neg)
{
    VnCidr *out = r->kind == REG_SADDR ? &c->rule->src : &c->rule->dst;
    gboolean *outneg = r->kind == REG_SADDR ? &c->rule->src_neg : &c->rule->dst_neg;

    memset(out, 0, sizeof(*out));
    out->family = c->family == NFPROTO_IPV6 ? AF_INET6 : AF_INET;
    memcpy(out->addr, data, MIN(len, 16u));
    out->prefix = (guint8)(r->masked ? mask_prefix(r->mask, len) : (int)len * 8);
    *out = vn_cidr_network(out);
    *outneg = neg;
}

/* meta iif/oif compare an ifindex, which names the link only in the
 * network namespace the ruleset belongs to: this one, where the reader
 * runs. An index no link has here (the link is gone: the rule can never
 * match it) leaves the rule opaque rather than guessed at. */
static void
set_ifindex(Ctx *c, gboolean in, const guint8 *data, guint len, gboolean neg)
{
    char name[IF_NAMESIZE];
    guint32 index = 0;
    VnFwRule *rule = c->rule;

    if (len == sizeof(guint32))
        memcpy(&index, data, sizeof(index));
    if (!index || !if_indextoname(index, name)) {
        opaque(c, in ? "iif (a link that is gone)" : "oif (a link that is gone)");
        return;
    }
    g_free(in ? rule->iif : rule->oif);
    if (in) {
        rule->iif = g_strdup(name);
        rule->iif_neg = neg;
        rule->iif_prefix = FALSE;
    } else {
        rule->oif = g_strdup(name);
        rule->oif_neg = neg;
        rule->oif_prefix = FALSE;
    }
}

static void
on_cmp(Ctx *c, struct nftnl_expr *e)
{
    Reg *r = reg(c, nftnl_expr_get_u32(e, NFTNL_EXPR_CMP_SREG));
    guint32 op = nftnl_expr_get_u32(e, NFTNL_EXPR_CMP_OP);
    guint32 len = 0;
    const guint8 *data = nftnl_expr_get(e, NFTNL_EXPR_CMP_DATA, &len);
    gboolean neg = op == NFT_CMP_NEQ;
    VnFwRule *rule = c->rule;

    if (op != NFT_CMP_EQ && op != NFT_CMP_NEQ) {
        opaque(c, "a range compare");
        return;
    }
    switch (r->kind) {
    case REG_IIFNAME:
    case REG_OIFNAME: {
        gsize n = strnlen((const char *)data, len);
        char **name = r->kind == REG_IIFNAME ? &rule->iif : &rule->oif;

        g_free(*name);
        *name = g_strndup((const char *)data, n);
        if (r->kind == REG_IIFNAME) {
            rule->iif_neg = neg;
            rule->iif_prefix = n == len;    /* no NUL compared: a prefix */
        } else {
            rule->oif_neg = neg;
            rule->oif_prefix = n == len;
        }
        break;
    }
    case REG_IIF:
    case REG_OIF:
        set_ifindex(c, r->kind == REG_IIF, data, len, neg);
        break;
    case REG_L4PROTO:
        rule->l4proto = len ? data[0] : 0;
        rule->l4proto_neg = neg;
        break;
    case REG_NFPROTO:
        if (len && !neg) {
            if (c->family == NFPROTO_INET)
                rule->nfproto = data[0];
            c->family = data[0];
        }
        break;
    case REG_CTSTATUS: {
        guint32 v = 0;

        /* ct status & MASK != 0 (ct status dnat) */
        memcpy(&v, r->mask, 4);
        if (r->masked && neg && len == 4 && !memcmp(data, "\0\0\0\0", 4) && v)
            rule->ct_status = v;
        else
            opaque(c, "a ct status test");
        break;
    }
    case REG_SADDR:
    case REG_DADDR:
        set_addr(c, r, data, len, neg);
        break;
    case REG_CTSTATE: {
        guint32 v = 0;

        /* ct state & MASK != 0 */
        memcpy(&v, r->mask, 4);
        if (r->masked && neg && len == 4 && !memcmp(data, "\0\0\0\0", 4))
            rule->ct_state = v;
        else if (!r->masked && !neg && len == 4) {
            memcpy(&v, data, 4);
            rule->ct_state = v;
        } else
            opaque(c, "a ct state test");
        break;
    }
    default:
        opaque(c, "a match on something else than interfaces, addresses, "
                  "protocol or ct state");
    }
}

static void
on_immediate(Ctx *c, struct nftnl_expr *e)
{
    VnFwRule *rule = c->rule;

    if (nftnl_expr_get_u32(e, NFTNL_EXPR_IMM_DREG) != NFT_REG_VERDICT) {
        opaque(c, "immediate data");
        return;
    }
    switch ((int)nftnl_expr_get_u32(e, NFTNL_EXPR_IMM_VERDICT)) {
    case NF_ACCEPT:
        rule->verdict = VN_FW_ACCEPT;
        break;
    case NF_DROP:
        rule->verdict = VN_FW_DROP;
        break;
    case NFT_RETURN:
        rule->verdict = VN_FW_RETURN;
        break;
    case NFT_JUMP:
    case NFT_GOTO:
        rule->verdict = (int)nftnl_expr_get_u32(e, NFTNL_EXPR_IMM_VERDICT) ==
                        NFT_JUMP ? VN_FW_JUMP : VN_FW_GOTO;
        g_free(rule->target);
        rule->target = g_strdup(nftnl_expr_get_str(e, NFTNL_EXPR_IMM_CHAIN));
        break;
    default:
        break;      /* continue, break */
    }
}

/* xt_conntrack_mtinfo3: state_mask after 8 addresses, 2 u32, 5 u16, 2 u16 */
#define CONNTRACK3_STATE_MASK_OFF (8 * 16 + 2 * 4 + 5 * 2 + 2 * 2)
#define CONNTRACK3_INVERT_OFF (8 * 16 + 2 * 4 + 5 * 2 + 2)

static void
on_match(Ctx *c, struct nftnl_expr *e)
{
    const char *name = nftnl_expr_get_str(e, NFTNL_EXPR_MT_NAME);
    guint32 rev = nftnl_expr_get_u32(e, NFTNL_EXPR_MT_REV);
    guint32 len = 0;
    const guint8 *info = nftnl_expr_get(e, NFTNL_EXPR_MT_INFO, &len);

    if (!g_strcmp0(name, "comment")) {
        if (!c->rule->comment && len)
            c->rule->comment = g_strndup((const char *)info, strnlen((const char *)info, len));
    } else if (!g_strcmp0(name, "conntrack") && rev == 3 &&
               len >= CONNTRACK3_STATE_MASK_OFF + 2) {
        guint16 state, invert;

        memcpy(&state, info + CONNTRACK3_STATE_MASK_OFF, 2);
        memcpy(&invert, info + CONNTRACK3_INVERT_OFF, 2);
        if (invert & 1)
            opaque(c, "! --ctstate");
        else
            c->rule->ct_state = state;
    } else if (!g_strcmp0(name, "state") && len >= sizeof(struct xt_state_info)) {
        const struct xt_state_info *si = (const void *)info;

        c->rule->ct_state = si->statemask;
    } else {
        g_autofree char *what = g_strdup_printf("-m %s", name ? name : "?");

        opaque(c, what);
    }
}

static void
on_target(Ctx *c, struct nftnl_expr *e)
{
    const char *name = nftnl_expr_get_str(e, NFTNL_EXPR_TG_NAME);

    if (!g_strcmp0(name, "REJECT"))
        c->rule->verdict = VN_FW_REJECT;
    else if (!g_strcmp0(name, "MASQUERADE"))
        c->rule->verdict = VN_FW_MASQUERADE;
    else if (!g_strcmp0(name, "SNAT"))
        c->rule->verdict = VN_FW_SNAT;
    else if (!g_strcmp0(name, "DNAT"))
        c->rule->verdict = VN_FW_DNAT;
    else if (g_strcmp0(name, "CHECKSUM") && g_strcmp0(name, "LOG") &&
             g_strcmp0(name, "NFLOG")) {
        g_autofree char *what = g_strdup_printf("-j %s", name ? name : "?");

        opaque(c, what);
    }
}

static int
on_expr(struct nftnl_expr *e, void *data)
{
    Ctx *c = data;
    const char *n = nftnl_expr_get_str(e, NFTNL_EXPR_NAME);

    if (!g_strcmp0(n, "meta"))
        on_meta(c, e);
    else if (!g_strcmp0(n, "payload"))
        on_payload(c, e);
    else if (!g_strcmp0(n, "ct"))
        on_ct(c, e);
    else if (!g_strcmp0(n, "bitwise"))
        on_bitwise(c, e);
    else if (!g_strcmp0(n, "cmp"))
        on_cmp(c, e);
    else if (!g_strcmp0(n, "immediate"))
        on_immediate(c, e);
    else if (!g_strcmp0(n, "match"))
        on_match(c, e);
    else if (!g_strcmp0(n, "target"))
        on_target(c, e);
    else if (!g_strcmp0(n, "reject"))
        c->rule->verdict = VN_FW_REJECT;
    else if (!g_strcmp0(n, "lookup") && !c->ct_set &&
             !nftnl_expr_is_set(e, NFTNL_EXPR_LOOKUP_DREG) &&
             !(nftnl_expr_get_u32(e, NFTNL_EXPR_LOOKUP_FLAGS) & NFT_LOOKUP_F_INV) &&
             reg(c, nftnl_expr_get_u32(e, NFTNL_EXPR_LOOKUP_SREG))->kind == REG_CTSTATE &&
             !reg(c, nftnl_expr_get_u32(e, NFTNL_EXPR_LOOKUP_SREG))->masked)
        c->ct_set = g_strdup(nftnl_expr_get_str(e, NFTNL_EXPR_LOOKUP_SET));
    else if (!g_strcmp0(n, "masq"))
        c->rule->verdict = VN_FW_MASQUERADE;
    else if (!g_strcmp0(n, "nat"))
        c->rule->verdict = nftnl_expr_get_u32(e, NFTNL_EXPR_NAT_TYPE) == NFT_NAT_DNAT
                           ? VN_FW_DNAT : VN_FW_SNAT;
    else if (g_strcmp0(n, "counter") && g_strcmp0(n, "log") &&
             g_strcmp0(n, "limit")) {
        g_autofree char *what = g_strdup_printf("%s", n ? n : "?");

        opaque(c, what);
    }
    return 0;
}

/* A rule whose ct state is looked up in a set (firewalld's
 * ct state { established, related } accept): the set's elements are read
 * after the rule dump, which cannot be interrupted. */
typedef struct {
    VnFwRule *rule;         /* borrowed: its chain owns it */
    int family;
    char *table;
    char *set;
} CtLookup;

static void
ct_lookup_free(CtLookup *l)
{
    g_free(l->table);
    g_free(l->set);
    g_free(l);
}

typedef struct {
    GPtrArray *chains;      /* VnFwChain */
    GPtrArray *lookups;     /* CtLookup */
} ReadData;

/* One nftnl rule in the model; *@ct_set gets the set its ct state is
 * looked up in, if any. */
static VnFwRule *
rule_from_nftnl(const struct nftnl_rule *r, int family, char **ct_set)
{
    Ctx c = { vn_fw_rule_new(), family, { { 0 } }, g_string_new(NULL), NULL };

    c.rule->handle = nftnl_rule_get_u64(r, NFTNL_RULE_HANDLE);
    nftnl_expr_foreach((struct nftnl_rule *)r, on_expr, &c);
    *ct_set = c.ct_set;
    if (!c.rule->comment)
        c.rule->comment = g_strdup(vn_nft_rule_get_comment(r));
    if (c.opaque->len)
        c.rule->opaque = g_string_free(c.opaque, FALSE);
    else
        g_string_free(c.opaque, TRUE);
    return c.rule;
}

static const char *
hook_name(int family, guint32 hooknum)
{
    static const char *const names[] = {
        [NF_INET_PRE_ROUTING] = "prerouting", [NF_INET_LOCAL_IN] = "input",
        [NF_INET_FORWARD] = "forward", [NF_INET_LOCAL_OUT] = "output",
        [NF_INET_POST_ROUTING] = "postrouting",
    };

    return hooknum < G_N_ELEMENTS(names) ? names[hooknum] : NULL;
}

static void
on_chain(const void *obj, void *data)
{
    const struct nftnl_chain *n = obj;
    GPtrArray *chains = data;
    int family = (int)nftnl_chain_get_u32(n, NFTNL_CHAIN_FAMILY);
    VnFwChain *c;

    if (family != NFPROTO_IPV4 && family != NFPROTO_IPV6 && family != NFPROTO_INET)
        return;
    c = vn_fw_chain_new();
    c->family = family;
    c->table = g_strdup(nftnl_chain_get_str(n, NFTNL_CHAIN_TABLE));
    c->name = g_strdup(nftnl_chain_get_str(n, NFTNL_CHAIN_NAME));
    if (nftnl_chain_is_set(n, NFTNL_CHAIN_HOOKNUM)) {
        c->hook = g_strdup(hook_name(family, nftnl_chain_get_u32(n, NFTNL_CHAIN_HOOKNUM)));
        c->type = g_strdup(nftnl_chain_get_str(n, NFTNL_CHAIN_TYPE));
        c->priority = (int)nftnl_chain_get_s32(n, NFTNL_CHAIN_PRIO);
        c->policy_drop = nftnl_chain_is_set(n, NFTNL_CHAIN_POLICY) &&
                         nftnl_chain_get_u32(n, NFTNL_CHAIN_POLICY) == NF_DROP;
    }
    g_ptr_array_add(chains, c);
}

static void
on_rule(const void *obj, void *data)
{
    const struct nftnl_rule *r = obj;
    ReadData *rd = data;
    GPtrArray *chains = rd->chains;
    int family = (int)nftnl_rule_get_u32(r, NFTNL_RULE_FAMILY);
    const char *table = nftnl_rule_get_str(r, NFTNL_RULE_TABLE);
    const char *chain = nftnl_rule_get_str(r, NFTNL_RULE_CHAIN);

    for (guint i = 0; i < chains->len; i++) {
        VnFwChain *c = chains->pdata[i];

        if (c->family == family && !g_strcmp0(c->table, table) &&
            !g_strcmp0(c->name, chain)) {
            char *ct_set = NULL;
            VnFwRule *rule = rule_from_nftnl(r, family, &ct_set);

            g_ptr_array_add(c->rules, rule);
            if (ct_set) {
                CtLookup *l = g_new0(CtLookup, 1);

                l->rule = rule;
                l->family = family;
                l->table = g_strdup(table);
                l->set = ct_set;
                g_ptr_array_add(rd->lookups, l);
            }
            return;
        }
    }
}

static int
cmp_chain(gconstpointer a, gconstpointer b)
{
    const VnFwChain *x = *(VnFwChain *const *)a;
    const VnFwChain *y = *(VnFwChain *const *)b;
    int r;

    if (x->family != y->family)
        return x->family < y->family ? -1 : 1;
    if (x->legacy != y->legacy)
        return x->legacy ? 1 : -1;
    if ((r = g_strcmp0(x->table, y->table)))
        return r;
    return g_strcmp0(x->name, y->name);
}

static void
on_ct_elem(const void *obj, void *data)
{
    struct nftnl_set_elem *e = (struct nftnl_set_elem *)obj;
    guint *mask = data;
    guint32 len = 0;
    const void *key = nftnl_set_elem_get(e, NFTNL_SET_ELEM_KEY, &len);
    guint32 v = 0;

    if (key && len == 4) {
        memcpy(&v, key, 4);
        *mask |= v;
    } else {
        *mask |= G_MAXUINT;  /* not a ct state: anything */
    }
}

/* Each looked-up ct state set as the mask of its states; a set that
 * cannot be read leaves its rule opaque. */
static gboolean
resolve_ct_sets(VnNft *nft, GPtrArray *lookups, GError **error)
{
    for (guint i = 0; i < lookups->len; i++) {
        CtLookup *l = lookups->pdata[i];
        guint mask = 0;

        if (!vn_nft_dump_set_elems(nft, l->family, l->table, l->set,
                                   on_ct_elem, &mask, error))
            return FALSE;
        if (mask && mask != G_MAXUINT) {
            l->rule->ct_state = mask;
            continue;
        }
        if (l->rule->opaque) {
            char *o = g_strdup_printf("%s, lookup", l->rule->opaque);

            g_free(l->rule->opaque);
            l->rule->opaque = o;
        } else {
            l->rule->opaque = g_strdup("lookup");
        }
    }
    return TRUE;
}

GPtrArray *
vn_fw_read(GError **error)
{
    g_autoptr(VnNft) nft = vn_nft_open(error);
    g_autoptr(GPtrArray) chains =
        g_ptr_array_new_with_free_func((GDestroyNotify)vn_fw_chain_free);
    g_autoptr(GPtrArray) lookups =
        g_ptr_array_new_with_free_func((GDestroyNotify)ct_lookup_free);
    ReadData rd = { chains, lookups };

    if (!nft || !vn_nft_dump_chains(nft, on_chain, chains, error))
        return NULL;
    /* rules come in chain order, each chain's in rule order */
    if (!vn_nft_dump_rules(nft, on_rule, &rd, error) ||
        !resolve_ct_sets(nft, lookups, error))
        return NULL;
    /* legacy xtables is another registration at the same hooks: its
     * REJECTs count as much */
    if (!vn_xt_read(chains, error))
        return NULL;
    g_ptr_array_sort(chains, cmp_chain);
    return g_steal_pointer(&chains);
}

static int
read_sysctl(const char *path)
{
    g_autofree char *text = NULL;
    gint64 v;

    if (!g_file_get_contents(path, &text, NULL, NULL) ||
        !g_ascii_string_to_signed(g_strstrip(text), 10, 0, 255, &v, NULL))
        return -1;
    return (int)v;
}

gboolean
vn_host_read_forwarding(VnHost *host, GError **error)
{
    host->ip_forward = read_sysctl("/proc/sys/net/ipv4/ip_forward");
    host->ip6_forward = read_sysctl("/proc/sys/net/ipv6/conf/all/forwarding");
    host->rp_filter_all = read_sysctl("/proc/sys/net/ipv4/conf/all/rp_filter");
    for (guint i = 0; i < host->links->len; i++) {
        VnLink *l = host->links->pdata[i];
        g_autofree char *p = g_strdup_printf("/proc/sys/net/ipv4/conf/%s/rp_filter",
                                             l->name);

        l->rp_filter = read_sysctl(p);
    }
    if (host->firewall)
        g_ptr_array_unref(host->firewall);
    host->firewall = vn_fw_read(error);
    return host->firewall != NULL;
}
