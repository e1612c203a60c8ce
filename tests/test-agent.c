/* test-agent.c: a guest agent's answer (guest-network-get-interfaces, as
 * virDomainInterfaceAddresses(SRC_AGENT) returns it) into the partial
 * layer, and the delegation it proposes on the seed's L0 (the libvirt test
 * driver with xml/examples/seed-l0.xml). */
#include "config.h"

#include <string.h>
#include <unistd.h>

#include "testutil.h"
#include "agent.h"
#include "adopt.h"
#include "agentlayer.h"
#include "discover.h"
#include "libvirtxml.h"
#include "propose.h"
#include "proposal.h"
#include "json.h"
#include "layerplan.h"
#include "layerview.h"

/* What libvirt makes of the answer of the seed's guest debian (Debian 12
 * with libvirt's default network inside) to
 *   {"execute": "guest-network-get-interfaces"}
 * which is, as the agent writes it:
 *   [{"name": "lo", "hardware-address": "00:00:00:00:00:00",
 *     "ip-addresses": [
 *       {"ip-address-type": "ipv4", "ip-address": "127.0.0.1", "prefix": 8},
 *       {"ip-address-type": "ipv6", "ip-address": "::1", "prefix": 128}]},
 *    {"name": "enp1s0", "hardware-address": "52:54:00:fc:38:e0",
 *     "ip-addresses": [
 *       {"ip-address-type": "ipv4", "ip-address": "192.168.122.191",
 *        "prefix": 24},
 *       {"ip-address-type": "ipv6", "ip-address": "fe80::5054:ff:fefc:38e0",
 *        "prefix": 64}]},
 *    {"name": "virbr0", "hardware-address": "52:54:00:9a:41:7c",
 *     "ip-addresses": [
 *       {"ip-address-type": "ipv4", "ip-address": "192.168.124.1",
 *        "prefix": 24}]},
 *    {"name": "vnet0", "hardware-address": "FE:54:00:5D:21:0A",
 *     "ip-addresses": [
 *       {"ip-address-type": "ipv6", "ip-address": "fe80::fc54:ff:fe5d:210a",
 *        "prefix": 64}]}]
 * libvirt keeps the order, the names, the MACs as given and one
 * virDomainIPAddress per address. */
typedef struct {
    virDomainInterface iface[8];
    virDomainIPAddress addr[16];
    virDomainInterfacePtr ptr[8];
    int n;
} Answer;

static void
answer_add(Answer *a, const char *name, const char *mac, int naddrs, ...)
{
    static int used;
    virDomainInterface *vi = &a->iface[a->n];
    va_list ap;

    if (a->n == 0)
        used = 0;
    vi->name = (char *)name;
    vi->hwaddr = (char *)mac;
    vi->naddrs = naddrs;
    vi->addrs = &a->addr[used];
    va_start(ap, naddrs);
    for (int i = 0; i < naddrs; i++) {
        virDomainIPAddress *ip = &a->addr[used++];
        const char *text = va_arg(ap, const char *);

        ip->type = strchr(text, ':') ? VIR_IP_ADDR_TYPE_IPV6 : VIR_IP_ADDR_TYPE_IPV4;
        ip->addr = (char *)text;
        ip->prefix = va_arg(ap, unsigned int);
    }
    va_end(ap);
    a->ptr[a->n++] = vi;
}

static void
debian_answer(Answer *a, const char *bridge_addr, unsigned int bridge_prefix)
{
    memset(a, 0, sizeof(*a));
    answer_add(a, "lo", "00:00:00:00:00:00", 2, "127.0.0.1", 8u, "::1", 128u);
    answer_add(a, "enp1s0", "52:54:00:fc:38:e0", 2, "192.168.122.191", 24u,
               "fe80::5054:ff:fefc:38e0", 64u);
    answer_add(a, "virbr0", "52:54:00:9a:41:7c", 1, bridge_addr, bridge_prefix);
    answer_add(a, "vnet0", "FE:54:00:5D:21:0A", 1, "fe80::fc54:ff:fe5d:210a", 64u);
}

static GPtrArray *
debian_ifaces(const char *bridge_addr, unsigned int bridge_prefix)
{
    Answer a;
    g_autoptr(GError) err = NULL;
    GPtrArray *ifaces;

    debian_answer(&a, bridge_addr, bridge_prefix);
    ifaces = vn_agent_ifaces_from_libvirt("debian", a.ptr, a.n, &err);
    assert_null(err);
    assert_non_null(ifaces);
    return ifaces;
}

