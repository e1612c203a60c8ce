/* nftables.c: forward exceptions as nftables rules (libnftnl + libmnl).
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <string.h>
#include <time.h>
#include <arpa/inet.h>
#include <libmnl/libmnl.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <libnftnl/chain.h>
#include <libnftnl/set.h>
#include <libnftnl/common.h>
#include <libnftnl/expr.h>
#include <libnftnl/rule.h>
#include <libnftnl/udata.h>

#include "error.h"
#include "nftables.h"

/* ------------------------------------------------------------------ */
/* building rules                                                      */

static void
add_meta(struct nftnl_rule *r, guint32 key)
{
    struct nftnl_expr *e = nftnl_expr_alloc("meta");

    nftnl_expr_set_u32(e, NFTNL_EXPR_META_KEY, key);
    nftnl_expr_set_u32(e, NFTNL_EXPR_META_DREG, NFT_REG_1);
    nftnl_rule_add_expr(r, e);
}

static void
add_cmp(struct nftnl_rule *r, const void *data, guint32 len)
{
    struct nftnl_expr *e = nftnl_expr_alloc("cmp");

    nftnl_expr_set_u32(e, NFTNL_EXPR_CMP_SREG, NFT_REG_1);
    nftnl_expr_set_u32(e, NFTNL_EXPR_CMP_OP, NFT_CMP_EQ);
    nftnl_expr_set(e, NFTNL_EXPR_CMP_DATA, data, len);
    nftnl_rule_add_expr(r, e);
}

/* iifname/oifname "NAME": the NUL is compared too (iptables-nft does the
 * same; without it iptables would list the wildcard NAME+). */
static void
add_ifname(struct nftnl_rule *r, guint32 key, const char *name)
{
    add_meta(r, key);
    add_cmp(r, name, (guint32)strlen(name) + 1);
}

/* ip saddr/daddr CIDR, encoded as iptables-nft 1.8.9 does (add_addr): a
 * byte-aligned prefix loads just those bytes; any other prefix loads the
 * whole address and masks it. /0 matches everything: no expression. */
static void
add_addr(struct nftnl_rule *r, const VnCidr *c, gboolean src)
{
    guint len = c->family == AF_INET6 ? 16 : 4;
    guint offset = c->family == AF_INET6 ? (src ? 8 : 24) : (src ? 12 : 16);
    struct nftnl_expr *e;

    if (c->prefix == 0)
        return;
    e = nftnl_expr_alloc("payload");
    nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_BASE, NFT_PAYLOAD_NETWORK_HEADER);
    nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_OFFSET, offset);
    nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_DREG, NFT_REG_1);
    if (c->prefix % 8 == 0) {
        nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_LEN, c->prefix / 8);
        nftnl_rule_add_expr(r, e);
        add_cmp(r, c->addr, c->prefix / 8);
        return;
    }
    nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_LEN, len);
    nftnl_rule_add_expr(r, e);
    {
        VnCidr ones = { .family = c->family, .prefix = c->prefix };
        guint8 xor[16] = { 0 };

        memset(ones.addr, 0xff, len);
        ones = vn_cidr_network(&ones);
        e = nftnl_expr_alloc("bitwise");
        nftnl_expr_set_u32(e, NFTNL_EXPR_BITWISE_SREG, NFT_REG_1);
        nftnl_expr_set_u32(e, NFTNL_EXPR_BITWISE_DREG, NFT_REG_1);
        nftnl_expr_set_u32(e, NFTNL_EXPR_BITWISE_LEN, len);
        nftnl_expr_set(e, NFTNL_EXPR_BITWISE_MASK, ones.addr, len);
        nftnl_expr_set(e, NFTNL_EXPR_BITWISE_XOR, xor, len);
        nftnl_rule_add_expr(r, e);
    }
    add_cmp(r, c->addr, len);
}

