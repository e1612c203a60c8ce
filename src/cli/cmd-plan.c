/* cmd-plan.c: virt-nest plan.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>

#include "cli.h"
#include "discover.h"
#include "json.h"
#include "ledger.h"
#include "plandefine.h"
#include "nestalloc.h"
#include "snapshot.h"

typedef virConnect VnVirConnect;
static void
conn_close(VnVirConnect *c)
{
    virConnectClose(c);
}
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VnVirConnect, conn_close)

typedef struct {
    VnDiscoverOptions dopts;
    VnNestOptions nopts;
    GPtrArray *layers;          /* char*: --layer files */
    gboolean json;
    const char *output_dir;
    gboolean apply;
    const char *inner_uri;
} PlanArgs;

static void
usage(FILE *f)
{
    fprintf(f,
"Usage: virt-nest plan [-c URI] --network NET --guest NAME [--mac MAC]\n"
"                      [--depth N] [--pool CIDR]... [--prefix LEN]\n"
"                      [--layer SNAPSHOT.json]... [--json] [--output-dir DIR]\n"
"                      [--apply] [--connect-inner URI] [--leases-dir DIR]\n\n"
"Plan the address of guest NAME on network NET of this layer, and a subnet\n"
"for each of N nested levels below it, colliding with nothing known\n"
"anywhere in the nest, with the XML that sets them up.\n\n"
"  -c, --connect URI      this layer's libvirt (default: LIBVIRT_DEFAULT_URI,\n"
"                         else qemu:///system)\n"
"      --network NET      the network the guest is (or will be) on\n"
"      --guest NAME       the guest that hosts the nested levels\n"
"      --mac MAC          its MAC (default: its interface's, else generated)\n"
"      --depth N          nested levels to plan (default 1, at most\n"
"                         max_entries of virt-nest.conf)\n"
"      --pool CIDR        where subnets come from, in order (repeatable;\n"
"                         default 192.168.124.0/24 and up, then 10.0.0.0/8)\n"
"      --prefix LEN       prefix length of each subnet (default 24)\n"
"      --layer FILE       `virt-nest status --json` of another layer\n"
"                         (repeatable): what is in use there is avoided\n"
"      --json             JSON for programs\n"
"      --output-dir DIR   write every XML file of the plan into DIR\n"
"      --apply            apply this layer's part: the DHCP reservation, and\n"
"                         the metadata when the guest exists\n"
"      --connect-inner URI  also define level 1's network there (e.g.\n"
"                         qemu+ssh://192.168.122.191/system)\n"
"      --leases-dir DIR   libvirt's lease status files (BRIDGE.status)\n"
"  -h, --help             show this help\n");
}

/* ------------------------------------------------------------------ */
/* output                                                              */

static const char *
cidr(const VnCidr *c, gboolean prefix, char *buf)
{
    return vn_cidr_format(c, prefix, buf);
}

static void
text_xml(GString *out, const char *xml, const char *indent)
{
    g_auto(GStrv) lines = g_strsplit(xml, "\n", -1);

    for (guint i = 0; lines[i]; i++)
        if (*lines[i])
            g_string_append_printf(out, "%s%s\n", indent, lines[i]);
}

/* The virsh command that sets the guest's metadata: --config for a
 * shut-off (or not yet defined) guest, --live too for a running one
 * (virsh refuses --live on a shut-off guest, "domain is not running").
 * @file: the metadata file of --output-dir, or NULL for the XML inline.
 * transfer full. */
