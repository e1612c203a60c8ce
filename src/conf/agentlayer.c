/* agentlayer.c: a guest's interfaces as its agent tells them.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include <string.h>

#include "agentlayer.h"
#include "error.h"
#include "json.h"

/* aa:bb:cc:dd:ee:ff, lowercased; NULL when @mac is not one. */
static char *
mac_normalize(const char *mac)
{
    if (strlen(mac) != 17)
        return NULL;
    for (int i = 0; i < 17; i++) {
        if (i % 3 == 2 ? mac[i] != ':' : !g_ascii_isxdigit(mac[i]))
            return NULL;
    }
    return g_ascii_strdown(mac, -1);
}

VnAgentIface *
vn_agent_iface_new(const char *name, const char *mac, GError **error)
{
    g_autoptr(VnAgentIface) iface = NULL;

    if (!name || !*name || strlen(name) > 255) {
        g_set_error(error, VN_ERROR, VN_ERROR_INVALID,
                    "the guest agent reported an interface without a "
                    "usable name");
        return NULL;
    }
    iface = g_new0(VnAgentIface, 1);
    iface->name = g_strdup(name);
    iface->addrs = g_array_new(FALSE, TRUE, sizeof(VnCidr));
    if (mac && *mac) {
        iface->mac = mac_normalize(mac);
        if (!iface->mac) {
            g_autofree char *shown = g_strescape(name, NULL);
            g_set_error(error, VN_ERROR, VN_ERROR_INVALID,
                        "guest interface '%s': the agent's hardware address "
                        "is not a MAC address", shown);
            return NULL;
        }
    }
    return g_steal_pointer(&iface);
}

void
vn_agent_iface_free(VnAgentIface *iface)
{
    if (!iface)
        return;
    g_free(iface->name);
    g_free(iface->mac);
    g_array_unref(iface->addrs);
    g_free(iface);
}

GPtrArray *
vn_agent_ifaces_new(void)
{
    return g_ptr_array_new_with_free_func((GDestroyNotify)vn_agent_iface_free);
}

gboolean
vn_agent_iface_add_address(VnAgentIface *iface, const char *addr,
                           guint prefix, GError **error)
{
    VnCidr c;
    g_autofree char *shown = g_strescape(iface->name, NULL);

    if (iface->addrs->len >= VN_AGENT_MAX_ADDRS) {
        g_set_error(error, VN_ERROR, VN_ERROR_INVALID,
                    "guest interface '%s': more than %d addresses", shown,
                    VN_AGENT_MAX_ADDRS);
        return FALSE;
    }
    if (!addr || !vn_cidr_parse(addr, VN_CIDR_ADDRESS, &c, NULL)) {
        g_set_error(error, VN_ERROR, VN_ERROR_INVALID,
                    "guest interface '%s': the agent's address is not an "
                    "IP address", shown);
        return FALSE;
    }
    if (prefix > vn_cidr_max_prefix(c.family)) {
        g_set_error(error, VN_ERROR, VN_ERROR_INVALID,
                    "guest interface '%s': prefix %u is too long for %s",
                    shown, prefix, addr);
        return FALSE;
    }
    c.prefix = prefix;
    g_array_append_val(iface->addrs, c);
    return TRUE;
}

/* One interface of guest-network-get-interfaces's answer. */
static VnAgentIface *
iface_from_json(const VnJson *j, GError **error)
{
    g_autoptr(VnAgentIface) ai = NULL;
    const VnJson *addrs = vn_json_get(j, "ip-addresses");

    ai = vn_agent_iface_new(vn_json_get_string(j, "name"),
                            vn_json_get_string(j, "hardware-address"), error);
    if (!ai)
        return NULL;
    if (addrs && addrs->type != VN_JSON_ARRAY) {
        g_autofree char *shown = g_strescape(ai->name, NULL);

        g_set_error(error, VN_ERROR, VN_ERROR_INVALID,
                    "guest interface '%s': \"ip-addresses\" is not a list",
                    shown);
        return NULL;
    }
    for (guint i = 0; i < vn_json_length(addrs); i++) {
        const VnJson *a = vn_json_index(addrs, i);
        const char *type = vn_json_get_string(a, "ip-address-type");
        gint64 prefix;

        if (g_strcmp0(type, "ipv4") != 0 && g_strcmp0(type, "ipv6") != 0)
            continue;
        if (!vn_json_get_int(a, "prefix", &prefix) || prefix < 0 ||
            prefix > 128)
            prefix = 1000;      /* refused below, as too long */
        if (!vn_agent_iface_add_address(ai, vn_json_get_string(a, "ip-address"),
                                        (guint)prefix, error))
            return NULL;
    }
    return g_steal_pointer(&ai);
}

GPtrArray *
vn_agent_ifaces_parse(const char *guest, const char *reply, GError **error)
{
    g_autoptr(GError) err = NULL;
    g_autoptr(VnJson) root = vn_json_parse(reply, -1, &err);
    g_autoptr(GPtrArray) out = vn_agent_ifaces_new();
    const VnJson *list = vn_json_get(root, "return");

    if (!root || !list || list->type != VN_JSON_ARRAY) {
        g_set_error(error, VN_ERROR, VN_ERROR_INVALID,
                    "domain '%s': its guest agent's list of interfaces is "
                    "not one%s%s", guest, err ? ": " : "",
                    err ? err->message : "");
        return NULL;
    }
    if (vn_json_length(list) > VN_AGENT_MAX_IFACES) {
        g_set_error(error, VN_ERROR, VN_ERROR_INVALID,
                    "domain '%s': its guest agent reported %u interfaces, "
                    "more than %d", guest, vn_json_length(list),
                    VN_AGENT_MAX_IFACES);
        return NULL;
    }
    for (guint i = 0; i < vn_json_length(list); i++) {
        VnAgentIface *ai = iface_from_json(vn_json_index(list, i), &err);

        if (!ai) {
            g_set_error(error, VN_ERROR, VN_ERROR_INVALID, "domain '%s': %s",
                        guest, err->message);
            return NULL;
        }
        g_ptr_array_add(out, ai);
    }
    return g_steal_pointer(&out);
}

