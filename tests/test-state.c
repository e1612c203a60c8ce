/* test-state.c: names libvirt allows (it forbids only '/') through the
 * ledger, the rule comments and the state paths; the state directory's
 * owner and mode; the paths to libvirt's own files; MACs and lease files.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <linux/netfilter.h>

#include "testutil.h"
#include "fwbackend.h"
#include "layerplan.h"
#include "leases.h"
#include "ledger.h"
#include "statepath.h"

/* Every kind of byte a name may hold. */
static const char *const names[] = {
    "default", "[x]", "a]b", "a=b", "#net", "it's \"q\"", "a", "a b",
    "back\\slash", "r\xc3\xa9seau", "tab\there", "new\nline", "cr\rlf",
    "esc\x1b[2J", "del\x7f", "%41", "50%", ".hidden", "..", "a/b", " lead",
    "trail ", "semi;colon", "[rule x]", "k=v\n[ledger]\nversion=9",
    /* longer than 64 bytes once escaped: the hashed prefix */
    ("\xe7\xbd\x91\xe7\xbb\x9c-\xe7\xbd\x91\xe7\xbb\x9c-"
     "\xe7\xbd\x91\xe7\xbb\x9c-\xe7\xbd\x91\xe7\xbb\x9c-"
     "\xe7\xbd\x91\xe7\xbb\x9c-\xe7\xbd\x91\xe7\xbb\x9c"),
    "a-very-long-network-name-that-is-still-fine-for-libvirt-and-for-us-too",
};

static char *
make_tmpdir(void)
{
    g_autoptr(GError) err = NULL;
    char *dir = g_dir_make_tmp("vns-state-XXXXXX", &err);

    if (!dir)
        fail_msg("%s", err->message);
    return dir;
}

static void
rm_rf(const char *path)
{
    const char *argv[] = { "rm", "-rf", "--", path, NULL };

    g_spawn_sync(NULL, (char **)argv, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL,
                 NULL, NULL, NULL, NULL);
}

static VnRule *
rule_of(const char *network, VnRuleKind kind, const char *src, const char *dst)
{
    VnRule *r = g_new0(VnRule, 1);

    r->network = g_strdup(network);
    r->bridge = g_strdup("virbr0");
    r->kind = kind;
    assert_true(vn_cidr_parse(src, VN_CIDR_SUBNET, &r->src, NULL));
    assert_true(vn_cidr_parse(dst, VN_CIDR_SUBNET, &r->dst, NULL));
    return r;
}

/* The ledger of network @name: its rules' comments in each backend, and
 * one comment as the kernel could hand it back (raw bytes, found by tag). */
static VnLedger *
ledger_of(const char *name)
{
    VnLedger *l = vn_ledger_new(VN_OBJECT_NETWORK, name);
    g_autoptr(VnRule) in = rule_of(name, VN_RULE_IN, "192.168.122.0/24",
                                   "192.168.124.0/24");
    g_autoptr(VnRule) nat = rule_of(name, VN_RULE_NAT, "fd00:124::/64",
                                    "fd00:122::/64");
    g_autofree char *c1 = vn_rule_comment(in);
    g_autofree char *c2 = vn_rule_comment(nat);
    g_autofree char *raw = g_strdup_printf("virt-nest %s in x", name);
    g_autoptr(VnFwEntry) e1 = vn_fw_entry_new(VN_FW_IPTABLES, NFPROTO_IPV4,
                                              "filter", "FORWARD", c1);
    g_autoptr(VnFwEntry) e2 = vn_fw_entry_new(VN_FW_NFTABLES, NFPROTO_IPV6,
                                              "libvirt_network", "guest_nat", c2);
    g_autoptr(VnFwEntry) e3 = vn_fw_entry_new(VN_FW_IPTABLES, NFPROTO_IPV4,
                                              "filter", "FORWARD", raw);
    g_autoptr(VnFwEntry) e4 = vn_fw_entry_new(VN_FW_LEGACY, NFPROTO_IPV4,
                                              "filter", "FORWARD", c1);
    g_autoptr(VnFwEntry) e5 = vn_fw_entry_new(VN_FW_FIREWALLD, NFPROTO_IPV4,
                                              "virt-nest", NULL, c1);

    e1->handle = 7;
    e2->handle = 8;
    e3->handle = 9;
    e4->spec = g_strdup_printf("-s 192.168.122.0/24 -m comment --comment \"%s\" "
                               "-j ACCEPT", raw);
    e5->spec = g_strdup_printf("rule family=\"ipv4\" source address=\"%s\" "
                               "accept", name);
    vn_ledger_add_rule(l, e1);
    vn_ledger_add_rule(l, e2);
    vn_ledger_add_rule(l, e3);
    vn_ledger_add_rule(l, e4);
    vn_ledger_add_rule(l, e5);
    return l;
}

