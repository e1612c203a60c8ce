/* walk.c: the walk through the guest agents.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include <string.h>
#include <libvirt/libvirt-qemu.h>
#include <libvirt/virterror.h>

#include "agentlayer.h"
#include "bundle.h"
#include "error.h"
#include "snapshot.h"
#include "walk.h"

/* libvirt's guest-sync waits this long for an agent (qemu_agent.c). */
#define AGENT_SYNC_SECONDS 5
/* between two guest-exec-status */
#define POLL_USEC (100 * 1000)

/* One guest's work, in its own thread. The walk and the thread hold a
 * reference each; the walk may leave before the thread ends. */
typedef struct {
    gint refs;
    GMutex lock;
    GCond cond;
    gboolean done;
    /* what the thread reads, set before it starts */
    virDomainPtr dom;
    char *name;
    char **argv;            /* the command inside, argv[0] its path */
    guint timeout;
    gsize max_output;
    gint64 deadline;        /* g_get_monotonic_time() */
    /* what it found, under lock */
    GPtrArray *ifaces;      /* VnAgentIface: the agent answered */
    char *reason;           /* why no more */
    VnJson *inner;          /* what virt-nest printed inside, checked */
} Job;

static void
job_unref(Job *j)
{
    if (!g_atomic_int_dec_and_test(&j->refs))
        return;
    virDomainFree(j->dom);
    g_free(j->name);
    g_strfreev(j->argv);
    if (j->ifaces)
        g_ptr_array_unref(j->ifaces);
    g_free(j->reason);
    vn_json_free(j->inner);
    g_mutex_clear(&j->lock);
    g_cond_clear(&j->cond);
    g_free(j);
}

/* libvirt's last error of this thread, on one line. */
static char *
last_error(void)
{
    const char *m = virGetLastErrorMessage();
    char *s = g_strdup(m ? m : "unknown libvirt error");

    s[strcspn(s, "\n")] = '\0';
    return s;
}

/* Seconds left before the deadline, rounded, at least 1. */
static int
seconds_left(const Job *j)
{
    gint64 left = (j->deadline - g_get_monotonic_time() +
                   G_USEC_PER_SEC / 2) / G_USEC_PER_SEC;

    return left < 1 ? 1 : (int)left;
}

/* One agent command, bounded by libvirt's timeout; NULL with *@err
 * (and *@timed_out, when given, TRUE when libvirt gave up waiting). */
static char *
agent_full(Job *j, const char *cmd, int timeout, char **err,
           gboolean *timed_out)
{
    char *reply = virDomainQemuAgentCommand(j->dom, cmd, timeout, 0);

    if (!reply) {
        virErrorPtr e = virGetLastError();

        *err = last_error();
        /* qemuAgentSend's words when its wait ends */
        if (timed_out)
            *timed_out = e && e->code == VIR_ERR_AGENT_UNRESPONSIVE &&
                         strstr(*err, "not available for now");
    }
    return reply;
}

static char *
agent(Job *j, const char *cmd, int timeout, char **err)
{
    return agent_full(j, cmd, timeout, err, NULL);
}

static void
finish(Job *j, GPtrArray *ifaces, char *reason, VnJson *inner)
{
    g_mutex_lock(&j->lock);
    j->ifaces = ifaces;
    j->reason = reason;
    j->inner = inner;
    j->done = TRUE;
    g_cond_signal(&j->cond);
    g_mutex_unlock(&j->lock);
}

/* Why guest-exec refused, as the bundle says it. */
static char *
exec_refused(const char *err)
{
    /* qemu-ga: "Command guest-exec has been disabled" */
    if (strstr(err, "disabled"))
        return g_strdup("guest-exec is disabled in the guest's agent");
    if (strstr(err, "No such file") || strstr(err, "Failed to execute"))
        return g_strdup("virt-nest is not installed in the guest");
    return g_strdup_printf("guest-exec failed: %s", err);
}

