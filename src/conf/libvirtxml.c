/* libvirtxml.c: libvirt network and domain XML, and virt-nest's metadata.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include <string.h>

#include "error.h"
#include "libvirtxml.h"
#include "xml.h"

/* ------------------------------------------------------------------ */
/* small helpers                                                       */

static char *
prop(const VnXmlNode *node, const char *name)
{
    return g_strdup(vn_xml_attr(node, name));
}

static char *
content(const VnXmlNode *node)
{
    return node ? g_strstrip(g_strdup(node->text ? node->text : "")) : NULL;
}

/* ------------------------------------------------------------------ */
/* metadata                                                            */

/* The element as the user wrote it, for messages: <nest:route subnet='x'>. */
static char *
describe(const VnXmlNode *node)
{
    GString *s = g_string_new("<");

    if (node->prefix)
        g_string_append_printf(s, "%s:", node->prefix);
    g_string_append(s, node->name);
    for (guint i = 0; i < node->attrs->len; i++) {
        const VnXmlAttr *a = &g_array_index(node->attrs, VnXmlAttr, i);

        g_string_append_printf(s, " %s%s%s='%s'", a->prefix ? a->prefix : "",
                               a->prefix ? ":" : "", a->name, a->value);
    }
    g_string_append(s, ">");
    return g_string_free(s, FALSE);
}

static gboolean
is_nest(const VnXmlNode *node)
{
    return node->ns && strcmp(node->ns, VN_NS_URI) == 0;
}

/* Check that @node has no attributes but @allowed (NULL-terminated). */
static gboolean
check_attrs(const VnXmlNode *node, const char *const *allowed, GError **error)
{
    for (guint k = 0; k < node->attrs->len; k++) {
        const VnXmlAttr *a = &g_array_index(node->attrs, VnXmlAttr, k);
        gboolean ok = FALSE;

        for (guint i = 0; allowed[i] && !a->prefix; i++)
            if (strcmp(a->name, allowed[i]) == 0)
                ok = TRUE;
        if (!ok) {
            g_autofree char *d = describe(node);
            g_autofree char *list = g_strjoinv("', '", (char **)allowed);

            g_set_error(error, VN_ERROR, VN_ERROR_INVALID,
                        "%s: unknown attribute '%s' (known: '%s')",
                        d, a->name, list);
            return FALSE;
        }
    }
    return TRUE;
}

/* Parse a subnet attribute of a metadata element into @out. */
static gboolean
subnet_attr(const VnXmlNode *node, const char *attr, VnCidr *out,
            GError **error)
{
    g_autofree char *v = prop(node, attr);
    g_autoptr(GError) err = NULL;
    g_autofree char *d = describe(node);

    if (!v) {
        g_set_error(error, VN_ERROR, VN_ERROR_INVALID,
                    "%s: the '%s' attribute is missing", d, attr);
        return FALSE;
    }
    if (!vn_cidr_parse(v, VN_CIDR_SUBNET, out, &err)) {
        g_set_error(error, VN_ERROR, VN_ERROR_INVALID, "%s: %s", d,
                    err->message);
        return FALSE;
    }
    return TRUE;
}

static gboolean
add_unique_subnet(GArray *list, const VnCidr *c, const VnXmlNode *node,
                  GError **error)
{
    for (guint i = 0; i < list->len; i++) {
        if (vn_cidr_equal(&g_array_index(list, VnCidr, i), c)) {
            g_autofree char *d = describe(node);

            g_set_error(error, VN_ERROR, VN_ERROR_INVALID,
                        "%s: listed twice; remove the duplicate", d);
            return FALSE;
        }
    }
    g_array_append_val(list, *c);
    return TRUE;
}

static gboolean
unknown_child(const VnXmlNode *node, const char *parent, const char *known,
              GError **error)
{
    g_autofree char *d = describe(node);

    g_set_error(error, VN_ERROR, VN_ERROR_INVALID,
                "%s: unknown element in <nest:%s> (known: %s)", d, parent,
                known);
    return FALSE;
}

