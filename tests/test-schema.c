/* test-schema.c: xml/nest.rng accepts what the parser accepts, as far as a
 * schema can tell (the parser also checks values: host bits, duplicates). */
#include "config.h"

#include <string.h>
#include <libxml/parser.h>
#include <libxml/relaxng.h>

#include "testutil.h"
#include "libvirtxml.h"
#include "propose.h"
#include "xmlutil.h"

static xmlRelaxNG *schema;

static int
setup(void **state)
{
    xmlRelaxNGParserCtxt *pc = xmlRelaxNGNewParserCtxt(VN_SCHEMA);

    schema = xmlRelaxNGParse(pc);
    xmlRelaxNGFreeParserCtxt(pc);
    return schema ? 0 : -1;
}

static int
teardown(void **state)
{
    xmlRelaxNGFree(schema);
    return 0;
}

static void
quiet(void *ctx, const char *msg, ...)
{
}

/* Validate the first virt-nest element under <metadata> of @xml. */
static gboolean
schema_ok(const char *xml)
{
    g_autoptr(xmlDoc) doc = vn_xml_read(xml, -1, "test", NULL);
    xmlNode *root = xmlDocGetRootElement(doc), *meta = NULL, *nest = NULL;
    g_autoptr(xmlDoc) frag = NULL;
    xmlRelaxNGValidCtxt *vc;
    int rc;

    for (xmlNode *n = root->children; n; n = n->next)
        if (n->type == XML_ELEMENT_NODE && !strcmp((char *)n->name, "metadata"))
            meta = n;
    for (xmlNode *n = meta ? meta->children : NULL; n && !nest; n = n->next)
        if (n->type == XML_ELEMENT_NODE)
            nest = n;
    assert_non_null(nest);
    frag = xmlNewDoc((const xmlChar *)"1.0");
    xmlDocSetRootElement(frag, xmlDocCopyNode(nest, frag, 1));
    vc = xmlRelaxNGNewValidCtxt(schema);
    xmlRelaxNGSetValidErrors(vc, quiet, quiet, NULL);
    rc = xmlRelaxNGValidateDoc(vc, frag);
    xmlRelaxNGFreeValidCtxt(vc);
    return rc == 0;
}

static gboolean
parser_ok(const char *xml, gboolean network)
{
    g_autoptr(GError) nest_err = NULL;

    if (network) {
        g_autoptr(VnNetwork) n = vn_network_parse(xml, -1, &nest_err, NULL);

        return n && !nest_err && n->nest;
    } else {
        g_autoptr(VnGuest) g = vn_guest_parse(xml, -1, &nest_err, NULL);

        return g && !nest_err && g->nest;
    }
}

#define NS "xmlns:nest='urn:virt-nest:1'"

static void
fragments(void **state)
{
    static const struct {
        gboolean network;
        const char *meta;
        gboolean schema;
        gboolean parser;
    } cases[] = {
        { FALSE, "<nest:guest " NS "><nest:route subnet='192.168.124.0/24'/></nest:guest>", TRUE, TRUE },
        { FALSE, "<nest:guest " NS "><nest:uplink address='192.168.122.191'/>"
                 "<nest:route subnet='fd00:124::/64'/></nest:guest>", TRUE, TRUE },
        { FALSE, "<nest:guest " NS "/>", TRUE, TRUE },
        { FALSE, "<nest:guest " NS "><nest:route subnet='192.168.300.0/24'/></nest:guest>", FALSE, FALSE },
        { FALSE, "<nest:guest " NS "><nest:route subnet='192.168.124.0/33'/></nest:guest>", FALSE, FALSE },
        { FALSE, "<nest:guest " NS "><nest:route/></nest:guest>", FALSE, FALSE },
        { FALSE, "<nest:guest " NS "><nest:route subnet='10.0.0.0/8' x='1'/></nest:guest>", FALSE, FALSE },
        { FALSE, "<nest:guest " NS "><nest:gateway/></nest:guest>", FALSE, FALSE },
        { FALSE, "<nest:guest " NS "><nest:uplink mac='zz'/></nest:guest>", FALSE, FALSE },
        { FALSE, "<nest:guest " NS "><nest:uplink/><nest:uplink/></nest:guest>", FALSE, FALSE },
        /* values only the parser can judge */
        { FALSE, "<nest:guest " NS "><nest:route subnet='192.168.124.1/24'/></nest:guest>", TRUE, FALSE },
        { TRUE, "<nest:network " NS "><nest:peer subnet='192.168.122.0/24'/></nest:network>", TRUE, TRUE },
        { TRUE, "<nest:network " NS "><nest:peer subnet='192.168.122.0'/></nest:network>", FALSE, FALSE },
        { TRUE, "<nest:network " NS "><nest:route subnet='192.168.122.0/24'/></nest:network>", FALSE, FALSE },
    };

    for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_autofree char *xml = cases[i].network
            ? g_strdup_printf("<network><name>n</name><metadata>%s</metadata>"
                              "<bridge name='virbr0'/></network>", cases[i].meta)
            : g_strdup_printf("<domain><name>g</name><metadata>%s</metadata>"
                              "<devices><interface type='network'>"
                              "<mac address='52:54:00:fc:38:e0'/>"
                              "<source network='default'/></interface>"
                              "</devices></domain>", cases[i].meta);

        if (schema_ok(xml) != cases[i].schema)
            fail_msg("schema says %d for %s", !cases[i].schema, cases[i].meta);
        if (parser_ok(xml, cases[i].network) != cases[i].parser)
            fail_msg("parser says %d for %s", !cases[i].parser, cases[i].meta);
    }
}