/* guest-exec of j->argv, its command text. */
static char *
exec_command(const Job *j)
{
    g_autoptr(VnJsonWriter) w = vn_json_writer_new();

    vn_json_begin_object(w, NULL);
    vn_json_string(w, "execute", "guest-exec");
    vn_json_begin_object(w, "arguments");
    vn_json_string(w, "path", j->argv[0]);
    vn_json_begin_array(w, "arg");
    for (guint i = 1; j->argv[i]; i++)
        vn_json_string(w, NULL, j->argv[i]);
    vn_json_end_array(w);
    vn_json_bool(w, "capture-output", TRUE);
    vn_json_end_object(w);
    vn_json_end_object(w);
    return vn_json_writer_finish(w);
}

/* What the inner virt-nest printed, checked: a snapshot or a bundle.
 * @err_line: the first line of its stderr, for the reason. */
static VnJson *
check_output(const Job *j, const char *out, gsize len, gint64 code,
             const char *err_line, char **reason)
{
    g_autoptr(GError) err = NULL;
    g_autoptr(VnJson) root = vn_json_parse(out, (gssize)len, &err);
    g_autofree char *what = g_strdup_printf("from domain '%s'", j->name);

    if (root && vn_bundle_is_bundle(root)) {
        if (!vn_bundle_check(root, what, &err))
            g_clear_pointer(&root, vn_json_free);
    } else if (root) {
        VnLayer *l = vn_snapshot_read(root, what, &err);

        if (!l)
            g_clear_pointer(&root, vn_json_free);
        vn_layer_free(l);
    }
    if (!root && len == 0 && *err_line)
        *reason = g_strdup_printf("virt-nest in the guest printed no "
                                  "snapshot (exit %" G_GINT64_FORMAT "): %s",
                                  code, err_line);
    else if (!root)
        *reason = g_strdup_printf("virt-nest in the guest printed no "
                                  "snapshot: %s", err->message);
    return g_steal_pointer(&root);
}

/* The exit status, output or failure of guest-exec-status's last reply. */
static VnJson *
exec_result(const Job *j, const VnJson *ret, char **reason)
{
    const char *out64 = vn_json_get_string(ret, "out-data");
    const char *err64 = vn_json_get_string(ret, "err-data");
    g_autofree guchar *out = NULL;
    g_autofree guchar *e = NULL;
    g_autofree char *line = NULL;
    gsize len = 0, elen = 0;
    gboolean trunc = FALSE;
    gint64 code = -1;

    vn_json_get_int(ret, "exitcode", &code);
    if ((vn_json_get_bool(ret, "out-truncated", &trunc) && trunc) ||
        (out64 && strlen(out64) / 4 * 3 > j->max_output + 3)) {
        *reason = g_strdup_printf("output over %" G_GSIZE_FORMAT " bytes",
                                  j->max_output);
        return NULL;
    }
    if (out64)
        out = g_base64_decode(out64, &len);
    if (len > j->max_output) {
        *reason = g_strdup_printf("output over %" G_GSIZE_FORMAT " bytes",
                                  j->max_output);
        return NULL;
    }
    if (err64)
        e = g_base64_decode(err64, &elen);
    line = e ? g_strndup((const char *)e, MIN(elen, 1024)) : g_strdup("");
    line[strcspn(line, "\n")] = '\0';
    /* 1: problems found, the snapshot printed all the same */
    if (code != 0 && code != 1) {
        if (code < 0)
            *reason = g_strdup("virt-nest in the guest was killed by a "
                               "signal");
        else
            *reason = g_strdup_printf("virt-nest in the guest failed (exit "
                                      "%" G_GINT64_FORMAT ")%s%s", code,
                                      *line ? ": " : "", line);
        return NULL;
    }
    return check_output(j, out ? (const char *)out : "", len, code, line,
                        reason);
}

