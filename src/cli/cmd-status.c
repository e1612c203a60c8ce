/* cmd-status.c: virt-nest status.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "discover.h"
#include "driftcheck.h"
#include "nestalloc.h"
#include "ledger.h"
#include "error.h"
#include "escape.h"
#include "handfix.h"
#include "layerview.h"
#include "layerplan.h"
#include "vnconfig.h"
#include "walk.h"
#include "bundle.h"

typedef virConnect VnVirConnect;

static void
conn_close(VnVirConnect *c)
{
    virConnectClose(c);
}
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VnVirConnect, conn_close)

void
vn_cli_error(const char *fmt, ...)
{
    va_list ap;
    g_autofree char *msg = NULL;
    g_autofree char *shown = NULL;

    va_start(ap, fmt);
    msg = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    /* one line, whatever the names in it: a guest's name, a bundle's
     * reason or a snapshot's field are some other host's words */
    shown = vn_escape_text(msg);
    fprintf(stderr, "virt-nest: %s\n", shown);
}

/* The long option typed as an abbreviation of another, for
 * vn_cli_bad_option(); NULL when the last refusal was getopt's own. */
static const char *abbreviated;
static const char *abbreviated_of;

int
vn_cli_getopt(int argc, char **argv, const char *optstring,
              const struct option *opts)
{
    int li = -1;
    int c = getopt_long(argc, argv, optstring, opts, &li);
    const char *el, *end;
    size_t len;

    abbreviated = NULL;
    if (c == -1 || c == '?' || c == ':' || li < 0)
        return c;
    /* getopt_long takes any unique prefix ("--keep" for "--keep-installed"):
     * a typo must not pick an option, so the name as typed must be whole.
     * The option is argv[optind - 1], or argv[optind - 2] when its
     * argument was the next word. */
    el = optarg && optind >= 2 && optarg == argv[optind - 1] ? argv[optind - 2]
                                                             : argv[optind - 1];
    if (!g_str_has_prefix(el, "--"))
        return c;
    end = strchr(el + 2, '=');
    len = end ? (size_t)(end - el - 2) : strlen(el + 2);
    if (len == strlen(opts[li].name) && strncmp(el + 2, opts[li].name, len) == 0)
        return c;
    abbreviated = el;
    abbreviated_of = opts[li].name;
    optopt = 0;
    return '?';
}

void
vn_cli_bad_option(const char *command, const char *optstring, char **argv)
{
    const char *p = optopt > 0 && optopt < 256 ? strchr(optstring, optopt)
                                               : NULL;

    if (abbreviated) {
        g_autofree char *name = g_strndup(abbreviated,
                                          strcspn(abbreviated, "="));

        vn_cli_error("%s: unknown option '%s' (options are not abbreviated: "
                     "did you mean --%s?); see 'virt-nest %s --help'",
                     command, name, abbreviated_of, command);
        abbreviated = NULL;
    } else if (p && p[1] == ':')
        vn_cli_error("%s: option '-%c' needs an argument", command, optopt);
    else if (optopt > 0 && optopt < 256)
        vn_cli_error("%s: unknown option '-%c'; see 'virt-nest %s --help'",
                     command, optopt, command);
    else
        vn_cli_error("%s: unknown option or missing argument '%s'; see "
                     "'virt-nest %s --help'", command, argv[optind - 1],
                     command);
}

gboolean
vn_cli_no_operands(const char *command, int argc, char **argv)
{
    if (optind >= argc)
        return TRUE;
    vn_cli_error("%s: unexpected argument '%s'", command, argv[optind]);
    return FALSE;
}