static void
answer_into_partial_layer(void **state)
{
    g_autoptr(GPtrArray) ifaces = debian_ifaces("192.168.124.1", 24);
    g_autoptr(VnLayer) l = NULL;
    const VnAgentIface *ai;
    const VnLink *link;
    const VnHostAddr *ha;

    assert_int_equal(ifaces->len, 4);
    ai = ifaces->pdata[0];
    assert_string_equal(ai->name, "lo");
    assert_true(vn_agent_iface_is_loopback(ai));
    ai = ifaces->pdata[1];
    assert_string_equal(ai->mac, "52:54:00:fc:38:e0");
    assert_int_equal(ai->addrs->len, 2);
    assert_cidr_str(&g_array_index(ai->addrs, VnCidr, 0), "192.168.122.191/24");
    assert_false(vn_agent_iface_is_loopback(ai));
    ai = ifaces->pdata[3];
    assert_string_equal(ai->mac, "fe:54:00:5d:21:0a");   /* lowercased */

    l = vn_agent_layer("debian", ifaces, "guest-exec is disabled in its agent");
    assert_string_equal(l->uri, "agent:debian");
    assert_non_null(l->host);
    assert_int_equal(l->networks->len, 0);
    assert_int_equal(l->guests->len, 0);
    assert_int_equal(l->host->links->len, 4);
    assert_int_equal(l->host->addrs->len, 6);
    link = vn_host_find_link_by_name(l->host, "virbr0");
    assert_non_null(link);
    assert_int_equal(link->ifindex, 3);
    assert_string_equal(link->mac, "52:54:00:9a:41:7c");
    ha = l->host->addrs->pdata[4];
    assert_int_equal(ha->ifindex, 3);
    assert_cidr_str(&ha->address, "192.168.124.1/24");
    assert_int_equal(l->problems->len, 1);
    assert_string_equal(((VnProblem *)l->problems->pdata[0])->object,
                        "domain 'debian'");
    assert_string_equal(((VnProblem *)l->problems->pdata[0])->message,
                        "guest-exec is disabled in its agent");
}

static void
bad_answers_refused_whole(void **state)
{
    Answer a;
    g_autoptr(GError) err = NULL;
    g_autoptr(GPtrArray) ifaces = NULL;

    debian_answer(&a, "192.168.124.1", 24);
    a.iface[2].hwaddr = (char *)"52:54:00:9a:41";
    ifaces = vn_agent_ifaces_from_libvirt("debian", a.ptr, a.n, &err);
    assert_null(ifaces);
    assert_string_equal(err->message, "domain 'debian': guest interface "
                        "'virbr0': the agent's hardware address is not a MAC address");
    g_clear_error(&err);

    debian_answer(&a, "192.168.124.300", 24);
    ifaces = vn_agent_ifaces_from_libvirt("debian", a.ptr, a.n, &err);
    assert_null(ifaces);
    assert_string_equal(err->message, "domain 'debian': guest interface "
                        "'virbr0': the agent's address is not an IP address");
    g_clear_error(&err);

    debian_answer(&a, "192.168.124.1", 33);
    ifaces = vn_agent_ifaces_from_libvirt("debian", a.ptr, a.n, &err);
    assert_null(ifaces);
    assert_error_contains(err, "'virbr0': prefix 33 is too long for 192.168.124.1");
    assert_null(strchr(err->message, '\n'));
    g_clear_error(&err);

    /* a name made to reach a terminal comes back escaped */
    debian_answer(&a, "192.168.124.1", 24);
    a.iface[2].name = (char *)"br\033[2J";
    a.iface[2].hwaddr = (char *)"nope";
    ifaces = vn_agent_ifaces_from_libvirt("debian", a.ptr, a.n, &err);
    assert_null(ifaces);
    assert_error_contains(err, "'br\\033[2J'");
    g_clear_error(&err);

    /* no name at all */
    debian_answer(&a, "192.168.124.1", 24);
    a.iface[1].name = NULL;
    ifaces = vn_agent_ifaces_from_libvirt("debian", a.ptr, a.n, &err);
    assert_null(ifaces);
    assert_error_contains(err, "domain 'debian': the guest agent reported an "
                          "interface without a usable name");
}

/* The seed's L0 through the test driver; @strip drops debian's
 * <metadata> (the layer before the user wrote it). */
static VnLayer *
seed_l0(gboolean strip, char **tmp_out)
{
    g_autofree char *path = g_build_filename(VN_EXAMPLES, "seed-l0.xml", NULL);
    g_autofree char *xml = NULL, *uri = NULL;
    g_autoptr(GError) err = NULL;
    virConnectPtr conn;
    VnLayer *l;

    assert_true(g_file_get_contents(path, &xml, NULL, NULL));
    if (strip) {
        char *m = strstr(xml, "<metadata>");
        char *e = strstr(xml, "</metadata>");
        g_autofree char *cut = NULL;
        int fd;

        assert_non_null(m);
        assert_non_null(e);
        cut = g_strdup_printf("%.*s%s", (int)(m - xml), xml,
                              e + strlen("</metadata>"));
        fd = g_file_open_tmp("vn-agent-XXXXXX.xml", tmp_out, NULL);
        assert_true(fd >= 0);
        close(fd);
        assert_true(g_file_set_contents(*tmp_out, cut, -1, NULL));
        g_free(path);
        path = g_strdup(*tmp_out);
    }
    uri = g_strdup_printf("test://%s", path);
    conn = vn_connect(uri, TRUE, &err);
    assert_non_null(conn);
    {
        VnDiscoverOptions o = { uri, NULL, VN_HOST_NO };

        l = vn_discover_conn(conn, uri, &o, &err);
    }
    assert_non_null(l);
    virConnectClose(conn);
    return l;
}