struct nftnl_rule *
vn_nft_rule_build(const VnRule *rule, const VnChainRef *chain)
{
    struct nftnl_rule *r = nftnl_rule_alloc();
    struct nftnl_udata_buf *ud = nftnl_udata_buf_alloc(NFT_USERDATA_MAXLEN);
    g_autofree char *comment = vn_rule_comment(rule);
    struct nftnl_expr *e;

    nftnl_rule_set_u32(r, NFTNL_RULE_FAMILY, (guint32)chain->family);
    nftnl_rule_set_str(r, NFTNL_RULE_TABLE, chain->table);
    nftnl_rule_set_str(r, NFTNL_RULE_CHAIN, chain->chain);

    /* IN:  oifname BR  saddr PEER    daddr SUBNET  (-o BR -s PEER -d SUBNET)
     * OUT: iifname BR  saddr SUBNET  daddr PEER    (-i BR -s SUBNET -d PEER)
     * NAT:             saddr SUBNET  daddr PEER    (-s SUBNET -d PEER) */
    if (rule->kind == VN_RULE_IN)
        add_ifname(r, NFT_META_OIFNAME, rule->bridge);
    else if (rule->kind == VN_RULE_OUT)
        add_ifname(r, NFT_META_IIFNAME, rule->bridge);
    add_addr(r, &rule->src, TRUE);
    add_addr(r, &rule->dst, FALSE);
    nftnl_rule_add_expr(r, nftnl_expr_alloc("counter"));
    e = nftnl_expr_alloc("immediate");
    nftnl_expr_set_u32(e, NFTNL_EXPR_IMM_DREG, NFT_REG_VERDICT);
    nftnl_expr_set_u32(e, NFTNL_EXPR_IMM_VERDICT, NF_ACCEPT);
    nftnl_rule_add_expr(r, e);

    nftnl_udata_put_strz(ud, NFTNL_UDATA_RULE_COMMENT, comment);
    nftnl_rule_set_data(r, NFTNL_RULE_USERDATA, nftnl_udata_buf_data(ud),
                        nftnl_udata_buf_len(ud));
    nftnl_udata_buf_free(ud);
    return r;
}

char *
vn_nft_rule_payload(const VnRule *rule, const VnChainRef *chain)
{
    g_autoptr(nftnl_rule) r = vn_nft_rule_build(rule, chain);
    char buf[8192];

    nftnl_rule_snprintf(buf, sizeof(buf), r, NFTNL_OUTPUT_DEFAULT, 0);
    return g_strdup(buf);
}

static int
udata_cb(const struct nftnl_udata *attr, void *data)
{
    const char **out = data;
    const char *value = nftnl_udata_get(attr);
    guint8 len = nftnl_udata_len(attr);

    if (nftnl_udata_type(attr) == NFTNL_UDATA_RULE_COMMENT && len > 0 &&
        value[len - 1] == '\0')
        *out = value;
    return 0;
}

/* iptables-restore writes -m comment as an xtables match (struct
 * xt_comment_info, 256 bytes); a libnftnl writer as rule userdata. Both
 * list as -m comment in iptables -S: read both. */
static const char *
xt_comment(const struct nftnl_rule *r)
{
    struct nftnl_expr_iter *it = nftnl_expr_iter_create(r);
    const char *comment = NULL;
    struct nftnl_expr *e;

    while (it && !comment && (e = nftnl_expr_iter_next(it))) {
        const char *info;
        guint32 len = 0;

        if (g_strcmp0(nftnl_expr_get_str(e, NFTNL_EXPR_NAME), "match") != 0 ||
            g_strcmp0(nftnl_expr_get_str(e, NFTNL_EXPR_MT_NAME), "comment") != 0)
            continue;
        info = nftnl_expr_get(e, NFTNL_EXPR_MT_INFO, &len);
        if (info && len > 0 && memchr(info, '\0', len))
            comment = info;
    }
    nftnl_expr_iter_destroy(it);
    return comment;
}

const char *
vn_nft_rule_get_comment(const struct nftnl_rule *r)
{
    const char *comment = NULL;
    const void *data;
    guint32 len = 0;

    if (!nftnl_rule_is_set(r, NFTNL_RULE_USERDATA))
        return xt_comment(r);
    data = nftnl_rule_get_data(r, NFTNL_RULE_USERDATA, &len);
    if (data && len)
        nftnl_udata_parse(data, len, udata_cb, &comment);
    return comment ? comment : xt_comment(r);
}

/* ------------------------------------------------------------------ */
/* the socket                                                          */

struct _VnNft {
    struct mnl_socket *nl;
    guint32 portid;
    guint32 seq;
};

VnNft *
vn_nft_open(GError **error)
{
    g_autoptr(VnNft) nft = g_new0(VnNft, 1);

    nft->nl = mnl_socket_open(NETLINK_NETFILTER);
    if (!nft->nl || mnl_socket_bind(nft->nl, 0, MNL_SOCKET_AUTOPID) < 0) {
        g_set_error(error, VN_ERROR, VN_ERROR_FAILED,
                    "cannot open a netfilter netlink socket: %s",
                    g_strerror(errno));
        return NULL;
    }
    nft->portid = mnl_socket_get_portid(nft->nl);
    nft->seq = (guint32)time(NULL);
    return g_steal_pointer(&nft);
}

void
vn_nft_close(VnNft *nft)
{
    if (!nft)
        return;
    if (nft->nl)
        mnl_socket_close(nft->nl);
    g_free(nft);
}