static char *
virsh_command(const VnNestPlan *p, const VnLayer *layer, const char *file)
{
    const VnGuest *g = vn_layer_find_guest(layer, p->guest);
    gboolean running = g && g->state && g_strcmp0(g->state, "shut off") &&
                       g_strcmp0(g->state, "crashed");
    g_autofree char *xml = vn_nest_guest_metadata_virsh(p->routes);
    g_auto(GStrv) lines = g_strsplit(xml, "\n", -1);
    g_autoptr(GString) one = g_string_new(NULL);
    g_autofree char *quri = g_shell_quote(layer->uri ? layer->uri
                                                     : vn_default_uri(NULL));
    g_autofree char *qguest = g_shell_quote(p->guest);
    g_autofree char *qset = NULL;
    const char *flags;

    for (guint i = 0; lines[i]; i++)
        g_string_append(one, g_strstrip(lines[i]));
    if (file) {
        g_autofree char *qfile = g_shell_quote(file);

        qset = g_strdup_printf("\"$(cat %s)\"", qfile);
    } else {
        qset = g_shell_quote(one->str);
    }
    if (running)
        flags = g && !g->persistent ? "--live" : "--live --config";
    else
        flags = "--config";
    return g_strdup_printf("virsh -c %s metadata %s --uri " VN_NS_URI
                           " --key nest %s --set %s", quri, qguest, flags,
                           qset);
}

static char *
render_text(const VnNestPlan *p, const VnLayer *layer, GPtrArray *installs,
            GPtrArray *collisions, GArray *pool)
{
    GString *out = g_string_new(NULL);
    char a[VN_CIDR_STRLEN], b[VN_CIDR_STRLEN], c[VN_CIDR_STRLEN];
    g_autofree char *host = vn_nest_dhcp_host_xml(p->mac, p->guest, &p->address);
    g_autofree char *meta = vn_nest_guest_metadata(p->routes, NULL);
    g_autofree char *virsh = virsh_command(p, layer, NULL);

    g_string_append_printf(out, "Plan: domain '%s' on network '%s' of %s, "
                           "%u level%s deep\n", p->guest, p->network,
                           layer->uri ? layer->uri : "this layer",
                           p->levels->len, p->levels->len == 1 ? "" : "s");
    g_string_append(out, "\nThis layer (L0)\n");
    g_string_append_printf(out, "  guest        %s%s, MAC %s%s\n", p->guest,
                           p->guest_exists ? "" : " (not defined yet)", p->mac,
                           p->mac_reserved ? " (generated by an earlier "
                                             "run, reserved)"
                           : p->mac_generated ? " (generated)" : "");
    g_string_append_printf(out, "  reservation  %s on %s (%s)%s\n",
                           cidr(&p->address, FALSE, a), p->network,
                           cidr(&p->network_subnet, TRUE, b),
                           p->address_exists ? ", exists"
                           : p->address_in_range ? ", inside the DHCP range: no "
                                                   "address outside it was free"
                                                 : ", outside the DHCP range");
    if (!p->address_exists)
        g_string_append_printf(out, "               %s\n", host);
    if (!p->address_exists && !vn_nest_host_name_ok(p->guest))
        g_string_append(out, "               (no name=: libvirt takes only an "
                             "ASCII letter, then letters, digits, '-' and '.')\n");
    g_string_append_printf(out, "  metadata     domain '%s'%s:\n", p->guest,
                           p->metadata_exists ? " (in place already)" : "");
    text_xml(out, meta, "                 ");
    if (!p->metadata_exists)
        g_string_append_printf(out, "               set it: %s\n", virsh);
    for (guint k = 0; k < p->levels->len; k++) {
        const VnNestLevel *l = p->levels->pdata[k];
        g_autofree char *peers = vn_cidr_join(l->peers);
        const char *in = k ? ((VnNestLevel *)p->levels->pdata[k - 1])->guest
                           : p->guest;

        g_string_append_printf(out, "\nLevel %u (inside %s)\n", l->level, in);
        g_string_append_printf(out, "  network      %s on %s: %s, NAT, DHCP %s - %s\n",
                               l->network, l->bridge, cidr(&l->address, TRUE, a),
                               cidr(&l->range_start, FALSE, b),
                               cidr(&l->range_end, FALSE, c));
        g_string_append_printf(out, "               peers %s\n", peers);
        if (l->guest) {
            g_autofree char *r = vn_cidr_join(l->guest_routes);

            g_string_append_printf(out, "  guest        %s: MAC %s, reserved %s "
                                   "(outside the range), nests %s\n", l->guest,
                                   l->guest_mac,
                                   cidr(&l->guest_address, FALSE, b), r);
        }
    }
    g_string_append(out, "\nWhat the hooks will install\n");
    for (guint i = 0; i < installs->len; i++)
        g_string_append_printf(out, "  %s\n", (char *)installs->pdata[i]);
    if (collisions->len) {
        g_string_append(out, "\nCollisions on this layer\n");
        for (guint i = 0; i < collisions->len; i++) {
            const VnCollision *col = collisions->pdata[i];
            g_autofree char *msg = vn_collision_describe(col);

            g_string_append_printf(out, "  %s:\n", msg);
            if (col->xml)
                text_xml(out, col->xml, "    ");
        }
    }
    /* what was in the way: in use, and in the pool (--json lists all) */
    g_string_append(out, "\nAvoided: in use somewhere in the nest, in the pool\n");
    for (guint i = 0; i < p->in_use->len; i++) {
        const VnInUse *u = p->in_use->pdata[i];
        gboolean in_pool = FALSE;

        for (guint k = 0; k < pool->len; k++)
            in_pool = in_pool || vn_cidr_overlaps(&g_array_index(pool, VnCidr, k),
                                                  &u->cidr);
        if (in_pool)
            g_string_append_printf(out, "  %-18s %s\n",
                                   cidr(&u->cidr, TRUE, a), u->what);
    }
    return g_string_free(out, FALSE);
}

