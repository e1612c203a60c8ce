/* test-fweval.c: what a firewall does to one packet at one hook. */
#include "config.h"

#include <netinet/in.h>
#include <linux/netfilter.h>
#include <string.h>

#include "testutil.h"
#include "fwtest.h"

static void
libvirt_rejects_new_inbound(void **state)
{
    g_autoptr(GPtrArray) fw = libvirt9();
    VnPacket p = pkt("192.168.122.1", "192.168.124.91", "enp1s0", "virbr0",
                     VN_CT_NEW);
    VnFwResult r;

    vn_fw_eval(fw, "forward", "filter", &p, NULL, &r);
    assert_int_equal(r.verdict, VN_FW_REJECT);
    assert_string_equal(r.chain->name, "LIBVIRT_FWI");
    assert_string_equal(r.base->name, "FORWARD");
    assert_int_equal(r.rule->handle, 2);
    vn_fw_result_clear(&r);

    /* the reply of a connection from inside is let in */
    p.ct = VN_CT_ESTABLISHED;
    vn_fw_eval(fw, "forward", "filter", &p, NULL, &r);
    assert_int_equal(r.verdict, VN_FW_ACCEPT);
    assert_string_equal(r.chain->name, "LIBVIRT_FWI");
    assert_int_equal(r.rule->handle, 1);
    vn_fw_result_clear(&r);

    /* out of the network: FWO accepts; from a foreign source it rejects */
    p = pkt("192.168.124.91", "192.168.122.1", "virbr0", "enp1s0", VN_CT_NEW);
    vn_fw_eval(fw, "forward", "filter", &p, NULL, &r);
    assert_int_equal(r.verdict, VN_FW_ACCEPT);
    assert_string_equal(r.chain->name, "LIBVIRT_FWO");
    vn_fw_result_clear(&r);
    p = pkt("10.0.0.9", "192.168.122.1", "virbr0", "enp1s0", VN_CT_NEW);
    vn_fw_eval(fw, "forward", "filter", &p, NULL, &r);
    assert_int_equal(r.verdict, VN_FW_REJECT);
    vn_fw_result_clear(&r);

    /* no hook there: accepted with no rule */
    vn_fw_eval(fw, "input", "filter", &p, NULL, &r);
    assert_int_equal(r.verdict, VN_FW_ACCEPT);
    assert_null(r.rule);
    vn_fw_result_clear(&r);
}

static void
exception_above_libvirt(void **state)
{
    g_autoptr(GPtrArray) fw = libvirt9();
    VnFwChain *fwd = fw->pdata[0];
    VnFwRule *r0 = vn_fw_rule_new();
    VnPacket p = pkt("192.168.122.1", "192.168.124.91", "enp1s0", "virbr0",
                     VN_CT_NEW);
    VnFwResult r;

    assert_true(vn_cidr_parse("192.168.122.0/24", VN_CIDR_SUBNET, &r0->src, NULL));
    assert_true(vn_cidr_parse("192.168.124.0/24", VN_CIDR_SUBNET, &r0->dst, NULL));
    r0->oif = g_strdup("virbr0");
    r0->verdict = VN_FW_ACCEPT;
    r0->comment = g_strdup("virt-nest default in 192.168.122.0/24>192.168.124.0/24");
    r0->handle = 99;
    g_ptr_array_insert(fwd->rules, 0, r0);
    vn_fw_eval(fw, "forward", "filter", &p, NULL, &r);
    assert_int_equal(r.verdict, VN_FW_ACCEPT);
    assert_ptr_equal(r.rule, r0);
    vn_fw_result_clear(&r);

    /* a rule libvirt re-inserted above it wins again */
    g_ptr_array_insert(fwd->rules, 0, vn_fw_rule_new());
    ((VnFwRule *)fwd->rules->pdata[0])->verdict = VN_FW_JUMP;
    ((VnFwRule *)fwd->rules->pdata[0])->target = g_strdup("LIBVIRT_FWI");
    vn_fw_eval(fw, "forward", "filter", &p, NULL, &r);
    assert_int_equal(r.verdict, VN_FW_REJECT);
    vn_fw_result_clear(&r);
}