typedef int (*MsgFunc)(const struct nlmsghdr *nlh, void *data);

/* The one place a kernel or socket errno becomes a GError: "@what: the
 * reason", and for a refused permission, what it takes. Always sets @error;
 * @err is a positive errno. */
static void G_GNUC_PRINTF(3, 4)
nft_fail(GError **error, int err, const char *fmt, ...)
{
    g_autofree char *what = NULL;
    va_list ap;

    va_start(ap, fmt);
    what = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    if (err == EPERM || err == EACCES)
        g_set_error(error, VN_ERROR, VN_ERROR_FAILED,
                    "%s: %s; run as root with CAP_NET_ADMIN", what,
                    g_strerror(err));
    else
        g_set_error(error, VN_ERROR, VN_ERROR_FAILED, "%s: %s", what,
                    g_strerror(err));
}

/* Send @req and read the replies to the request with sequence @seq until
 * its ACK or the end of a dump. Returns 0, or a negative errno: the
 * kernel's, the socket's, or -EINVAL when @fn refused a message. Sets no
 * error: the caller, which knows what it asked, says so with nft_fail()
 * (-EPERM is -1, so -1 cannot also mean "error set"). */
static int
talk(VnNft *nft, const void *req, size_t len, guint32 seq, MsgFunc fn,
     void *data)
{
    char buf[MNL_SOCKET_BUFFER_SIZE * 4];

    if (mnl_socket_sendto(nft->nl, req, len) < 0)
        return errno ? -errno : -EIO;
    for (;;) {
        ssize_t n = mnl_socket_recvfrom(nft->nl, buf, sizeof(buf));
        const struct nlmsghdr *nlh = (const struct nlmsghdr *)buf;
        int left = (int)n;

        if (n < 0)
            return errno ? -errno : -EIO;
        for (; mnl_nlmsg_ok(nlh, left); nlh = mnl_nlmsg_next(nlh, &left)) {
            if (nlh->nlmsg_seq != seq)
                continue;
            if (nlh->nlmsg_type == NLMSG_DONE)
                return 0;
            if (nlh->nlmsg_type == NLMSG_ERROR) {
                const struct nlmsgerr *e = mnl_nlmsg_get_payload(nlh);

                return e->error > 0 ? -e->error : e->error;
            }
            if (fn && fn(nlh, data) < 0)
                return -EINVAL;
        }
    }
}

int
vn_nft_exists(VnNft *nft, int family, const char *table, const char *chain,
              GError **error)
{
    char buf[MNL_SOCKET_BUFFER_SIZE];
    guint32 seq = ++nft->seq;
    struct nlmsghdr *nlh;
    int rc;

    /* the kernel gets the attributes' padding too: no stack garbage */
    memset(buf, 0, sizeof(buf));
    if (chain) {
        nlh = nftnl_nlmsg_build_hdr(buf, NFT_MSG_GETCHAIN, (guint16)family,
                                    NLM_F_ACK, seq);
        mnl_attr_put_strz(nlh, NFTA_CHAIN_TABLE, table);
        mnl_attr_put_strz(nlh, NFTA_CHAIN_NAME, chain);
    } else {
        nlh = nftnl_nlmsg_build_hdr(buf, NFT_MSG_GETTABLE, (guint16)family,
                                    NLM_F_ACK, seq);
        mnl_attr_put_strz(nlh, NFTA_TABLE_NAME, table);
    }
    rc = talk(nft, nlh, nlh->nlmsg_len, seq, NULL, NULL);
    if (rc == 0)
        return 1;
    if (rc == -ENOENT)
        return 0;
    nft_fail(error, -rc, "cannot look up %s %s%s%s",
             family == NFPROTO_IPV6 ? "ip6" : "ip", table,
             chain ? " " : "", chain ? chain : "");
    return -1;
}

typedef struct {
    char *comment;
    gboolean found;
} GetData;

static int
get_cb(const struct nlmsghdr *nlh, void *data)
{
    GetData *d = data;
    g_autoptr(nftnl_rule) r = nftnl_rule_alloc();

    if (nftnl_rule_nlmsg_parse(nlh, r) < 0)
        return 0;
    d->found = TRUE;
    d->comment = g_strdup(vn_nft_rule_get_comment(r));
    return 0;
}

