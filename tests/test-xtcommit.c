/* test-xtcommit.c: the legacy backend against the real kernel and the
 * real iptables-legacy binaries, in a network namespace of this test's
 * own (unshare(CLONE_NEWNET): legacy tables are per namespace, and this
 * one goes away with the process). Root only; exit 77 elsewhere.
 *
 * What the namespace tests (tests/netns) cannot provoke: a change that
 * the kernel refuses for the second table after it took the first. The
 * first must be undone, and the error must name the table. */
#include "config.h"

#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/wait.h>
#include <linux/netfilter.h>

#include "testutil.h"
#include "fwbackend.h"
#include "xtables.h"

static const VnFwBackendClass *klass;

static VnRule *
mkrule(VnRuleKind kind, const char *src, const char *dst)
{
    VnRule *r = g_new0(VnRule, 1);

    r->kind = kind;
    r->network = g_strdup("default");
    r->bridge = g_strdup("virbr0");
    assert_true(vn_cidr_parse(src, VN_CIDR_SUBNET, &r->src, NULL));
    assert_true(vn_cidr_parse(dst, VN_CIDR_SUBNET, &r->dst, NULL));
    return r;
}

static char *
save(void)
{
    g_autofree char *out = NULL;
    g_autoptr(GString) s = g_string_new(NULL);
    gint status = 0;
    char *argv[] = { (char *)"/usr/sbin/iptables-legacy-save", NULL };
    g_auto(GStrv) lines = NULL;

    assert_true(g_spawn_sync(NULL, argv, NULL, G_SPAWN_STDERR_TO_DEV_NULL,
                             NULL, NULL, &out, NULL, &status, NULL));
    assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    lines = g_strsplit(out, "\n", -1);
    /* without the dates */
    for (guint i = 0; lines[i]; i++)
        if (lines[i][0] != '#')
            g_string_append_printf(s, "%s\n", lines[i]);
    return g_strdup(s->str);
}

static void
load(const char *text)
{
    g_autofree char *path = g_build_filename(g_get_tmp_dir(),
                                             "vnl-xtcommit.XXXXXX", NULL);
    int fd = g_mkstemp(path);
    g_autofree char *cmd = NULL;

    assert_true(fd >= 0);
    assert_true(write(fd, text, strlen(text)) == (ssize_t)strlen(text));
    close(fd);
    cmd = g_strdup_printf("/usr/sbin/iptables-legacy-restore -w < %s", path);
    assert_int_equal(system(cmd), 0);
    unlink(path);
}

static GPtrArray *
changes_new(void)
{
    return g_ptr_array_new_with_free_func(g_free);
}

static void
add(GPtrArray *changes, gboolean insert, const VnRule *rule, VnFwEntry *e)
{
    VnFwChange *c = g_new0(VnFwChange, 1);

    c->insert = insert;
    c->rule = rule;
    c->entry = e;
    g_ptr_array_add(changes, c);
}