static void
status_usage(FILE *f)
{
    fprintf(f,
            "Usage: virt-nest status [-c URI] [--json | --mermaid | --dot | --svg]\n"
            "                        [--leases-dir DIR] [--host | --no-host]\n"
            "                        [--exit-code] [--color[=WHEN]]\n"
            "       virt-nest status --json [--host] --walk [--walk-depth N]\n"
            "                        [--walk-timeout SEC]\n\n"
            "Show this layer: its networks and guests, the routes and "
            "firewall\nexceptions it needs, and what virt-nest installed.\n\n"
            "  -c, --connect URI   libvirt URI (default: LIBVIRT_DEFAULT_URI, "
            "else\n"
            "                      uri_default of libvirt.conf, else "
            "qemu:///system)\n"
            "      --json          JSON for programs (see virt-nest(1))\n"
            "      --mermaid       a Mermaid flowchart\n"
            "      --dot           a Graphviz digraph\n"
            "      --svg           that digraph laid out as SVG (Graphviz's "
            "library)\n"
            "      --leases-dir DIR  libvirt's lease status files (default "
            "%s;\n"
            "                      none for the test driver)\n"
            "      --host          read this machine's links and routes even "
            "for\n"
            "                      the test driver\n"
            "      --no-host       do not read them\n"
            "      --exit-code     exit 3 when what is installed drifted "
            "(reconcile\n"
            "                      would change something)\n"
            "      --color[=WHEN]  colour the text: auto (a terminal, "
            "NO_COLOR\n"
            "                      unset, TERM not dumb; the default), "
            "always, never\n"
            "      --walk          and every running guest's own status, "
            "taken inside\n"
            "                      it through its QEMU agent, recursively: "
            "one bundle\n"
            "      --walk-depth N  layers below this one to enter (default "
            "%d)\n"
            "      --walk-timeout SEC  seconds per guest, its own walk "
            "included\n"
            "                      (default %d)\n"
            "  -h, --help          show this help\n", VN_LEASES_DIR,
            VN_WALK_DEPTH, VN_WALK_TIMEOUT);
}

/* An exception that another firewall still stops: a problem reconcile
 * cannot fix, so status's exit status says so. */
static gboolean
blocked(const VnDrift *drift)
{
    gboolean any = FALSE;

    for (guint i = 0; i < drift->items->len; i++) {
        const VnDriftItem *d = drift->items->pdata[i];

        if (d->state == VN_DRIFT_BLOCKED) {
            vn_cli_error("%s: %s: blocked: %s", d->object, d->what, d->where);
            any = TRUE;
        }
    }
    return any;
}