int
vn_nft_get_comment(VnNft *nft, const VnChainRef *chain, guint64 handle,
                   char **comment, GError **error)
{
    char buf[MNL_SOCKET_BUFFER_SIZE];
    guint32 seq = ++nft->seq;
    g_autoptr(nftnl_rule) r = nftnl_rule_alloc();
    struct nlmsghdr *nlh;
    GetData d = { NULL, FALSE };
    int rc;

    memset(buf, 0, sizeof(buf));
    nlh = nftnl_nlmsg_build_hdr(buf, NFT_MSG_GETRULE, (guint16)chain->family,
                                NLM_F_ACK, seq);
    nftnl_rule_set_str(r, NFTNL_RULE_TABLE, chain->table);
    nftnl_rule_set_str(r, NFTNL_RULE_CHAIN, chain->chain);
    nftnl_rule_set_u64(r, NFTNL_RULE_HANDLE, handle);
    nftnl_rule_nlmsg_build_payload(nlh, r);
    rc = talk(nft, nlh, nlh->nlmsg_len, seq, get_cb, &d);
    if (rc == -ENOENT) {
        g_free(d.comment);
        *comment = NULL;
        return 0;
    }
    if (rc != 0) {
        g_free(d.comment);
        g_autofree char *where = vn_chain_ref_describe(chain);

        nft_fail(error, -rc, "cannot read rule %" G_GUINT64_FORMAT " of %s",
                 handle, where);
        return -1;
    }
    *comment = d.comment;
    return d.found ? 1 : 0;
}

typedef struct {
    const char *prefix;
    GArray *handles;
    GPtrArray *comments;
} FindData;

static int
find_cb(const struct nlmsghdr *nlh, void *data)
{
    FindData *d = data;
    g_autoptr(nftnl_rule) r = nftnl_rule_alloc();
    const char *comment;
    guint64 handle;

    if (nftnl_rule_nlmsg_parse(nlh, r) < 0)
        return 0;
    comment = vn_nft_rule_get_comment(r);
    if (d->prefix && (!comment || !g_str_has_prefix(comment, d->prefix)))
        return 0;
    handle = nftnl_rule_get_u64(r, NFTNL_RULE_HANDLE);
    g_array_append_val(d->handles, handle);
    g_ptr_array_add(d->comments, g_strdup(comment));
    return 0;
}

gboolean
vn_nft_find_tagged(VnNft *nft, const VnChainRef *chain, const char *prefix,
                   GArray *handles, GPtrArray *comments, GError **error)
{
    char buf[MNL_SOCKET_BUFFER_SIZE];
    guint32 seq = ++nft->seq;
    g_autoptr(nftnl_rule) r = nftnl_rule_alloc();
    struct nlmsghdr *nlh;
    FindData d = { prefix, handles, comments };
    int rc;

    memset(buf, 0, sizeof(buf));
    nlh = nftnl_nlmsg_build_hdr(buf, NFT_MSG_GETRULE, (guint16)chain->family,
                                NLM_F_DUMP, seq);
    nftnl_rule_set_str(r, NFTNL_RULE_TABLE, chain->table);
    nftnl_rule_set_str(r, NFTNL_RULE_CHAIN, chain->chain);
    nftnl_rule_nlmsg_build_payload(nlh, r);
    rc = talk(nft, nlh, nlh->nlmsg_len, seq, find_cb, &d);
    if (rc == 0 || rc == -ENOENT)
        return TRUE;
    {
        g_autofree char *where = vn_chain_ref_describe(chain);

        nft_fail(error, -rc, "cannot list %s", where);
    }
    return FALSE;
}

typedef struct {
    gboolean chains;
    VnNftDumpFunc fn;
    void *data;
} DumpData;

static int
dump_cb(const struct nlmsghdr *nlh, void *data)
{
    DumpData *d = data;

    if (d->chains) {
        struct nftnl_chain *c = nftnl_chain_alloc();

        if (nftnl_chain_nlmsg_parse(nlh, c) >= 0)
            d->fn(c, d->data);
        nftnl_chain_free(c);
    } else {
        struct nftnl_rule *r = nftnl_rule_alloc();

        if (nftnl_rule_nlmsg_parse(nlh, r) >= 0)
            d->fn(r, d->data);
        nftnl_rule_free(r);
    }
    return 0;
}

static gboolean
dump(VnNft *nft, gboolean chains, VnNftDumpFunc fn, void *data,
     GError **error)
{
    char buf[MNL_SOCKET_BUFFER_SIZE];
    guint32 seq = ++nft->seq;
    struct nlmsghdr *nlh;
    DumpData d = { chains, fn, data };
    int rc;

    memset(buf, 0, sizeof(buf));
    nlh = nftnl_nlmsg_build_hdr(buf, chains ? NFT_MSG_GETCHAIN : NFT_MSG_GETRULE,
                                NFPROTO_UNSPEC, NLM_F_DUMP, seq);
    rc = talk(nft, nlh, nlh->nlmsg_len, seq, dump_cb, &d);
    if (rc == 0)
        return TRUE;
    nft_fail(error, -rc, "cannot list the firewall's %s",
             chains ? "chains" : "rules");
    return FALSE;
}

