/* cidr.c: IPv4/IPv6 addresses and prefixes.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include <arpa/inet.h>
#include <string.h>

#include "cidr.h"
#include "error.h"

guint
vn_cidr_max_prefix(int family)
{
    return family == AF_INET6 ? 128 : 32;
}

static guint
addr_len(int family)
{
    return family == AF_INET6 ? 16 : 4;
}

static gboolean
parse_addr(const char *text, VnCidr *out)
{
    memset(out, 0, sizeof(*out));
    if (strchr(text, ':')) {
        if (inet_pton(AF_INET6, text, out->addr) != 1)
            return FALSE;
        out->family = AF_INET6;
        out->prefix = 128;
        return TRUE;
    }
    /* inet_pton() for AF_INET takes only the strict dotted quad, which is
     * what we want: no "10.1" or octal forms. */
    if (inet_pton(AF_INET, text, out->addr) != 1)
        return FALSE;
    out->family = AF_INET;
    out->prefix = 32;
    return TRUE;
}

gboolean
vn_cidr_parse(const char *text, VnCidrKind kind, VnCidr *out, GError **error)
{
    g_autofree char *copy = NULL;
    const char *slash;
    VnCidr c;

    if (!text || !*text) {
        g_set_error(error, VN_ERROR, VN_ERROR_INVALID,
                    "empty address");
        return FALSE;
    }
    slash = strchr(text, '/');
    if (slash && kind == VN_CIDR_ADDRESS) {
        g_set_error(error, VN_ERROR, VN_ERROR_INVALID,
                    "'%s' is not a plain address: drop the prefix length",
                    text);
        return FALSE;
    }
    if (!slash && kind == VN_CIDR_SUBNET) {
        g_set_error(error, VN_ERROR, VN_ERROR_INVALID,
                    "'%s' is not a subnet: write it as ADDRESS/PREFIX, "
                    "e.g. 192.168.124.0/24", text);
        return FALSE;
    }
    copy = g_strndup(text, slash ? (gsize)(slash - text) : strlen(text));
    if (!parse_addr(copy, &c)) {
        g_set_error(error, VN_ERROR, VN_ERROR_INVALID,
                    "'%s' is not an IPv4 or IPv6 address", text);
        return FALSE;
    }
    if (slash) {
        const char *p = slash + 1;
        guint64 len;
        char *end = NULL;

        if (!g_ascii_isdigit(*p) ||
            (len = g_ascii_strtoull(p, &end, 10), *end != '\0') ||
            len > vn_cidr_max_prefix(c.family) || (p[0] == '0' && p[1])) {
            g_set_error(error, VN_ERROR, VN_ERROR_INVALID,
                        "'%s' has an invalid prefix length (0 to %u)", text,
                        vn_cidr_max_prefix(c.family));
            return FALSE;
        }
        c.prefix = (guint8)len;
    }
    if (kind == VN_CIDR_SUBNET && !vn_cidr_is_subnet(&c)) {
        char buf[VN_CIDR_STRLEN];
        char buf2[VN_CIDR_STRLEN];
        VnCidr net = vn_cidr_network(&c), from = c;
        guint alen = addr_len(c.family);

        /* the narrowest prefix that has @c's address as its network
         * address: past its last set bit */
        from.prefix = 0;
        for (guint i = alen; i-- > 0;)
            if (c.addr[i]) {
                from.prefix = (guint8)(i * 8 + 8 - __builtin_ctz(c.addr[i]));
                break;
            }
        /* 10.0.0.0/6: the /6 that holds it (8.0.0.0/6) is just as wide and
         * starts elsewhere; a subnet that starts where the user's does, as
         * wide as it can be, is the likelier meaning. 192.168.124.5/24: a
         * host's address, the /24 is meant. */
        if (from.prefix < vn_cidr_max_prefix(c.family)) {
            char addr[INET6_ADDRSTRLEN];

            inet_ntop(c.family, c.addr, addr, sizeof(addr));
            g_set_error(error, VN_ERROR, VN_ERROR_INVALID,
                        "'%s' has host bits set: did you mean %s (the widest "
                        "subnet starting at %s), or %s (the /%u that holds "
                        "it)?", text, vn_cidr_format(&from, TRUE, buf), addr,
                        vn_cidr_format(&net, TRUE, buf2), c.prefix);
        } else {
            g_set_error(error, VN_ERROR, VN_ERROR_INVALID,
                        "'%s' has host bits set: did you mean %s?", text,
                        vn_cidr_format(&net, TRUE, buf));
        }
        return FALSE;
    }
    *out = c;
    return TRUE;
}

const char *
vn_cidr_format(const VnCidr *cidr, gboolean with_prefix, char *buf)
{
    char addr[INET6_ADDRSTRLEN];

    if (cidr->family == 0) {
        g_strlcpy(buf, "-", VN_CIDR_STRLEN);
        return buf;
    }
    inet_ntop(cidr->family, cidr->addr, addr, sizeof(addr));
    if (with_prefix || cidr->prefix != vn_cidr_max_prefix(cidr->family))
        g_snprintf(buf, VN_CIDR_STRLEN, "%s/%u", addr, cidr->prefix);
    else
        g_strlcpy(buf, addr, VN_CIDR_STRLEN);
    return buf;
}

char *
vn_cidr_to_string(const VnCidr *cidr)
{
    char buf[VN_CIDR_STRLEN];

    return g_strdup(vn_cidr_format(cidr, FALSE, buf));
}

char *
vn_cidr_join(GArray *list)
{
    GString *s = g_string_new(NULL);
    char buf[VN_CIDR_STRLEN];

    for (guint i = 0; list && i < list->len; i++)
        g_string_append_printf(s, "%s%s", i ? ", " : "",
                               vn_cidr_format(&g_array_index(list, VnCidr, i),
                                              TRUE, buf));
    return g_string_free(s, FALSE);
}