static void
examples(void **state)
{
    /* the metadata in the bundled examples validates */
    static const char *const files[] = { "seed-l0.xml", "seed-l1.xml" };

    for (guint i = 0; i < G_N_ELEMENTS(files); i++) {
        g_autofree char *path = g_build_filename(VN_EXAMPLES, files[i], NULL);
        g_autofree char *text = NULL;
        g_autoptr(xmlDoc) doc = NULL;
        xmlNode *root;
        guint checked = 0;

        assert_true(g_file_get_contents(path, &text, NULL, NULL));
        doc = vn_xml_read(text, -1, "node", NULL);
        root = xmlDocGetRootElement(doc);
        for (xmlNode *n = root->children; n; n = n->next) {
            xmlBuffer *buf;

            if (n->type != XML_ELEMENT_NODE)
                continue;
            buf = xmlBufferCreate();
            xmlNodeDump(buf, doc, n, 0, 0);
            if (strstr((const char *)xmlBufferContent(buf), "urn:virt-nest:1")) {
                assert_true(schema_ok((const char *)xmlBufferContent(buf)));
                checked++;
            }
            xmlBufferFree(buf);
        }
        assert_int_equal(checked, 1);
    }
}

/* What adopt writes validates and parses back: the <nest:guest> of a
 * proposal (uplink and routes kept, the proposed subnets added) and the
 * <nest:network> with the peer added, each as libvirt stores it. */
static void
adopt_metadata(void **state)
{
    const char *dom = "<domain><name>debian</name><metadata>"
        "<nest:guest " NS "><nest:uplink mac='52:54:00:fc:38:e0'/>"
        "<nest:route subnet='192.168.124.0/24'/></nest:guest></metadata>"
        "<devices><interface type='network'>"
        "<mac address='52:54:00:fc:38:e0'/><source network='default'/>"
        "</interface></devices></domain>";
    const char *net = "<network><name>default</name><metadata>"
        "<nest:network " NS "><nest:peer subnet='192.168.122.0/24'/>"
        "</nest:network></metadata><bridge name='virbr0'/></network>";
    g_autoptr(VnLayer) layer = vn_layer_new("test:///none");
    g_autoptr(GArray) subnets = g_array_new(FALSE, TRUE, sizeof(VnCidr));
    g_autoptr(VnProposal) p = NULL;
    g_autoptr(VnNetwork) n = NULL;
    g_autofree char *dxml = NULL, *nxml = NULL, *el = NULL, *edited = NULL;
    VnGuest *g = vn_guest_parse(dom, -1, NULL, NULL);
    VnConfig config;
    VnCidr c;

    assert_non_null(g);
    g_ptr_array_add(layer->guests, g);
    vn_config_init(&config);
    assert_true(vn_cidr_parse("192.168.125.0/24", VN_CIDR_SUBNET, &c, NULL));
    g_array_append_val(subnets, c);
    p = vn_propose_subnets(layer, g, subnets, &config);
    assert_non_null(p->metadata);
    dxml = g_strdup_printf("<domain><name>debian</name><metadata>%s"
                           "</metadata><devices><interface type='network'>"
                           "<mac address='52:54:00:fc:38:e0'/>"
                           "<source network='default'/></interface>"
                           "</devices></domain>", p->metadata);
    assert_true(schema_ok(dxml));
    assert_true(parser_ok(dxml, FALSE));
    assert_non_null(strstr(p->metadata, "52:54:00:fc:38:e0"));

    n = vn_network_parse(net, -1, NULL, NULL);
    assert_non_null(n);
    assert_true(vn_cidr_parse("10.5.0.0/16", VN_CIDR_SUBNET, &c, NULL));
    el = vn_peer_metadata(n, &c, FALSE);
    edited = vn_xml_with_nest_metadata(net, "network", el, NULL);
    assert_non_null(edited);
    assert_true(schema_ok(edited));
    assert_true(parser_ok(edited, TRUE));
    nxml = g_strdup_printf("<network><name>n</name><metadata>%s</metadata>"
                           "</network>", el);
    assert_true(schema_ok(nxml));
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(fragments),
        cmocka_unit_test(examples),
        cmocka_unit_test(adopt_metadata),
    };

    return cmocka_run_group_tests(tests, setup, teardown);
}