static void
propose_the_seed_delegation(void **state)
{
    g_autofree char *tmp = NULL;
    g_autoptr(VnLayer) l = seed_l0(TRUE, &tmp);
    g_autoptr(GPtrArray) ifaces = debian_ifaces("192.168.124.1", 24);
    g_autoptr(VnProposal) p = NULL;
    const VnGuest *g = vn_layer_find_guest(l, "debian");
    const VnNestedSubnet *n;
    VnConfig config;

    unlink(tmp);
    assert_non_null(g);
    assert_false(g->nest);
    vn_config_init(&config);
    p = vn_propose_guest(l, g, ifaces, &config);
    /* lo, the uplink on default's 192.168.122.0/24 and the link-local
     * addresses are no nested subnets */
    assert_int_equal(p->subnets->len, 1);
    n = p->subnets->pdata[0];
    assert_string_equal(n->iface, "virbr0");
    assert_cidr_str(&n->subnet, "192.168.124.0/24");
    assert_cidr_str(&n->address, "192.168.124.1/24");
    assert_int_equal(n->state, VN_NESTED_PROPOSED);
    assert_string_equal(vn_nested_state_to_string(n->state), "proposed");
    assert_null(n->reason);
    /* exactly what the seed's author wrote by hand (seed-l0.xml) */
    assert_string_equal(p->metadata,
        "<nest:guest xmlns:nest=\"urn:virt-nest:1\">\n"
        "  <nest:route subnet=\"192.168.124.0/24\"/>\n"
        "</nest:guest>\n");
    {
        g_autoptr(GString) text = g_string_new(NULL);
        g_autoptr(VnJsonWriter) w = vn_json_writer_new();
        g_autofree char *json = NULL;
        g_autoptr(VnJson) doc = NULL;
        g_autoptr(GError) jerr = NULL;
        const VnJson *nested;

        vn_proposal_append_text(text, p);
        assert_string_equal(text->str,
            "guest debian hosts, as its guest agent says (never routed on that alone):\n"
            "  192.168.124.0/24 on virbr0 (192.168.124.1/24): not delegated\n"
            "  the metadata that delegates them:\n"
            "    <nest:guest xmlns:nest=\"urn:virt-nest:1\">\n"
            "      <nest:route subnet=\"192.168.124.0/24\"/>\n"
            "    </nest:guest>\n"
            "  to delegate: virt-nest adopt debian\n"
            "  or by hand: virsh metadata debian urn:virt-nest:1 --key nest --live "
            "--config --set '<guest><route subnet=\"192.168.124.0/24\"/></guest>'\n");
        vn_proposal_write_json(w, NULL, p);
        json = vn_json_writer_finish(w);
        doc = vn_json_parse(json, -1, &jerr);
        assert_non_null(doc);
        assert_string_equal(vn_json_get_string(doc, "guest"), "debian");
        assert_string_equal(vn_json_get_string(doc, "metadata_set"),
                            "<guest><route subnet=\"192.168.124.0/24\"/></guest>");
        /* a guest's name is other people's input: quoted for the shell,
         * escaped for the terminal */
        g_free(p->guest);
        p->guest = g_strdup("deb 'x'\033]0;");
        g_string_truncate(text, 0);
        vn_proposal_append_text(text, p);
        assert_null(strchr(text->str, '\033'));
        assert_non_null(strstr(text->str, "guest deb 'x'\\x1b]0; hosts"));
        assert_non_null(strstr(text->str, "virsh metadata 'deb '\\''x'\\''\\x1b]0;' urn"));
        nested = vn_json_get(doc, "nested");
        assert_int_equal(vn_json_length(nested), 1);
        assert_string_equal(vn_json_get_string(vn_json_index(nested, 0), "state"),
                            "proposed");
        assert_string_equal(vn_json_get_string(vn_json_index(nested, 0), "interface"),
                            "virbr0");
    }
    /* and as README's virsh metadata --set line writes it */
    assert_string_equal(p->metadata_set,
                        "<guest><route subnet=\"192.168.124.0/24\"/></guest>");
    {
        /* and it is metadata the parser takes */
        g_autofree char *dom = g_strdup_printf(
            "<domain type='test'><name>debian</name><metadata>%s</metadata>"
            "<devices><interface type='network'><mac address='52:54:00:fc:38:e0'/>"
            "<source network='default'/></interface></devices></domain>",
            p->metadata);
        g_autoptr(GError) nest_err = NULL, err = NULL;
        g_autoptr(VnGuest) parsed = vn_guest_parse(dom, -1, &nest_err, &err);

        assert_non_null(parsed);
        assert_null(nest_err);
        assert_true(parsed->nest);
        assert_int_equal(parsed->routes->len, 1);
        assert_cidr_str(&g_array_index(parsed->routes, VnCidr, 0), "192.168.124.0/24");
    }
}