VnCidr
vn_cidr_network(const VnCidr *cidr)
{
    VnCidr out = *cidr;
    guint len = addr_len(cidr->family);

    for (guint i = 0; i < len; i++) {
        guint bit = i * 8;
        guint8 mask;

        if (bit >= cidr->prefix)
            mask = 0;
        else if (bit + 8 <= cidr->prefix)
            mask = 0xff;
        else
            mask = (guint8)(0xff << (8 - (cidr->prefix - bit)));
        out.addr[i] &= mask;
    }
    for (guint i = len; i < 16; i++)
        out.addr[i] = 0;
    return out;
}

VnCidr
vn_cidr_last(const VnCidr *cidr)
{
    VnCidr out = vn_cidr_network(cidr);
    guint len = addr_len(cidr->family);

    for (guint i = 0; i < len; i++) {
        guint bit = i * 8;

        if (bit >= cidr->prefix)
            out.addr[i] = 0xff;
        else if (bit + 8 > cidr->prefix)
            out.addr[i] |= (guint8)(0xff >> (cidr->prefix - bit));
    }
    return out;
}

gboolean
vn_cidr_is_link_local(const VnCidr *cidr)
{
    return cidr->family == AF_INET6 && cidr->addr[0] == 0xfe &&
           (cidr->addr[1] & 0xc0) == 0x80;
}

gboolean
vn_cidr_is_subnet(const VnCidr *cidr)
{
    VnCidr net = vn_cidr_network(cidr);

    return memcmp(net.addr, cidr->addr, 16) == 0;
}

gboolean
vn_cidr_prefix_from_netmask(const char *netmask, guint8 *prefix)
{
    guint8 m[4];
    guint32 v;
    guint n = 0;

    if (inet_pton(AF_INET, netmask, m) != 1)
        return FALSE;
    v = ((guint32)m[0] << 24) | ((guint32)m[1] << 16) |
        ((guint32)m[2] << 8) | m[3];
    while (n < 32 && (v & (0x80000000u >> n)))
        n++;
    if (n < 32 && (v << n) != 0)
        return FALSE;           /* holes in the mask */
    *prefix = (guint8)n;
    return TRUE;
}

gboolean
vn_cidr_contains(const VnCidr *outer, const VnCidr *inner)
{
    VnCidr a, b;

    if (outer->family != inner->family || outer->family == 0)
        return FALSE;
    if (inner->prefix < outer->prefix)
        return FALSE;
    a = vn_cidr_network(outer);
    b = *inner;
    b.prefix = outer->prefix;
    b = vn_cidr_network(&b);
    return memcmp(a.addr, b.addr, 16) == 0;
}

gboolean
vn_cidr_overlaps(const VnCidr *a, const VnCidr *b)
{
    return vn_cidr_contains(a, b) || vn_cidr_contains(b, a);
}

gboolean
vn_cidr_equal(const VnCidr *a, const VnCidr *b)
{
    return a->family == b->family && a->prefix == b->prefix &&
           memcmp(a->addr, b->addr, 16) == 0;
}

guint
vn_cidr_address_hash(gconstpointer cidr)
{
    const VnCidr *c = cidr;
    guint h = c->family;

    for (guint i = 0; i < 16; i++)
        h = h * 31u + c->addr[i];
    return h;
}

gboolean
vn_cidr_address_equal(gconstpointer a, gconstpointer b)
{
    const VnCidr *x = a, *y = b;

    return x->family == y->family && memcmp(x->addr, y->addr, 16) == 0;
}

int
vn_cidr_compare(const VnCidr *a, const VnCidr *b)
{
    int r;

    if (a->family != b->family)
        return a->family < b->family ? -1 : 1;
    r = memcmp(a->addr, b->addr, 16);
    if (r)
        return r < 0 ? -1 : 1;
    if (a->prefix != b->prefix)
        return a->prefix < b->prefix ? -1 : 1;
    return 0;
}

gboolean
vn_cidr_add(const VnCidr *cidr, gint64 n, VnCidr *out)
{
    VnCidr r = *cidr;
    guint len = addr_len(cidr->family);
    guint64 mag = n < 0 ? (guint64)(-(n + 1)) + 1 : (guint64)n;
    int carry = 0;

    for (int i = (int)len - 1; i >= 0; i--) {
        int byte = (int)(mag & 0xff);
        int v;

        mag >>= 8;
        if (n >= 0) {
            v = r.addr[i] + byte + carry;
            carry = v > 0xff;
            r.addr[i] = (guint8)(v & 0xff);
        } else {
            v = r.addr[i] - byte - carry;
            carry = v < 0;
            r.addr[i] = (guint8)((v + 0x100) & 0xff);
        }
    }
    if (carry || mag)
        return FALSE;
    *out = r;
    return TRUE;
}

guint64
vn_cidr_size(const VnCidr *cidr)
{
    guint host = vn_cidr_max_prefix(cidr->family) - cidr->prefix;

    return host >= 64 ? G_MAXUINT64 : (G_GUINT64_CONSTANT(1) << host);
}

static guint64
low64(const VnCidr *c)
{
    guint len = addr_len(c->family);
    guint64 v = 0;

    for (guint i = len > 8 ? len - 8 : 0; i < len; i++)
        v = (v << 8) | c->addr[i];
    return v;
}

guint64
vn_cidr_offset(const VnCidr *net, const VnCidr *addr)
{
    VnCidr base = vn_cidr_network(net);

    /* Only the low 64 bits matter: callers never walk more than 2^64
     * addresses of a subnet. */
    return low64(addr) - low64(&base);
}
