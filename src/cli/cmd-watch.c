/* cmd-watch.c: virt-nest watch.
 *
 * What undoes virt-nest's work fires no hook: libvirtd restarting
 * (libvirt re-creates its own rules then, above virt-nest's, or after a
 * flush without them), firewalld reloading or restarting (with its
 * iptables backend it flushes every iptables table). watch stays
 * connected to libvirt and to the system bus and runs reconcile, in this
 * process, when one of those happens:
 *
 *   - when it (re)connects to libvirt: at start, and after libvirtd (or
 *     virtqemud) went away and came back; the connection's close callback
 *     and its keepalive notice a daemon that is gone;
 *   - on network started, stopped and undefined, and domain started and
 *     stopped (a hook that failed half-way, a network libvirt tore down
 *     without the stop hook);
 *   - when a guest's agent connects: a guest with a static address inside
 *     has a route whose next hop only its agent tells (reconcile asks it,
 *     never the hook), and the agent comes up well after the start;
 *   - when firewalld reloads (its Reloaded signal) or is on the bus again
 *     after a restart, and once more a few seconds later: libvirt reacts
 *     to the same signal by putting its own rules back, and may do so
 *     after the first reconcile;
 *   - on SIGHUP.
 * Bursts are merged: a reconcile runs DEBOUNCE_MS after the first event,
 * for all that came meanwhile.
 *
 * One GMainLoop runs everything: reconciles, D-Bus (fw/fwwatch.c), the
 * signals, the timers, and libvirt's events: libvirt's default event
 * implementation (libvirt >= 6.3) is GLib's default main context. libvirt
 * calls its callbacks with its own locks held, so they only queue an idle
 * source; the connection is opened and closed from there.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <glib-unix.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>

#include "cli.h"
#include "discover.h"
#include "escape.h"
#include "fwwatch.h"

#define DEBOUNCE_MS 300
#define SETTLE_MS 3000          /* the second reconcile after firewalld's */
#define BACKOFF_MIN_MS 250
#define BACKOFF_MAX_MS 16000
#define BUS_RETRY_MS 5000
#define KEEPALIVE_INTERVAL 5    /* seconds; libvirt's default too */
#define KEEPALIVE_COUNT 3

typedef struct {
    VnReconcileOptions ropts;
    const char *uri;
    GMainLoop *loop;
    virConnectPtr conn;         /* main thread only */
    int net_cb, dom_cb, agent_cb;
    guint gen;                  /* which connection conn is */
    guint backoff_ms;
    guint reconnect_id;
    gboolean connect_failed;    /* said so for this outage */
    guint debounce_id;
    guint settle_id;
    GPtrArray *reasons;         /* of the pending reconcile */
    gboolean ready;
    guint reconciles;
    VnFwWatch *fw;
} Watch;

static void watch_connect(Watch *w);
static void trigger_settled(Watch *w, const char *reason);

static void
usage(FILE *f)
{
    fprintf(f,
            "Usage: virt-nest watch [-c URI] [--leases-dir DIR]\n\n"
            "Stay running and reconcile this layer whenever libvirtd comes\n"
            "back, a network or guest starts or stops, firewalld reloads or\n"
            "restarts, or on SIGHUP. One line per action on stderr.\n\n"
            "  -c, --connect URI   libvirt URI (default: LIBVIRT_DEFAULT_URI, else\n"
            "                      qemu:///system)\n"
            "      --leases-dir DIR  libvirt's lease status files\n"
            "  -h, --help          show this help\n");
}

static void
say(const char *fmt, ...) G_GNUC_PRINTF(1, 2);

static void
say(const char *fmt, ...)
{
    va_list ap;

    fputs("watch: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    fflush(stderr);
}

/* sd_notify(3) without libsystemd: one datagram to $NOTIFY_SOCKET. */
static void
notify(const char *msg)
{
    const char *path = g_getenv("NOTIFY_SOCKET");
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    socklen_t len;
    int fd;

    if (!path || !*path || strlen(path) >= sizeof(sa.sun_path) ||
        (path[0] != '/' && path[0] != '@'))
        return;
    memcpy(sa.sun_path, path, strlen(path));
    if (path[0] == '@')
        sa.sun_path[0] = '\0';  /* abstract */
    len = offsetof(struct sockaddr_un, sun_path) + strlen(path);
    if ((fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0)) < 0)
        return;
    if (sendto(fd, msg, strlen(msg), MSG_NOSIGNAL, (struct sockaddr *)&sa, len) < 0)
        say("cannot notify systemd at %s: %s", path, g_strerror(errno));
    close(fd);
}

