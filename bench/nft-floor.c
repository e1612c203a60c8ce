/* nft-floor.c: the least any tool can do to add one accept rule: one
 * nf_tables transaction that inserts
 *   ip filter FORWARD ip saddr 198.51.100.0/24 counter accept
 * at the head of the chain, with libnftnl and libmnl and nothing else.
 * bench/hook-bench.sh uses it to tell the kernel's share of a hook's cost
 * (a commit validates the whole table and rebuilds the chain) from ours.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <libmnl/libmnl.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <libnftnl/common.h>
#include <libnftnl/expr.h>
#include <libnftnl/rule.h>

int
main(void)
{
    char buf[MNL_SOCKET_BUFFER_SIZE];
    struct mnl_socket *nl = mnl_socket_open(NETLINK_NETFILTER);
    struct mnl_nlmsg_batch *b;
    struct nftnl_rule *r;
    struct nftnl_expr *e;
    struct nlmsghdr *nlh;
    const struct nlmsgerr *err;
    unsigned char net[3] = { 198, 51, 100 };
    uint32_t seq = (uint32_t)time(NULL);
    ssize_t n;

    if (!nl || mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0) {
        perror("nft-floor: netlink");
        return 1;
    }
    b = mnl_nlmsg_batch_start(buf, sizeof(buf));
    nftnl_batch_begin(mnl_nlmsg_batch_current(b), seq++);
    mnl_nlmsg_batch_next(b);

    r = nftnl_rule_alloc();
    nftnl_rule_set_u32(r, NFTNL_RULE_FAMILY, NFPROTO_IPV4);
    nftnl_rule_set_str(r, NFTNL_RULE_TABLE, "filter");
    nftnl_rule_set_str(r, NFTNL_RULE_CHAIN, "FORWARD");
    e = nftnl_expr_alloc("payload");
    nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_BASE, NFT_PAYLOAD_NETWORK_HEADER);
    nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_OFFSET, 12);
    nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_LEN, 3);
    nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_DREG, NFT_REG_1);
    nftnl_rule_add_expr(r, e);
    e = nftnl_expr_alloc("cmp");
    nftnl_expr_set_u32(e, NFTNL_EXPR_CMP_SREG, NFT_REG_1);
    nftnl_expr_set_u32(e, NFTNL_EXPR_CMP_OP, NFT_CMP_EQ);
    nftnl_expr_set(e, NFTNL_EXPR_CMP_DATA, net, sizeof(net));
    nftnl_rule_add_expr(r, e);
    nftnl_rule_add_expr(r, nftnl_expr_alloc("counter"));
    e = nftnl_expr_alloc("immediate");
    nftnl_expr_set_u32(e, NFTNL_EXPR_IMM_DREG, NFT_REG_VERDICT);
    nftnl_expr_set_u32(e, NFTNL_EXPR_IMM_VERDICT, NF_ACCEPT);
    nftnl_rule_add_expr(r, e);
    nlh = nftnl_nlmsg_build_hdr(mnl_nlmsg_batch_current(b), NFT_MSG_NEWRULE,
                                NFPROTO_IPV4, NLM_F_CREATE | NLM_F_ACK, seq++);
    nftnl_rule_nlmsg_build_payload(nlh, r);
    mnl_nlmsg_batch_next(b);
    nftnl_batch_end(mnl_nlmsg_batch_current(b), seq++);
    mnl_nlmsg_batch_next(b);

    if (mnl_socket_sendto(nl, mnl_nlmsg_batch_head(b),
                          mnl_nlmsg_batch_size(b)) < 0 ||
        (n = mnl_socket_recvfrom(nl, buf, sizeof(buf))) < 0) {
        perror("nft-floor: netlink");
        return 1;
    }
    nlh = (struct nlmsghdr *)buf;
    if (nlh->nlmsg_type == NLMSG_ERROR) {
        err = mnl_nlmsg_get_payload(nlh);
        if (err->error) {
            fprintf(stderr, "nft-floor: %s\n", strerror(-err->error));
            return 1;
        }
    }
    return 0;
}
