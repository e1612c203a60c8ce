/* test-fwpath.c: what the whole firewall does to an exception's traffic,
 * and the hand fixes virt-nest makes unnecessary. */
#include "config.h"

#include <linux/rtnetlink.h>

#include "fwtest.h"
#include "fwpath.h"
#include "handfix.h"

/* L1 of the seed: enp1s0 192.168.122.191/24 (default via .1), virbr0
 * 192.168.124.1/24, with @fw as its firewall (taken). */
static VnHost *
seed_l1(GPtrArray *fw)
{
    static const struct { int idx; const char *name; } links[] = {
        { 2, "enp1s0" }, { 3, "virbr0" },
    };
    static const struct { const char *dst, *gw; int oif; } routes[] = {
        { "0.0.0.0/0", "192.168.122.1", 2 },
        { "192.168.122.0/24", NULL, 2 },
        { "192.168.124.0/24", NULL, 3 },
    };
    VnHost *h = vn_host_new();

    for (guint i = 0; i < G_N_ELEMENTS(links); i++) {
        VnLink *l = g_new0(VnLink, 1);

        l->ifindex = links[i].idx;
        l->name = g_strdup(links[i].name);
        g_ptr_array_add(h->links, l);
    }
    for (guint i = 0; i < G_N_ELEMENTS(routes); i++) {
        VnHostRoute *r = g_new0(VnHostRoute, 1);

        assert_true(vn_cidr_parse(routes[i].dst, VN_CIDR_SUBNET, &r->dst, NULL));
        if (routes[i].gw)
            assert_true(vn_cidr_parse(routes[i].gw, VN_CIDR_ADDRESS,
                                      &r->gateway, NULL));
        r->oif = routes[i].oif;
        r->type = RTN_UNICAST;
        r->table = RT_TABLE_MAIN;
        r->scope = routes[i].gw ? RT_SCOPE_UNIVERSE : RT_SCOPE_LINK;
        g_ptr_array_add(h->routes, r);
    }
    h->firewall = fw;
    return h;
}

static VnRule *
exception(VnRuleKind kind, const char *src, const char *dst)
{
    VnRule *r = g_new0(VnRule, 1);

    r->kind = kind;
    r->network = g_strdup("default");
    r->bridge = g_strdup("virbr0");
    assert_true(vn_cidr_parse(src, VN_CIDR_SUBNET, &r->src, NULL));
    assert_true(vn_cidr_parse(dst, VN_CIDR_SUBNET, &r->dst, NULL));
    return r;
}

/* move @r (the last rule of @c) to the head of @c */
static VnFwRule *
to_head(VnFwChain *c, VnFwRule *r)
{
    guint idx;

    assert_true(g_ptr_array_find(c->rules, r, &idx));
    g_ptr_array_insert(c->rules, 0, g_ptr_array_steal_index(c->rules, idx));
    return r;
}

/* virt-nest's accept for @x at the head of @c */
static void
ours_at_head(VnFwChain *c, const VnRule *x)
{
    to_head(c, rule(c, "-s 192.168.122.0/24 -d 192.168.124.0/24 -o virbr0 "
                       "-j ACCEPT"))->comment = vn_rule_comment(x);
}

static VnFwChain *
chain_named(GPtrArray *fw, const char *table, const char *name)
{
    for (guint i = 0; i < fw->len; i++) {
        VnFwChain *c = fw->pdata[i];

        if (!strcmp(c->table, table) && !strcmp(c->name, name))
            return c;
    }
    fail_msg("no chain %s %s", table, name);
    return NULL;
}

static void
libvirt_alone_stops_it(void **state)
{
    g_autoptr(VnHost) h = seed_l1(libvirt9());
    g_autoptr(VnRule) x = exception(VN_RULE_IN, "192.168.122.0/24",
                                    "192.168.124.0/24");
    VnFwPath p;

    vn_fw_path_check(h, x, &p);
    assert_int_equal(p.state, VN_FW_PATH_STOPPED);
    assert_false(p.in_our_chain);
    assert_non_null(strstr(p.decided, "LIBVIRT_FWI: -o virbr0 -j REJECT"));
    assert_non_null(strstr(p.packet, "in enp1s0 out virbr0"));
    vn_fw_path_clear(&p);
}