static void
assert_ledger_equal(const VnLedger *a, const VnLedger *b)
{
    assert_int_equal(a->kind, b->kind);
    assert_string_equal(a->name, b->name);
    assert_int_equal(a->rules->len, b->rules->len);
    for (guint i = 0; i < a->rules->len; i++) {
        const VnFwEntry *x = a->rules->pdata[i], *y = b->rules->pdata[i];

        assert_int_equal(x->backend, y->backend);
        assert_string_equal(x->comment, y->comment);
        assert_int_equal(x->family, y->family);
        assert_string_equal(x->table, y->table);
        assert_true(g_strcmp0(x->chain, y->chain) == 0);
        assert_int_equal(x->handle, y->handle);
        assert_true(g_strcmp0(x->spec, y->spec) == 0);
    }
    assert_int_equal(a->routes->len, b->routes->len);
    for (guint i = 0; i < a->routes->len; i++) {
        const VnLedgerRoute *x = a->routes->pdata[i], *y = b->routes->pdata[i];

        assert_true(vn_cidr_equal(&x->dst, &y->dst));
        assert_true(vn_cidr_equal(&x->via, &y->via));
        assert_string_equal(x->dev, y->dev);
        assert_int_equal(x->pending, y->pending);
        assert_int_equal(x->adopted, y->adopted);
    }
    assert_false(b->rules_lost);
}

/* Point 1 of issue 11: GKeyFile refused "rule virt-nest [x] ...", the
 * ledger kept no rules and the rules outlived their network. */
static void
ledger_holds_any_name(void **state)
{
    g_autofree char *dir = make_tmpdir();
    g_autoptr(GPtrArray) all = NULL;
    g_autoptr(GError) err = NULL;
    VnCidr dst, via;

    assert_true(vn_cidr_parse("192.168.124.0/24", VN_CIDR_SUBNET, &dst, NULL));
    assert_true(vn_cidr_parse("192.168.122.191", VN_CIDR_ADDRESS, &via, NULL));
    for (guint i = 0; i < G_N_ELEMENTS(names); i++) {
        g_autoptr(VnLedger) net = ledger_of(names[i]);
        g_autoptr(VnLedger) dom = vn_ledger_new(VN_OBJECT_DOMAIN, names[i]);
        g_autoptr(VnLedger) back = NULL;

        vn_ledger_add_route(dom, &dst, &via, names[i], FALSE)->adopted = 3;
        vn_ledger_add_route(dom, &via, NULL, "virbr0", TRUE);
        if (!vn_ledger_save(dir, net, &err) || !vn_ledger_save(dir, dom, &err))
            fail_msg("'%s': %s", names[i], err->message);
        assert_true(vn_ledger_load(dir, VN_OBJECT_NETWORK, names[i], &back,
                                   &err));
        assert_non_null(back);
        assert_ledger_equal(net, back);
    }
    /* and all of them again, from the file names */
    all = vn_ledger_load_all(dir, &err);
    if (!all)
        fail_msg("%s", err->message);
    assert_int_equal(all->len, 2 * G_N_ELEMENTS(names));
    for (guint i = 0; i < G_N_ELEMENTS(names); i++) {
        guint found = 0;

        for (guint j = 0; j < all->len; j++) {
            const VnLedger *l = all->pdata[j];

            if (strcmp(l->name, names[i]) != 0)
                continue;
            found++;
            if (l->kind == VN_OBJECT_NETWORK) {
                g_autoptr(VnLedger) want = ledger_of(names[i]);

                assert_ledger_equal(want, l);
            } else {
                assert_int_equal(l->routes->len, 2);
                assert_string_equal(((VnLedgerRoute *)l->routes->pdata[0])->dev,
                                    names[i]);
            }
        }
        if (found != 2)
            fail_msg("'%s': %u ledgers read back, not 2", names[i], found);
    }
    /* every file stays in its folder */
    for (guint k = 0; k < 2; k++) {
        g_autofree char *sub = g_build_filename(dir, k ? "domain" : "network",
                                                NULL);
        g_autoptr(GDir) d = g_dir_open(sub, 0, NULL);
        guint n = 0;

        assert_non_null(d);
        while (g_dir_read_name(d))
            n++;
        assert_int_equal(n, G_N_ELEMENTS(names));
    }
    rm_rf(dir);
}