static void
propose_nothing_when_delegated(void **state)
{
    g_autoptr(VnLayer) l = seed_l0(FALSE, NULL);
    g_autoptr(GPtrArray) ifaces = debian_ifaces("192.168.124.1", 24);
    g_autoptr(VnProposal) p = NULL;
    VnConfig config;

    vn_config_init(&config);
    p = vn_propose_guest(l, vn_layer_find_guest(l, "debian"), ifaces, &config);
    assert_int_equal(p->subnets->len, 1);
    assert_int_equal(((VnNestedSubnet *)p->subnets->pdata[0])->state,
                     VN_NESTED_DELEGATED);
    assert_null(p->metadata);
    assert_null(p->metadata_set);
}

static void
propose_refuses_what_the_hook_would(void **state)
{
    g_autofree char *tmp = NULL;
    g_autoptr(VnLayer) l = seed_l0(TRUE, &tmp);
    g_autoptr(GPtrArray) ifaces = debian_ifaces("10.9.0.1", 4);
    g_autoptr(VnProposal) p = NULL;
    const VnNestedSubnet *n;
    VnConfig config;

    unlink(tmp);
    vn_config_init(&config);
    p = vn_propose_guest(l, vn_layer_find_guest(l, "debian"), ifaces, &config);
    assert_int_equal(p->subnets->len, 1);
    n = p->subnets->pdata[0];
    assert_cidr_str(&n->subnet, "0.0.0.0/4");
    assert_int_equal(n->state, VN_NESTED_REFUSED);
    assert_non_null(n->reason);
    assert_null(strchr(n->reason, '\n'));
    assert_null(p->metadata);
}

static void
read_through_the_test_driver(void **state)
{
    g_autoptr(GError) err = NULL;
    virConnectPtr conn = vn_connect("test:///default", FALSE, &err);
    virDomainPtr dom;
    g_autoptr(GPtrArray) ifaces = NULL;
    const VnAgentIface *ai;

    assert_non_null(conn);
    dom = virDomainLookupByName(conn, "test");
    assert_non_null(dom);
    ifaces = vn_agent_ifaces_read(dom, &err);
    assert_null(err);
    /* the test driver's made-up answer, the same whatever the source */
    assert_int_equal(ifaces->len, 1);
    ai = ifaces->pdata[0];
    assert_string_equal(ai->name, "testnet0");
    assert_string_equal(ai->mac, "aa:bb:cc:dd:ee:ff");
    assert_int_equal(ai->addrs->len, 1);
    assert_cidr_str(&g_array_index(ai->addrs, VnCidr, 0), "192.168.122.3/24");
    /* a guest that is not running has no agent to ask */
    assert_int_equal(virDomainDestroy(dom), 0);
    g_clear_pointer(&ifaces, g_ptr_array_unref);
    ifaces = vn_agent_ifaces_read(dom, &err);
    assert_null(ifaces);
    assert_error_contains(err, "domain 'test': its guest agent did not tell its interfaces: ");
    assert_null(strchr(err->message, '\n'));
    virDomainFree(dom);
    virConnectClose(conn);
}

/* adopt's metadata write that libvirt refuses (metadata that is no XML):
 * the error carries libvirt's own message, taken before virDomainFree()
 * resets libvirt's last error. */
static void
adopt_keeps_libvirts_message(void **state)
{
    g_autoptr(GError) err = NULL;
    virConnectPtr conn = vn_connect("test:///default", FALSE, &err);
    const char *where = NULL;

    assert_non_null(conn);
    assert_false(vn_adopt_set_guest(conn, "test", "<nest", &where, &err));
    assert_error_contains(err, "domain 'test': cannot set its metadata: ");
    /* libxml2's words, through libvirt; "no error" once it is reset */
    assert_error_contains(err, "Couldn't find end of Start Tag nest");
    assert_null(strchr(err->message, '\n'));
    assert_null(where);
    virConnectClose(conn);
}

/* vn_virt_error()'s text is the calling thread's: an agent call left
 * running in its thread (vn_agent_ifaces_read_bounded, the walk) that
 * fails later must not rewrite the message the main thread is reading. */
typedef struct {
    virConnectPtr conn;
    GMutex lock;
    GCond cond;
    int step;
    const char *seen;
    char *after;
} ErrorRace;

static void
race_step(ErrorRace *r, int step)
{
    g_mutex_lock(&r->lock);
    r->step = step;
    g_cond_broadcast(&r->cond);
    while (r->step == step)
        g_cond_wait(&r->cond, &r->lock);
    g_mutex_unlock(&r->lock);
}

static gpointer
race_thread(gpointer data)
{
    ErrorRace *r = data;

    assert_null(virDomainLookupByName(r->conn, "vnV-thread"));
    /* the test driver's words: "Domain not found" */
    r->seen = vn_virt_error();
    race_step(r, 1);            /* the main thread fails its own call */
    r->after = g_strdup(r->seen);
    return NULL;
}

