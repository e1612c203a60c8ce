/* test-cidr.c: addresses, prefixes and their arithmetic. */
#include "config.h"

#include <string.h>

#include "testutil.h"
#include "cidr.h"

static void
parse_ok(void **state)
{
    VnCidr c;

    assert_true(vn_cidr_parse("192.168.124.0/24", VN_CIDR_SUBNET, &c, NULL));
    assert_int_equal(c.family, AF_INET);
    assert_int_equal(c.prefix, 24);
    assert_cidr_str(&c, "192.168.124.0/24");

    assert_true(vn_cidr_parse("192.168.122.191", VN_CIDR_ADDRESS, &c, NULL));
    assert_int_equal(c.prefix, 32);
    assert_cidr_str(&c, "192.168.122.191/32");

    assert_true(vn_cidr_parse("fd00:124::/64", VN_CIDR_SUBNET, &c, NULL));
    assert_int_equal(c.family, AF_INET6);
    assert_cidr_str(&c, "fd00:124::/64");

    assert_true(vn_cidr_parse("0.0.0.0/0", VN_CIDR_SUBNET, &c, NULL));
    assert_int_equal(c.prefix, 0);
    assert_true(vn_cidr_parse("192.168.122.1/24", VN_CIDR_ANY, &c, NULL));
    assert_false(vn_cidr_is_subnet(&c));
}

static void
parse_bad(void **state)
{
    static const struct {
        const char *text;
        VnCidrKind kind;
        const char *msg;
    } cases[] = {
        { "300.1.1.0/24", VN_CIDR_SUBNET, "not an IPv4 or IPv6 address" },
        { "192.168.124.0/33", VN_CIDR_SUBNET, "invalid prefix length" },
        { "192.168.124.0/", VN_CIDR_SUBNET, "invalid prefix length" },
        { "192.168.124.0/024", VN_CIDR_SUBNET, "invalid prefix length" },
        { "192.168.124.0/2x", VN_CIDR_SUBNET, "invalid prefix length" },
        { "192.168.124.5/24", VN_CIDR_SUBNET,
          "'192.168.124.5/24' has host bits set: did you mean 192.168.124.0/24?" },
        /* not 8.0.0.0/6 alone, as wide and elsewhere (issue 12 item 8) */
        { "10.0.0.0/6", VN_CIDR_SUBNET,
          "'10.0.0.0/6' has host bits set: did you mean 10.0.0.0/7 (the widest "
          "subnet starting at 10.0.0.0), or 8.0.0.0/6 (the /6 that holds it)?" },
        { "10.1.0.0/8", VN_CIDR_SUBNET, "did you mean 10.1.0.0/16 (the widest "
          "subnet starting at 10.1.0.0), or 10.0.0.0/8 (the /8 that holds it)?" },
        { "fd00:0:0:8000::/48", VN_CIDR_SUBNET, "did you mean fd00:0:0:8000::/49 "
          "(the widest subnet starting at fd00:0:0:8000::), or fd00::/48" },
        { "fd00::1/64", VN_CIDR_SUBNET, "did you mean fd00::/64?" },
        { "192.168.124.0", VN_CIDR_SUBNET, "not a subnet" },
        { "10.1/16", VN_CIDR_SUBNET, "not an IPv4" },
        { "192.168.1.1/24", VN_CIDR_ADDRESS, "not a plain address" },
        { "", VN_CIDR_ANY, "empty" },
        { "fd00::/129", VN_CIDR_SUBNET, "invalid prefix length" },
    };

    for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_autoptr(GError) err = NULL;
        VnCidr c;

        assert_false(vn_cidr_parse(cases[i].text, cases[i].kind, &c, &err));
        assert_error_contains(err, cases[i].msg);
    }
}

static void
relations(void **state)
{
    VnCidr a, b, c, d, v6;

    vn_cidr_parse("192.168.0.0/16", VN_CIDR_SUBNET, &a, NULL);
    vn_cidr_parse("192.168.124.0/24", VN_CIDR_SUBNET, &b, NULL);
    vn_cidr_parse("192.168.125.0/24", VN_CIDR_SUBNET, &c, NULL);
    vn_cidr_parse("192.168.124.91", VN_CIDR_ADDRESS, &d, NULL);
    vn_cidr_parse("::/0", VN_CIDR_SUBNET, &v6, NULL);

    assert_true(vn_cidr_contains(&a, &b));
    assert_false(vn_cidr_contains(&b, &a));
    assert_true(vn_cidr_overlaps(&b, &a));
    assert_false(vn_cidr_overlaps(&b, &c));
    assert_true(vn_cidr_contains(&b, &d));
    assert_false(vn_cidr_contains(&c, &d));
    assert_false(vn_cidr_overlaps(&v6, &a));    /* families never overlap */
    assert_true(vn_cidr_compare(&b, &c) < 0);
    assert_true(vn_cidr_compare(&a, &b) < 0);   /* same address, shorter first */
    assert_int_equal(vn_cidr_compare(&b, &b), 0);
}

static void
arithmetic(void **state)
{
    VnCidr a, r, last;
    guint8 prefix;

    vn_cidr_parse("192.168.124.0/24", VN_CIDR_SUBNET, &a, NULL);
    assert_true(vn_cidr_add(&a, 256, &r));
    assert_cidr_str(&r, "192.168.125.0/24");
    assert_true(vn_cidr_add(&r, -257, &r));
    assert_cidr_str(&r, "192.168.123.255/24");
    last = vn_cidr_last(&a);
    assert_cidr_str(&last, "192.168.124.255/24");
    assert_int_equal(vn_cidr_size(&a), 256);
    vn_cidr_parse("192.168.124.91", VN_CIDR_ADDRESS, &r, NULL);
    assert_int_equal(vn_cidr_offset(&a, &r), 91);
    vn_cidr_parse("255.255.255.255", VN_CIDR_ADDRESS, &r, NULL);
    assert_false(vn_cidr_add(&r, 1, &r));

    vn_cidr_parse("fd00::ffff/64", VN_CIDR_ANY, &r, NULL);
    assert_true(vn_cidr_add(&r, 1, &r));
    assert_cidr_str(&r, "fd00::1:0/64");
    assert_int_equal(vn_cidr_size(&r), G_MAXUINT64);

    assert_true(vn_cidr_prefix_from_netmask("255.255.255.0", &prefix));
    assert_int_equal(prefix, 24);
    assert_true(vn_cidr_prefix_from_netmask("255.255.240.0", &prefix));
    assert_int_equal(prefix, 20);
    assert_true(vn_cidr_prefix_from_netmask("0.0.0.0", &prefix));
    assert_int_equal(prefix, 0);
    assert_false(vn_cidr_prefix_from_netmask("255.0.255.0", &prefix));
    assert_false(vn_cidr_prefix_from_netmask("garbage", &prefix));
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(parse_ok),
        cmocka_unit_test(parse_bad),
        cmocka_unit_test(relations),
        cmocka_unit_test(arithmetic),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