typedef struct {
    VnNftDumpFunc fn;
    void *data;
} ElemData;

static int
elem_cb(struct nftnl_set_elem *e, void *data)
{
    ElemData *d = data;

    d->fn(e, d->data);
    return 0;
}

static int
set_elems_cb(const struct nlmsghdr *nlh, void *data)
{
    struct nftnl_set *s = nftnl_set_alloc();

    if (nftnl_set_elems_nlmsg_parse(nlh, s) >= 0)
        nftnl_set_elem_foreach(s, elem_cb, data);
    nftnl_set_free(s);
    return 0;
}

gboolean
vn_nft_dump_set_elems(VnNft *nft, int family, const char *table,
                      const char *set, VnNftDumpFunc fn, void *data,
                      GError **error)
{
    char buf[MNL_SOCKET_BUFFER_SIZE];
    guint32 seq = ++nft->seq;
    struct nftnl_set *s = nftnl_set_alloc();
    struct nlmsghdr *nlh;
    ElemData d = { fn, data };
    int rc;

    nftnl_set_set_str(s, NFTNL_SET_TABLE, table);
    nftnl_set_set_str(s, NFTNL_SET_NAME, set);
    nlh = nftnl_nlmsg_build_hdr(buf, NFT_MSG_GETSETELEM, (guint16)family,
                                NLM_F_DUMP, seq);
    nftnl_set_elems_nlmsg_build_payload(nlh, s);
    nftnl_set_free(s);
    rc = talk(nft, nlh, nlh->nlmsg_len, seq, set_elems_cb, &d);
    if (rc == 0)
        return TRUE;
    nft_fail(error, -rc, "cannot list set %s of table %s", set, table);
    return FALSE;
}

gboolean
vn_nft_dump_chains(VnNft *nft, VnNftDumpFunc fn, void *data, GError **error)
{
    return dump(nft, TRUE, fn, data, error);
}

gboolean
vn_nft_dump_rules(VnNft *nft, VnNftDumpFunc fn, void *data, GError **error)
{
    return dump(nft, FALSE, fn, data, error);
}

/* ------------------------------------------------------------------ */
/* batches                                                             */

typedef struct {
    gboolean insert;
    struct nftnl_rule *rule;
    char *what;             /* for messages */
    guint64 *handle;        /* insert: where the kernel's handle goes */
    guint32 seq;
} Op;

struct _VnNftBatch {
    VnNft *nft;
    GPtrArray *ops;         /* Op */
};

static void
op_free(Op *op)
{
    nftnl_rule_free(op->rule);
    g_free(op->what);
    g_free(op);
}

VnNftBatch *
vn_nft_batch_new(VnNft *nft)
{
    VnNftBatch *b = g_new0(VnNftBatch, 1);

    b->nft = nft;
    b->ops = g_ptr_array_new_with_free_func((GDestroyNotify)op_free);
    return b;
}

void
vn_nft_batch_free(VnNftBatch *batch)
{
    if (!batch)
        return;
    g_ptr_array_unref(batch->ops);
    g_free(batch);
}

guint
vn_nft_batch_size(const VnNftBatch *batch)
{
    return batch->ops->len;
}

void
vn_nft_batch_insert(VnNftBatch *batch, const VnRule *rule,
                    const VnChainRef *chain, guint64 *handle)
{
    Op *op = g_new0(Op, 1);
    g_autofree char *where = vn_chain_ref_describe(chain);
    g_autofree char *d = vn_rule_describe(rule);

    op->insert = TRUE;
    op->handle = handle;
    op->rule = vn_nft_rule_build(rule, chain);
    op->what = g_strdup_printf("%s %s", where, d);
    g_ptr_array_add(batch->ops, op);
}

void
vn_nft_batch_delete(VnNftBatch *batch, const VnChainRef *chain,
                    guint64 handle, const char *what)
{
    Op *op = g_new0(Op, 1);
    g_autofree char *where = vn_chain_ref_describe(chain);

    op->rule = nftnl_rule_alloc();
    nftnl_rule_set_u32(op->rule, NFTNL_RULE_FAMILY, (guint32)chain->family);
    nftnl_rule_set_str(op->rule, NFTNL_RULE_TABLE, chain->table);
    nftnl_rule_set_str(op->rule, NFTNL_RULE_CHAIN, chain->chain);
    nftnl_rule_set_u64(op->rule, NFTNL_RULE_HANDLE, handle);
    op->what = g_strdup_printf("%s handle %" G_GUINT64_FORMAT " (%s)", where,
                               handle, what ? what : "");
    g_ptr_array_add(batch->ops, op);
}

