/* test-xml.c: the XML reader, on libvirt's XML and against libxml2. */
#include "config.h"

#include <string.h>
#include <libxml/parser.h>
#include <libxml/tree.h>

#include "testutil.h"
#include "xml.h"

static void
basics(void **state)
{
    g_autoptr(GError) err = NULL;
    g_autoptr(VnXmlNode) root = vn_xml_parse(
        "<?xml version='1.0'?>\n<!-- c -->\n<domain type='qemu' id=\"1\">\n"
        "  <name>a &amp; b &#x41;&#66;</name>\n"
        "  <metadata><nest:guest xmlns:nest='urn:virt-nest:1'>"
        "<nest:route subnet='10.0.0.0/8'/></nest:guest>"
        "<x xmlns='urn:x'><y/></x></metadata>\n"
        "  <description><![CDATA[<raw>]]></description>\n"
        "  <title a='1\n2' b='1&#10;2'>t</title>\n"
        "</domain>\n<!-- after -->\n", -1, "domain", &err);
    VnXmlNode *meta, *g, *x;

    assert_null(err);
    assert_string_equal(root->name, "domain");
    assert_string_equal(vn_xml_attr(root, "type"), "qemu");
    assert_string_equal(vn_xml_attr(root, "id"), "1");
    assert_null(vn_xml_attr(root, "nope"));
    assert_string_equal(vn_xml_child(root, "name")->text, "a & b AB");
    assert_int_equal(vn_xml_child(root, "name")->line, 4);
    meta = vn_xml_child(root, "metadata");
    g = meta->children;
    assert_string_equal(g->name, "guest");
    assert_string_equal(g->prefix, "nest");
    assert_string_equal(g->ns, "urn:virt-nest:1");
    assert_string_equal(g->children->ns, "urn:virt-nest:1");
    assert_null(vn_xml_attr(g, "xmlns:nest"));
    x = g->next;
    assert_string_equal(x->ns, "urn:x");
    assert_string_equal(x->children->ns, "urn:x");   /* default namespace */
    assert_false(vn_xml_is(x, "x"));
    assert_null(vn_xml_child(meta, "x"));
    assert_string_equal(vn_xml_child(root, "description")->text, "<raw>");
    assert_string_equal(vn_xml_attr(vn_xml_child(root, "title"), "a"), "1 2");
    assert_string_equal(vn_xml_attr(vn_xml_child(root, "title"), "b"), "1\n2");
}

static void
unbound_prefix(void **state)
{
    g_autoptr(VnXmlNode) root = vn_xml_parse("<a><nest:guest/></a>", -1, "t", NULL);

    assert_non_null(root);
    assert_string_equal(root->children->prefix, "nest");
    assert_null(root->children->ns);
}

static void
errors(void **state)
{
    static const struct {
        const char *xml;
        const char *msg;
    } cases[] = {
        { "", "t XML: empty input" },
        { "  \n", "t XML: empty input" },
        { "hello", "t XML: no element" },
        { "<a>", "line 1: <a> is not closed" },
        { "<a></b>", "line 1: </b> closes <a>" },
        { "<a x='1' x='2'/>", "attribute x appears twice in <a>" },
        { "<a x=1/>", "the value of x is not quoted" },
        { "<a x='1'y='2'/>", "a space is needed between attributes" },
        { "<a>&foo;</a>", "unknown entity &foo;" },
        { "<a>&#0;</a>", "bad character reference" },
        { "<a>&#xd800;</a>", "bad character reference" },
        { "<a x='<'/>", "'<' in an attribute value" },
        { "<a/><b/>", "extra content after the root element <a>" },
        { "<!DOCTYPE a [<!ENTITY e SYSTEM 'file:///etc/passwd'>]><a>&e;</a>",
          "DOCTYPE declarations are not accepted" },
        { "<a>\n<!-- open", "line 2: unterminated comment" },
        { "<a><![CDATA[x</a>", "unterminated CDATA section" },
        { "<1a/>", "a name was expected" },
        { "text<a/>", "does not start with an element" },
    };

    for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_autoptr(GError) err = NULL;
        g_autoptr(VnXmlNode) root = vn_xml_parse(cases[i].xml, -1, "t", &err);

        if (root)
            fail_msg("'%s' parsed", cases[i].xml);
        assert_error_contains(err, cases[i].msg);
    }
}

/* ------------------------------------------------------------------ */
/* against libxml2                                                     */

static gboolean
libxml2_ok(const char *xml, gsize len)
{
    xmlParserCtxt *ctxt = xmlNewParserCtxt();
    xmlDoc *doc = xmlCtxtReadMemory(ctxt, xml, (int)len, NULL, NULL,
                                    XML_PARSE_NONET | XML_PARSE_NOERROR |
                                    XML_PARSE_NOWARNING);
    gboolean ok = doc && ctxt->wellFormed;

    xmlFreeDoc(doc);
    xmlFreeParserCtxt(ctxt);
    return ok;
}