static gboolean
is_loopback_addr(const VnCidr *c)
{
    static const guint8 v6lo[16] = { [15] = 1 };

    if (c->family == AF_INET)
        return c->addr[0] == 127;
    return memcmp(c->addr, v6lo, 16) == 0;
}

gboolean
vn_agent_iface_is_loopback(const VnAgentIface *iface)
{
    if (g_str_equal(iface->name, "lo"))
        return TRUE;
    if (iface->addrs->len == 0)
        return FALSE;
    for (guint i = 0; i < iface->addrs->len; i++) {
        if (!is_loopback_addr(&g_array_index(iface->addrs, VnCidr, i)))
            return FALSE;
    }
    return TRUE;
}

VnLayer *
vn_agent_layer(const char *guest, GPtrArray *ifaces, const char *reason)
{
    g_autofree char *uri = g_strdup_printf("agent:%s", guest);
    VnLayer *layer = vn_layer_new(uri);

    layer->host = vn_host_new();
    for (guint i = 0; i < ifaces->len; i++) {
        const VnAgentIface *ai = g_ptr_array_index(ifaces, i);
        VnLink *link = g_new0(VnLink, 1);

        link->ifindex = (int)i + 1;
        link->name = g_strdup(ai->name);
        link->mac = g_strdup(ai->mac);
        link->up = TRUE;        /* the agent lists what has addresses */
        link->rp_filter = -1;
        g_ptr_array_add(layer->host->links, link);
        for (guint j = 0; j < ai->addrs->len; j++) {
            VnHostAddr *a = g_new0(VnHostAddr, 1);

            a->ifindex = link->ifindex;
            a->address = g_array_index(ai->addrs, VnCidr, j);
            g_ptr_array_add(layer->host->addrs, a);
        }
    }
    if (reason) {
        g_autofree char *object = g_strdup_printf("domain '%s'", guest);
        vn_layer_add_problem(layer, object, reason);
    }
    return layer;
}

VnAgentAnswer *
vn_agent_answer_new(const char *guest, GPtrArray *ifaces, char *error)
{
    VnAgentAnswer *a = g_new0(VnAgentAnswer, 1);

    a->guest = g_strdup(guest);
    a->ifaces = ifaces;
    a->error = error;
    return a;
}

void
vn_agent_answer_free(VnAgentAnswer *answer)
{
    if (!answer)
        return;
    g_free(answer->guest);
    if (answer->ifaces)
        g_ptr_array_unref(answer->ifaces);
    g_free(answer->error);
    g_free(answer);
}

GPtrArray *
vn_agent_answers_new(void)
{
    return g_ptr_array_new_with_free_func((GDestroyNotify)vn_agent_answer_free);
}

const VnAgentAnswer *
vn_layer_agent_answer(const VnLayer *layer, const char *guest)
{
    for (guint i = 0; layer->agents && i < layer->agents->len; i++) {
        const VnAgentAnswer *a = layer->agents->pdata[i];

        if (g_strcmp0(a->guest, guest) == 0)
            return a;
    }
    return NULL;
}

/* Whether @addr is another MAC's than @mac by a reservation or a lease
 * on this layer. */
static gboolean
held_by_another(const VnLayer *layer, const char *mac, const VnCidr *addr)
{
    for (guint i = 0; i < layer->networks->len; i++) {
        const VnNetwork *n = layer->networks->pdata[i];

        for (guint j = 0; j < n->ips->len; j++) {
            const VnNetIp *ip = n->ips->pdata[j];

            for (guint k = 0; k < ip->hosts->len; k++) {
                const VnDhcpHost *h = ip->hosts->pdata[k];

                if (vn_cidr_address_equal(&h->ip, addr) &&
                    g_strcmp0(h->mac, mac) != 0)
                    return TRUE;
            }
        }
    }
    for (guint i = 0; i < layer->leases->len; i++) {
        const VnLease *l = layer->leases->pdata[i];

        if (vn_cidr_address_equal(&l->ip, addr) &&
            (!l->mac || g_ascii_strcasecmp(l->mac, mac) != 0))
            return TRUE;
    }
    return FALSE;
}

void
vn_layer_agent_next_hops(VnLayer *layer)
{
    for (guint i = 0; i < layer->guests->len; i++) {
        VnGuest *g = layer->guests->pdata[i];
        const VnAgentAnswer *a = vn_layer_agent_answer(layer, g->name);
        const VnIface *up = vn_guest_uplink(g);

        if (!a || !a->ifaces || !up || !up->mac)
            continue;
        for (guint j = 0; j < a->ifaces->len; j++) {
            const VnAgentIface *ai = a->ifaces->pdata[j];

            if (g_strcmp0(ai->mac, up->mac) != 0)
                continue;
            g_free(g->agent_mac);
            g->agent_mac = g_strdup(up->mac);
            if (g->agent_addrs)
                g_array_unref(g->agent_addrs);
            g->agent_addrs = g_array_new(FALSE, TRUE, sizeof(VnCidr));
            for (guint k = 0; k < ai->addrs->len; k++) {
                const VnCidr *c = &g_array_index(ai->addrs, VnCidr, k);

                if (!vn_cidr_is_link_local(c) &&
                    !held_by_another(layer, up->mac, c))
                    g_array_append_val(g->agent_addrs, *c);
            }
            break;
        }
    }
}