static void
notify_ready(Watch *w, const char *status)
{
    g_autofree char *msg = g_strdup_printf("%sSTATUS=%s", w->ready ? "" : "READY=1\n",
                                           status);

    w->ready = TRUE;
    notify(msg);
}

/* ---- reconcile, debounced */

static gboolean
on_debounce(gpointer data)
{
    Watch *w = data;
    g_autofree char *why = NULL;
    g_autofree char *status = NULL;
    guint n = 0;
    int rc;

    w->debounce_id = 0;
    g_ptr_array_add(w->reasons, NULL);
    why = g_strjoinv(", ", (char **)w->reasons->pdata);
    g_ptr_array_set_size(w->reasons, 0);
    say("reconcile: %s", why);
    rc = vn_cli_reconcile(&w->ropts, stderr, "watch: ", &n);
    w->reconciles++;
    if (rc == VN_EXIT_OK)
        say("reconciled: %s", n ? "done" : "nothing to change");
    else
        say("reconcile failed (see above); watching on");
    status = g_strdup_printf("watching %s; %u reconciles, the last %s", w->uri,
                             w->reconciles, rc == VN_EXIT_OK ? "ok" : "failed");
    notify_ready(w, status);
    return G_SOURCE_REMOVE;
}

static void
trigger(Watch *w, const char *reason)
{
    gboolean known = FALSE;

    for (guint i = 0; i < w->reasons->len && !known; i++)
        known = strcmp(w->reasons->pdata[i], reason) == 0;
    if (!known)
        g_ptr_array_add(w->reasons, g_strdup(reason));
    if (!w->debounce_id)
        w->debounce_id = g_timeout_add(DEBOUNCE_MS, on_debounce, w);
}

static gboolean
on_settle(gpointer data)
{
    Watch *w = data;

    w->settle_id = 0;
    trigger(w, "again, once libvirt has put its rules back");
    return G_SOURCE_REMOVE;
}

/* ---- libvirt's events: called by libvirt, its locks held */

typedef enum { MSG_EVENT, MSG_CLOSED } MsgKind;

typedef struct {
    Watch *w;
    MsgKind kind;
    guint gen;                  /* MSG_CLOSED: of which connection */
    char *text;
} Msg;

/* the close callback's opaque: the connection it is about */
typedef struct {
    Watch *w;
    guint gen;
} CloseTag;

static gboolean
on_msg(gpointer data)
{
    Msg *m = data;
    Watch *w = m->w;

    if (m->kind == MSG_EVENT) {
        trigger(w, m->text);
    } else if (w->conn && m->gen == w->gen) {
        say("the connection to %s closed (%s): reconnecting", w->uri, m->text);
        watch_connect(w);
    }
    return G_SOURCE_REMOVE;
}

static void
msg_free(gpointer data)
{
    Msg *m = data;

    g_free(m->text);
    g_free(m);
}

/* to the main loop, out of libvirt's callback */
static void
post(Watch *w, MsgKind kind, guint gen, char *text)
{
    Msg *m = g_new0(Msg, 1);

    m->w = w;
    m->kind = kind;
    m->gen = gen;
    m->text = text;
    g_idle_add_full(G_PRIORITY_DEFAULT, on_msg, m, msg_free);
}

static void
on_network_event(virConnectPtr conn, virNetworkPtr net, int event, int detail,
                 void *data)
{
    static const char *const what[] = { "defined", "undefined", "started",
                                        "stopped" };
    g_autofree char *name = NULL;

    /* defined: an inactive network needs nothing */
    if (event < 0 || event >= (int)G_N_ELEMENTS(what) ||
        event == VIR_NETWORK_EVENT_DEFINED)
        return;
    name = vn_escape_text(virNetworkGetName(net));
    post(data, MSG_EVENT, 0, g_strdup_printf("network '%s' %s", name, what[event]));
}

static int
on_domain_event(virConnectPtr conn, virDomainPtr dom, int event, int detail,
                void *data)
{
    g_autofree char *name = NULL;

    if (event != VIR_DOMAIN_EVENT_STARTED && event != VIR_DOMAIN_EVENT_STOPPED)
        return 0;
    name = vn_escape_text(virDomainGetName(dom));
    post(data, MSG_EVENT, 0, g_strdup_printf("domain '%s' %s", name,
                                          event == VIR_DOMAIN_EVENT_STARTED
                                              ? "started" : "stopped"));
    return 0;
}