static void
virt_error_is_per_thread(void **state)
{
    g_autoptr(GError) err = NULL;
    ErrorRace r = { vn_connect("test:///default", FALSE, &err) };
    virDomainPtr dom;
    GThread *t;
    const char *mine;

    assert_non_null(r.conn);
    g_mutex_init(&r.lock);
    g_cond_init(&r.cond);
    t = g_thread_new("vnV-race", race_thread, &r);
    g_mutex_lock(&r.lock);
    while (r.step != 1)
        g_cond_wait(&r.cond, &r.lock);
    g_mutex_unlock(&r.lock);
    dom = virDomainLookupByName(r.conn, "test");
    assert_non_null(dom);
    assert_int_equal(virDomainSetMetadata(dom, VIR_DOMAIN_METADATA_ELEMENT,
                                          "<vnVmain", "vn", "urn:vnV", 0),
                     -1);
    mine = vn_virt_error();
    g_mutex_lock(&r.lock);
    r.step = 2;
    g_cond_broadcast(&r.cond);
    g_mutex_unlock(&r.lock);
    g_thread_join(t);
    assert_non_null(strstr(mine, "Start Tag vnVmain"));
    assert_string_equal(r.after, "Domain not found");
    g_free(r.after);
    virDomainFree(dom);
    g_mutex_clear(&r.lock);
    g_cond_clear(&r.cond);
    virConnectClose(r.conn);
}

/* The answer of a guest with a second NIC on a host bridge (the LAN,
 * 192.168.1.0/24, which no libvirt network of L0 has), a second address
 * on its nested bridge and an IPv6 ULA there: the LAN is the domain's own
 * interface and not proposed, the nested subnets once each. */
static void
propose_skips_the_domains_own_nics(void **state)
{
    g_autofree char *tmp = NULL;
    g_autoptr(VnLayer) l = seed_l0(TRUE, &tmp);
    g_autoptr(GError) err = NULL;
    g_autoptr(GPtrArray) ifaces = NULL;
    g_autoptr(VnProposal) p = NULL;
    VnGuest *g = (VnGuest *)vn_layer_find_guest(l, "debian");
    VnIface *lan = vn_iface_new();
    VnConfig config;
    Answer a;

    unlink(tmp);
    lan->type = g_strdup("bridge");
    lan->mac = g_strdup("52:54:00:11:22:33");
    lan->bridge = g_strdup("br0");
    g_ptr_array_add(g->ifaces, lan);
    memset(&a, 0, sizeof(a));
    answer_add(&a, "lo", "00:00:00:00:00:00", 1, "127.0.0.1", 8u);
    answer_add(&a, "enp1s0", "52:54:00:fc:38:e0", 1, "192.168.122.191", 24u);
    answer_add(&a, "enp2s0", "52:54:00:11:22:33", 1, "192.168.1.40", 24u);
    answer_add(&a, "virbr0", "52:54:00:9a:41:7c", 3, "192.168.124.1", 24u,
               "192.168.124.2", 24u, "fd00:124::1", 64u);
    ifaces = vn_agent_ifaces_from_libvirt("debian", a.ptr, a.n, &err);
    assert_non_null(ifaces);
    vn_config_init(&config);
    p = vn_propose_guest(l, g, ifaces, &config);
    assert_int_equal(p->subnets->len, 2);
    assert_cidr_str(&((VnNestedSubnet *)p->subnets->pdata[0])->subnet, "192.168.124.0/24");
    assert_cidr_str(&((VnNestedSubnet *)p->subnets->pdata[1])->subnet, "fd00:124::/64");
    /* seed-l0's default network has no IPv6: libvirt turns IPv6 off on
     * virbr0, so the hook would refuse the IPv6 route, and so does the
     * proposal, with the reason */
    assert_int_equal(((VnNestedSubnet *)p->subnets->pdata[0])->state,
                     VN_NESTED_PROPOSED);
    assert_int_equal(((VnNestedSubnet *)p->subnets->pdata[1])->state,
                     VN_NESTED_REFUSED);
    assert_non_null(strstr(((VnNestedSubnet *)p->subnets->pdata[1])->reason,
                           "IPv6"));
    assert_string_equal(p->metadata,
        "<nest:guest xmlns:nest=\"urn:virt-nest:1\">\n"
        "  <nest:route subnet=\"192.168.124.0/24\"/>\n"
        "</nest:guest>\n");
}

/* Another guest of L0 delegates the subnet already: refused, named. */
static void
propose_refuses_another_guests_subnet(void **state)
{
    g_autofree char *tmp = NULL;
    g_autoptr(VnLayer) l = seed_l0(TRUE, &tmp);
    g_autoptr(GPtrArray) ifaces = debian_ifaces("192.168.124.1", 24);
    g_autoptr(VnProposal) p = NULL;
    VnGuest *other = vn_guest_new();
    VnCidr c;
    const VnNestedSubnet *n;
    VnConfig config;

    unlink(tmp);
    other->name = g_strdup("fedora");
    other->nest = TRUE;
    assert_true(vn_cidr_parse("192.168.124.0/25", VN_CIDR_SUBNET, &c, NULL));
    g_array_append_val(other->routes, c);
    g_ptr_array_add(l->guests, other);
    vn_config_init(&config);
    p = vn_propose_guest(l, vn_layer_find_guest(l, "debian"), ifaces, &config);
    assert_int_equal(p->subnets->len, 1);
    n = p->subnets->pdata[0];
    assert_int_equal(n->state, VN_NESTED_REFUSED);
    assert_string_equal(n->reason, "guest 'fedora' delegates it already");
    assert_null(p->metadata);
}

