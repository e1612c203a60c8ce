/* fuzz-nest.c: snapshots from other hosts (vn_snapshot_parse), planned
 * (vn_plan_layer), stitched into a nest (vn_nest_stitch), drawn
 * (vn_graph_*) and walked by doctor (vn_doctor_run). The input is up to
 * four snapshots, "\n--\n" between them. The JSON drawn must be JSON.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include <netinet/in.h>

#include "doctor.h"
#include "fuzz.h"
#include "json.h"
#include "layerplan.h"
#include "nestview.h"
#include "snapshot.h"

static void
check_json(const char *text)
{
    g_autoptr(GError) err = NULL;
    g_autoptr(VnJson) j = vn_json_parse(text, -1, &err);

    if (!j) {
        fprintf(stderr, "not JSON: %s\n%s", err->message, text);
        abort();
    }
}

static void
doctor(const VnNest *nest, const char *from, const char *to, guint8 proto,
       guint size)
{
    VnDoctorQuery q = { .proto = proto, .size = size };
    g_autoptr(VnDoctor) doc = NULL;
    g_autoptr(GError) err = NULL;

    vn_cidr_parse(from, VN_CIDR_ADDRESS, &q.from, NULL);
    vn_cidr_parse(to, VN_CIDR_ADDRESS, &q.to, NULL);
    if (!(doc = vn_doctor_run(nest, &q, &err)))
        return;
    g_free(vn_doctor_text(doc, &q));
    /* the walk on the pictures: marks, bold edges, the legend */
    {
        VnGraphOptions o = { .all_links = TRUE, .doctor = doc, .query = &q };

        g_free(vn_graph_dot(nest, &o));
        g_free(vn_graph_mermaid(nest, &o));
    }
    {
        g_autofree char *json = vn_doctor_json(doc, &q);

        check_json(json);
    }
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const names[] = { "L0", "L1", "L2", "L3" };
    g_autoptr(GPtrArray) layers =
        g_ptr_array_new_with_free_func((GDestroyNotify)vn_layer_free);
    g_autoptr(GPtrArray) sources = g_ptr_array_new();
    g_autoptr(VnNest) nest = NULL;
    g_autoptr(GError) err = NULL;
    VnConfig config;

    vn_config_init(&config);
    for (guint i = 0; i < G_N_ELEMENTS(names) && size; i++) {
        size_t len;
        g_autofree char *part = vn_fuzz_next(&data, &size, "\n--\n", &len);
        g_autoptr(GError) e = NULL;
        VnLayer *l = vn_snapshot_parse(part, (gssize)len, names[i], &e);

        if (!l) {
            VN_FUZZ_CHECK(e != NULL);
            continue;
        }
        vn_plan_free(vn_plan_layer(l, &config, 0));
        g_ptr_array_add(layers, l);
        g_ptr_array_add(sources, (gpointer)names[i]);
    }
    if (!layers->len)
        return 0;
    if (!(nest = vn_nest_stitch(layers, sources, &err))) {
        VN_FUZZ_CHECK(err != NULL);
        return 0;
    }
    g_free(vn_graph_text(nest));
    g_free(vn_graph_mermaid(nest, NULL));
    g_free(vn_graph_dot(nest, NULL));
    {
        g_autofree char *json = vn_graph_json(nest);

        check_json(json);
    }
    doctor(nest, "192.168.122.1", "192.168.124.91", IPPROTO_ICMP, 0);
    doctor(nest, "192.168.124.91", "172.24.21.254", IPPROTO_TCP, 1400);
    return 0;
}