static void
every_base_chain_has_its_say(void **state)
{
    g_autoptr(GPtrArray) fw = fw_new();
    VnFwChain *a = chain(fw, NFPROTO_IPV4, "filter", "FORWARD", "forward",
                         "filter", 0, FALSE);
    VnFwChain *b = chain(fw, NFPROTO_INET, "firewalld", "filter_FORWARD",
                         "forward", "filter", 10, TRUE);
    VnFwChain *v6 = chain(fw, NFPROTO_IPV6, "filter", "FORWARD", "forward",
                          "filter", -5, TRUE);
    VnPacket p = pkt("192.168.122.1", "192.168.124.91", "enp1s0", "virbr0",
                     VN_CT_NEW);
    VnFwResult r;

    rule(a, "-s 192.168.122.0/24 -j ACCEPT");
    rule(b, "-i virbr+ -j ACCEPT");
    (void)v6;
    /* accepted by iptables, then dropped by the policy of the later chain */
    vn_fw_eval(fw, "forward", "filter", &p, NULL, &r);
    assert_int_equal(r.verdict, VN_FW_DROP);
    assert_ptr_equal(r.base, b);
    assert_null(r.rule);
    vn_fw_result_clear(&r);
    /* an interface prefix */
    p.iif = "virbr7";
    vn_fw_eval(fw, "forward", "filter", &p, NULL, &r);
    assert_int_equal(r.verdict, VN_FW_ACCEPT);
    assert_ptr_equal(r.base, a);        /* the first rule that accepted */
    vn_fw_result_clear(&r);
}

/* firewalld's filter_FORWARD head: ct state { established, related }
 * accept (read as a ct state mask), ct status dnat accept, ip6 daddr
 * {...} reject (meta nfproto ipv6 in an inet table), then its reject: a
 * new IPv4 connection reaches the reject, and only the reject decides */
static void
firewalld_forward_head(void **state)
{
    g_autoptr(GPtrArray) fw = fw_new();
    VnFwChain *c = chain(fw, NFPROTO_INET, "firewalld", "filter_FORWARD",
                         "forward", "filter", 10, FALSE);
    VnPacket p = pkt("192.168.122.1", "192.168.124.91", "enp1s0", "virbr0",
                     VN_CT_NEW);
    VnFwRule *est = rule(c, "-j ACCEPT");
    VnFwRule *dnat = rule(c, "-j ACCEPT");
    VnFwRule *v6 = rule(c, "-j REJECT");
    VnFwRule *rej = rule(c, "-j REJECT");
    VnFwResult r;

    est->ct_state = VN_CT_ESTABLISHED | VN_CT_RELATED;
    dnat->ct_status = 1u << 5;
    v6->nfproto = NFPROTO_IPV6;
    vn_fw_eval(fw, "forward", "filter", &p, NULL, &r);
    assert_int_equal(r.verdict, VN_FW_REJECT);
    assert_ptr_equal(r.rule, rej);
    assert_true(!r.unknown || r.unknown->len == 0);
    vn_fw_result_clear(&r);
    /* the reply of an established connection: accepted at the head */
    p.ct = VN_CT_ESTABLISHED;
    vn_fw_eval(fw, "forward", "filter", &p, NULL, &r);
    assert_int_equal(r.verdict, VN_FW_ACCEPT);
    assert_ptr_equal(r.rule, est);
    vn_fw_result_clear(&r);
}

static void
goto_return_and_negation(void **state)
{
    g_autoptr(GPtrArray) fw = fw_new();
    VnFwChain *base = chain(fw, NFPROTO_IPV4, "filter", "FORWARD", "forward",
                            "filter", 0, TRUE);
    VnFwChain *c1 = chain(fw, NFPROTO_IPV4, "filter", "C1", NULL, NULL, 0, FALSE);
    VnFwChain *c2 = chain(fw, NFPROTO_IPV4, "filter", "C2", NULL, NULL, 0, FALSE);
    VnPacket p = pkt("10.1.1.1", "10.2.2.2", "eth0", "eth1", VN_CT_NEW);
    VnFwResult r;

    rule(base, "-g C1");
    rule(base, "-j ACCEPT");            /* never reached after a goto */
    rule(c1, "-j C2");
    rule(c1, "! -s 10.1.0.0/16 -j DROP");
    rule(c2, "-p tcp -j ACCEPT");
    rule(c2, "-j RETURN");
    rule(c2, "-j DROP");
    /* ICMP: C2 returns, C1 does not drop 10.1/16, goto falls to the policy */
    vn_fw_eval(fw, "forward", "filter", &p, NULL, &r);
    assert_int_equal(r.verdict, VN_FW_DROP);
    assert_null(r.rule);
    vn_fw_result_clear(&r);
    p.proto = IPPROTO_TCP;
    vn_fw_eval(fw, "forward", "filter", &p, NULL, &r);
    assert_int_equal(r.verdict, VN_FW_ACCEPT);
    assert_ptr_equal(r.chain, c2);
    vn_fw_result_clear(&r);
    p.proto = IPPROTO_ICMP;
    assert_true(vn_cidr_parse("172.16.0.1", VN_CIDR_ADDRESS, &p.src, NULL));
    vn_fw_eval(fw, "forward", "filter", &p, NULL, &r);
    assert_int_equal(r.verdict, VN_FW_DROP);
    assert_ptr_equal(r.chain, c1);
    vn_fw_result_clear(&r);
}