/* The text is plain ASCII lines, whatever the names hold. */
static void
ledger_format_is_ascii(void **state)
{
    for (guint i = 0; i < G_N_ELEMENTS(names); i++) {
        g_autoptr(VnLedger) l = ledger_of(names[i]);
        g_autoptr(VnLedger) back = NULL;
        g_autoptr(GError) err = NULL;
        gsize len;
        g_autofree char *text = vn_ledger_format(l, &len);

        assert_true(g_str_has_prefix(text, "[ledger]\nversion=3\n"));
        for (gsize j = 0; j < len; j++)
            if (text[j] != '\n' && (text[j] < 0x20 || text[j] > 0x7e))
                fail_msg("'%s': byte 0x%02x in the ledger text", names[i],
                         (guchar)text[j]);
        if (!vn_ledger_parse(text, (gssize)len, "t", VN_OBJECT_NETWORK,
                             names[i], &back, &err))
            fail_msg("'%s': %s", names[i], err->message);
        assert_ledger_equal(l, back);
    }
}

/* A running host upgrades with the ledgers of older versions in /run. */
static void
ledger_reads_older_versions(void **state)
{
    static const char v1[] =
        "[ledger]\nversion=1\nobject=network\nname=default\nfirewall=nftables\n\n"
        "[rule virt-nest default in 192.168.122.0/24>192.168.124.0/24]\n"
        "family=ip\ntable=libvirt_network\nchain=forward\nhandle=12\n\n"
        "[rule virt-nest default nat fd00::/64>fd01::/64]\n"
        "family=ip6\ntable=libvirt_network\nchain=guest_nat\nhandle=3\n";
    /* what version 1 wrote for a network '[x]': its rules refused */
    static const char v1_lost[] =
        "[ledger]\nversion=1\nobject=network\nname=[x]\nfirewall=iptables\n";
    static const char v1_domain[] =
        "[ledger]\nversion=1\nobject=domain\nname=debian\n\n"
        "[route 192.168.124.0/24]\nvia=192.168.122.191\ndev=virbr0\n\n"
        "[route 10.9.0.0/16]\npending=true\ndev=virbr0\n";
    /* version 2: texts as GKeyFile strings (\t, \n, \\ escaped) */
    static const char v2[] =
        "[ledger]\nversion=2\nobject=network\nname=tab\\there\n\n"
        "[rule 1]\ncomment=virt-nest tab\\there in 10.0.0.0/8>10.1.0.0/16\n"
        "backend=legacy\nfamily=ip\ntable=filter\nchain=FORWARD\n"
        "spec=-s 10.0.0.0/8 -m comment --comment \"virt-nest a\\\\b\" -j ACCEPT\n\n"
        "[rule 2]\ncomment=virt-nest tab\\there in 10.0.0.0/8>10.1.0.0/16\n"
        "backend=iptables\nfamily=ip\ntable=filter\nchain=FORWARD\nhandle=5\n";
    g_autoptr(VnLedger) l = NULL, lost = NULL, dom = NULL, l2 = NULL;
    g_autoptr(GError) err = NULL;
    const VnFwEntry *r;

    assert_true(vn_ledger_parse(v1, -1, "t", VN_OBJECT_NETWORK, "default", &l,
                                &err));
    assert_int_equal(l->rules->len, 2);
    r = l->rules->pdata[0];
    assert_string_equal(r->comment,
                        "virt-nest default in 192.168.122.0/24>192.168.124.0/24");
    assert_int_equal(r->backend, VN_FW_NFTABLES);
    assert_int_equal(r->family, NFPROTO_IPV4);
    assert_string_equal(r->chain, "forward");
    assert_int_equal(r->handle, 12);
    r = l->rules->pdata[1];
    assert_int_equal(r->family, NFPROTO_IPV6);
    assert_false(l->rules_lost);

    assert_true(vn_ledger_parse(v1_lost, -1, "t", VN_OBJECT_NETWORK, "[x]",
                                &lost, &err));
    assert_int_equal(lost->rules->len, 0);
    assert_true(lost->rules_lost);

    assert_true(vn_ledger_parse(v1_domain, -1, "t", VN_OBJECT_DOMAIN, "debian",
                                &dom, &err));
    assert_int_equal(dom->routes->len, 2);
    assert_false(dom->rules_lost);
    assert_true(((VnLedgerRoute *)dom->routes->pdata[1])->pending);

    if (!vn_ledger_parse(v2, -1, "t", VN_OBJECT_NETWORK, "tab\there", &l2, &err))
        fail_msg("%s", err->message);
    assert_int_equal(l2->rules->len, 2);
    r = l2->rules->pdata[0];
    assert_string_equal(r->comment, "virt-nest tab\there in 10.0.0.0/8>10.1.0.0/16");
    assert_int_equal(r->backend, VN_FW_LEGACY);
    assert_string_equal(r->spec, "-s 10.0.0.0/8 -m comment --comment "
                                 "\"virt-nest a\\b\" -j ACCEPT");
    r = l2->rules->pdata[1];
    assert_int_equal(r->backend, VN_FW_IPTABLES);
    assert_int_equal(r->handle, 5);
    assert_false(l2->rules_lost);
}