static void
on_agent_event(virConnectPtr conn, virDomainPtr dom, int state, int reason,
               void *data)
{
    g_autofree char *name = NULL;

    if (state != VIR_CONNECT_DOMAIN_EVENT_AGENT_LIFECYCLE_STATE_CONNECTED)
        return;
    name = vn_escape_text(virDomainGetName(dom));
    post(data, MSG_EVENT, 0, g_strdup_printf("domain '%s': its guest agent "
                                             "connected", name));
}

static void
on_close(virConnectPtr conn, int reason, void *data)
{
    static const char *const why[] = { "error", "end of file", "keepalive timeout",
                                       "closed by us" };

    CloseTag *t = data;

    post(t->w, MSG_CLOSED, t->gen, g_strdup(reason >= 0 && reason < (int)G_N_ELEMENTS(why)
                                        ? why[reason] : "unknown reason"));
}

/* ---- the connection */

static void
watch_disconnect(Watch *w)
{
    if (!w->conn)
        return;
    /* on a connection that is gone these fail; their memory goes either way */
    if (w->net_cb >= 0)
        virConnectNetworkEventDeregisterAny(w->conn, w->net_cb);
    if (w->dom_cb >= 0)
        virConnectDomainEventDeregisterAny(w->conn, w->dom_cb);
    if (w->agent_cb >= 0)
        virConnectDomainEventDeregisterAny(w->conn, w->agent_cb);
    virConnectUnregisterCloseCallback(w->conn, on_close);
    virConnectClose(w->conn);
    w->conn = NULL;
    w->net_cb = w->dom_cb = w->agent_cb = -1;
}

static gboolean
on_reconnect(gpointer data)
{
    Watch *w = data;

    w->reconnect_id = 0;
    watch_connect(w);
    return G_SOURCE_REMOVE;
}

static void
retry_later(Watch *w)
{
    w->reconnect_id = g_timeout_add(w->backoff_ms, on_reconnect, w);
    w->backoff_ms = MIN(w->backoff_ms * 2, BACKOFF_MAX_MS);
}

/* (Re)connect now, or retry later with backoff. A successful connection
 * is a reason to reconcile: at start, and after a daemon restart. */
static void
watch_connect(Watch *w)
{
    g_autoptr(GError) err = NULL;
    gboolean again = w->gen > 0;     /* connected before */
    CloseTag *t;

    watch_disconnect(w);
    if (!(w->conn = vn_connect(w->ropts.uri, TRUE, &err))) {
        if (!w->connect_failed) {
            vn_cli_error("watch: %s; retrying", err->message);
            g_autofree char *status = g_strdup_printf("waiting for %s", w->uri);

            notify_ready(w, status);
        }
        w->connect_failed = TRUE;
        retry_later(w);
        return;
    }
    w->connect_failed = FALSE;
    w->backoff_ms = BACKOFF_MIN_MS;
    /* 1: this driver has no keepalive (a local one, test://): no need */
    if (virConnectSetKeepAlive(w->conn, KEEPALIVE_INTERVAL, KEEPALIVE_COUNT) < 0 &&
        virGetLastErrorCode() != VIR_ERR_NO_SUPPORT)
        say("no keepalive on %s: %s", w->uri, vn_virt_error());
    t = g_new0(CloseTag, 1);
    t->w = w;
    t->gen = ++w->gen;
    if (virConnectRegisterCloseCallback(w->conn, on_close, t, g_free) < 0) {
        say("no close callback on %s: %s", w->uri, vn_virt_error());
        g_free(t);
    }
    w->net_cb = virConnectNetworkEventRegisterAny(w->conn, NULL,
                                                  VIR_NETWORK_EVENT_ID_LIFECYCLE,
                                                  VIR_NETWORK_EVENT_CALLBACK(on_network_event),
                                                  w, NULL);
    w->dom_cb = virConnectDomainEventRegisterAny(w->conn, NULL,
                                                 VIR_DOMAIN_EVENT_ID_LIFECYCLE,
                                                 VIR_DOMAIN_EVENT_CALLBACK(on_domain_event),
                                                 w, NULL);
    /* (none for drivers without agents: the next hop waits for another
     * event then) */
    w->agent_cb = virConnectDomainEventRegisterAny(
        w->conn, NULL, VIR_DOMAIN_EVENT_ID_AGENT_LIFECYCLE,
        VIR_DOMAIN_EVENT_CALLBACK(on_agent_event), w, NULL);
    if (w->net_cb < 0 || w->dom_cb < 0)
        say("%s gives no %s events: %s", w->uri, w->net_cb < 0 ? "network" : "domain",
            vn_virt_error());
    say("connected to %s", w->uri);
    trigger(w, again ? "libvirt is back" : "start");
}