static int
path_cmp(gconstpointer a, gconstpointer b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The user's own fixes that virt-nest makes unnecessary: in the firewall,
 * and in the files that bring them back at boot, under VIRT_NEST_SYSROOT
 * (for tests), else /. */
static GPtrArray *
find_hand_fixes(const VnLayer *layer, const VnPlan *plan)
{
    GPtrArray *out = g_ptr_array_new_with_free_func((GDestroyNotify)vn_hand_fix_free);
    const char *root = g_getenv("VIRT_NEST_SYSROOT");

    if (!root || !*root)
        root = "/";
    vn_hand_fixes_in_firewall(plan, layer->host->firewall, out);
    for (guint i = 0; vn_hand_fix_paths[i]; i++) {
        const char *rel = vn_hand_fix_paths[i];
        g_autofree char *path = g_build_filename(root, rel, NULL);
        g_autoptr(GPtrArray) files = g_ptr_array_new_with_free_func(g_free);

        if (g_str_has_suffix(rel, "/")) {
            g_autoptr(GDir) d = g_dir_open(path, 0, NULL);
            const char *f;

            while (d && (f = g_dir_read_name(d)))
                g_ptr_array_add(files, g_build_filename(path, f, NULL));
            g_ptr_array_sort(files, path_cmp);
        } else {
            g_ptr_array_add(files, g_strdup(path));
        }
        for (guint j = 0; j < files->len; j++) {
            const char *file = files->pdata[j];
            g_autofree char *text = NULL;
            gsize len;

            /* bounded: these are small text files */
            if (g_file_test(file, G_FILE_TEST_IS_REGULAR) &&
                g_file_get_contents(file, &text, &len, NULL) &&
                len < 1024 * 1024 && !memchr(text, '\0', len))
                vn_hand_fixes_in_text(file, text, plan, out);
        }
    }
    return out;
}

gboolean
vn_cli_walk_option(const char *command, int opt, const char *arg,
                   VnWalkOptions *w, int *rc)
{
    guint64 v;
    char *end;

    if (opt == VN_CLI_OPT_WALK)
        return TRUE;
    v = g_ascii_strtoull(arg, &end, 10);
    if (opt == VN_CLI_OPT_WALK_DEPTH &&
        (!*arg || *end || v < 1 || v > VN_BUNDLE_MAX_DEPTH)) {
        vn_cli_error("%s: --walk-depth %s: give the layers to enter, 1 to "
                     "%d", command, arg, VN_BUNDLE_MAX_DEPTH);
        return (*rc = VN_EXIT_USAGE, FALSE);
    }
    if (opt == VN_CLI_OPT_WALK_TIMEOUT &&
        (!*arg || *end || v < 1 || v > VN_WALK_MAX_TIMEOUT)) {
        vn_cli_error("%s: --walk-timeout %s: give seconds per guest, 1 to "
                     "%d", command, arg, VN_WALK_MAX_TIMEOUT);
        return (*rc = VN_EXIT_USAGE, FALSE);
    }
    if (opt == VN_CLI_OPT_WALK_DEPTH)
        w->depth = (guint)v;
    else
        w->timeout = (guint)v;
    return TRUE;
}

gboolean
vn_cli_walk_check(const char *command, gboolean walk, VnWalkOptions *w,
                  int *rc)
{
    if (!walk && (w->depth || w->timeout)) {
        vn_cli_error("%s: --walk-depth and --walk-timeout go with --walk",
                     command);
        return (*rc = VN_EXIT_USAGE, FALSE);
    }
    if (!w->depth)
        w->depth = VN_WALK_DEPTH;
    if (!w->timeout)
        w->timeout = VN_WALK_TIMEOUT;
    if (!w->max_output)
        w->max_output = VN_WALK_MAX_OUTPUT;
    return TRUE;
}

/* The command line of status. */
typedef struct {
    VnDiscoverOptions dopts;
    char *(*render)(const VnStatus *);
    gboolean svg;
    gboolean exit_code;
    gboolean walk;
    VnWalkOptions walk_opts;
    VnColor color;
} StatusArgs;

/* The options into @a. FALSE when the command ends here, with *@rc. */
static gboolean
parse_args(int argc, char **argv, StatusArgs *a, int *rc)
{
    enum { OPT_JSON = 256, OPT_MERMAID, OPT_DOT, OPT_SVG, OPT_LEASES,
           OPT_HOST, OPT_NO_HOST, OPT_EXIT_CODE, OPT_COLOR };
    static const struct option opts[] = {
        { "connect", required_argument, NULL, 'c' },
        { "json", no_argument, NULL, OPT_JSON },
        { "mermaid", no_argument, NULL, OPT_MERMAID },
        { "dot", no_argument, NULL, OPT_DOT },
        { "svg", no_argument, NULL, OPT_SVG },
        { "leases-dir", required_argument, NULL, OPT_LEASES },
        { "host", no_argument, NULL, OPT_HOST },
        { "no-host", no_argument, NULL, OPT_NO_HOST },
        { "exit-code", no_argument, NULL, OPT_EXIT_CODE },
        { "color", optional_argument, NULL, OPT_COLOR },
        VN_CLI_WALK_OPTIONS,
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    int nformats = 0;
    int c;

    optind = 1;
    opterr = 0;
    while ((c = vn_cli_getopt(argc, argv, "c:h", opts)) != -1) {
        switch (c) {
        case 'c':
            a->dopts.uri = optarg;
            break;
        case OPT_JSON:
            a->render = vn_status_json;
            nformats++;
            break;
        case OPT_MERMAID:
            a->render = vn_status_mermaid;
            nformats++;
            break;
        case OPT_DOT:
            a->render = vn_status_dot;
            nformats++;
            break;
        case OPT_SVG:
            a->render = vn_status_dot;
            a->svg = TRUE;
            nformats++;
            break;
        case OPT_LEASES:
            a->dopts.leases_dir = optarg;
            break;
        case OPT_HOST:
            a->dopts.host = VN_HOST_YES;
            break;
        case OPT_NO_HOST:
            a->dopts.host = VN_HOST_NO;
            break;
        case OPT_EXIT_CODE:
            a->exit_code = TRUE;
            break;
        case OPT_COLOR:
            if (!vn_cli_color_parse(optarg, &a->color)) {
                vn_cli_error("status: --color=%s: give auto, always or never",
                             optarg);
                return (*rc = VN_EXIT_USAGE, FALSE);
            }
            break;
        case VN_CLI_OPT_WALK:
            a->walk = TRUE;
            /* fall through */
        case VN_CLI_OPT_WALK_DEPTH:
        case VN_CLI_OPT_WALK_TIMEOUT:
            if (!vn_cli_walk_option("status", c, optarg, &a->walk_opts, rc))
                return FALSE;
            break;
        case 'h':
            status_usage(stdout);
            return (*rc = VN_EXIT_OK, FALSE);
        default:
            vn_cli_bad_option("status", "c:h", argv);
            return (*rc = VN_EXIT_USAGE, FALSE);
        }
    }
    if (!vn_cli_no_operands("status", argc, argv))
        return (*rc = VN_EXIT_USAGE, FALSE);
    if (nformats > 1) {
        vn_cli_error("status: --json, --mermaid, --dot and --svg exclude "
                     "each other");
        return (*rc = VN_EXIT_USAGE, FALSE);
    }
    if (!vn_cli_walk_check("status", a->walk, &a->walk_opts, rc))
        return FALSE;
    if (a->walk && a->render != vn_status_json) {
        vn_cli_error("status: --walk prints a bundle of JSON snapshots; "
                     "give --json (graph --walk draws it)");
        return (*rc = VN_EXIT_USAGE, FALSE);
    }
    if (a->walk && a->exit_code) {
        vn_cli_error("status: --exit-code is for this layer alone; leave "
                     "it out with --walk");
        return (*rc = VN_EXIT_USAGE, FALSE);
    }
    return TRUE;
}

/* Subnets that collide on this layer are problems of the layer. */
static void
add_collisions(VnLayer *layer)
{
    g_autoptr(GPtrArray) coll = vn_nest_collisions(layer, NULL, NULL);

    for (guint i = 0; i < coll->len; i++) {
        g_autofree char *msg = vn_collision_describe(coll->pdata[i]);

        vn_layer_add_problem(layer, "this layer", msg);
    }
}

/* Every problem, one line each on stderr; TRUE if there was one. */
static gboolean
report_problems(const VnLayer *layer, const VnPlan *plan)
{
    GPtrArray *lists[] = { layer->problems, plan->problems };

    for (guint l = 0; l < G_N_ELEMENTS(lists); l++) {
        for (guint i = 0; i < lists[l]->len; i++) {
            const VnProblem *p = lists[l]->pdata[i];

            vn_cli_error("%s: %s", p->object, p->message);
        }
    }
    return layer->problems->len || plan->problems->len;
}

/* One status of this layer, as the command computes it. */
typedef struct {
    VnLayer *layer;
    VnPlan *plan;
    VnDrift *drift;
    GPtrArray *hand_fixes;
    char *note;
    GPtrArray *proposals;
    GPtrArray *agent_notes;
    VnStatus st;
} StatusRun;

static void
status_run_clear(StatusRun *r)
{
    g_clear_pointer(&r->hand_fixes, g_ptr_array_unref);
    g_clear_pointer(&r->drift, vn_drift_free);
    g_clear_pointer(&r->plan, vn_plan_free);
    g_clear_pointer(&r->layer, vn_layer_free);
    g_clear_pointer(&r->note, g_free);
    g_clear_pointer(&r->proposals, g_ptr_array_unref);
    g_clear_pointer(&r->agent_notes, g_ptr_array_unref);
}

/* Discover (on @conn when given, else on a read-only connection of
 * its own), plan, read drift. FALSE with @error. */
static gboolean
status_run(virConnectPtr conn, const VnDiscoverOptions *dopts, StatusRun *r,
           GError **error)
{
    VnConfig config;
    g_autoptr(GError) err = NULL;

    if (!vn_config_load(NULL, &config, error))
        return FALSE;
    if (conn) {
        g_autofree char *uri = virConnectGetURI(conn);

        r->layer = vn_discover_conn(conn, uri ? uri
                                              : vn_default_uri(dopts->uri),
                                    dopts, error);
    } else {
        r->layer = vn_discover(dopts, error);
    }
    if (!r->layer)
        return FALSE;
    r->st.now = g_get_real_time() / G_USEC_PER_SEC;
    r->plan = vn_plan_layer(r->layer, &config, r->st.now);
    add_collisions(r->layer);
    r->st.layer = r->layer;
    r->st.plan = r->plan;
    if (r->layer->agents || r->layer->agent_note) {
        r->st.proposals = r->proposals = vn_cli_proposals(r->layer, &config,
                                                          &r->agent_notes);
        r->st.agent_notes = r->agent_notes;
    }
    if (r->layer->host) {
        r->st.hand_fixes = r->hand_fixes = find_hand_fixes(r->layer, r->plan);
        r->drift = vn_drift_check(r->layer, r->plan, vn_state_dir(), &err);
        r->st.drift = r->drift;
        if (!r->drift)
            r->st.drift_note = r->note = g_strdup(err->message);
    }
    return TRUE;
}

/* The walk from this layer, on a read-write connection (agent commands
 * need one): the bundle's text. */
static char *
walk_from(virConnectPtr conn, StatusRun *r, const VnWalkOptions *o,
          GError **error)
{
    g_autofree char *self = vn_status_json(&r->st);
    VnJson *j = vn_json_parse(self, -1, error);

    if (!j)
        return NULL;
    return vn_walk(conn, r->layer, j, o, error);
}

char *
vn_cli_walk(const char *uri, gboolean host, const VnWalkOptions *o,
            GError **error)
{
    VnDiscoverOptions dopts = { uri, NULL, host ? VN_HOST_YES : VN_HOST_AUTO,
                                VN_AGENTS_NO, NULL };
    g_autoptr(VnVirConnect) conn = vn_connect(uri, FALSE, error);
    StatusRun r = { 0 };
    char *text = NULL;

    if (conn && status_run(conn, &dopts, &r, error))
        text = walk_from(conn, &r, o, error);
    status_run_clear(&r);
    return text;
}

int
vn_cmd_status(int argc, char **argv)
{
    StatusArgs a = { { NULL, NULL, VN_HOST_AUTO, VN_AGENTS_ALL, NULL },
                     vn_status_text, .color = VN_COLOR_AUTO };
    g_autoptr(GError) err = NULL;
    g_autoptr(VnVirConnect) conn = NULL;
    g_autofree char *text = NULL;
    StatusRun r = { 0 };
    gboolean problems;
    int rc;

    if (!parse_args(argc, argv, &a, &rc))
        return rc;
    /* the walk asks every agent itself, each within its --walk-timeout:
     * discovery does not ask them first (VN_AGENT_TIMEOUT_MS each) */
    if (a.walk)
        a.dopts.agents = VN_AGENTS_NO;
    if ((a.walk && !(conn = vn_connect(a.dopts.uri, FALSE, &err))) ||
        !status_run(conn, &a.dopts, &r, &err)) {
        vn_cli_error("%s", err->message);
        status_run_clear(&r);
        return VN_EXIT_FAILURE;
    }
    text = a.walk ? walk_from(conn, &r, &a.walk_opts, &err) : a.render(&r.st);
    if (!text) {
        vn_cli_error("status: --walk: %s", err->message);
        status_run_clear(&r);
        return VN_EXIT_FAILURE;
    }
    if (a.svg) {
        char *image = vn_cli_svg_from_dot(text, &err);

        if (!image) {
            vn_cli_error("status: --svg: %s", err->message);
            status_run_clear(&r);
            return VN_EXIT_FAILURE;
        }
        g_free(text);
        text = image;
    }
    if (a.render == vn_status_text) {
        /* on a real host, the text ends with what the hooks did lately */
        if (r.layer->host) {
            g_autoptr(GString) all = g_string_new(text);

            vn_cli_log_recent(all, 5);
            g_free(text);
            text = g_string_free(g_steal_pointer(&all), FALSE);
        }
        if (vn_cli_color_on(a.color)) {
            char *colored = vn_cli_color_status(text);

            g_free(text);
            text = colored;
        }
    }
    fputs(text, stdout);
    fflush(stdout);
    problems = report_problems(r.layer, r.plan);
    rc = VN_EXIT_OK;
    if (problems || (r.drift && blocked(r.drift)))
        rc = VN_EXIT_FAILURE;
    else if (a.exit_code && r.note)
        rc = VN_EXIT_FAILURE;   /* asked about drift, which was not read */
    /* as `git diff --exit-code`: drift only when asked, so that scripts
     * that take 0 for "no problem" keep working */
    else if (a.exit_code && r.drift && vn_drift_needs_reconcile(r.drift))
        rc = VN_EXIT_DRIFT;
    status_run_clear(&r);
    return rc;
}