static void
ledger_refuses(void **state)
{
    static const struct {
        const char *text;
        gssize len;
        const char *error;
    } bad[] = {
        { "[ledger]\nversion=4\n", -1, "newer than this virt-nest reads (3)" },
        { "[ledger]\nversion=two\n", -1, "version 'two' is not a number" },
        { "[ledger]\nversion=3\n[rule 1]\ncomment=a%zz\nbackend=iptables\n"
          "family=ip\ntable=f\nchain=c\nhandle=1\n", -1, "[rule 1] is incomplete" },
        { "[ledger]\nversion=3\n[rule 1]\ncomment=a%00b\nbackend=iptables\n"
          "family=ip\ntable=f\nchain=c\nhandle=1\n", -1, "[rule 1] is incomplete" },
        { "[ledger]\nversion=3\n[rule 1]\ncomment=a\nbackend=iptables\n"
          "family=ipx\ntable=f\nchain=c\nhandle=1\n", -1, "[rule 1] is incomplete" },
        { "[ledger]\nversion=3\n[rule 1]\ncomment=a\nbackend=iptables\n"
          "family=ip\ntable=f\nchain=c\n", -1, "[rule 1] is incomplete" },
        { "[ledger]\nversion=3\n[rule 1]\ncomment=a\nbackend=legacy\n"
          "family=ip\ntable=f\nchain=c\n", -1, "[rule 1] is incomplete" },
        { "[ledger]\nversion=3\n[rule 1]\ncomment=a\nbackend=nope\n"
          "family=ip\ntable=f\nchain=c\nhandle=1\n", -1, "[rule 1] is incomplete" },
        { "[ledger]\nversion=3\n[route 10.0.0.0/8]\ndev=x\n", -1,
          "[route 10.0.0.0/8] is incomplete" },
        { "[ledger]\nversion=3\n[route 10.0.0.0/8]\npending=true\ndev=x\n"
          "adopted=300\n", -1, "[route 10.0.0.0/8] is incomplete" },
        { "[ledger]\nversion=3\n\0[rule 1]\n", 22, "a NUL byte" },
        { "no key file", -1, "t: " },
    };

    for (guint i = 0; i < G_N_ELEMENTS(bad); i++) {
        g_autoptr(VnLedger) l = NULL;
        g_autoptr(GError) err = NULL;

        if (vn_ledger_parse(bad[i].text, bad[i].len, "t", VN_OBJECT_NETWORK,
                            "n", &l, &err))
            fail_msg("case %u was read", i);
        assert_null(l);
        assert_error_contains(err, bad[i].error);
        assert_null(strchr(err->message, '\n'));
    }
}

/* Issue 11, point 4: a state directory others can write is refused, by
 * the ledger and the lock, in one line that names it and the fix. */