static void
ours_at_head_passes(void **state)
{
    g_autoptr(VnHost) h = seed_l1(libvirt9());
    g_autoptr(VnRule) x = exception(VN_RULE_IN, "192.168.122.0/24",
                                    "192.168.124.0/24");
    VnFwPath p;

    ours_at_head(chain_named(h->firewall, "filter", "FORWARD"), x);
    vn_fw_path_check(h, x, &p);
    assert_int_equal(p.state, VN_FW_PATH_PASSES);
    assert_true(p.by_us);
    vn_fw_path_clear(&p);
}

/* Jumps that loop back at the head of FORWARD (fweval.h's budget): no
 * verdict, so not "passes" */
static void
too_complex_is_unknown(void **state)
{
    g_autoptr(VnHost) h = seed_l1(libvirt9());
    g_autoptr(VnRule) x = exception(VN_RULE_IN, "192.168.122.0/24",
                                    "192.168.124.0/24");
    VnFwChain *fwd = chain_named(h->firewall, "filter", "FORWARD");
    VnFwChain *loop = chain(h->firewall, NFPROTO_IPV4, "filter", "LOOP", NULL,
                            NULL, 0, FALSE);
    VnFwPath p;

    ours_at_head(fwd, x);
    for (guint i = 0; i < 4; i++) {
        rule(loop, "-j LOOP");
        to_head(fwd, rule(fwd, "-j LOOP"));
    }
    vn_fw_path_check(h, x, &p);
    assert_int_equal(p.state, VN_FW_PATH_UNKNOWN);
    vn_fw_path_clear(&p);
}

/* Docker 28's jumps re-inserted above virt-nest's rule: they match none
 * of the nest's traffic, so the exception still decides */
static void
docker_jumps_above_do_not_shadow(void **state)
{
    g_autoptr(VnHost) h = seed_l1(libvirt9());
    g_autoptr(VnRule) x = exception(VN_RULE_IN, "192.168.122.0/24",
                                    "192.168.124.0/24");
    VnFwChain *fwd = chain_named(h->firewall, "filter", "FORWARD");
    VnFwChain *user = chain(h->firewall, NFPROTO_IPV4, "filter", "DOCKER-USER",
                            NULL, NULL, 0, FALSE);
    VnFwChain *dfwd = chain(h->firewall, NFPROTO_IPV4, "filter",
                            "DOCKER-FORWARD", NULL, NULL, 0, FALSE);
    VnFwPath p;

    fwd->policy_drop = TRUE;
    rule(user, "-j RETURN");
    rule(dfwd, "-o docker0 --ct est -j ACCEPT");
    rule(dfwd, "-i docker0 -j ACCEPT");
    rule(dfwd, "-o docker0 -j DROP");
    ours_at_head(fwd, x);
    to_head(fwd, rule(fwd, "-j DOCKER-FORWARD"));
    to_head(fwd, rule(fwd, "-j DOCKER-USER"));
    vn_fw_path_check(h, x, &p);
    assert_int_equal(p.state, VN_FW_PATH_PASSES);
    assert_true(p.by_us);
    vn_fw_path_clear(&p);
}

/* libvirt's jumps back above virt-nest's rule (a libvirtd restart after a
 * flush): its REJECT catches the traffic first, in the same table */
static void
libvirt_above_shadows(void **state)
{
    g_autoptr(VnHost) h = seed_l1(libvirt9());
    g_autoptr(VnRule) x = exception(VN_RULE_IN, "192.168.122.0/24",
                                    "192.168.124.0/24");
    VnFwChain *fwd = chain_named(h->firewall, "filter", "FORWARD");
    VnFwPath p;

    /* at the end of FORWARD, below libvirt's jumps */
    rule(fwd, "-s 192.168.122.0/24 -d 192.168.124.0/24 -o virbr0 -j ACCEPT")
        ->comment = vn_rule_comment(x);
    vn_fw_path_check(h, x, &p);
    assert_int_equal(p.state, VN_FW_PATH_STOPPED);
    assert_true(p.in_our_chain);
    vn_fw_path_clear(&p);
}

/* firewalld's own table rejects between zones: virt-nest's accept in
 * ip filter is not enough */