/* Run the inner virt-nest and wait for it; NULL with *@reason. */
static VnJson *
run_inside(Job *j, char **reason)
{
    g_autofree char *cmd = exec_command(j);
    g_autofree char *reply = NULL;
    g_autofree char *err = NULL;
    g_autoptr(VnJson) rj = NULL;
    gint64 pid;

    if (!(reply = agent(j, cmd, seconds_left(j), &err))) {
        *reason = exec_refused(err);
        return NULL;
    }
    rj = vn_json_parse(reply, -1, NULL);
    if (!vn_json_get_int(vn_json_get(rj, "return"), "pid", &pid)) {
        *reason = g_strdup("guest-exec gave no pid");
        return NULL;
    }
    while (g_get_monotonic_time() < j->deadline) {
        g_autofree char *st = g_strdup_printf(
            "{\"execute\":\"guest-exec-status\",\"arguments\":"
            "{\"pid\":%" G_GINT64_FORMAT "}}", pid);
        g_autofree char *sreply = NULL;
        g_autoptr(VnJson) sj = NULL;
        const VnJson *ret;
        gboolean exited = FALSE;

        if (!(sreply = agent(j, st, seconds_left(j), &err))) {
            *reason = g_strdup_printf("guest-exec-status failed: %s", err);
            return NULL;
        }
        sj = vn_json_parse(sreply, -1, NULL);
        ret = vn_json_get(sj, "return");
        if (vn_json_get_bool(ret, "exited", &exited) && exited)
            return exec_result(j, ret, reason);
        g_usleep(POLL_USEC);
    }
    *reason = g_strdup_printf("virt-nest in the guest did not finish in "
                              "%u s", j->timeout);
    return NULL;
}

static gpointer
job_run(gpointer data)
{
    Job *j = data;
    g_autoptr(GError) gerr = NULL;
    g_autofree char *err = NULL;
    g_autofree char *reply = NULL;
    GPtrArray *ifaces;
    char *reason = NULL;
    VnJson *inner;
    int wait = MIN(AGENT_SYNC_SECONDS, seconds_left(j));
    gboolean timed_out = FALSE;

    if (!(reply = agent_full(j, "{\"execute\":\"guest-ping\"}", wait, &err,
                             &timed_out))) {
        if (timed_out)
            reason = g_strdup_printf("no agent answered in %d s", wait);
        else
            reason = g_strdup_printf("no agent: %s", err);
        finish(j, NULL, reason, NULL);
        job_unref(j);
        return NULL;
    }
    g_clear_pointer(&reply, g_free);
    reply = agent(j, "{\"execute\":\"guest-network-get-interfaces\"}",
                  seconds_left(j), &err);
    ifaces = reply ? vn_agent_ifaces_parse(j->name, reply, &gerr) : NULL;
    if (!ifaces) {
        reason = g_strdup_printf("its agent did not tell its interfaces: %s",
                                 gerr ? gerr->message : err);
        finish(j, NULL, reason, NULL);
        job_unref(j);
        return NULL;
    }
    inner = run_inside(j, &reason);
    finish(j, ifaces, reason, inner);
    job_unref(j);
    return NULL;
}

static char **
inner_argv(const VnWalkOptions *o)
{
    GPtrArray *a = g_ptr_array_new();

    g_ptr_array_add(a, g_strdup(o->command ? o->command : "virt-nest"));
    g_ptr_array_add(a, g_strdup("status"));
    g_ptr_array_add(a, g_strdup("--json"));
    g_ptr_array_add(a, g_strdup("--host"));
    if (o->depth > 1) {
        g_ptr_array_add(a, g_strdup("--walk"));
        g_ptr_array_add(a, g_strdup_printf("--walk-depth=%u", o->depth - 1));
        /* its guests' time is inside this guest's */
        g_ptr_array_add(a, g_strdup_printf("--walk-timeout=%u",
                                           o->timeout > 2 ? o->timeout - 2
                                                          : 1));
    }
    g_ptr_array_add(a, NULL);
    return (char **)g_ptr_array_free(a, FALSE);
}

/* One guest's place in the walk: its job running, or why there is none. */
typedef struct {
    const VnGuest *guest;
    Job *job;               /* NULL: a leaf for @leaf */
    char *leaf;
    gint64 end;             /* when the walk stops waiting for the job */
} Started;