static void
state_dir_refused(void **state)
{
    g_autofree char *dir = make_tmpdir();
    g_autofree char *net = g_build_filename(dir, "network", NULL);
    g_autofree char *elsewhere = make_tmpdir();
    g_autoptr(VnLedger) l = ledger_of("default");
    g_autoptr(GError) err = NULL;
    char msg[4400];
    int fd;

    /* fine: made by us, 0700 */
    assert_int_equal(vn_state_dir_check(dir, msg, sizeof(msg)), 0);
    assert_true(vn_ledger_save(dir, l, &err));
    fd = vn_state_lock(dir, &err);
    assert_true(fd >= 0);
    close(fd);
    /* a missing directory is fine: it is made 0755 */
    {
        g_autofree char *none = g_build_filename(dir, "none", NULL);

        assert_int_equal(vn_state_dir_check(none, msg, sizeof(msg)), 0);
    }

    /* writable by others */
    assert_int_equal(chmod(dir, 0777), 0);
    assert_int_equal(vn_state_dir_check(dir, msg, sizeof(msg)), -1);
    assert_non_null(strstr(msg, dir));
    assert_non_null(strstr(msg, "chmod go-w"));
    assert_false(vn_ledger_save(dir, l, &err));
    assert_error_contains(err, dir);
    assert_error_contains(err, "writable by group or others (mode 0777)");
    assert_null(strchr(err->message, '\n'));
    g_clear_error(&err);
    assert_int_equal(vn_state_lock(dir, &err), -1);
    assert_error_contains(err, "writable by group or others");
    g_clear_error(&err);
    assert_int_equal(chmod(dir, 0770), 0);
    assert_int_equal(vn_state_dir_check(dir, msg, sizeof(msg)), -1);
    assert_int_equal(chmod(dir, 0755), 0);

    /* a sub-folder writable by others, then one that is a link elsewhere */
    assert_int_equal(chmod(net, 0757), 0);
    assert_false(vn_ledger_save(dir, l, &err));
    assert_error_contains(err, net);
    g_clear_error(&err);
    rm_rf(net);
    assert_int_equal(symlink(elsewhere, net), 0);
    assert_false(vn_ledger_save(dir, l, &err));
    assert_error_contains(err, "is not a directory; remove it");
    g_clear_error(&err);
    unlink(net);
    assert_true(vn_ledger_save(dir, l, &err));

    /* somebody else's: only root can give it away */
    if (geteuid() == 0) {
        assert_int_equal(chown(dir, 65534, 65534), 0);
        assert_false(vn_ledger_save(dir, l, &err));
        assert_error_contains(err, "belongs to uid 65534, not root; run "
                                   "'chown root ");
        g_clear_error(&err);
        assert_int_equal(vn_state_lock(dir, &err), -1);
        g_clear_error(&err);
        assert_int_equal(chown(dir, 0, 0), 0);
    } else {
        print_message("not root: the owner check is left to the root run\n");
    }
    assert_true(vn_ledger_save(dir, l, &err));
    rm_rf(dir);
    rm_rf(elsewhere);
}

static void
state_paths(void **state)
{
    char buf[4096];
    g_autofree char *n251 = g_strnfill(251, 'n');
    g_autofree char *n252 = g_strnfill(252, 'n');
    g_autofree char *ctl80 = g_strnfill(80, '\t');
    g_autofree char *ctl90 = g_strnfill(90, '\t');

    assert_int_equal(vn_state_path(buf, sizeof(buf), "/s", "network", "a/b",
                                   "state"), 0);
    assert_string_equal(buf, "/s/network/a%2Fb.state");
    assert_int_equal(vn_state_path(buf, sizeof(buf), "/s", "network", "..",
                                   "xml"), 0);
    assert_string_equal(buf, "/s/network/%2E..xml");
    assert_int_equal(vn_state_path(buf, sizeof(buf), "/s", "domain",
                                   "[x] \"q\"", "state"), 0);
    assert_string_equal(buf, "/s/domain/[x] \"q\".state");
    /* no directory entry is longer than NAME_MAX (255) */
    assert_int_equal(vn_state_path(buf, sizeof(buf), "/s", "network", n251,
                                   "xml"), 0);
    assert_int_equal(vn_state_path(buf, sizeof(buf), "/s", "network", n251,
                                   "state"), -1);
    assert_int_equal(vn_state_path(buf, sizeof(buf), "/s", "network", ctl80,
                                   "state"), 0);
    assert_int_equal(vn_state_path(buf, sizeof(buf), "/s", "network", ctl90,
                                   "state"), -1);
    assert_int_equal(vn_state_path(buf, 12, "/s", "network", "a", "state"), -1);
    /* found by tests/fuzz (crashes/state/crash-da39a3ee...): an empty name
     * made the hidden file "/s/network/.state" */
    assert_int_equal(vn_state_path(buf, sizeof(buf), "/s", "network", "",
                                   "state"), -1);

    /* libvirt's own files: NAME as it is, and none for a name with '/' */
    assert_int_equal(vn_libvirt_path(buf, sizeof(buf), "/run/libvirt/network",
                                     "[x] a=b", "xml"), 0);
    assert_string_equal(buf, "/run/libvirt/network/[x] a=b.xml");
    assert_int_equal(vn_libvirt_path(buf, sizeof(buf), "/d", "..", "xml"), 0);
    assert_string_equal(buf, "/d/...xml");
    assert_int_equal(vn_libvirt_path(buf, sizeof(buf), "/d", "../outside/evil",
                                     "xml"), -1);
    assert_int_equal(vn_libvirt_path(buf, sizeof(buf), "/d", "/etc/passwd",
                                     "status"), -1);
    assert_int_equal(vn_libvirt_path(buf, sizeof(buf), "/d", "", "status"), -1);
    assert_int_equal(vn_libvirt_path(buf, sizeof(buf), "/d", n251, "xml"), 0);
    assert_int_equal(vn_libvirt_path(buf, sizeof(buf), "/d", n252, "xml"), -1);
}