static void
another_table_blocks(void **state)
{
    g_autoptr(VnHost) h = seed_l1(libvirt9());
    g_autoptr(VnRule) x = exception(VN_RULE_IN, "192.168.122.0/24",
                                    "192.168.124.0/24");
    VnFwChain *fwd = chain(h->firewall, NFPROTO_INET, "firewalld",
                           "filter_FORWARD", "forward", "filter", 10, FALSE);
    VnFwPath p;

    ours_at_head(chain_named(h->firewall, "filter", "FORWARD"), x);
    rule(fwd, "--ct est -j ACCEPT");
    rule(fwd, "-j REJECT");
    vn_fw_path_check(h, x, &p);
    assert_int_equal(p.state, VN_FW_PATH_STOPPED);
    assert_false(p.in_our_chain);
    assert_non_null(strstr(p.decided, "inet firewalld filter_FORWARD"));
    vn_fw_path_clear(&p);
}

static void
nat_exemption(void **state)
{
    g_autoptr(VnHost) h = seed_l1(libvirt9());
    g_autoptr(VnRule) x = exception(VN_RULE_NAT, "192.168.124.0/24",
                                    "192.168.122.0/24");
    VnFwChain *post = chain(h->firewall, NFPROTO_IPV4, "nat", "POSTROUTING",
                            "postrouting", "nat", 100, FALSE);
    VnFwPath p;

    rule(post, "-s 192.168.124.0/24 ! -d 192.168.124.0/24 -j MASQUERADE");
    vn_fw_path_check(h, x, &p);
    assert_int_equal(p.state, VN_FW_PATH_STOPPED);
    assert_non_null(strstr(p.decided, "MASQUERADE"));
    vn_fw_path_clear(&p);

    to_head(post, rule(post, "-s 192.168.124.0/24 -d 192.168.122.0/24 "
                             "-j ACCEPT"))->comment = vn_rule_comment(x);
    vn_fw_path_check(h, x, &p);
    assert_int_equal(p.state, VN_FW_PATH_PASSES);
    vn_fw_path_clear(&p);
}

/* ------------------------------------------------------------------ */
/* hand fixes                                                          */

static VnPlan *
seed_plan(void)
{
    VnPlan *plan = vn_plan_new();
    VnRoute *r = g_new0(VnRoute, 1);

    r->guest = g_strdup("debian");
    r->dev = g_strdup("virbr0");
    assert_true(vn_cidr_parse("192.168.124.0/24", VN_CIDR_SUBNET, &r->dst, NULL));
    assert_true(vn_cidr_parse("192.168.122.191", VN_CIDR_ADDRESS, &r->via, NULL));
    g_ptr_array_add(plan->routes, r);
    g_ptr_array_add(plan->rules, exception(VN_RULE_IN, "192.168.122.0/24",
                                           "192.168.124.0/24"));
    g_ptr_array_add(plan->rules, exception(VN_RULE_OUT, "192.168.124.0/24",
                                           "192.168.122.0/24"));
    g_ptr_array_add(plan->rules, exception(VN_RULE_NAT, "192.168.124.0/24",
                                           "192.168.122.0/24"));
    return plan;
}

static GPtrArray *
fixes_new(void)
{
    return g_ptr_array_new_with_free_func((GDestroyNotify)vn_hand_fix_free);
}