/* ---- firewalld */

static void
on_firewalld(VnFwEvent event, const char *detail, gpointer data)
{
    Watch *w = data;

    switch (event) {
    case VN_FW_EVENT_BUS:
        say("on the system bus; waiting for firewalld's signals");
        return;
    case VN_FW_EVENT_BUS_LOST:
        say("no system bus (%s): firewalld's reloads go unnoticed until it is back",
            detail ? detail : "?");
        return;
    case VN_FW_EVENT_GONE:
        say("firewalld is not running");
        return;
    case VN_FW_EVENT_RUNNING:
        say("firewalld is running (state %s)", detail ? detail : "?");
        trigger_settled(w, "firewalld started");
        return;
    case VN_FW_EVENT_RELOADED:
        trigger_settled(w, "firewalld reloaded");
        return;
    }
}

/* ---- signals */

static gboolean
on_quit(gpointer data)
{
    Watch *w = data;

    say("stopping");
    notify("STOPPING=1");
    g_main_loop_quit(w->loop);
    return G_SOURCE_CONTINUE;
}

/* after something that changed the rules and that libvirt hears of too
 * (a firewalld reload, libvirtd's SIGHUP that systemd passes on as ours):
 * reconcile now, and once more when libvirt is likely done */
static void
trigger_settled(Watch *w, const char *reason)
{
    trigger(w, reason);
    if (w->settle_id)
        g_source_remove(w->settle_id);
    w->settle_id = g_timeout_add(SETTLE_MS, on_settle, w);
}

static gboolean
on_hup(gpointer data)
{
    trigger_settled(data, "SIGHUP");
    return G_SOURCE_CONTINUE;
}

int
vn_cmd_watch(int argc, char **argv)
{
    enum { OPT_LEASES = 256 };
    static const struct option opts[] = {
        { "connect", required_argument, NULL, 'c' },
        { "leases-dir", required_argument, NULL, OPT_LEASES },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    Watch w = { .ropts = { NULL, NULL, FALSE, TRUE, "watch" },
                .net_cb = -1, .dom_cb = -1, .agent_cb = -1,
                .backoff_ms = BACKOFF_MIN_MS };
    g_autoptr(GMainLoop) loop = NULL;
    g_autoptr(GPtrArray) reasons = g_ptr_array_new_with_free_func(g_free);
    guint sig[3];
    int c;

    optind = 1;
    opterr = 0;
    while ((c = vn_cli_getopt(argc, argv, "c:h", opts)) != -1) {
        switch (c) {
        case 'c':
            w.ropts.uri = optarg;
            break;
        case OPT_LEASES:
            w.ropts.leases_dir = optarg;
            break;
        case 'h':
            usage(stdout);
            return VN_EXIT_OK;
        default:
            vn_cli_bad_option("watch", "c:h", argv);
            return VN_EXIT_USAGE;
        }
    }
    if (!vn_cli_no_operands("watch", argc, argv))
        return VN_EXIT_USAGE;
    w.uri = vn_default_uri(w.ropts.uri);
    if (virEventRegisterDefaultImpl() < 0) {
        vn_cli_error("watch: libvirt's event loop: %s", vn_virt_error());
        return VN_EXIT_FAILURE;
    }
    loop = g_main_loop_new(NULL, FALSE);
    w.loop = loop;
    w.reasons = reasons;
    sig[0] = g_unix_signal_add(SIGTERM, on_quit, &w);
    sig[1] = g_unix_signal_add(SIGINT, on_quit, &w);
    sig[2] = g_unix_signal_add(SIGHUP, on_hup, &w);
    say("watching %s and firewalld", w.uri);
    w.fw = vn_fw_watch_new(BUS_RETRY_MS, on_firewalld, &w);
    watch_connect(&w);
    g_main_loop_run(loop);

    for (guint i = 0; i < G_N_ELEMENTS(sig); i++)
        g_source_remove(sig[i]);
    vn_fw_watch_free(w.fw);
    if (w.debounce_id)
        g_source_remove(w.debounce_id);
    if (w.settle_id)
        g_source_remove(w.settle_id);
    if (w.reconnect_id)
        g_source_remove(w.reconnect_id);
    watch_disconnect(&w);
    return VN_EXIT_OK;
}