static void
json_cidr_list(VnJsonWriter *w, const char *key, GArray *list)
{
    char a[VN_CIDR_STRLEN];

    vn_json_begin_array(w, key);
    for (guint i = 0; i < list->len; i++)
        vn_json_string(w, NULL, cidr(&g_array_index(list, VnCidr, i), TRUE, a));
    vn_json_end_array(w);
}

static char *
render_json(const VnNestPlan *p, const VnLayer *layer, GPtrArray *installs,
            GPtrArray *collisions)
{
    g_autoptr(VnJsonWriter) w = vn_json_writer_new();
    g_autofree char *host = vn_nest_dhcp_host_xml(p->mac, p->guest, &p->address);
    g_autofree char *meta = vn_nest_guest_metadata(p->routes, NULL);
    g_autofree char *virsh = virsh_command(p, layer, NULL);
    char a[VN_CIDR_STRLEN];

    vn_json_begin_object(w, NULL);
    vn_json_string(w, "format", "virt-nest-plan");
    vn_json_int(w, "version", 1);
    vn_json_string(w, "uri", layer->uri);
    vn_json_begin_object(w, "network");
    vn_json_string(w, "name", p->network);
    vn_json_string(w, "bridge", p->bridge);
    vn_json_string(w, "subnet", cidr(&p->network_subnet, TRUE, a));
    vn_json_end_object(w);
    vn_json_begin_object(w, "guest");
    vn_json_string(w, "name", p->guest);
    vn_json_bool(w, "exists", p->guest_exists);
    vn_json_string(w, "mac", p->mac);
    vn_json_bool(w, "mac_generated", p->mac_generated);
    vn_json_bool(w, "mac_reserved", p->mac_reserved);
    vn_json_string(w, "address", cidr(&p->address, FALSE, a));
    vn_json_bool(w, "reservation_exists", p->address_exists);
    vn_json_bool(w, "in_dhcp_range", p->address_in_range);
    vn_json_string(w, "dhcp_host", host);
    json_cidr_list(w, "routes", p->routes);
    vn_json_string(w, "metadata", meta);
    vn_json_bool(w, "metadata_exists", p->metadata_exists);
    vn_json_string(w, "metadata_virsh", virsh);
    vn_json_end_object(w);
    vn_json_begin_array(w, "levels");
    for (guint k = 0; k < p->levels->len; k++) {
        const VnNestLevel *l = p->levels->pdata[k];
        g_autofree char *xml = vn_nest_level_network_xml(l);

        vn_json_begin_object(w, NULL);
        vn_json_int(w, "level", l->level);
        vn_json_string(w, "network", l->network);
        vn_json_string(w, "bridge", l->bridge);
        vn_json_string(w, "subnet", cidr(&l->subnet, TRUE, a));
        vn_json_string(w, "address", cidr(&l->address, TRUE, a));
        vn_json_begin_object(w, "dhcp_range");
        vn_json_string(w, "start", cidr(&l->range_start, FALSE, a));
        vn_json_string(w, "end", cidr(&l->range_end, FALSE, a));
        vn_json_end_object(w);
        json_cidr_list(w, "peers", l->peers);
        vn_json_string(w, "xml", xml);
        if (l->guest) {
            g_autofree char *gm = vn_nest_guest_metadata(l->guest_routes, NULL);

            vn_json_begin_object(w, "guest");
            vn_json_string(w, "name", l->guest);
            vn_json_string(w, "mac", l->guest_mac);
            vn_json_string(w, "address", cidr(&l->guest_address, FALSE, a));
            json_cidr_list(w, "routes", l->guest_routes);
            vn_json_string(w, "metadata", gm);
            vn_json_end_object(w);
        } else {
            vn_json_null(w, "guest");
        }
        vn_json_end_object(w);
    }
    vn_json_end_array(w);
    vn_json_begin_array(w, "installs");
    for (guint i = 0; i < installs->len; i++)
        vn_json_string(w, NULL, installs->pdata[i]);
    vn_json_end_array(w);
    vn_json_begin_array(w, "collisions");
    for (guint i = 0; i < collisions->len; i++) {
        const VnCollision *col = collisions->pdata[i];

        vn_json_begin_object(w, NULL);
        vn_json_string(w, "network", col->network);
        vn_json_string(w, "subnet", cidr(&col->subnet, TRUE, a));
        vn_json_string(w, "address", cidr(&col->address, TRUE, a));
        vn_json_string(w, "link", col->link);
        if (vn_cidr_is_empty(&col->renumber))
            vn_json_null(w, "renumber");
        else
            vn_json_string(w, "renumber", cidr(&col->renumber, TRUE, a));
        vn_json_string(w, "xml", col->xml);
        vn_json_end_object(w);
    }
    vn_json_end_array(w);
    vn_json_begin_array(w, "avoided");
    for (guint i = 0; i < p->in_use->len; i++) {
        const VnInUse *u = p->in_use->pdata[i];

        vn_json_begin_object(w, NULL);
        vn_json_string(w, "subnet", cidr(&u->cidr, TRUE, a));
        vn_json_string(w, "what", u->what);
        vn_json_end_object(w);
    }
    vn_json_end_array(w);
    vn_json_end_object(w);
    return vn_json_writer_finish(w);
}