static void
backend(void **state)
{
    g_autofree char *rules = vn_test_read("rules/libvirt9-nat-122.iptables");
    g_autofree char *before = NULL, *after = NULL;
    g_autoptr(GError) err = NULL;
    VnRule *in = mkrule(VN_RULE_IN, "192.168.121.0/24", "192.168.122.0/24");
    VnRule *out = mkrule(VN_RULE_OUT, "192.168.122.0/24", "192.168.121.0/24");
    VnRule *nat = mkrule(VN_RULE_NAT, "192.168.122.0/24", "192.168.121.0/24");
    VnFwEntry *e_in = NULL, *e_out = NULL, *e_nat = NULL;
    g_autoptr(VnFwEntry) bad = NULL;
    g_autoptr(GPtrArray) listed = g_ptr_array_new_with_free_func(
        (GDestroyNotify)vn_fw_entry_free);
    g_autoptr(GPtrArray) ch = NULL;

    {
        /* no legacy table yet: not in the forward path, and nothing ran */
        g_autoptr(VnFw) fw = vn_fw_new();

        assert_int_equal(klass->detect(fw, NFPROTO_IPV4, &err), 0);
        assert_null(err);
    }
    load(rules);
    before = save();
    {
        g_autoptr(VnFw) fw = vn_fw_new();

        assert_int_equal(klass->detect(fw, NFPROTO_IPV4, &err), 1);
        assert_int_equal(klass->detect(fw, NFPROTO_IPV6, &err), 0);
        assert_null(err);
        assert_true(klass->place(fw, in, &e_in, &err));
        assert_true(klass->place(fw, out, &e_out, &err));
        assert_true(klass->place(fw, nat, &e_nat, &err));
        assert_non_null(e_in);
        assert_string_equal(e_in->table, "filter");
        assert_string_equal(e_in->chain, "FORWARD");
        assert_string_equal(e_nat->table, "nat");
        assert_string_equal(e_nat->chain, "POSTROUTING");

        /* the nat table refuses its part after filter took its own: the
         * filter part is taken back */
        bad = vn_fw_entry_copy(e_nat);
        g_free(bad->spec);
        bad->spec = g_strdup("-m comment --comment \"virt-nest default nat x\" "
                             "-j NO_SUCH_CHAIN");
        ch = changes_new();
        add(ch, TRUE, in, e_in);
        add(ch, TRUE, NULL, bad);
        assert_false(klass->commit(fw, ch, &err));
        assert_error_contains(err, "legacy ip nat refused the change");
        assert_error_contains(err, "nothing was changed");
        g_clear_error(&err);
        after = save();
        assert_string_equal(before, after);
        g_clear_pointer(&after, g_free);
        g_ptr_array_unref(g_steal_pointer(&ch));

        /* all three, in the order given, at the heads */
        ch = changes_new();
        add(ch, TRUE, in, e_in);
        add(ch, TRUE, out, e_out);
        add(ch, TRUE, nat, e_nat);
        assert_true(klass->commit(fw, ch, &err));
        assert_null(err);
        g_ptr_array_unref(g_steal_pointer(&ch));
        assert_int_equal(klass->exists(fw, e_in, &err), 1);
        assert_int_equal(klass->exists(fw, e_nat, &err), 1);
        assert_int_equal(klass->preceded(fw, e_out, &err), 0);
        assert_true(klass->list(fw, NFPROTO_IPV4, NULL, listed, &err));
        assert_int_equal(listed->len, 3);
        assert_string_equal(((VnFwEntry *)listed->pdata[0])->spec, e_in->spec);
        assert_string_equal(((VnFwEntry *)listed->pdata[1])->spec, e_out->spec);
        assert_string_equal(((VnFwEntry *)listed->pdata[2])->spec, e_nat->spec);
        assert_true(klass->list(fw, NFPROTO_IPV4, "virt-nest other ", listed,
                                &err));
        assert_int_equal(listed->len, 3);

        /* every one removed by its exact text; then put back from the
         * spec alone, as the executor's undo does, and removed again */
        ch = changes_new();
        for (guint i = 0; i < listed->len; i++)
            add(ch, FALSE, NULL, listed->pdata[i]);
        assert_true(klass->commit(fw, ch, &err));
        after = save();
        assert_string_equal(before, after);
        g_clear_pointer(&after, g_free);
        for (guint i = 0; i < ch->len; i++)
            ((VnFwChange *)ch->pdata[i])->insert = TRUE;
        assert_true(klass->commit(fw, ch, &err));
        assert_int_equal(klass->exists(fw, e_out, &err), 1);
        for (guint i = 0; i < ch->len; i++)
            ((VnFwChange *)ch->pdata[i])->insert = FALSE;
        assert_true(klass->commit(fw, ch, &err));
        assert_int_equal(klass->exists(fw, e_out, &err), 0);
        assert_null(err);
        g_ptr_array_unref(g_steal_pointer(&ch));
    }
    after = save();
    assert_string_equal(before, after);
    vn_fw_entry_free(e_in);
    vn_fw_entry_free(e_out);
    vn_fw_entry_free(e_nat);
    vn_rule_free(in);
    vn_rule_free(out);
    vn_rule_free(nat);
    (void)state;
}

static void
model(void **state)
{
    g_autoptr(GPtrArray) chains =
        g_ptr_array_new_with_free_func((GDestroyNotify)vn_fw_chain_free);
    g_autoptr(GError) err = NULL;
    guint legacy = 0;

    /* the tables loaded above, read as doctor reads them */
    assert_true(vn_xt_read(chains, &err));
    assert_null(err);
    for (guint i = 0; i < chains->len; i++) {
        const VnFwChain *c = chains->pdata[i];

        assert_true(c->legacy);
        legacy++;
        if (!strcmp(c->table, "filter") && !strcmp(c->name, "FORWARD")) {
            assert_string_equal(c->hook, "forward");
            assert_int_equal(c->priority, 0);
            assert_int_equal(c->rules->len, 3);
        }
    }
    assert_int_equal(legacy, 19);
    (void)state;
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(backend),
        cmocka_unit_test(model),
    };

    if (geteuid() != 0) {
        printf("SKIP: needs root (a network namespace of its own)\n");
        return 77;
    }
    if (!g_file_test("/usr/sbin/iptables-legacy-restore", G_FILE_TEST_IS_EXECUTABLE)) {
        printf("FAIL: /usr/sbin/iptables-legacy-restore is missing (Debian: iptables)\n");
        return 1;
    }
    if (unshare(CLONE_NEWNET) != 0) {
        printf("SKIP: cannot make a network namespace: %s\n", g_strerror(errno));
        return 77;
    }
    klass = vn_fw_backend_class(VN_FW_LEGACY);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