static gboolean
parse_nest_guest(const VnXmlNode *top, VnGuest *guest, GError **error)
{
    static const char *const route_attrs[] = { "subnet", NULL };
    static const char *const uplink_attrs[] = { "mac", "address", NULL };
    static const char *const no_attrs[] = { NULL };
    gboolean have_uplink = FALSE;

    if (!check_attrs(top, no_attrs, error))
        return FALSE;
    for (VnXmlNode *n = top->children; n; n = n->next) {
        if (is_nest(n) && strcmp(n->name, "route") == 0) {
            VnCidr c;

            if (!check_attrs(n, route_attrs, error) ||
                !subnet_attr(n, "subnet", &c, error) ||
                !add_unique_subnet(guest->routes, &c, n, error))
                return FALSE;
        } else if (is_nest(n) && strcmp(n->name, "uplink") == 0) {
            g_autofree char *mac = prop(n, "mac");
            g_autofree char *addr = prop(n, "address");
            g_autofree char *d = describe(n);

            if (!check_attrs(n, uplink_attrs, error))
                return FALSE;
            if (have_uplink) {
                g_set_error(error, VN_ERROR, VN_ERROR_INVALID,
                            "%s: only one <nest:uplink> is allowed", d);
                return FALSE;
            }
            have_uplink = TRUE;
            if (mac) {
                guest->uplink_mac = vn_mac_normalize(mac);
                if (!guest->uplink_mac) {
                    g_set_error(error, VN_ERROR, VN_ERROR_INVALID,
                                "%s: '%s' is not a MAC address "
                                "(aa:bb:cc:dd:ee:ff)", d, mac);
                    return FALSE;
                }
            }
            if (addr) {
                g_autoptr(GError) err = NULL;

                if (!vn_cidr_parse(addr, VN_CIDR_ADDRESS,
                                   &guest->uplink_address, &err)) {
                    g_set_error(error, VN_ERROR, VN_ERROR_INVALID, "%s: %s",
                                d, err->message);
                    return FALSE;
                }
            }
        } else {
            return unknown_child(n, "guest", "<nest:route>, <nest:uplink>",
                                 error);
        }
    }
    g_array_sort(guest->routes, (GCompareFunc)vn_cidr_compare);
    return TRUE;
}

static gboolean
parse_nest_network(const VnXmlNode *top, VnNetwork *net, GError **error)
{
    static const char *const peer_attrs[] = { "subnet", NULL };
    static const char *const no_attrs[] = { NULL };

    if (!check_attrs(top, no_attrs, error))
        return FALSE;
    for (VnXmlNode *n = top->children; n; n = n->next) {
        if (is_nest(n) && strcmp(n->name, "peer") == 0) {
            VnCidr c;

            if (!check_attrs(n, peer_attrs, error) ||
                !subnet_attr(n, "subnet", &c, error) ||
                !add_unique_subnet(net->peers, &c, n, error))
                return FALSE;
        } else {
            return unknown_child(n, "network", "<nest:peer>", error);
        }
    }
    g_array_sort(net->peers, (GCompareFunc)vn_cidr_compare);
    return TRUE;
}