/* Write @text to DIR/NAME, NAME with '/', '%' and control bytes as %XX:
 * the names in it come from the command line and from other layers'
 * snapshots, and must not lead out of @dir. Through a temporary file of
 * its own (mkstemp) and rename. */
static gboolean
write_file(const char *dir, const char *name, const char *text)
{
    g_autoptr(GString) safe = g_string_new(NULL);
    g_autofree char *path = NULL;
    g_autoptr(GError) err = NULL;

    for (const guchar *p = (const guchar *)name; *p; p++) {
        if (*p == '/' || *p == '%' || *p < 0x20 || *p == 0x7f)
            g_string_append_printf(safe, "%%%02X", *p);
        else
            g_string_append_c(safe, (char)*p);
    }
    path = g_build_filename(dir, safe->str, NULL);
    if (!vn_file_replace(path, NULL, text, strlen(text), 0644, FALSE, &err)) {
        vn_cli_error("%s", err->message);
        return FALSE;
    }
    return TRUE;
}

/* The files of --output-dir; the metadata files in the form virsh
 * metadata --set takes, and with @json FALSE the command that sets this
 * layer's on stdout. */
static gboolean
write_output(const VnNestPlan *p, const VnLayer *layer, const char *dir,
             gboolean json)
{
    g_autofree char *host = vn_nest_dhcp_host_xml(p->mac, p->guest, &p->address);
    g_autofree char *meta = vn_nest_guest_metadata_virsh(p->routes);
    g_autofree char *hostf = g_strdup_printf("L0-%s-dhcp-host.xml", p->network);
    g_autofree char *metaf = g_strdup_printf("L0-%s-metadata.xml", p->guest);
    g_autofree char *host_nl = g_strconcat(host, "\n", NULL);

    if (g_mkdir_with_parents(dir, 0755) < 0) {
        vn_cli_error("cannot create %s: %s", dir, g_strerror(errno));
        return FALSE;
    }
    if (!write_file(dir, hostf, host_nl) || !write_file(dir, metaf, meta))
        return FALSE;
    if (!json && !p->metadata_exists) {
        g_autofree char *safe = g_strdup(metaf);
        g_autofree char *path = NULL, *cmd = NULL;

        /* write_file()'s name, for the names that need no %XX */
        if (!strpbrk(safe, "/%"))
            path = g_build_filename(dir, safe, NULL);
        if (path) {
            cmd = virsh_command(p, layer, path);
            printf("\nSet the metadata of domain '%s' from %s:\n  %s\n",
                   p->guest, path, cmd);
        }
    }
    for (guint k = 0; k < p->levels->len; k++) {
        const VnNestLevel *l = p->levels->pdata[k];
        g_autofree char *xml = vn_nest_level_network_xml(l);
        g_autofree char *netf = g_strdup_printf("L%u-network-%s.xml", l->level,
                                                l->network);

        if (!write_file(dir, netf, xml))
            return FALSE;
        if (l->guest) {
            g_autofree char *gm = vn_nest_guest_metadata_virsh(l->guest_routes);
            g_autofree char *gf = g_strdup_printf("L%u-%s-metadata.xml",
                                                  l->level, l->guest);

            if (!write_file(dir, gf, gm))
                return FALSE;
        }
    }
    return TRUE;
}