static gboolean
comment_byte_ok(guchar c)
{
    return c >= 0x20 && c < 0x7f && c != '"' && c != '\\' && c != '\'';
}

/* Issue 11, point 1: every name gives a comment that lists, survives
 * iptables-save | iptables-restore and is told apart from every other
 * network's. */
static void
comment_names(void **state)
{
    g_autoptr(GPtrArray) prefixes = g_ptr_array_new_with_free_func(g_free);
    g_autoptr(GPtrArray) comments = g_ptr_array_new_with_free_func(g_free);

    for (guint i = 0; i < G_N_ELEMENTS(names); i++) {
        static const char *const nets[][2] = {
            { "192.168.122.0/24", "192.168.124.0/24" },
            { "fd00:1234:5678:9abc::/64", "fd00:ffff:eeee:dddd::/64" },
        };

        g_ptr_array_add(prefixes, vn_rule_comment_prefix(names[i]));
        for (guint k = 0; k < 3; k++) {
            for (guint f = 0; f < G_N_ELEMENTS(nets); f++) {
                g_autoptr(VnRule) r = rule_of(names[i], (VnRuleKind)k,
                                              nets[f][0], nets[f][1]);
                char *c = vn_rule_comment(r);
                const char *p = prefixes->pdata[i];
                guint spaces = 0;

                if (strlen(c) > 127)
                    fail_msg("'%s': %zu bytes: %s", names[i], strlen(c), c);
                for (const char *q = c; *q; q++)
                    if (!comment_byte_ok((guchar)*q))
                        fail_msg("'%s': byte 0x%02x in \"%s\"", names[i],
                                 (guchar)*q, c);
                for (const char *q = p; *q; q++)
                    spaces += *q == ' ';
                assert_int_equal(spaces, 2);
                assert_true(g_str_has_prefix(c, p));
                assert_true(vn_rule_comment_is_ours(c));
                g_ptr_array_add(comments, c);
            }
        }
    }
    /* one network's prefix starts no other network's comments */
    for (guint i = 0; i < prefixes->len; i++) {
        for (guint j = 0; j < comments->len; j++) {
            if (j / 6 == i)
                continue;
            if (g_str_has_prefix(comments->pdata[j], prefixes->pdata[i]))
                fail_msg("prefix \"%s\" of '%s' starts \"%s\"",
                         (char *)prefixes->pdata[i], names[i],
                         (char *)comments->pdata[j]);
        }
    }
    /* the names that were fine stay as they were: running hosts keep
     * recognising the rules they installed */
    {
        g_autoptr(VnRule) r = rule_of("default", VN_RULE_IN, "192.168.122.0/24",
                                      "192.168.124.0/24");
        g_autofree char *c = vn_rule_comment(r);

        assert_string_equal(c, "virt-nest default in 192.168.122.0/24>192.168.124.0/24");
        g_free(c);
        c = vn_rule_comment_prefix("[x]");
        assert_string_equal(c, "virt-nest [x] ");
        g_free(c);
        c = vn_rule_comment_prefix("it's \"q\"");
        assert_string_equal(c, "virt-nest it%27s%20%22q%22 ");
    }
}