static void
loops_end(void **state)
{
    g_autoptr(GPtrArray) fw = fw_new();
    VnFwChain *base = chain(fw, NFPROTO_IPV4, "filter", "FORWARD", "forward",
                            "filter", 0, FALSE);
    VnFwChain *c = chain(fw, NFPROTO_IPV4, "filter", "LOOP", NULL, NULL, 0, FALSE);
    VnPacket p = pkt("10.1.1.1", "10.2.2.2", "eth0", "eth1", VN_CT_NEW);
    VnFwResult r;

    rule(base, "-j LOOP");
    rule(c, "-j LOOP");
    vn_fw_eval(fw, "forward", "filter", &p, NULL, &r);
    assert_int_equal(r.verdict, VN_FW_ACCEPT);
    vn_fw_result_clear(&r);
}

/* k rules that jump to their own chain, and the same k at the head of
 * FORWARD: about k^17 rule evaluations without a budget (issue 11). */
static GPtrArray *
self_jumps(guint k, gboolean opaque)
{
    GPtrArray *fw = fw_new();
    VnFwChain *base = chain(fw, NFPROTO_IPV4, "filter", "FORWARD", "forward",
                            "filter", 0, TRUE);
    VnFwChain *c = chain(fw, NFPROTO_IPV4, "filter", "LOOP", NULL, NULL, 0,
                         FALSE);

    for (guint i = 0; i < k; i++) {
        rule(base, "-j LOOP");
        rule(c, "-j LOOP");
    }
    if (opaque)
        rule(c, "--opaque -m_recent -j DROP");
    return fw;
}

static void
loops_have_a_budget(void **state)
{
    VnPacket p = pkt("10.1.1.1", "10.2.2.2", "eth0", "eth1", VN_CT_NEW);
    VnFwResult r;

    /* k=2 is 2^18 or so: within the budget, and the policy decides */
    {
        g_autoptr(GPtrArray) fw = self_jumps(2, FALSE);

        vn_fw_eval(fw, "forward", "filter", &p, NULL, &r);
        assert_false(r.too_complex);
        assert_int_equal(r.verdict, VN_FW_DROP);
        assert_true(r.evaluated > 100000 && r.evaluated < VN_FW_EVAL_BUDGET);
        vn_fw_result_clear(&r);
    }
    for (guint i = 0; i < 3; i++) {
        static const guint ks[] = { 3, 8, 64 };
        guint k = ks[i];
        g_autoptr(GPtrArray) fw = self_jumps(k, TRUE);
        gint64 t0 = g_get_monotonic_time();

        vn_fw_eval(fw, "forward", "filter", &p, NULL, &r);
        assert_true(r.too_complex);
        assert_int_equal(r.verdict, VN_FW_CONTINUE);
        assert_string_equal(r.base->name, "FORWARD");
        assert_null(r.rule);
        assert_int_equal(r.evaluated, VN_FW_EVAL_BUDGET);
        /* the opaque rule was met many times, and is reported once */
        assert_int_equal(r.unknown->len, 1);
        vn_fw_result_clear(&r);
        /* a million evaluations is a fraction of a second, even under
         * valgrind's tenfold */
        assert_true(g_get_monotonic_time() - t0 < 20 * G_USEC_PER_SEC);
    }
}

static void
budget_is_shared(void **state)
{
    g_autoptr(GPtrArray) fw = self_jumps(3, FALSE);
    g_autoptr(GPtrArray) ok = libvirt9();
    VnPacket p = pkt("10.1.1.1", "10.2.2.2", "eth0", "eth1", VN_CT_NEW);
    VnPacket q = pkt("192.168.122.1", "192.168.124.91", "enp1s0", "virbr0",
                     VN_CT_NEW);
    guint64 budget = 1000;
    VnFwResult r;

    vn_fw_eval(fw, "forward", "filter", &p, &budget, &r);
    assert_true(r.too_complex);
    assert_int_equal(r.evaluated, 1000);
    assert_int_equal(budget, 0);
    vn_fw_result_clear(&r);
    /* nothing left: even a simple ruleset is not evaluated any more */
    vn_fw_eval(ok, "forward", "filter", &q, &budget, &r);
    assert_true(r.too_complex);
    assert_int_equal(r.evaluated, 0);
    vn_fw_result_clear(&r);
    /* with some left, it is, and costs what it costs */
    budget = 50;
    vn_fw_eval(ok, "forward", "filter", &q, &budget, &r);
    assert_false(r.too_complex);
    assert_int_equal(r.verdict, VN_FW_REJECT);
    assert_int_equal(budget, 50 - r.evaluated);
    assert_int_equal(r.evaluated, 5);   /* FWX's jump and rule, FWI's jump, 2 */
    vn_fw_result_clear(&r);
}