static void
put_op(struct mnl_nlmsg_batch *mb, Op *op, guint32 seq)
{
    struct nlmsghdr *nlh;
    guint16 family = (guint16)nftnl_rule_get_u32(op->rule, NFTNL_RULE_FAMILY);

    op->seq = seq;
    if (op->insert)
        /* no NLM_F_APPEND: the kernel inserts at the head of the chain */
        nlh = nftnl_nlmsg_build_hdr(mnl_nlmsg_batch_current(mb),
                                    NFT_MSG_NEWRULE, family,
                                    NLM_F_CREATE | NLM_F_ACK | NLM_F_ECHO, seq);
    else
        nlh = nftnl_nlmsg_build_hdr(mnl_nlmsg_batch_current(mb),
                                    NFT_MSG_DELRULE, family, NLM_F_ACK, seq);
    nftnl_rule_nlmsg_build_payload(nlh, op->rule);
    mnl_nlmsg_batch_next(mb);
}

static Op *
op_by_seq(VnNftBatch *batch, guint32 seq)
{
    for (guint i = 0; i < batch->ops->len; i++) {
        Op *op = batch->ops->pdata[i];

        if (op->seq == seq)
            return op;
    }
    return NULL;
}

gboolean
vn_nft_batch_commit(VnNftBatch *batch, GError **error)
{
    VnNft *nft = batch->nft;
    gsize size = (batch->ops->len + 2) * 2048 + MNL_SOCKET_BUFFER_SIZE;
    g_autofree char *buf = g_malloc0(size);
    char rbuf[MNL_SOCKET_BUFFER_SIZE * 4];
    struct mnl_nlmsg_batch *mb;
    guint acks = 0, echoes = 0, inserts = 0;
    guint32 first, last;
    int failed = 0;
    Op *failed_op = NULL;

    if (!batch->ops->len)
        return TRUE;
    mb = mnl_nlmsg_batch_start(buf, size);
    first = ++nft->seq;
    nftnl_batch_begin(mnl_nlmsg_batch_current(mb), first);
    mnl_nlmsg_batch_next(mb);
    /* deletions first; inserts in reverse, each at the head, so the chain
     * ends up with them in the order they were added */
    for (guint i = 0; i < batch->ops->len; i++) {
        Op *op = batch->ops->pdata[i];

        if (!op->insert)
            put_op(mb, op, ++nft->seq);
    }
    for (guint i = batch->ops->len; i-- > 0;) {
        Op *op = batch->ops->pdata[i];

        if (op->insert) {
            put_op(mb, op, ++nft->seq);
            inserts++;
        }
    }
    last = ++nft->seq;
    nftnl_batch_end(mnl_nlmsg_batch_current(mb), last);
    mnl_nlmsg_batch_next(mb);

    if (mnl_socket_sendto(nft->nl, mnl_nlmsg_batch_head(mb),
                          mnl_nlmsg_batch_size(mb)) < 0) {
        nft_fail(error, errno ? errno : EIO,
                 "cannot send the firewall transaction");
        mnl_nlmsg_batch_stop(mb);
        return FALSE;
    }
    mnl_nlmsg_batch_stop(mb);

    /* every message asked for an ACK; an error aborts the whole batch and
     * comes back for the message that failed (and possibly for others) */
    while (acks < batch->ops->len && !failed) {
        ssize_t n = mnl_socket_recvfrom(nft->nl, rbuf, sizeof(rbuf));
        const struct nlmsghdr *nlh = (const struct nlmsghdr *)rbuf;
        int left = (int)n;

        if (n < 0) {
            nft_fail(error, errno ? errno : EIO,
                     "cannot read the firewall transaction's result");
            return FALSE;
        }
        for (; mnl_nlmsg_ok(nlh, left); nlh = mnl_nlmsg_next(nlh, &left)) {
            if (nlh->nlmsg_type == NLMSG_ERROR) {
                const struct nlmsgerr *e = mnl_nlmsg_get_payload(nlh);

                if (e->msg.nlmsg_seq < first || e->msg.nlmsg_seq > last)
                    continue;
                if (e->error) {
                    failed = e->error;
                    failed_op = op_by_seq(batch, e->msg.nlmsg_seq);
                    break;
                }
                acks++;
            } else if (NFNL_MSG_TYPE(nlh->nlmsg_type) == NFT_MSG_NEWRULE) {
                g_autoptr(nftnl_rule) r = nftnl_rule_alloc();
                Op *op = op_by_seq(batch, nlh->nlmsg_seq);

                if (nftnl_rule_nlmsg_parse(nlh, r) < 0 || !op || !op->insert)
                    continue;
                echoes++;
                if (op->handle)
                    *op->handle = nftnl_rule_get_u64(r, NFTNL_RULE_HANDLE);
            }
        }
    }
    if (failed) {
        const char *what = failed_op ? failed_op->what : "the transaction";

        if (failed == -EPERM || failed == -EACCES)
            nft_fail(error, -failed, "cannot change the firewall (%s)", what);
        else
            g_set_error(error, VN_ERROR, VN_ERROR_FAILED,
                        "the firewall refused %s: %s; nothing was changed",
                        what, g_strerror(-failed));
        return FALSE;
    }
    if (echoes < inserts) {
        g_set_error(error, VN_ERROR, VN_ERROR_FAILED,
                    "the kernel confirmed %u of %u new rules", echoes, inserts);
        return FALSE;
    }
    return TRUE;
}