/* Issue 11, point 7: six octets of two hex digits, nothing else. */
static void
mac_normalize(void **state)
{
    static const char *const bad[] = {
        "-1:-1:-1:-1:-1:-1", "+1:+2:+3:+4:+5:+6", " 1: 2: 3: 4: 5: 6",
        "52-54-00-fc-38-e0", "52:54:00:fc:38:e", "52:54:00:fc:38:e0:",
        "52:54:00:fc:38:g0", "5:254:00:fc:38:e0", "0x:54:00:fc:38:e0",
        "52:54:00:fc:38:e0\n", "", "52:54:00:fc:38:-0",
    };
    g_autofree char *ok = vn_mac_normalize("52:54:00:FC:38:E0");
    g_autofree char *tap = vn_mac_tap("FE:54:00:fc:38:e0");
    VnCidr ll;

    assert_string_equal(ok, "52:54:00:fc:38:e0");
    assert_string_equal(tap, "fa:54:00:fc:38:e0");
    assert_true(vn_mac_link_local("52:54:00:fc:38:e0", &ll));
    assert_cidr_str(&ll, "fe80::5054:ff:fefc:38e0/128");
    assert_null(vn_mac_normalize(NULL));
    for (guint i = 0; i < G_N_ELEMENTS(bad); i++) {
        g_autofree char *m = vn_mac_normalize(bad[i]);

        if (m)
            fail_msg("'%s' gave '%s'", bad[i], m);
        assert_false(vn_mac_link_local(bad[i], &ll));
        assert_null(vn_mac_tap(bad[i]));
    }
}

/* Issue 11, points 3 and 7: no lease file outside the directory, and none
 * with a NUL in it. */
static void
lease_files(void **state)
{
    static const char good[] =
        "[{\"ip-address\": \"192.168.122.77\", \"mac-address\": "
        "\"52:54:00:fc:38:e0\", \"expiry-time\": 1795543370}]";
    g_autofree char *dir = make_tmpdir();
    g_autofree char *leases = g_build_filename(dir, "leases", NULL);
    g_autofree char *outside = g_build_filename(dir, "outside.status", NULL);
    g_autofree char *inside = g_build_filename(leases, "virbr0.status", NULL);
    g_autoptr(GPtrArray) list =
        g_ptr_array_new_with_free_func((GDestroyNotify)vn_lease_free);
    g_autoptr(GError) err = NULL;
    char nul[sizeof(good) + 8];

    assert_int_equal(mkdir(leases, 0755), 0);
    assert_true(g_file_set_contents(outside, good, -1, NULL));
    assert_true(g_file_set_contents(inside, good, -1, NULL));
    assert_true(vn_leases_load(leases, "virbr0", list, &err));
    assert_int_equal(list->len, 1);
    g_ptr_array_set_size(list, 0);
    assert_true(vn_leases_load(leases, "../outside", list, &err));
    assert_int_equal(list->len, 0);
    assert_true(vn_leases_load(leases, "", list, &err));
    assert_int_equal(list->len, 0);

    /* a NUL: whatever follows it is hidden from a C string */
    memcpy(nul, "[]", 2);
    nul[2] = '\0';
    memcpy(nul + 3, good, 5);
    assert_false(vn_leases_parse(nul, 8, "virbr0", list, &err));
    assert_error_contains(err, "lease file of virbr0: a NUL byte at offset 2");
    g_clear_error(&err);
    memcpy(nul, good, sizeof(good));
    assert_true(vn_leases_parse(nul, (gssize)sizeof(good) - 1, "virbr0", list,
                                &err));
    assert_false(vn_leases_parse(nul, (gssize)sizeof(good), "virbr0", list,
                                 &err));
    assert_error_contains(err, "a NUL byte");
    g_clear_error(&err);
    assert_true(g_file_set_contents(inside, nul, sizeof(good), NULL));
    assert_false(vn_leases_load(leases, "virbr0", list, &err));
    rm_rf(dir);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(ledger_holds_any_name),
        cmocka_unit_test(ledger_format_is_ascii),
        cmocka_unit_test(ledger_reads_older_versions),
        cmocka_unit_test(ledger_refuses),
        cmocka_unit_test(state_dir_refused),
        cmocka_unit_test(state_paths),
        cmocka_unit_test(comment_names),
        cmocka_unit_test(mac_normalize),
        cmocka_unit_test(lease_files),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
