/* fuzz-state.c: the state paths (vn_state_path, vn_libvirt_path), the
 * rule comment of a network name, and the ledger reader (vn_ledger_parse).
 * The input is a name, "\n--\n", then a ledger's text. What must hold:
 * a state path stays one entry of $root/KIND/, never hidden, at most
 * NAME_MAX bytes; a path to libvirt's files has no '/' of the name; the
 * comment is at most 127 printable bytes with no quote or backslash; a
 * ledger holding the name everywhere reads back as it was written, and
 * so does every ledger read once written again.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include <limits.h>
#include <linux/netfilter.h>

#include "fuzz.h"
#include "layerplan.h"
#include "ledger.h"
#include "statepath.h"

static void
check_same(const VnLedger *a, const VnLedger *b)
{
    VN_FUZZ_CHECK(a->kind == b->kind && !g_strcmp0(a->name, b->name));
    VN_FUZZ_CHECK(a->rules->len == b->rules->len);
    VN_FUZZ_CHECK(a->routes->len == b->routes->len);
    VN_FUZZ_CHECK(!b->rules_lost);
    for (guint i = 0; i < a->rules->len; i++) {
        const VnFwEntry *x = a->rules->pdata[i], *y = b->rules->pdata[i];

        VN_FUZZ_CHECK(x->backend == y->backend && x->family == y->family &&
                      !g_strcmp0(x->table, y->table) &&
                      !g_strcmp0(x->chain, y->chain) &&
                      !g_strcmp0(x->comment, y->comment) &&
                      x->handle == y->handle && !g_strcmp0(x->spec, y->spec));
    }
    for (guint i = 0; i < a->routes->len; i++) {
        const VnLedgerRoute *x = a->routes->pdata[i], *y = b->routes->pdata[i];

        VN_FUZZ_CHECK(vn_cidr_equal(&x->dst, &y->dst) && x->pending == y->pending &&
                      (x->pending || vn_cidr_equal(&x->via, &y->via)) &&
                      !strcmp(x->dev, y->dev) && x->adopted == y->adopted);
    }
}

/* written as the current version and read back: the same */
static void
round_trip(const VnLedger *l)
{
    g_autoptr(VnLedger) back = NULL;
    g_autoptr(GError) err = NULL;
    gsize len;
    g_autofree char *text = vn_ledger_format(l, &len);

    if (!vn_ledger_parse(text, (gssize)len, "fuzz", l->kind, l->name, &back,
                         &err)) {
        fprintf(stderr, "%s\n--- not read back:\n%s", err->message, text);
        abort();
    }
    check_same(l, back);
}

static void
check_paths(const char *name)
{
    char buf[4096];
    const char *entry;

    if (vn_state_path(buf, sizeof(buf), "/s", "network", name, "state") == 0) {
        VN_FUZZ_CHECK(g_str_has_prefix(buf, "/s/network/"));
        entry = buf + strlen("/s/network/");
        VN_FUZZ_CHECK(*entry != '.' && !strchr(entry, '/'));
        VN_FUZZ_CHECK(strlen(entry) <= NAME_MAX && g_str_has_suffix(entry, ".state"));
        for (const char *p = entry; *p; p++)
            VN_FUZZ_CHECK((guchar)*p >= 0x20 && *p != 0x7f);
    } else {
        VN_FUZZ_CHECK(strlen(name) * 3 + 6 > NAME_MAX || !*name);
    }
    if (vn_libvirt_path(buf, sizeof(buf), "/d", name, "xml") == 0) {
        VN_FUZZ_CHECK(g_str_has_prefix(buf, "/d/") && !strchr(buf + 3, '/'));
        VN_FUZZ_CHECK(strlen(buf + 3) <= NAME_MAX);
    } else {
        VN_FUZZ_CHECK(!*name || strchr(name, '/') || strlen(name) + 4 > NAME_MAX);
    }
}

static void
check_comment(const char *name)
{
    VnRule r = { .network = (char *)name, .bridge = (char *)"virbr0" };
    g_autofree char *prefix = vn_rule_comment_prefix(name);
    g_autofree char *c = NULL;
    guint spaces = 0;

    vn_cidr_parse("fd00:1234:5678:9abc::/64", VN_CIDR_SUBNET, &r.src, NULL);
    vn_cidr_parse("fd00:ffff:eeee:dddd::/64", VN_CIDR_SUBNET, &r.dst, NULL);
    r.kind = VN_RULE_NAT;
    c = vn_rule_comment(&r);
    VN_FUZZ_CHECK(strlen(c) <= 127 && g_str_has_prefix(c, prefix));
    for (const char *p = c; *p; p++)
        VN_FUZZ_CHECK(*p >= 0x20 && *p < 0x7f && *p != '"' && *p != '\\' &&
                      *p != '\'');
    for (const char *p = prefix; *p; p++)
        spaces += *p == ' ';
    VN_FUZZ_CHECK(spaces == 2);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    g_autofree char *name = vn_fuzz_next(&data, &size, "\n--\n", NULL);
    static const VnObjectKind kinds[] = { VN_OBJECT_NETWORK, VN_OBJECT_DOMAIN };
    VnCidr dst, via;

    check_paths(name);
    check_comment(name);
    /* the name in every field the ledger writes */
    {
        g_autoptr(VnLedger) l = vn_ledger_new(VN_OBJECT_NETWORK, name);
        g_autoptr(VnFwEntry) ipt = vn_fw_entry_new(VN_FW_IPTABLES, NFPROTO_IPV4,
                                                   name, name, name);
        g_autoptr(VnFwEntry) nft = vn_fw_entry_new(VN_FW_NFTABLES, NFPROTO_IPV6,
                                                   "libvirt_network", "forward",
                                                   "virt-nest x in a>b");
        g_autoptr(VnFwEntry) legacy = vn_fw_entry_new(VN_FW_LEGACY, NFPROTO_IPV4,
                                                      "filter", "FORWARD", name);
        g_autoptr(VnFwEntry) fwd = vn_fw_entry_new(VN_FW_FIREWALLD, NFPROTO_IPV4,
                                                   name, NULL, name);

        ipt->handle = 1;
        nft->handle = G_MAXUINT64;
        legacy->spec = g_strdup(name);
        fwd->spec = g_strdup(name);
        vn_ledger_add_rule(l, ipt);
        vn_ledger_add_rule(l, nft);
        vn_ledger_add_rule(l, legacy);
        vn_ledger_add_rule(l, fwd);
        vn_cidr_parse("192.168.124.0/24", VN_CIDR_SUBNET, &dst, NULL);
        vn_cidr_parse("192.168.122.191", VN_CIDR_ADDRESS, &via, NULL);
        vn_ledger_add_route(l, &dst, &via, name, FALSE)->adopted = 3;
        vn_ledger_add_route(l, &via, NULL, name, TRUE);
        round_trip(l);
    }
    /* the rest as a ledger's text */
    for (guint k = 0; k < G_N_ELEMENTS(kinds); k++) {
        g_autoptr(VnLedger) l = NULL;
        g_autoptr(GError) err = NULL;

        if (!vn_ledger_parse((const char *)data, (gssize)size, "fuzz", kinds[k],
                             name, &l, &err)) {
            VN_FUZZ_CHECK(err && !l && !strchr(err->message, '\n'));
            continue;
        }
        l->rules_lost = FALSE;
        round_trip(l);
    }
    return 0;
}