/* ------------------------------------------------------------------ */

/* The options into @pa, the --layer files into @layer_files, the pools
 * into @pool. FALSE when the command ends here, with *@rc. */
static gboolean
parse_args(int argc, char **argv, PlanArgs *pa, GPtrArray *layer_files,
           GArray *pool, int *rc)
{
    enum { OPT_NETWORK = 256, OPT_GUEST, OPT_MAC, OPT_DEPTH, OPT_POOL,
           OPT_PREFIX, OPT_LAYER, OPT_JSON, OPT_OUTDIR, OPT_APPLY, OPT_INNER,
           OPT_LEASES };
    static const struct option opts[] = {
        { "connect", required_argument, NULL, 'c' },
        { "network", required_argument, NULL, OPT_NETWORK },
        { "guest", required_argument, NULL, OPT_GUEST },
        { "mac", required_argument, NULL, OPT_MAC },
        { "depth", required_argument, NULL, OPT_DEPTH },
        { "pool", required_argument, NULL, OPT_POOL },
        { "prefix", required_argument, NULL, OPT_PREFIX },
        { "layer", required_argument, NULL, OPT_LAYER },
        { "json", no_argument, NULL, OPT_JSON },
        { "output-dir", required_argument, NULL, OPT_OUTDIR },
        { "apply", no_argument, NULL, OPT_APPLY },
        { "connect-inner", required_argument, NULL, OPT_INNER },
        { "leases-dir", required_argument, NULL, OPT_LEASES },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    g_autoptr(GError) err = NULL;
    guint64 n;
    int c;

    optind = 1;
    opterr = 0;
    while ((c = vn_cli_getopt(argc, argv, "c:h", opts)) != -1) {
        switch (c) {
        case 'c':
            pa->dopts.uri = optarg;
            break;
        case OPT_NETWORK:
            pa->nopts.network = optarg;
            break;
        case OPT_GUEST:
            pa->nopts.guest = optarg;
            break;
        case OPT_MAC:
            pa->nopts.mac = optarg;
            break;
        case OPT_DEPTH:
            if (!g_ascii_string_to_unsigned(optarg, 10, 1, 64, &n, NULL)) {
                vn_cli_error("plan: --depth %s: a number from 1 to 64", optarg);
                return (*rc = VN_EXIT_USAGE, FALSE);
            }
            pa->nopts.depth = (guint)n;
            break;
        case OPT_POOL: {
            VnCidr p;

            if (!vn_cidr_parse(optarg, VN_CIDR_SUBNET, &p, &err)) {
                vn_cli_error("plan: --pool %s", err->message);
                return (*rc = VN_EXIT_USAGE, FALSE);
            }
            g_array_append_val(pool, p);
            break;
        }
        case OPT_PREFIX:
            if (!g_ascii_string_to_unsigned(optarg, 10, 8, 30, &n, NULL)) {
                vn_cli_error("plan: --prefix %s: a prefix length from 8 to 30",
                             optarg);
                return (*rc = VN_EXIT_USAGE, FALSE);
            }
            pa->nopts.prefix = (guint)n;
            break;
        case OPT_LAYER:
            g_ptr_array_add(layer_files, optarg);
            break;
        case OPT_JSON:
            pa->json = TRUE;
            break;
        case OPT_OUTDIR:
            pa->output_dir = optarg;
            break;
        case OPT_APPLY:
            pa->apply = TRUE;
            break;
        case OPT_INNER:
            pa->inner_uri = optarg;
            break;
        case OPT_LEASES:
            pa->dopts.leases_dir = optarg;
            break;
        case 'h':
            usage(stdout);
            return (*rc = VN_EXIT_OK, FALSE);
        default:
            vn_cli_bad_option("plan", "c:h", argv);
            return (*rc = VN_EXIT_USAGE, FALSE);
        }
    }
    if (!vn_cli_no_operands("plan", argc, argv))
        return (*rc = VN_EXIT_USAGE, FALSE);
    if (!pa->nopts.network || !pa->nopts.guest) {
        vn_cli_error("plan: --network and --guest are required; see "
                     "'virt-nest plan --help'");
        return (*rc = VN_EXIT_USAGE, FALSE);
    }
    if (pa->inner_uri && !pa->apply) {
        vn_cli_error("plan: --connect-inner only makes sense with --apply");
        return (*rc = VN_EXIT_USAGE, FALSE);
    }
    if (pa->nopts.mac) {
        /* a typo in an option's value is a usage error (exit 2) */
        g_autofree char *mac = vn_mac_normalize(pa->nopts.mac);

        if (!mac) {
            vn_cli_error("plan: --mac %s: not a MAC address "
                         "(aa:bb:cc:dd:ee:ff)", pa->nopts.mac);
            return (*rc = VN_EXIT_USAGE, FALSE);
        }
    }
    if (pool->len)
        pa->nopts.pool = pool;

    return TRUE;
}

/* The other layers' snapshots, each named after its file in the plan. */
static gboolean
load_layers(GPtrArray *files, GPtrArray *others)
{
    for (guint i = 0; i < files->len; i++) {
        g_autoptr(GError) err = NULL;
        VnLayer *o = vn_snapshot_load(files->pdata[i], &err);

        if (!o) {
            vn_cli_error("%s", err->message);
            return FALSE;
        }
        g_free(o->uri);
        o->uri = g_path_get_basename(files->pdata[i]);
        g_ptr_array_add(others, o);
    }
    return TRUE;
}

/* --apply: define what was planned, here and with --connect-inner
 * there; all or nothing, and what is in place already is left alone. */
static gboolean
apply_plan(virConnectPtr conn, virConnectPtr inner, const VnNestPlan *plan)
{
    g_autoptr(GPtrArray) done = g_ptr_array_new_with_free_func(g_free);
    g_autoptr(GPtrArray) unchanged = g_ptr_array_new_with_free_func(g_free);
    g_autoptr(GPtrArray) undone = g_ptr_array_new_with_free_func(g_free);
    g_autoptr(GError) err = NULL;
    gboolean ok = vn_nest_apply(conn, inner, plan, done, unchanged, undone,
                                &err);

    for (guint i = 0; ok && i < unchanged->len; i++)
        printf("unchanged: %s\n", (char *)unchanged->pdata[i]);
    for (guint i = 0; i < done->len; i++)
        printf("applied: %s\n", (char *)done->pdata[i]);
    for (guint i = 0; i < undone->len; i++)
        printf("undone: %s\n", (char *)undone->pdata[i]);
    if (ok && !done->len)
        printf("plan --apply: nothing to change, all of it is in place\n");
    if (ok && !plan->guest_exists)
        printf("domain '%s' is not defined yet: define it with MAC %s on "
               "network '%s' and the <nest:guest> metadata above\n",
               plan->guest, plan->mac, plan->network);
    if (!ok)
        vn_cli_error("plan: %s%s", err->message,
                     undone->len ? " (what this run had changed is undone)"
                     : " (nothing was changed)");
    return ok;
}

int
vn_cmd_plan(int argc, char **argv)
{
    PlanArgs pa = { { NULL, NULL, VN_HOST_AUTO }, { NULL, NULL, NULL, 1, NULL, 24 } };
    g_autoptr(GPtrArray) layer_files = g_ptr_array_new();
    g_autoptr(GArray) pool = g_array_new(FALSE, TRUE, sizeof(VnCidr));
    g_autoptr(GPtrArray) others =
        g_ptr_array_new_with_free_func((GDestroyNotify)vn_layer_free);
    g_autoptr(GError) err = NULL;
    g_autoptr(VnLayer) layer = NULL;
    g_autoptr(VnNestPlan) plan = NULL;
    g_autoptr(GPtrArray) installs = NULL;
    g_autoptr(GPtrArray) collisions = NULL;
    g_autofree char *text = NULL;
    g_autoptr(VnVirConnect) conn = NULL;
    g_autoptr(VnVirConnect) inner = NULL;
    g_autoptr(GArray) default_pool = NULL;
    VnConfig config;
    int rc;

    if (!parse_args(argc, argv, &pa, layer_files, pool, &rc))
        return rc;
    /* the limits the hooks enforce, from the same file they read */
    if (!vn_config_load(NULL, &config, &err)) {
        vn_cli_error("plan: %s", err->message);
        return VN_EXIT_FAILURE;
    }
    /* L0's guest gets one <nest:route> per level, the deepest network one
     * <nest:peer> per level above it: more than max_entries, and its hook
     * refuses them */
    if (pa.nopts.depth > config.max_entries) {
        vn_cli_error("plan: --depth %u: the hooks accept at most %u "
                     "<nest:route> entries per guest (max_entries in [limits] "
                     "of virt-nest.conf); use --depth %u or less, or raise "
                     "max_entries", pa.nopts.depth, config.max_entries,
                     config.max_entries);
        return VN_EXIT_USAGE;
    }
    if (!load_layers(layer_files, others))
        return VN_EXIT_FAILURE;
    /* one connection: --apply changes what was read */
    if (!(conn = vn_connect(pa.dopts.uri, !pa.apply, &err)) ||
        !(layer = vn_discover_conn(conn, vn_default_uri(pa.dopts.uri),
                                   &pa.dopts, &err))) {
        vn_cli_error("%s", err->message);
        return VN_EXIT_FAILURE;
    }
    /* --apply changes both or neither: the inner one opened first too */
    if (pa.inner_uri && !(inner = vn_connect(pa.inner_uri, FALSE, &err))) {
        vn_cli_error("plan: --connect-inner: %s (nothing was changed)",
                     err->message);
        return VN_EXIT_FAILURE;
    }
    if (!(plan = vn_nest_plan(layer, others, &pa.nopts, &err))) {
        vn_cli_error("plan: %s", err->message);
        return VN_EXIT_FAILURE;
    }
    if (!(installs = vn_nest_installs(plan, layer, &config, &err))) {
        vn_cli_error("plan: %s", err->message);
        return VN_EXIT_FAILURE;
    }
    collisions = vn_nest_collisions(layer, others, &pa.nopts);
    if (!pa.nopts.pool)
        default_pool = vn_nest_default_pool();
    text = pa.json ? render_json(plan, layer, installs, collisions)
                   : render_text(plan, layer, installs, collisions,
                                 pa.nopts.pool ? pa.nopts.pool : default_pool);
    fputs(text, stdout);
    fflush(stdout);
    if (pa.output_dir && !write_output(plan, layer, pa.output_dir, pa.json))
        return VN_EXIT_FAILURE;
    if (pa.apply && !apply_plan(conn, inner, plan))
        return VN_EXIT_FAILURE;
    for (guint i = 0; i < collisions->len; i++) {
        g_autofree char *msg = vn_collision_describe(collisions->pdata[i]);

        vn_cli_error("%s", msg);
    }
    return VN_EXIT_OK;
}