static char
ascii_lower(char c)
{
    return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

static gboolean
ascii_punct(char c)
{
    return c > ' ' && c < 0x7f && !(c >= '0' && c <= '9') &&
           !(ascii_lower(c) >= 'a' && ascii_lower(c) <= 'z');
}

gboolean
vn_ns_lookalike(const char *text, gsize len)
{
    static const char virt[] = "virt", nest[] = "nest";

    /* plain C, no locale: the hook runs this on every event's XML */
    for (gsize i = 0; i + 8 <= len; i++) {
        gsize j = 0, k;

        while (j < 4 && ascii_lower(text[i + j]) == virt[j])
            j++;
        if (j < 4)
            continue;
        k = i + 4;
        /* at most three bytes of punctuation between the two words */
        for (guint skip = 0; skip < 3 && k < len && ascii_punct(text[k]);
             skip++)
            k++;
        for (j = 0; j < 4 && k + j < len &&
             ascii_lower(text[k + j]) == nest[j]; j++)
            ;
        if (j == 4)
            return TRUE;
    }
    return FALSE;
}

/* A warning for an element of somebody else's namespace that looks like
 * virt-nest's: a typo that would leave the object without what virt-nest
 * installs, with nothing said. */
static void
warn_lookalike(const VnXmlNode *n, const char *want, GPtrArray *warnings)
{
    const char *p = n->prefix;

    g_ptr_array_add(warnings,
                    g_strdup_printf("<%s%s%s xmlns%s%s='%s'> is ignored: "
                                    "'%s' is not virt-nest's namespace; "
                                    "write <nest:%s xmlns:nest='%s'>",
                                    p ? p : "", p ? ":" : "", n->name,
                                    p ? ":" : "", p ? p : "", n->ns, n->ns,
                                    want, VN_NS_URI));
}

/* Find virt-nest's element in <metadata>. Returns TRUE with *found = NULL
 * when there is none; FALSE when something looks like ours but is not
 * usable: another virt-nest namespace version, an unbound "nest:" prefix,
 * the other object's element, or two of them. A namespace that only
 * looks like virt-nest's goes into @warnings. */
static gboolean
find_nest_element(const VnXmlNode *root, const char *want, VnXmlNode **found,
                  GPtrArray *warnings, GError **error)
{
    VnXmlNode *meta = vn_xml_child(root, "metadata");

    *found = NULL;
    if (!meta)
        return TRUE;
    for (VnXmlNode *n = meta->children; n; n = n->next) {
        const char *href = n->ns;

        if (href && g_str_has_prefix(href, "urn:virt-nest:") &&
            strcmp(href, VN_NS_URI) != 0) {
            g_set_error(error, VN_ERROR, VN_ERROR_INVALID,
                        "<%s xmlns='%s'>: unsupported namespace; this "
                        "virt-nest reads xmlns:nest='%s'", n->name, href,
                        VN_NS_URI);
            return FALSE;
        }
        if (!href && (strcmp(n->name, want) == 0 ||
                      g_strcmp0(n->prefix, "nest") == 0)) {
            g_set_error(error, VN_ERROR, VN_ERROR_INVALID,
                        "<%s%s%s> has no namespace; write <nest:%s "
                        "xmlns:nest='%s'>", n->prefix ? n->prefix : "",
                        n->prefix ? ":" : "", n->name, want, VN_NS_URI);
            return FALSE;
        }
        if (href && strcmp(href, VN_NS_URI) != 0 &&
            vn_ns_lookalike(href, strlen(href)))
            warn_lookalike(n, want, warnings);
        if (!href || strcmp(href, VN_NS_URI) != 0)
            continue;       /* somebody else's metadata */
        if (strcmp(n->name, want) != 0) {
            g_autofree char *d = describe(n);

            g_set_error(error, VN_ERROR, VN_ERROR_INVALID,
                        "%s: unknown element; here virt-nest expects "
                        "<nest:%s>", d, want);
            return FALSE;
        }
        if (*found) {
            g_set_error(error, VN_ERROR, VN_ERROR_INVALID,
                        "<nest:%s> appears twice in <metadata>; merge them",
                        want);
            return FALSE;
        }
        *found = n;
    }
    return TRUE;
}

/* ------------------------------------------------------------------ */
/* network                                                             */

static gboolean
parse_ip(const VnXmlNode *node, VnNetwork *net, GError **error)
{
    g_autofree char *address = prop(node, "address");
    g_autofree char *netmask = prop(node, "netmask");
    g_autofree char *prefix = prop(node, "prefix");
    g_autofree char *family = prop(node, "family");
    g_autoptr(GError) err = NULL;
    VnNetIp *ip;
    VnXmlNode *dhcp;

    if (!address) {
        g_set_error(error, VN_ERROR, VN_ERROR_INVALID,
                    "<ip> without an address");
        return FALSE;
    }
    ip = vn_net_ip_new();
    g_ptr_array_add(net->ips, ip);
    if (!vn_cidr_parse(address, VN_CIDR_ADDRESS, &ip->address, &err)) {
        g_set_error(error, VN_ERROR, VN_ERROR_INVALID, "<ip address='%s'>: %s",
                    address, err->message);
        return FALSE;
    }
    if (family && ((strcmp(family, "ipv6") == 0) !=
                   (ip->address.family == AF_INET6))) {
        g_set_error(error, VN_ERROR, VN_ERROR_INVALID,
                    "<ip address='%s' family='%s'>: the address is not %s",
                    address, family, family);
        return FALSE;
    }
    if (netmask) {
        if (ip->address.family != AF_INET ||
            !vn_cidr_prefix_from_netmask(netmask, &ip->address.prefix)) {
            g_set_error(error, VN_ERROR, VN_ERROR_INVALID,
                        "<ip address='%s' netmask='%s'>: invalid netmask",
                        address, netmask);
            return FALSE;
        }
    } else if (prefix) {
        guint64 p;

        if (!g_ascii_string_to_unsigned(prefix, 10, 0,
                                        vn_cidr_max_prefix(ip->address.family),
                                        &p, NULL)) {
            g_set_error(error, VN_ERROR, VN_ERROR_INVALID,
                        "<ip address='%s' prefix='%s'>: invalid prefix",
                        address, prefix);
            return FALSE;
        }
        ip->address.prefix = (guint8)p;
    } else {
        /* libvirt's default: the classful netmask for IPv4, /64 for IPv6 */
        if (ip->address.family == AF_INET6)
            ip->address.prefix = 64;
        else if (ip->address.addr[0] < 128)
            ip->address.prefix = 8;
        else if (ip->address.addr[0] < 192)
            ip->address.prefix = 16;
        else
            ip->address.prefix = 24;
    }
    ip->subnet = vn_cidr_network(&ip->address);

    dhcp = vn_xml_child(node, "dhcp");
    for (VnXmlNode *n = dhcp ? dhcp->children : NULL; n; n = n->next) {
        if (vn_xml_is(n, "range")) {
            g_autofree char *start = prop(n, "start");
            g_autofree char *end = prop(n, "end");
            VnDhcpRange r;

            if (!start || !end ||
                !vn_cidr_parse(start, VN_CIDR_ADDRESS, &r.start, NULL) ||
                !vn_cidr_parse(end, VN_CIDR_ADDRESS, &r.end, NULL)) {
                g_set_error(error, VN_ERROR, VN_ERROR_INVALID,
                            "<range start='%s' end='%s'>: invalid range",
                            start ? start : "", end ? end : "");
                return FALSE;
            }
            g_array_append_val(ip->ranges, r);
        } else if (vn_xml_is(n, "host")) {
            g_autofree char *mac = prop(n, "mac");
            g_autofree char *hip = prop(n, "ip");
            VnDhcpHost *h;

            if (!hip)
                continue;       /* a host entry with only a name */
            h = g_new0(VnDhcpHost, 1);
            g_ptr_array_add(ip->hosts, h);
            h->name = prop(n, "name");
            if (mac && !(h->mac = vn_mac_normalize(mac))) {
                g_set_error(error, VN_ERROR, VN_ERROR_INVALID,
                            "<host mac='%s'>: not a MAC address", mac);
                return FALSE;
            }
            if (!vn_cidr_parse(hip, VN_CIDR_ADDRESS, &h->ip, NULL)) {
                g_set_error(error, VN_ERROR, VN_ERROR_INVALID,
                            "<host ip='%s'>: not an address", hip);
                return FALSE;
            }
        }
    }
    return TRUE;
}

static gboolean
parse_route(const VnXmlNode *node, VnNetwork *net, GError **error)
{
    g_autofree char *address = prop(node, "address");
    g_autofree char *prefix = prop(node, "prefix");
    g_autofree char *netmask = prop(node, "netmask");
    g_autofree char *gateway = prop(node, "gateway");
    VnNetRoute r = { 0 };

    if (!address || !gateway ||
        !vn_cidr_parse(address, VN_CIDR_ADDRESS, &r.dest, NULL) ||
        !vn_cidr_parse(gateway, VN_CIDR_ADDRESS, &r.gateway, NULL)) {
        g_set_error(error, VN_ERROR, VN_ERROR_INVALID,
                    "<route address='%s' gateway='%s'>: invalid route",
                    address ? address : "", gateway ? gateway : "");
        return FALSE;
    }
    if (prefix) {
        guint64 p;

        if (!g_ascii_string_to_unsigned(prefix, 10, 0,
                                        vn_cidr_max_prefix(r.dest.family),
                                        &p, NULL)) {
            g_set_error(error, VN_ERROR, VN_ERROR_INVALID,
                        "<route prefix='%s'>: invalid prefix", prefix);
            return FALSE;
        }
        r.dest.prefix = (guint8)p;
    } else if (netmask) {
        if (!vn_cidr_prefix_from_netmask(netmask, &r.dest.prefix)) {
            g_set_error(error, VN_ERROR, VN_ERROR_INVALID,
                        "<route netmask='%s'>: invalid netmask", netmask);
            return FALSE;
        }
    }
    r.dest = vn_cidr_network(&r.dest);
    g_array_append_val(net->routes, r);
    return TRUE;
}

static VnNetwork *
network_from_node(const VnXmlNode *root, GError **nest_error, GError **error)
{
    g_autoptr(VnNetwork) net = vn_network_new();
    g_autoptr(GError) err = NULL;
    VnXmlNode *n, *nest = NULL;

    net->name = content(vn_xml_child(root, "name"));
    if (!net->name || !*net->name) {
        g_set_error(error, VN_ERROR, VN_ERROR_INVALID,
                    "network XML: <name> is missing");
        return NULL;
    }
    net->uuid = content(vn_xml_child(root, "uuid"));
    n = vn_xml_child(root, "forward");
    net->forward_mode = n ? prop(n, "mode") : NULL;
    if (n && !net->forward_mode)
        net->forward_mode = g_strdup("nat");     /* libvirt's default */
    if (!net->forward_mode)
        net->forward_mode = g_strdup("isolated");
    n = vn_xml_child(root, "bridge");
    net->bridge = n ? prop(n, "name") : NULL;
    net->ipv6 = g_strcmp0(vn_xml_attr(root, "ipv6"), "yes") == 0;

    for (n = root->children; n; n = n->next) {
        gboolean ok = TRUE;

        if (vn_xml_is(n, "ip"))
            ok = parse_ip(n, net, &err);
        else if (vn_xml_is(n, "route"))
            ok = parse_route(n, net, &err);
        if (!ok) {
            g_set_error(error, VN_ERROR, VN_ERROR_INVALID, "network '%s': %s",
                        net->name, err->message);
            return NULL;
        }
    }

    if (!find_nest_element(root, "network", &nest, net->warnings, &err) ||
        (nest && !parse_nest_network(nest, net, &err))) {
        g_array_set_size(net->peers, 0);
        g_set_error(nest_error, VN_ERROR, VN_ERROR_INVALID,
                    "network '%s': %s", net->name, err->message);
    } else if (nest) {
        net->nest = TRUE;
    }
    return g_steal_pointer(&net);
}

VnNetwork *
vn_network_parse(const char *xml, gssize len, GError **nest_error,
                 GError **error)
{
    g_autoptr(VnXmlNode) doc = vn_xml_parse(xml, len, "network", error);
    VnXmlNode *root = doc;

    if (!doc)
        return NULL;
    if (root && vn_xml_is(root, "hookData"))
        root = vn_xml_child(root, "network");
    else if (root && vn_xml_is(root, "networkstatus"))
        root = vn_xml_child(root, "network");
    if (!root || !vn_xml_is(root, "network")) {
        g_set_error(error, VN_ERROR, VN_ERROR_INVALID,
                    "network XML: expected <network> or <hookData>, got <%s>",
                    root ? root->name : "nothing");
        return NULL;
    }
    return network_from_node(root, nest_error, error);
}

/* ------------------------------------------------------------------ */
/* domain                                                              */

static gboolean
parse_iface(const VnXmlNode *node, VnGuest *guest, GError **error)
{
    VnIface *iface = vn_iface_new();
    VnXmlNode *n;

    g_ptr_array_add(guest->ifaces, iface);
    iface->type = prop(node, "type");
    if ((n = vn_xml_child(node, "mac"))) {
        g_autofree char *mac = prop(n, "address");

        if (mac && !(iface->mac = vn_mac_normalize(mac))) {
            g_set_error(error, VN_ERROR, VN_ERROR_INVALID,
                        "<interface><mac address='%s'>: not a MAC address",
                        mac);
            return FALSE;
        }
    }
    if ((n = vn_xml_child(node, "source"))) {
        iface->network = prop(n, "network");
        iface->bridge = prop(n, "bridge");
    }
    if ((n = vn_xml_child(node, "target")))
        iface->target = prop(n, "dev");
    if ((n = vn_xml_child(node, "model")))
        iface->model = prop(n, "type");
    return TRUE;
}

static VnGuest *
guest_from_node(const VnXmlNode *root, GError **nest_error, GError **error)
{
    g_autoptr(VnGuest) guest = vn_guest_new();
    g_autoptr(GError) err = NULL;
    g_autofree char *id = prop(root, "id");
    VnXmlNode *devices, *nest = NULL;

    guest->name = content(vn_xml_child(root, "name"));
    if (!guest->name || !*guest->name) {
        g_set_error(error, VN_ERROR, VN_ERROR_INVALID,
                    "domain XML: <name> is missing");
        return NULL;
    }
    guest->uuid = content(vn_xml_child(root, "uuid"));
    if (id) {
        gint64 v;

        if (g_ascii_string_to_signed(id, 10, -1, G_MAXINT, &v, NULL))
            guest->id = (int)v;
    }
    guest->state = g_strdup(guest->id >= 0 ? "running" : "shut off");

    devices = vn_xml_child(root, "devices");
    for (VnXmlNode *n = devices ? devices->children : NULL; n; n = n->next) {
        if (vn_xml_is(n, "interface") && !parse_iface(n, guest, &err)) {
            g_set_error(error, VN_ERROR, VN_ERROR_INVALID, "domain '%s': %s",
                        guest->name, err->message);
            return NULL;
        }
    }

    if (!find_nest_element(root, "guest", &nest, guest->warnings, &err) ||
        (nest && !parse_nest_guest(nest, guest, &err))) {
        g_array_set_size(guest->routes, 0);
        g_clear_pointer(&guest->uplink_mac, g_free);
        memset(&guest->uplink_address, 0, sizeof(guest->uplink_address));
        g_set_error(nest_error, VN_ERROR, VN_ERROR_INVALID, "domain '%s': %s",
                    guest->name, err->message);
    } else if (nest) {
        guest->nest = TRUE;
        if (guest->uplink_mac && !vn_guest_uplink(guest)) {
            g_set_error(nest_error, VN_ERROR, VN_ERROR_INVALID,
                        "domain '%s': <nest:uplink mac='%s'>: the domain has "
                        "no interface with that MAC", guest->name,
                        guest->uplink_mac);
            guest->nest = FALSE;
        }
    }
    return g_steal_pointer(&guest);
}

VnGuest *
vn_guest_parse(const char *xml, gssize len, GError **nest_error,
               GError **error)
{
    g_autoptr(VnXmlNode) doc = vn_xml_parse(xml, len, "domain", error);
    VnXmlNode *root = doc;

    if (!doc)
        return NULL;
    if (root && vn_xml_is(root, "domstatus"))
        root = vn_xml_child(root, "domain");
    if (!root || !vn_xml_is(root, "domain")) {
        g_set_error(error, VN_ERROR, VN_ERROR_INVALID,
                    "domain XML: expected <domain>, got <%s>",
                    root ? root->name : "nothing");
        return NULL;
    }
    return guest_from_node(root, nest_error, error);
}

/* The element of virt-nest's namespace directly under <metadata> in
 * [@meta, @end): its start and end offsets, by the prefix its xmlns
 * declares. FALSE when there is none. */
static gboolean
find_nest_text(const char *meta, const char *end, const char **start,
                  const char **stop)
{
    const char *p = meta;

    while ((p = g_strstr_len(p, end - p, "<")) && p < end) {
        const char *gt = g_strstr_len(p, end - p, ">");
        g_autofree char *tag = NULL;
        g_autofree char *name = NULL;
        g_autofree char *close = NULL;
        const char *c;

        if (!gt)
            return FALSE;
        if (p[1] == '/' || p[1] == '!' || p[1] == '?') {
            p = gt + 1;
            continue;
        }
        tag = g_strndup(p, gt + 1 - p);
        name = g_strndup(p + 1, strcspn(p + 1, " \t\n/>"));
        if (!strstr(tag, "\"" VN_NS_URI "\"") &&
            !strstr(tag, "'" VN_NS_URI "'")) {
            /* another application's element: skip it whole */
            if (gt[-1] == '/') {
                p = gt + 1;
                continue;
            }
            close = g_strdup_printf("</%s>", name);
            c = g_strstr_len(gt, end - gt, close);
            if (!c)
                return FALSE;
            p = c + strlen(close);
            continue;
        }
        *start = p;
        if (gt[-1] == '/') {
            *stop = gt + 1;
            return TRUE;
        }
        close = g_strdup_printf("</%s>", name);
        c = g_strstr_len(gt, end - gt, close);
        if (!c)
            return FALSE;
        *stop = c + strlen(close);
        return TRUE;
    }
    return FALSE;
}

char *
vn_xml_with_nest_metadata(const char *xml, const char *root,
                          const char *element, GError **error)
{
    g_autofree char *open = g_strdup_printf("<%s", root);
    g_autofree char *close = g_strdup_printf("</%s>", root);
    const char *meta, *meta_end, *start, *stop, *r;
    GString *out;

    r = strstr(xml, open);
    if (!r || !(r = g_strrstr(xml, close))) {
        g_set_error(error, VN_ERROR, VN_ERROR_INVALID,
                    "not libvirt's XML of a <%s>", root);
        return NULL;
    }
    out = g_string_new(NULL);
    meta = strstr(xml, "<metadata>");
    meta_end = meta ? strstr(meta, "</metadata>") : NULL;
    if (meta && meta_end && find_nest_text(meta + strlen("<metadata>"),
                                              meta_end, &start, &stop)) {
        g_string_append_len(out, xml, start - xml);
        g_string_append(out, element);
        while (out->len && out->str[out->len - 1] == '\n')
            g_string_truncate(out, out->len - 1);
        g_string_append(out, stop);
    } else if (meta && meta_end) {
        g_string_append_len(out, xml, meta_end - xml);
        g_string_append(out, element);
        g_string_append(out, meta_end);
    } else {
        g_string_append_len(out, xml, r - xml);
        g_string_append_printf(out, "  <metadata>\n%s  </metadata>\n",
                               element);
        g_string_append(out, r);
    }
    return g_string_free(out, FALSE);
}