/* The guest delegates one subnet already and hosts a second: the
 * proposed metadata replaces the whole element, so it keeps the uplink
 * and the route already there. */
static void
propose_keeps_the_metadata_there(void **state)
{
    g_autoptr(VnLayer) l = seed_l0(FALSE, NULL);
    g_autoptr(GError) err = NULL;
    g_autoptr(GPtrArray) ifaces = NULL;
    g_autoptr(VnProposal) p = NULL;
    VnGuest *g = (VnGuest *)vn_layer_find_guest(l, "debian");
    VnConfig config;
    Answer a;

    g->uplink_mac = g_strdup("52:54:00:fc:38:e0");
    memset(&a, 0, sizeof(a));
    answer_add(&a, "enp1s0", "52:54:00:fc:38:e0", 1, "192.168.122.191", 24u);
    answer_add(&a, "virbr0", "52:54:00:9a:41:7c", 1, "192.168.124.1", 24u);
    answer_add(&a, "virbr1", "52:54:00:9a:41:7d", 1, "192.168.125.1", 24u);
    ifaces = vn_agent_ifaces_from_libvirt("debian", a.ptr, a.n, &err);
    assert_non_null(ifaces);
    vn_config_init(&config);
    p = vn_propose_guest(l, g, ifaces, &config);
    assert_int_equal(p->subnets->len, 2);
    assert_int_equal(((VnNestedSubnet *)p->subnets->pdata[0])->state, VN_NESTED_DELEGATED);
    assert_int_equal(((VnNestedSubnet *)p->subnets->pdata[1])->state, VN_NESTED_PROPOSED);
    assert_string_equal(p->metadata,
        "<nest:guest xmlns:nest=\"urn:virt-nest:1\">\n"
        "  <nest:uplink mac=\"52:54:00:fc:38:e0\"/>\n"
        "  <nest:route subnet=\"192.168.124.0/24\"/>\n"
        "  <nest:route subnet=\"192.168.125.0/24\"/>\n"
        "</nest:guest>\n");
    assert_string_equal(p->metadata_set,
        "<guest><uplink mac=\"52:54:00:fc:38:e0\"/>"
        "<route subnet=\"192.168.124.0/24\"/>"
        "<route subnet=\"192.168.125.0/24\"/></guest>");
}


/* The route of @guest in @plan; the test fails without one. */
static const VnRoute *
route_of(const VnPlan *plan, const char *guest)
{
    static const VnRoute none;

    for (guint i = 0; i < plan->routes->len; i++) {
        const VnRoute *r = plan->routes->pdata[i];

        if (g_strcmp0(r->guest, guest) == 0)
            return r;
    }
    fail_msg("no route of guest '%s' in the plan", guest);
    return &none;
}

/* @l's plan once debian's agent gave @a (its only answer). */
static VnPlan *
plan_with_answer(VnLayer *l, Answer *a, const VnConfig *config)
{
    g_autoptr(GError) err = NULL;

    g_ptr_array_set_size(l->agents, 0);
    g_ptr_array_add(l->agents, vn_agent_answer_new("debian",
        vn_agent_ifaces_from_libvirt("debian", a->ptr, a->n, &err), NULL));
    vn_layer_agent_next_hops(l);
    return vn_plan_layer(l, config, 1);
}

/* A guest with a static address inside (no reservation, no lease): its
 * route waits for a next hop; the agent's address of its uplink MAC, on
 * its network's subnet, is that next hop, marked as the agent's. Not one
 * outside the subnet, not the network's own, not another guest's. */