/* the seed's own files, as its author wrote them */
static void
seed_boot_files(void **state)
{
    g_autoptr(VnPlan) plan = seed_plan();
    g_autoptr(GPtrArray) out = fixes_new();
    const VnHandFix *f;

    vn_hand_fixes_in_text("/etc/wsl.conf",
                          "[boot]\n"
                          "command = \"sleep 5 && ip route add 192.168.124.0/24 "
                          "via 192.168.122.191 dev virbr0\"\n", plan, out);
    assert_int_equal(out->len, 1);
    f = out->pdata[0];
    assert_string_equal(f->where, "/etc/wsl.conf:2");
    assert_string_equal(f->text, "ip route add 192.168.124.0/24 via "
                        "192.168.122.191 dev virbr0");
    assert_non_null(strstr(f->what, "domain 'debian'"));
    assert_non_null(strstr(f->fix, "remove `ip route add"));

    vn_hand_fixes_in_text("/etc/network/if-up.d/wsl2-iptables",
                          "#!/bin/sh\n"
                          "iptables -I FORWARD 1 -i virbr0 -o virbr0 -j ACCEPT\n"
                          "iptables -I FORWARD 1 -s 192.168.124.0/24 -d "
                          "192.168.122.0/24 -j ACCEPT\n"
                          "iptables -I FORWARD 1 -s 192.168.122.0/24 -d "
                          "192.168.124.0/24 -j ACCEPT\n"
                          "iptables -D FORWARD -o virbr0 -j REJECT "
                          "--reject-with icmp-port-unreachable\n", plan, out);
    /* the two exceptions and the deleted REJECT; the intra-bridge accept
     * is libvirt's own business */
    assert_int_equal(out->len, 4);
    assert_string_equal(((VnHandFix *)out->pdata[1])->where,
                        "/etc/network/if-up.d/wsl2-iptables:3");
    assert_non_null(strstr(((VnHandFix *)out->pdata[3])->what,
                           "deletes libvirt's REJECT on virbr0"));

    vn_hand_fixes_in_text("/etc/iptables/rules.v4",
                          "*filter\n:FORWARD ACCEPT [0:0]\n"
                          "-A FORWARD -s 192.168.122.0/24 -d 192.168.124.0/24 "
                          "-j ACCEPT\n"
                          "-A FORWARD -s 10.0.0.0/8 -j ACCEPT\n"
                          "COMMIT\n", plan, out);
    assert_int_equal(out->len, 5);
    assert_string_equal(((VnHandFix *)out->pdata[4])->where,
                        "/etc/iptables/rules.v4:3");
}

static void
unrelated_lines_are_left_alone(void **state)
{
    g_autoptr(VnPlan) plan = seed_plan();
    g_autoptr(GPtrArray) out = fixes_new();

    vn_hand_fixes_in_text("/etc/rc.local",
                          "# ip route add 192.168.124.0/24 via 192.168.122.191\n"
                          "ip route add 192.168.100.0/24 via 192.168.1.1\n"
                          "iptables -I INPUT -s 192.168.122.0/24 -d "
                          "192.168.124.0/24 -j ACCEPT\n"
                          "iptables -I FORWARD -s 192.168.122.0/24 -d "
                          "192.168.124.0/24 -j DROP\n"
                          "echo 192.168.124.0/24\n", plan, out);
    assert_int_equal(out->len, 0);
}

static void
hand_accepts_in_the_firewall(void **state)
{
    g_autoptr(VnPlan) plan = seed_plan();
    g_autoptr(GPtrArray) out = fixes_new();
    g_autoptr(GPtrArray) fw = libvirt9();
    VnFwChain *fwd = chain_named(fw, "filter", "FORWARD");
    const VnHandFix *f;

    rule(fwd, "-s 192.168.122.0/24 -d 192.168.124.0/24 -j ACCEPT");
    rule(fwd, "-s 192.168.124.0/24 -d 192.168.122.0/24 -j ACCEPT");
    rule(fwd, "-s 192.168.122.0/24 -d 192.168.124.0/24 -p tcp -j ACCEPT");
    rule(fwd, "-s 192.168.122.0/24 -d 192.168.124.0/24 -o virbr0 -j ACCEPT")
        ->comment = vn_rule_comment(plan->rules->pdata[0]);
    vn_hand_fixes_in_firewall(plan, fw, out);
    assert_int_equal(out->len, 2);
    f = out->pdata[0];
    assert_string_equal(f->where, "ip filter FORWARD");
    assert_string_equal(f->fix, "iptables -D FORWARD -s 192.168.122.0/24 -d "
                        "192.168.124.0/24 -j ACCEPT");
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(libvirt_alone_stops_it),
        cmocka_unit_test(ours_at_head_passes),
        cmocka_unit_test(too_complex_is_unknown),
        cmocka_unit_test(docker_jumps_above_do_not_shadow),
        cmocka_unit_test(libvirt_above_shadows),
        cmocka_unit_test(another_table_blocks),
        cmocka_unit_test(nat_exemption),
        cmocka_unit_test(seed_boot_files),
        cmocka_unit_test(unrelated_lines_are_left_alone),
        cmocka_unit_test(hand_accepts_in_the_firewall),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
