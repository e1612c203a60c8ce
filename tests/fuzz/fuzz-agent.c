/* fuzz-agent.c: a guest agent's interfaces (the guest's word: anyone
 * inside it writes them) into VnAgentIface, the partial layer and the
 * proposal on the seed's L0 (vn_agent_iface_new, vn_agent_iface_add_address,
 * vn_agent_layer, vn_propose_guest, vn_proposal_*). The input is one
 * interface a line: NAME MAC|- ADDR/PREFIX...
 *
 * What must hold: an error is one line; nothing proposed overlaps one of
 * L0's networks or is link-local; the proposed metadata is metadata the
 * parser takes, with one route per delegated or proposed subnet; the text
 * has no control character but its newlines.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include "fuzz.h"
#include "agentlayer.h"
#include "libvirtxml.h"
#include "propose.h"
#include "proposal.h"

static const char net_xml[] =
    "<network><name>default</name><forward mode='nat'/>"
    "<bridge name='virbr0'/><ip address='192.168.122.1' netmask='255.255.255.0'>"
    "<dhcp><range start='192.168.122.2' end='192.168.122.254'/></dhcp></ip></network>";
static const char dom_xml[] =
    "<domain type='test' id='1'><name>debian</name><devices>"
    "<interface type='network'><mac address='52:54:00:fc:38:e0'/>"
    "<source network='default' bridge='virbr0'/><target dev='vnet0'/></interface>"
    "</devices></domain>";

static GPtrArray *
read_ifaces(const uint8_t *data, size_t size)
{
    g_autoptr(GPtrArray) out = vn_agent_ifaces_new();

    while (size > 0) {
        g_autofree char *line = vn_fuzz_next(&data, &size, "\n", NULL);
        g_auto(GStrv) f = g_strsplit(line, " ", 0);
        g_autoptr(GError) err = NULL;
        g_autoptr(VnAgentIface) ai = NULL;

        if (out->len >= VN_AGENT_MAX_IFACES || !f[0])
            return NULL;
        ai = vn_agent_iface_new(f[0], f[1] && strcmp(f[1], "-") ? f[1] : NULL,
                                &err);
        for (guint i = 2; ai && f[1] && f[i]; i++) {
            char *slash = strrchr(f[i], '/');
            guint64 prefix = 0;

            if (slash) {
                *slash = '\0';
                prefix = g_ascii_strtoull(slash + 1, NULL, 10);
            }
            if (!vn_agent_iface_add_address(ai, f[i], (guint)MIN(prefix, 999),
                                            &err))
                g_clear_pointer(&ai, vn_agent_iface_free);
        }
        if (!ai) {
            VN_FUZZ_CHECK(err && !strchr(err->message, '\n'));
            return NULL;
        }
        g_ptr_array_add(out, g_steal_pointer(&ai));
    }
    return g_steal_pointer(&out);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    g_autoptr(GPtrArray) ifaces = NULL;
    g_autoptr(VnLayer) layer = vn_layer_new("test:///fuzz");
    g_autoptr(VnLayer) partial = NULL;
    g_autoptr(VnProposal) p = NULL;
    g_autoptr(GString) text = g_string_new(NULL);
    g_autoptr(VnJsonWriter) w = vn_json_writer_new();
    g_autofree char *json = NULL;
    VnNetwork *net;
    VnGuest *guest;
    VnConfig config;
    guint routed = 0;

    if (size > 64 * 1024)
        return 0;
    ifaces = read_ifaces(data, size);
    if (!ifaces)
        return 0;
    net = vn_network_parse(net_xml, -1, NULL, NULL);
    guest = vn_guest_parse(dom_xml, -1, NULL, NULL);
    VN_FUZZ_CHECK(net && guest);
    g_ptr_array_add(layer->networks, net);
    g_ptr_array_add(layer->guests, guest);
    partial = vn_agent_layer("debian", ifaces, "guest-exec is disabled");
    VN_FUZZ_CHECK(partial->host->links->len == ifaces->len);
    vn_config_init(&config);
    p = vn_propose_guest(layer, guest, ifaces, &config);
    for (guint i = 0; i < p->subnets->len; i++) {
        const VnNestedSubnet *n = p->subnets->pdata[i];
        const VnNetIp *ip = net->ips->pdata[0];

        VN_FUZZ_CHECK(!vn_cidr_overlaps(&n->subnet, &ip->subnet));
        VN_FUZZ_CHECK(!vn_cidr_is_link_local(&n->address));
        VN_FUZZ_CHECK(n->state != VN_NESTED_REFUSED ||
                      (n->reason && !strchr(n->reason, '\n')));
        if (n->state != VN_NESTED_REFUSED)
            routed++;
    }
    VN_FUZZ_CHECK(!p->metadata == !p->metadata_set);
    if (p->metadata) {
        g_autofree char *dom = g_strdup_printf(
            "<domain type='test'><name>debian</name><metadata>%s</metadata>"
            "<devices><interface type='network'><mac address='52:54:00:fc:38:e0'/>"
            "<source network='default'/></interface></devices></domain>",
            p->metadata);
        g_autoptr(GError) nest_err = NULL, err = NULL;
        g_autoptr(VnGuest) back = vn_guest_parse(dom, -1, &nest_err, &err);

        VN_FUZZ_CHECK(back && !nest_err && back->nest);
        VN_FUZZ_CHECK(back->routes->len == routed);
    }
    vn_proposal_append_text(text, p);
    for (gsize i = 0; i < text->len; i++)
        VN_FUZZ_CHECK(text->str[i] == '\n' ||
                      ((guchar)text->str[i] >= 0x20 && text->str[i] != 0x7f));
    vn_proposal_write_json(w, NULL, p);
    json = vn_json_writer_finish(w);
    VN_FUZZ_CHECK(json != NULL);
    return 0;
}