/* Start one guest's job in a thread of its own. */
static void
start_guest(virConnectPtr conn, const VnGuest *g, const VnWalkOptions *o,
            Started *s)
{
    virDomainPtr dom = virDomainLookupByName(conn, g->name);
    GThread *t;
    Job *j;

    s->guest = g;
    if (!dom) {
        g_autofree char *e = last_error();

        s->leaf = g_strdup_printf("not found: %s", e);
        return;
    }
    j = g_new0(Job, 1);
    j->refs = 2;
    g_mutex_init(&j->lock);
    g_cond_init(&j->cond);
    j->dom = dom;
    j->name = g_strdup(g->name);
    j->argv = inner_argv(o);
    j->timeout = o->timeout;
    j->max_output = o->max_output;
    j->deadline = g_get_monotonic_time() + o->timeout * G_USEC_PER_SEC;
    /* a second more than the thread's own bound, for its last reply */
    s->end = j->deadline + G_USEC_PER_SEC;
    s->job = j;
    t = g_thread_new("vn-walk", job_run, j);
    g_thread_unref(t);
}

/* Wait for one guest's job (until its end at most) and put its layer,
 * partial layer or leaf into @b. */
static gboolean
finish_guest(Started *s, const VnWalkOptions *o, VnBundleBuilder *b,
             GError **error)
{
    const VnIface *up = vn_guest_uplink(s->guest);
    const char *mac = up ? up->mac : NULL;
    const char *name = s->guest->name;
    Job *j = s->job;
    gboolean ok = TRUE;

    if (!j) {
        vn_bundle_builder_add_leaf(b, 0, name, s->leaf);
        g_clear_pointer(&s->leaf, g_free);
        return TRUE;
    }
    s->job = NULL;
    g_mutex_lock(&j->lock);
    while (!j->done)
        if (!g_cond_wait_until(&j->cond, &j->lock, s->end))
            break;
    if (!j->done) {
        /* left behind: it ends on its own, and frees the job then */
        g_autofree char *r = g_strdup_printf("no agent answered in %u s",
                                             o->timeout);

        g_mutex_unlock(&j->lock);
        vn_bundle_builder_add_leaf(b, 0, name, r);
        job_unref(j);
        return TRUE;
    }
    g_mutex_unlock(&j->lock);
    if (j->inner)
        ok = vn_bundle_builder_add(b, 0, name, mac,
                                   g_steal_pointer(&j->inner), error);
    else if (j->ifaces)
        ok = vn_bundle_builder_add_partial(b, 0, name, mac, j->ifaces,
                                           j->reason, error);
    else
        vn_bundle_builder_add_leaf(b, 0, name, j->reason);
    job_unref(j);
    return ok;
}

/* The guests of a layer are walked at once, each in its thread with its
 * own bound, so that a layer takes the time of its slowest guest, not
 * their sum: a guest's walk of its own guests fits in the time its outer
 * layer gives it. The bundle keeps the layer's order of guests. */
char *
vn_walk(virConnectPtr conn, const VnLayer *layer, VnJson *self,
        const VnWalkOptions *opts, GError **error)
{
    g_autoptr(VnBundleBuilder) b = vn_bundle_builder_new(self);
    g_autofree Started *started = NULL;
    guint n = 0;
    gboolean ok = TRUE;

    started = g_new0(Started, MAX(layer->guests->len, 1));
    for (guint i = 0; opts->depth > 0 && i < layer->guests->len; i++) {
        const VnGuest *g = layer->guests->pdata[i];

        if (vn_guest_running(g))
            start_guest(conn, g, opts, &started[n++]);
    }
    /* every job is waited for (or left behind), even after a failure */
    for (guint i = 0; i < n; i++) {
        if (ok)
            ok = finish_guest(&started[i], opts, b, error);
        else
            finish_guest(&started[i], opts, b, NULL);
    }
    return ok ? vn_bundle_builder_finish(b) : NULL;
}