static void
next_hop_from_the_agent(void **state)
{
    g_autoptr(VnLayer) l = seed_l0(FALSE, NULL);
    VnNetwork *net = (VnNetwork *)vn_layer_find_network(l, "default");
    VnNetIp *ip = net->ips->pdata[0];
    g_autoptr(VnPlan) before = NULL;
    g_autoptr(VnPlan) after = NULL;
    const VnRoute *r;
    char buf[VN_CIDR_STRLEN];
    VnConfig config;
    Answer a;

    vn_config_init(&config);
    g_ptr_array_set_size(ip->hosts, 0);     /* no reservation */
    g_ptr_array_set_size(l->leases, 0);     /* no lease */
    before = vn_plan_layer(l, &config, 1);
    r = route_of(before, "debian");
    assert_true(vn_cidr_is_empty(&r->via));

    memset(&a, 0, sizeof(a));
    answer_add(&a, "enp1s0", "52:54:00:fc:38:e0", 1, "192.168.122.191", 24u);
    answer_add(&a, "virbr0", "52:54:00:9a:41:7c", 1, "192.168.124.1", 24u);
    l->agents = vn_agent_answers_new();
    after = plan_with_answer(l, &a, &config);
    r = route_of(after, "debian");
    assert_string_equal(vn_cidr_format(&r->via, FALSE, buf), "192.168.122.191");
    assert_int_equal(r->via_source, VN_SOURCE_AGENT);
    assert_string_equal(vn_source_to_string(r->via_source), "guest agent");
    {
        VnStatus st = { .layer = l, .plan = after, .now = 1 };
        g_autofree char *out = vn_status_text(&st);

        assert_non_null(strstr(out, "(next hop from the guest agent)"));
    }
    g_clear_pointer(&after, vn_plan_free);

    /* the address another guest's reservation holds is not taken */
    {
        VnDhcpHost *h = g_new0(VnDhcpHost, 1);

        h->mac = g_strdup("52:54:00:00:00:99");
        assert_true(vn_cidr_parse("192.168.122.191", VN_CIDR_ADDRESS, &h->ip,
                                  NULL));
        g_ptr_array_add(ip->hosts, h);
        vn_layer_agent_next_hops(l);
        after = vn_plan_layer(l, &config, 1);
        assert_true(vn_cidr_is_empty(&route_of(after, "debian")->via));
        g_clear_pointer(&after, vn_plan_free);
        g_ptr_array_set_size(ip->hosts, 0);
    }
    /* an address outside the network, or the bridge's own: no next hop */
    memset(&a, 0, sizeof(a));
    answer_add(&a, "enp1s0", "52:54:00:fc:38:e0", 1, "10.0.0.5", 24u);
    answer_add(&a, "enp1s0b", "52:54:00:fc:38:e1", 1, "192.168.122.77", 24u);
    after = plan_with_answer(l, &a, &config);
    assert_true(vn_cidr_is_empty(&route_of(after, "debian")->via));
    g_clear_pointer(&after, vn_plan_free);
    memset(&a, 0, sizeof(a));
    answer_add(&a, "enp1s0", "52:54:00:fc:38:e0", 1, "192.168.122.1", 24u);
    after = plan_with_answer(l, &a, &config);
    assert_true(vn_cidr_is_empty(&route_of(after, "debian")->via));
    g_clear_pointer(&after, vn_plan_free);

    /* the reservation, when there is one, wins over the agent */
    memset(&a, 0, sizeof(a));
    answer_add(&a, "enp1s0", "52:54:00:fc:38:e0", 1, "192.168.122.55", 24u);
    {
        VnDhcpHost *h = g_new0(VnDhcpHost, 1);

        h->mac = g_strdup("52:54:00:fc:38:e0");
        assert_true(vn_cidr_parse("192.168.122.191", VN_CIDR_ADDRESS, &h->ip,
                                  NULL));
        g_ptr_array_add(ip->hosts, h);
    }
    after = plan_with_answer(l, &a, &config);
    r = route_of(after, "debian");
    assert_string_equal(vn_cidr_format(&r->via, FALSE, buf), "192.168.122.191");
    assert_int_equal(r->via_source, VN_SOURCE_RESERVATION);
}

/* adopt --subnet: the subnets the user names, each checked as the hook
 * would; the metadata of them all checked together. */
static void
propose_named_subnets(void **state)
{
    g_autofree char *tmp = NULL;
    g_autoptr(VnLayer) l = seed_l0(TRUE, &tmp);
    g_autoptr(GArray) subnets = g_array_new(FALSE, TRUE, sizeof(VnCidr));
    g_autoptr(VnProposal) p = NULL;
    g_autoptr(GError) err = NULL;
    const VnGuest *g = vn_layer_find_guest(l, "debian");
    const char *names[] = { "192.168.124.0/24", "192.168.122.0/25",
                            "0.0.0.0/0", "192.168.124.0/24", NULL };
    VnConfig config;

    vn_config_init(&config);
    for (guint i = 0; names[i]; i++) {
        VnCidr c;

        assert_true(vn_cidr_parse(names[i], VN_CIDR_SUBNET, &c, NULL));
        g_array_append_val(subnets, c);
    }
    p = vn_propose_subnets(l, g, subnets, &config);
    unlink(tmp);
    assert_int_equal(p->subnets->len, 3);   /* the same one twice: once */
    assert_int_equal(((VnNestedSubnet *)p->subnets->pdata[0])->state,
                     VN_NESTED_PROPOSED);
    assert_null(((VnNestedSubnet *)p->subnets->pdata[0])->iface);
    assert_int_equal(((VnNestedSubnet *)p->subnets->pdata[1])->state,
                     VN_NESTED_REFUSED);
    assert_int_equal(((VnNestedSubnet *)p->subnets->pdata[2])->state,
                     VN_NESTED_REFUSED);
    assert_non_null(strstr(((VnNestedSubnet *)p->subnets->pdata[2])->reason,
                           "a default route is never delegated"));
    assert_string_equal(p->metadata_set,
                        "<guest><route subnet=\"192.168.124.0/24\"/></guest>");
    assert_true(vn_proposal_check(l, g, p, &config, &err));
    {
        g_autoptr(GString) t = g_string_new(NULL);

        vn_proposal_append_text(t, p);
        assert_non_null(strstr(t->str, "  192.168.124.0/24 (as named): "
                                       "not delegated\n"));
    }
    /* past the limit of routes per guest, the whole is refused */
    config.max_entries = 0;
    assert_false(vn_proposal_check(l, g, p, &config, &err));
    assert_non_null(err);
}