/* ------------------------------------------------------------------ */
/* the backends: iptables-nft's tables and libvirt's own               */

/* The chain of a rule's kind in @backend's tables. */
static void
nft_chain_of(VnFwBackend backend, VnRuleKind kind, int family,
             VnChainRef *out)
{
    vn_fw_chain_ref(backend, kind, family == NFPROTO_IPV6 ? AF_INET6 : AF_INET,
                out);
}

static int
iptables_detect(VnFw *fw, int family, GError **error)
{
    VnNft *nft = vn_fw_nft(fw, error);

    return nft ? vn_nft_exists(nft, family, "filter", "FORWARD", error) : -1;
}

static int
nftables_detect(VnFw *fw, int family, GError **error)
{
    VnNft *nft = vn_fw_nft(fw, error);

    return nft ? vn_nft_exists(nft, family, "libvirt_network", "forward", error)
               : -1;
}

static gboolean
nft_place(VnFwBackend backend, VnFw *fw, const VnRule *rule, VnFwEntry **out,
          GError **error)
{
    VnNft *nft = vn_fw_nft(fw, error);
    g_autofree char *comment = NULL;
    VnChainRef c;
    int rc;

    *out = NULL;
    if (!nft)
        return FALSE;
    vn_fw_chain_ref(backend, rule->kind, rule->src.family, &c);
    if ((rc = vn_nft_exists(nft, c.family, c.table, c.chain, error)) < 0)
        return FALSE;
    if (!rc)
        return TRUE;        /* e.g. no ip6 nat table: no MASQUERADE */
    comment = vn_rule_comment(rule);
    *out = vn_fw_entry_new(backend, c.family, c.table, c.chain, comment);
    return TRUE;
}

static gboolean
iptables_place(VnFw *fw, const VnRule *rule, VnFwEntry **out, GError **error)
{
    return nft_place(VN_FW_IPTABLES, fw, rule, out, error);
}

static gboolean
nftables_place(VnFw *fw, const VnRule *rule, VnFwEntry **out, GError **error)
{
    return nft_place(VN_FW_NFTABLES, fw, rule, out, error);
}

static int
nft_exists(VnFw *fw, const VnFwEntry *e, GError **error)
{
    VnNft *nft = vn_fw_nft(fw, error);
    VnChainRef c = { e->family, e->table, e->chain };
    g_autofree char *comment = NULL;
    int rc;

    if (!nft)
        return -1;
    if ((rc = vn_nft_exists(nft, c.family, c.table, c.chain, error)) <= 0)
        return rc;
    if ((rc = vn_nft_get_comment(nft, &c, e->handle, &comment, error)) <= 0)
        return rc;
    return g_strcmp0(comment, e->comment) == 0;
}

/* The rules of one chain, handles and comments in chain order, cached per
 * run: status and reconcile ask about many entries of one chain. */
typedef struct {
    GArray *handles;
    GPtrArray *comments;
} ChainRules;

static void
chain_rules_free(ChainRules *cr)
{
    g_array_unref(cr->handles);
    g_ptr_array_unref(cr->comments);
    g_free(cr);
}

static const ChainRules *
chain_rules(VnFw *fw, VnFwBackend backend, const VnChainRef *c,
            GError **error)
{
    GHashTable *cache = vn_fw_get_data(fw, backend);
    g_autofree char *key = vn_chain_ref_describe(c);
    ChainRules *cr;
    VnNft *nft;
    int rc;

    if (!cache) {
        cache = g_hash_table_new_full(g_str_hash, g_str_equal, g_free,
                                      (GDestroyNotify)chain_rules_free);
        vn_fw_set_data(fw, backend, cache, (GDestroyNotify)g_hash_table_unref);
    }
    if ((cr = g_hash_table_lookup(cache, key)))
        return cr;
    if (!(nft = vn_fw_nft(fw, error)))
        return NULL;
    cr = g_new0(ChainRules, 1);
    cr->handles = g_array_new(FALSE, FALSE, sizeof(guint64));
    cr->comments = g_ptr_array_new_with_free_func(g_free);
    if ((rc = vn_nft_exists(nft, c->family, c->table, c->chain, error)) < 0 ||
        (rc && !vn_nft_find_tagged(nft, c, NULL, cr->handles, cr->comments,
                                   error))) {
        chain_rules_free(cr);
        return NULL;
    }
    g_hash_table_insert(cache, g_steal_pointer(&key), cr);
    return cr;
}

