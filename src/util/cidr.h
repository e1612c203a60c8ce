/* cidr.h: IPv4/IPv6 addresses and prefixes, and their arithmetic.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <glib.h>
#include <sys/socket.h>

G_BEGIN_DECLS

/* An address with a prefix length. family is AF_INET or AF_INET6, or 0 for
 * "no address". addr is in network byte order; only the first 4 bytes are
 * used for AF_INET. A subnet has its host bits clear; an interface address
 * (192.168.122.1/24) keeps them. */
typedef struct {
    guint8 family;
    guint8 prefix;
    guint8 addr[16];
} VnCidr;

/* Longest text form of a VnCidr, with its NUL. */
#define VN_CIDR_STRLEN 64

/* What vn_cidr_parse() accepts. */
typedef enum {
    VN_CIDR_SUBNET = 0,      /* "a.b.c.d/len", host bits must be zero */
    VN_CIDR_ADDRESS = 1,     /* "a.b.c.d": an address, prefix = 32/128 */
    VN_CIDR_ANY = 2,         /* either, host bits allowed */
} VnCidrKind;

/**
 * vn_cidr_parse:
 * @text: the text to parse
 * @kind: what forms are accepted
 * @out: (out): the result
 * @error: set with a message that names the problem (not the object)
 *
 * Returns: TRUE on success.
 */
gboolean vn_cidr_parse(const char *text, VnCidrKind kind, VnCidr *out,
                       GError **error);

/**
 * vn_cidr_format:
 * @cidr: the value
 * @with_prefix: print "/len" (always when the prefix is not the full length)
 * @buf: at least VN_CIDR_STRLEN bytes
 *
 * Returns: @buf.
 */
const char *vn_cidr_format(const VnCidr *cidr, gboolean with_prefix,
                           char *buf);

/* Returns: a newly allocated "addr/len" (or "addr" for host addresses). */
char *vn_cidr_to_string(const VnCidr *cidr);

/* The subnets of @list (VnCidr), with their prefixes, joined by ", ";
 * "" for none. transfer full. */
char *vn_cidr_join(GArray *list);

/* The maximum prefix length of a family: 32 or 128. */
guint vn_cidr_max_prefix(int family);

/* The subnet @cidr lies in: host bits cleared. */
VnCidr vn_cidr_network(const VnCidr *cidr);

/* Build a prefix from a dotted netmask ("255.255.255.0"); FALSE if the mask
 * is not contiguous. */
gboolean vn_cidr_prefix_from_netmask(const char *netmask, guint8 *prefix);

/* TRUE if @outer contains every address of @inner (same family). */
gboolean vn_cidr_contains(const VnCidr *outer, const VnCidr *inner);

/* TRUE if @a and @b share at least one address (same family). */
gboolean vn_cidr_overlaps(const VnCidr *a, const VnCidr *b);

/* TRUE if both are the same family, address and prefix. */
gboolean vn_cidr_equal(const VnCidr *a, const VnCidr *b);

/* For GHashTable keyed by VnCidr addresses: family and address bits, the
 * prefix left out. */
guint vn_cidr_address_hash(gconstpointer cidr);
gboolean vn_cidr_address_equal(gconstpointer a, gconstpointer b);

/* Total order: family, address, prefix. For sorting plans. */
int vn_cidr_compare(const VnCidr *a, const VnCidr *b);

/* TRUE if family is 0. */
static inline gboolean
vn_cidr_is_empty(const VnCidr *cidr)
{
    return cidr->family == 0;
}

/* TRUE if host bits under the prefix are all zero. */
gboolean vn_cidr_is_subnet(const VnCidr *cidr);

/* TRUE for an IPv6 link-local address (fe80::/10). */
gboolean vn_cidr_is_link_local(const VnCidr *cidr);

/* Address arithmetic within a family: @cidr + @n (n may be negative); the
 * prefix is kept. FALSE on overflow out of the address space. */
gboolean vn_cidr_add(const VnCidr *cidr, gint64 n, VnCidr *out);

/* Number of addresses in the subnet, saturated at G_MAXUINT64. */
guint64 vn_cidr_size(const VnCidr *cidr);

/* The offset of address @addr inside subnet @net (addr must be contained). */
guint64 vn_cidr_offset(const VnCidr *net, const VnCidr *addr);

/* The last address of the subnet (broadcast for IPv4). */
VnCidr vn_cidr_last(const VnCidr *cidr);

G_END_DECLS