/* The inner network's peer metadata, and the XML libvirt before 9.7 is
 * given instead of virNetworkSetMetadata: the element replaced or added,
 * the rest kept. */
static void
peer_metadata_into_network_xml(void **state)
{
    g_autofree char *path = g_build_filename(VN_EXAMPLES, "seed-l1.xml", NULL);
    g_autofree char *xml = NULL;
    g_autoptr(VnNetwork) net = NULL;
    g_autoptr(VnNetwork) again = NULL;
    g_autofree char *el = NULL, *set = NULL, *edited = NULL;
    g_autoptr(GError) err = NULL;
    const char *bare = "<network>\n  <name>default</name>\n"
                       "  <bridge name='virbr0'/>\n</network>\n";
    const char *other = "<network>\n  <name>default</name>\n  <metadata>\n"
                        "    <app:x xmlns:app=\"urn:other\"><app:y/></app:x>\n"
                        "  </metadata>\n</network>\n";
    VnCidr peer;

    assert_true(vn_cidr_parse("10.5.0.0/16", VN_CIDR_SUBNET, &peer, NULL));
    net = vn_network_parse(bare, -1, NULL, &err);
    assert_non_null(net);
    el = vn_peer_metadata(net, &peer, FALSE);
    set = vn_peer_metadata(net, &peer, TRUE);
    assert_string_equal(el, "<nest:network xmlns:nest=\"urn:virt-nest:1\">\n"
                            "  <nest:peer subnet=\"10.5.0.0/16\"/>\n"
                            "</nest:network>\n");
    assert_string_equal(set, "<network><peer subnet=\"10.5.0.0/16\"/>"
                             "</network>");
    /* no <metadata>: added before </network> */
    edited = vn_xml_with_nest_metadata(bare, "network", el, &err);
    assert_string_equal(edited, "<network>\n  <name>default</name>\n"
                        "  <bridge name='virbr0'/>\n  <metadata>\n"
                        "<nest:network xmlns:nest=\"urn:virt-nest:1\">\n"
                        "  <nest:peer subnet=\"10.5.0.0/16\"/>\n"
                        "</nest:network>\n  </metadata>\n</network>\n");
    again = vn_network_parse(edited, -1, NULL, &err);
    assert_true(again->nest);
    assert_int_equal(again->peers->len, 1);
    g_clear_pointer(&edited, g_free);
    g_clear_pointer(&again, vn_network_free);
    /* another application's metadata is kept */
    edited = vn_xml_with_nest_metadata(other, "network", el, &err);
    assert_non_null(strstr(edited, "<app:x xmlns:app=\"urn:other\"><app:y/>"
                                   "</app:x>"));
    again = vn_network_parse(edited, -1, NULL, &err);
    assert_int_equal(again->peers->len, 1);
    g_clear_pointer(&edited, g_free);
    g_clear_pointer(&again, vn_network_free);
    g_clear_pointer(&net, vn_network_free);
    g_clear_pointer(&el, g_free);

    /* the seed's L1 network has a peer already: kept, the new one added,
     * the old element replaced, not doubled */
    assert_true(g_file_get_contents(path, &xml, NULL, NULL));
    {
        const char *s = strstr(xml, "<network");
        const char *e = strstr(xml, "</network>");

        g_autofree char *one = g_strndup(s, e + strlen("</network>") - s);
        net = vn_network_parse(one, -1, NULL, &err);
        assert_non_null(net);
        assert_true(net->nest);
        el = vn_peer_metadata(net, &peer, FALSE);
        edited = vn_xml_with_nest_metadata(one, "network", el, &err);
        assert_non_null(edited);
        again = vn_network_parse(edited, -1, NULL, &err);
        assert_non_null(again);
        assert_int_equal(again->peers->len, net->peers->len + 1);
        assert_null(strstr(strstr(edited, "</nest:network>") + 1,
                           "</nest:network>"));
        assert_string_equal(again->name, net->name);
        assert_string_equal(again->bridge, net->bridge);
    }
    assert_null(vn_xml_with_nest_metadata("<domain/>", "network", "<x/>",
                                          &err));
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(answer_into_partial_layer),
        cmocka_unit_test(bad_answers_refused_whole),
        cmocka_unit_test(propose_the_seed_delegation),
        cmocka_unit_test(propose_nothing_when_delegated),
        cmocka_unit_test(propose_refuses_what_the_hook_would),
        cmocka_unit_test(propose_skips_the_domains_own_nics),
        cmocka_unit_test(propose_refuses_another_guests_subnet),
        cmocka_unit_test(propose_keeps_the_metadata_there),
        cmocka_unit_test(next_hop_from_the_agent),
        cmocka_unit_test(propose_named_subnets),
        cmocka_unit_test(peer_metadata_into_network_xml),
        cmocka_unit_test(read_through_the_test_driver),
        cmocka_unit_test(adopt_keeps_libvirts_message),
        cmocka_unit_test(virt_error_is_per_thread),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