/* Element names, namespaces and attributes, flattened, from both. */
static void
dump_ours(const VnXmlNode *n, GString *out)
{
    for (; n; n = n->next) {
        /* libxml2 keeps the whole name when a prefix is unbound */
        if (n->prefix && !n->ns)
            g_string_append_printf(out, "<%s:%s {}", n->prefix, n->name);
        else
            g_string_append_printf(out, "<%s {%s}", n->name, n->ns ? n->ns : "");
        for (guint i = 0; i < n->attrs->len; i++) {
            const VnXmlAttr *a = &g_array_index(n->attrs, VnXmlAttr, i);

            if (a->prefix && !a->ns)
                g_string_append_printf(out, " %s:%s=%s", a->prefix, a->name,
                                       a->value);
            else
                g_string_append_printf(out, " %s=%s", a->name, a->value);
        }
        g_string_append(out, ">");
        dump_ours(n->children, out);
    }
}

static void
dump_theirs(const xmlNode *n, GString *out)
{
    for (; n; n = n->next) {
        if (n->type != XML_ELEMENT_NODE)
            continue;
        g_string_append_printf(out, "<%s {%s}", n->name,
                               n->ns && n->ns->href ? (char *)n->ns->href : "");
        for (const xmlAttr *a = n->properties; a; a = a->next) {
            xmlChar *v = xmlNodeListGetString(n->doc, a->children, 1);

            g_string_append_printf(out, " %s=%s", a->name, v ? (char *)v : "");
            xmlFree(v);
        }
        g_string_append(out, ">");
        dump_theirs(n->children, out);
    }
}

static void
same_as_libxml2(const char *xml, gsize len, gboolean must_parse)
{
    g_autoptr(VnXmlNode) ours = vn_xml_parse(xml, (gssize)len, "t", NULL);
    gboolean theirs_ok = libxml2_ok(xml, len);

    if (must_parse && !ours)
        fail_msg("a real document did not parse");
    /* stricter is fine (no DOCTYPE); laxer is not */
    if (ours && !theirs_ok)
        fail_msg("accepted what libxml2 rejects: %.*s", (int)MIN(len, 200), xml);
    if (ours) {
        xmlDoc *doc = xmlReadMemory(xml, (int)len, NULL, NULL,
                                    XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
        g_autoptr(GString) a = g_string_new(NULL), b = g_string_new(NULL);

        dump_ours(ours, a);
        dump_theirs(xmlDocGetRootElement(doc), b);
        xmlFreeDoc(doc);
        assert_string_equal(a->str, b->str);
    } else if (theirs_ok && !strstr(xml, "<!DOCTYPE") && len &&
               !memchr(xml, '\0', len)) {
        fail_msg("rejected what libxml2 accepts: %.*s", (int)MIN(len, 200), xml);
    }
}

static GPtrArray *
corpus(void)
{
    GPtrArray *docs = g_ptr_array_new_with_free_func(g_free);
    g_autofree char *hook = g_build_filename(VN_TEST_DATA, "hook", NULL);
    g_autoptr(GDir) d = g_dir_open(hook, 0, NULL);
    const char *f;

    while (d && (f = g_dir_read_name(d))) {
        g_autofree char *p = g_build_filename(hook, f, NULL);
        char *text;

        if (g_file_get_contents(p, &text, NULL, NULL))
            g_ptr_array_add(docs, text);
    }
    for (guint i = 0; i < 2; i++) {
        g_autofree char *p = g_build_filename(VN_EXAMPLES, i ? "seed-l1.xml"
                                                             : "seed-l0.xml", NULL);
        char *text;

        if (g_file_get_contents(p, &text, NULL, NULL))
            g_ptr_array_add(docs, text);
    }
    return docs;
}

static void
real_documents(void **state)
{
    g_autoptr(GPtrArray) docs = corpus();

    assert_true(docs->len >= 16);
    for (guint i = 0; i < docs->len; i++)
        same_as_libxml2(docs->pdata[i], strlen(docs->pdata[i]), TRUE);
}

static void
mutations(void **state)
{
    static const char bytes[] = "<>/&;'\"=:x \n!?-[]#";
    g_autoptr(GPtrArray) docs = corpus();
    /* a fixed seed for CI; VN_XML_SEED explores others */
    const char *env = g_getenv("VN_XML_SEED");
    guint32 seed = env ? (guint32)g_ascii_strtoull(env, NULL, 10) : 20261124;
    GRand *rand = g_rand_new_with_seed(seed);

    for (guint i = 0; i < 20000; i++) {
        const char *doc = docs->pdata[g_rand_int_range(rand, 0, (gint32)docs->len)];
        gsize len = strlen(doc);
        g_autofree char *m = g_strdup(doc);
        guint edits = (guint)g_rand_int_range(rand, 1, 4);

        for (guint k = 0; k < edits; k++) {
            gsize at = (gsize)g_rand_int_range(rand, 0, (gint32)len);

            switch (g_rand_int_range(rand, 0, 3)) {
            case 0:     /* replace a byte */
                m[at] = bytes[g_rand_int_range(rand, 0, sizeof(bytes) - 1)];
                break;
            case 1:     /* delete a byte */
                memmove(m + at, m + at + 1, len - at);
                len--;
                break;
            default:    /* truncate */
                len = at;
                m[len] = '\0';
                break;
            }
            if (!len)
                break;
        }
        same_as_libxml2(m, len, FALSE);
    }
    g_rand_free(rand);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(basics),
        cmocka_unit_test(unbound_prefix),
        cmocka_unit_test(errors),
        cmocka_unit_test(real_documents),
        cmocka_unit_test(mutations),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
