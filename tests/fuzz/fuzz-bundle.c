/* fuzz-bundle.c: a walk's bundle from a guest (vn_bundle_parse): what it
 * accepts must also pass vn_bundle_check, hold as many layers as it says
 * (each tied to an earlier full one), and stitch, draw and walk (doctor)
 * without harm, as snapshots do (fuzz-nest.c). What vn_bundle_check
 * passes, the walk's builder takes in as an inner bundle and writes a
 * bundle that reads back with one more layer.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include <netinet/in.h>

#include "bundle.h"
#include "doctor.h"
#include "fuzz.h"
#include "json.h"
#include "nestview.h"
#include "stitch.h"

static const char top[] =
    "{\"format\": \"virt-nest-status\", \"version\": 1, \"guests\": "
    "[{\"name\": \"g\", \"state\": \"running\"}]}";

/* The builder takes a checked bundle in, as the walk takes a guest's. */
static void
rebuild(const char *text, size_t len, guint n)
{
    g_autoptr(VnJson) inner = vn_json_parse(text, (gssize)len, NULL);
    g_autoptr(VnBundleBuilder) b = NULL;
    g_autoptr(VnBundle) back = NULL;
    g_autoptr(GError) err = NULL;
    g_autofree char *out = NULL;

    VN_FUZZ_CHECK(inner != NULL);
    b = vn_bundle_builder_new(vn_json_parse(top, -1, NULL));
    if (!vn_bundle_builder_add(b, 0, "g", NULL, g_steal_pointer(&inner),
                               &err)) {
        VN_FUZZ_CHECK(n + 1 > VN_BUNDLE_MAX_LAYERS);
        return;
    }
    out = vn_bundle_builder_finish(b);
    back = vn_bundle_parse(out, -1, "rebuilt", &err);
    if (!back)
        fprintf(stderr, "%s\n%s", err->message, out);
    VN_FUZZ_CHECK(back != NULL);
    VN_FUZZ_CHECK(back->layers->len == n + 1);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    g_autofree char *text = g_strndup((const char *)data, size);
    g_autoptr(GError) err = NULL;
    g_autoptr(VnBundle) b = vn_bundle_parse(text, (gssize)size, "fuzz", &err);
    g_autoptr(GPtrArray) layers = NULL;
    g_autoptr(GPtrArray) names = NULL;
    g_autoptr(VnNest) nest = NULL;
    VnDoctorQuery q = { .proto = IPPROTO_ICMP };
    guint n;

    if (!b) {
        VN_FUZZ_CHECK(err != NULL);
        return 0;
    }
    n = b->layers->len;
    VN_FUZZ_CHECK(n >= 1 && n <= VN_BUNDLE_MAX_LAYERS);
    layers = g_ptr_array_new_with_free_func((GDestroyNotify)vn_layer_free);
    names = g_ptr_array_new_with_free_func(g_free);
    for (guint i = 0; i < n; i++) {
        VnBundleLayer *bl = b->layers->pdata[i];

        VN_FUZZ_CHECK(i == 0 ? bl->parent == -1
                             : bl->parent >= 0 && (guint)bl->parent < i);
        VN_FUZZ_CHECK((i == 0) == (bl->guest == NULL));
        g_ptr_array_add(layers, g_steal_pointer(&bl->layer));
        g_ptr_array_add(names, g_strdup_printf("L%u", i));
    }
    rebuild(text, size, n);
    if (!(nest = vn_nest_stitch(layers, names, &err))) {
        VN_FUZZ_CHECK(err != NULL);
        return 0;
    }
    g_free(vn_graph_text(nest));
    g_free(vn_graph_json(nest));
    vn_cidr_parse("192.168.122.1", VN_CIDR_ADDRESS, &q.from, NULL);
    vn_cidr_parse("192.168.124.91", VN_CIDR_ADDRESS, &q.to, NULL);
    {
        g_autoptr(VnDoctor) doc = vn_doctor_run(nest, &q, NULL);

        if (doc)
            g_free(vn_doctor_text(doc, &q));
    }
    return 0;
}