static void
opaque_rules_are_reported(void **state)
{
    g_autoptr(GPtrArray) fw = fw_new();
    VnFwChain *base = chain(fw, NFPROTO_IPV4, "filter", "FORWARD", "forward",
                            "filter", 0, FALSE);
    VnPacket p = pkt("10.1.1.1", "10.2.2.2", "eth0", "eth1", VN_CT_NEW);
    VnFwResult r;

    rule(base, "--opaque -m_recent -j DROP");
    rule(base, "-s 10.9.0.0/16 --opaque -m_limit -j DROP");     /* cannot match */
    vn_fw_eval(fw, "forward", "filter", &p, NULL, &r);
    assert_int_equal(r.verdict, VN_FW_ACCEPT);
    assert_int_equal(r.unknown->len, 1);
    assert_string_equal(((VnFwRule *)r.unknown->pdata[0])->opaque, "-m_recent");
    vn_fw_result_clear(&r);
}

static void
nat_first_verdict_wins(void **state)
{
    g_autoptr(GPtrArray) fw = fw_new();
    VnFwChain *post = chain(fw, NFPROTO_IPV4, "nat", "POSTROUTING",
                            "postrouting", "nat", 100, FALSE);
    VnFwChain *prt = chain(fw, NFPROTO_IPV4, "nat", "LIBVIRT_PRT", NULL, NULL,
                           0, FALSE);
    VnPacket p = pkt("192.168.124.91", "192.168.122.1", "virbr0", "enp1s0",
                     VN_CT_NEW);
    VnFwResult r;

    rule(post, "-j LIBVIRT_PRT");
    rule(prt, "-s 192.168.124.0/24 -d 224.0.0.0/24 -j RETURN");
    rule(prt, "-s 192.168.124.0/24 ! -d 192.168.124.0/24 -j MASQUERADE");
    vn_fw_eval(fw, "postrouting", "nat", &p, NULL, &r);
    assert_int_equal(r.verdict, VN_FW_MASQUERADE);
    assert_ptr_equal(r.chain, prt);
    vn_fw_result_clear(&r);
    /* virt-nest's exemption above it */
    g_ptr_array_insert(post->rules, 0, vn_fw_rule_new());
    {
        VnFwRule *x = post->rules->pdata[0];

        assert_true(vn_cidr_parse("192.168.124.0/24", VN_CIDR_SUBNET, &x->src, NULL));
        assert_true(vn_cidr_parse("192.168.122.0/24", VN_CIDR_SUBNET, &x->dst, NULL));
        x->verdict = VN_FW_ACCEPT;
    }
    vn_fw_eval(fw, "postrouting", "nat", &p, NULL, &r);
    assert_int_equal(r.verdict, VN_FW_ACCEPT);
    vn_fw_result_clear(&r);
    /* a filter evaluation ignores NAT targets */
    vn_fw_eval(fw, "postrouting", "filter", &p, NULL, &r);
    assert_int_equal(r.verdict, VN_FW_ACCEPT);
    vn_fw_result_clear(&r);
}

static void
families(void **state)
{
    g_autoptr(GPtrArray) fw = fw_new();
    VnFwChain *v4 = chain(fw, NFPROTO_IPV4, "filter", "FORWARD", "forward",
                          "filter", 0, TRUE);
    VnFwChain *v6 = chain(fw, NFPROTO_IPV6, "filter", "FORWARD", "forward",
                          "filter", 0, FALSE);
    VnPacket p = pkt("fd00:122::1", "fd00:124::91", "enp1s0", "virbr0",
                     VN_CT_NEW);
    VnFwResult r;

    (void)v4;
    rule(v6, "-d fd00:124::/64 -j REJECT");
    vn_fw_eval(fw, "forward", "filter", &p, NULL, &r);
    assert_int_equal(r.verdict, VN_FW_REJECT);
    assert_ptr_equal(r.base, v6);
    vn_fw_result_clear(&r);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(libvirt_rejects_new_inbound),
        cmocka_unit_test(exception_above_libvirt),
        cmocka_unit_test(every_base_chain_has_its_say),
        cmocka_unit_test(firewalld_forward_head),
        cmocka_unit_test(goto_return_and_negation),
        cmocka_unit_test(loops_end),
        cmocka_unit_test(loops_have_a_budget),
        cmocka_unit_test(budget_is_shared),
        cmocka_unit_test(opaque_rules_are_reported),
        cmocka_unit_test(nat_first_verdict_wins),
        cmocka_unit_test(families),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