static void
nft_forget(VnFw *fw, VnFwBackend backend)
{
    vn_fw_set_data(fw, backend, NULL, NULL);
}

static gboolean
nft_list(VnFwBackend backend, VnFw *fw, int family, const char *prefix,
         GPtrArray *out, GError **error)
{
    static const VnRuleKind kinds[] = { VN_RULE_IN, VN_RULE_NAT };

    for (guint k = 0; k < G_N_ELEMENTS(kinds); k++) {
        const ChainRules *cr;
        VnChainRef c;

        nft_chain_of(backend, kinds[k], family, &c);
        if (!(cr = chain_rules(fw, backend, &c, error)))
            return FALSE;
        for (guint i = 0; i < cr->handles->len; i++) {
            const char *cm = cr->comments->pdata[i];
            VnFwEntry *e;

            if (!cm || (prefix ? !g_str_has_prefix(cm, prefix)
                               : !vn_rule_comment_is_ours(cm)))
                continue;
            e = vn_fw_entry_new(backend, c.family, c.table, c.chain, cm);
            e->handle = g_array_index(cr->handles, guint64, i);
            g_ptr_array_add(out, e);
        }
    }
    return TRUE;
}

static gboolean
iptables_list(VnFw *fw, int family, const char *prefix, GPtrArray *out,
              GError **error)
{
    return nft_list(VN_FW_IPTABLES, fw, family, prefix, out, error);
}

static gboolean
nftables_list(VnFw *fw, int family, const char *prefix, GPtrArray *out,
              GError **error)
{
    return nft_list(VN_FW_NFTABLES, fw, family, prefix, out, error);
}

static int
nft_preceded(VnFw *fw, const VnFwEntry *e, GError **error)
{
    VnChainRef c = { e->family, e->table, e->chain };
    const ChainRules *cr = chain_rules(fw, e->backend, &c, error);

    if (!cr)
        return -1;
    for (guint i = 0; i < cr->handles->len; i++) {
        if (g_array_index(cr->handles, guint64, i) == e->handle)
            return 0;
        if (!vn_rule_comment_is_ours(cr->comments->pdata[i]))
            return 1;
    }
    return 0;
}

/* Both nf_tables backends, in one batch: the kernel commits it whole or
 * not at all. */
static gboolean
nft_commit(VnFw *fw, GPtrArray *changes, GError **error)
{
    VnNft *nft = vn_fw_nft(fw, error);
    g_autoptr(VnNftBatch) batch = NULL;

    if (!nft)
        return FALSE;
    batch = vn_nft_batch_new(nft);
    for (guint i = 0; i < changes->len; i++) {
        const VnFwChange *ch = changes->pdata[i];
        VnFwEntry *e = ch->entry;
        VnChainRef c = { e->family, e->table, e->chain };

        if (ch->insert && !ch->rule) {
            g_set_error(error, VN_ERROR, VN_ERROR_FAILED,
                        "rule \"%s\": nf_tables rules are built from the plan",
                        e->comment);
            return FALSE;
        }
        if (ch->insert)
            vn_nft_batch_insert(batch, ch->rule, &c, &e->handle);
        else
            vn_nft_batch_delete(batch, &c, e->handle, e->comment);
    }
    if (!vn_nft_batch_commit(batch, error))
        return FALSE;
    /* the chains changed */
    nft_forget(fw, VN_FW_IPTABLES);
    nft_forget(fw, VN_FW_NFTABLES);
    return TRUE;
}

const VnFwBackendClass vn_fw_iptables_class = {
    .backend = VN_FW_IPTABLES,
    .detect = iptables_detect,
    .place = iptables_place,
    .exists = nft_exists,
    .list = iptables_list,
    .preceded = nft_preceded,
    .commit = nft_commit,
};

const VnFwBackendClass vn_fw_nftables_class = {
    .backend = VN_FW_NFTABLES,
    .detect = nftables_detect,
    .place = nftables_place,
    .exists = nft_exists,
    .list = nftables_list,
    .preceded = nft_preceded,
    .commit = nft_commit,
};
