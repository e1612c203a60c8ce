/* agent.c: a guest's interfaces from its QEMU agent, through libvirt.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include <libvirt/libvirt-qemu.h>
#include <libvirt/virterror.h>
#include <stdlib.h>

#include "agent.h"
#include "discover.h"
#include "error.h"
#include "json.h"

GPtrArray *
vn_agent_ifaces_from_libvirt(const char *guest, virDomainInterfacePtr *ifaces,
                             int n, GError **error)
{
    g_autoptr(GPtrArray) out = vn_agent_ifaces_new();

    if (n > VN_AGENT_MAX_IFACES) {
        g_set_error(error, VN_ERROR, VN_ERROR_INVALID,
                    "domain '%s': its guest agent reported %d interfaces, "
                    "more than %d", guest, n, VN_AGENT_MAX_IFACES);
        return NULL;
    }
    for (int i = 0; i < n; i++) {
        const virDomainInterface *vi = ifaces[i];
        g_autoptr(GError) err = NULL;
        g_autoptr(VnAgentIface) ai = NULL;

        ai = vn_agent_iface_new(vi->name, vi->hwaddr, &err);
        if (ai && vi->naddrs > VN_AGENT_MAX_ADDRS) {
            g_autofree char *shown = g_strescape(vi->name, NULL);
            g_set_error(&err, VN_ERROR, VN_ERROR_INVALID,
                        "guest interface '%s': more than %d addresses",
                        shown, VN_AGENT_MAX_ADDRS);
            g_clear_pointer(&ai, vn_agent_iface_free);
        }
        for (unsigned int j = 0; ai && j < vi->naddrs; j++) {
            const virDomainIPAddress *a = &vi->addrs[j];

            if (a->type != VIR_IP_ADDR_TYPE_IPV4 &&
                a->type != VIR_IP_ADDR_TYPE_IPV6)
                continue;
            if (!vn_agent_iface_add_address(ai, a->addr, a->prefix, &err))
                g_clear_pointer(&ai, vn_agent_iface_free);
        }
        if (!ai) {
            g_set_error(error, VN_ERROR, VN_ERROR_INVALID, "domain '%s': %s",
                        guest, err->message);
            return NULL;
        }
        g_ptr_array_add(out, g_steal_pointer(&ai));
    }
    return g_steal_pointer(&out);
}

GPtrArray *
vn_agent_ifaces_read(virDomainPtr dom, GError **error)
{
    virDomainInterfacePtr *ifaces = NULL;
    const char *name = virDomainGetName(dom);
    GPtrArray *out;
    int n;

    n = virDomainInterfaceAddresses(dom, &ifaces,
                                    VIR_DOMAIN_INTERFACE_ADDRESSES_SRC_AGENT,
                                    0);
    if (n < 0) {
        g_set_error(error, VN_ERROR, VN_ERROR_FAILED,
                    "domain '%s': its guest agent did not tell its "
                    "interfaces: %s", name ? name : "?", vn_virt_error());
        return NULL;
    }
    out = vn_agent_ifaces_from_libvirt(name ? name : "?", ifaces, n, error);
    for (int i = 0; i < n; i++)
        virDomainInterfaceFree(ifaces[i]);
    free(ifaces);
    return out;
}

/* One agent call in a thread of its own, so that the caller can stop
 * waiting for it (libvirt waits for the command without a bound). The
 * thread and the caller each hold a reference; whoever drops the last
 * frees it, and an abandoned call's answer with it. */
typedef struct {
    gint refs;
    virDomainPtr dom;
    GMutex lock;
    GCond cond;
    gboolean done;
    GPtrArray *ifaces;
    GError *error;
} AgentCall;

static void
agent_call_unref(AgentCall *c)
{
    if (!g_atomic_int_dec_and_test(&c->refs))
        return;
    virDomainFree(c->dom);
    if (c->ifaces)
        g_ptr_array_unref(c->ifaces);
    g_clear_error(&c->error);
    g_mutex_clear(&c->lock);
    g_cond_clear(&c->cond);
    g_free(c);
}

static gpointer
agent_call_run(gpointer data)
{
    AgentCall *c = data;
    GError *err = NULL;
    GPtrArray *ifaces = vn_agent_ifaces_read(c->dom, &err);

    g_mutex_lock(&c->lock);
    c->ifaces = ifaces;
    c->error = err;
    c->done = TRUE;
    g_cond_signal(&c->cond);
    g_mutex_unlock(&c->lock);
    agent_call_unref(c);
    return NULL;
}

GPtrArray *
vn_agent_ifaces_read_bounded(virDomainPtr dom, guint timeout_ms,
                             GError **error)
{
    AgentCall *c = g_new0(AgentCall, 1);
    const char *name = virDomainGetName(dom);
    g_autoptr(GError) terr = NULL;
    GPtrArray *out = NULL;
    gint64 deadline;
    GThread *t;

    c->refs = 2;
    c->dom = dom;
    virDomainRef(dom);
    g_mutex_init(&c->lock);
    g_cond_init(&c->cond);
    t = g_thread_try_new("vn-agent", agent_call_run, c, &terr);
    if (!t) {
        c->refs = 1;
        agent_call_unref(c);
        g_set_error(error, VN_ERROR, VN_ERROR_FAILED,
                    "domain '%s': cannot ask its guest agent: %s",
                    name ? name : "?", terr->message);
        return NULL;
    }
    g_thread_unref(t);
    deadline = g_get_monotonic_time() + (gint64)timeout_ms * 1000;
    g_mutex_lock(&c->lock);
    while (!c->done) {
        if (!g_cond_wait_until(&c->cond, &c->lock, deadline))
            break;
    }
    if (c->done) {
        out = g_steal_pointer(&c->ifaces);
        if (!out)
            g_propagate_error(error, g_steal_pointer(&c->error));
    } else {
        g_set_error(error, VN_ERROR, VN_ERROR_FAILED,
                    "domain '%s': its guest agent did not answer within "
                    "%u s", name ? name : "?", timeout_ms / 1000);
    }
    g_mutex_unlock(&c->lock);
    agent_call_unref(c);
    return out;
}

/* The agent's "return" of @cmd, or NULL with @error. */
static VnJson *
agent_command(virDomainPtr dom, const char *cmd, int timeout_s,
              GError **error)
{
    const char *name = virDomainGetName(dom);
    g_autofree char *reply = NULL;
    char *r;

    r = virDomainQemuAgentCommand(dom, cmd, timeout_s, 0);
    if (!r) {
        g_set_error(error, VN_ERROR, VN_ERROR_FAILED, "domain '%s': %s",
                    name ? name : "?", vn_virt_error());
        return NULL;
    }
    reply = g_strdup(r);
    free(r);
    return vn_json_parse(reply, -1, error);
}

/* @key of @obj's "return", base64-decoded, at most VN_AGENT_EXEC_MAX. */
static char *
exec_output(const VnJson *ret, const char *key)
{
    const char *b64 = vn_json_get_string(ret, key);
    guchar *data;
    gsize len;
    char *out;

    if (!b64)
        return g_strdup("");
    data = g_base64_decode(b64, &len);
    if (len > VN_AGENT_EXEC_MAX)
        len = VN_AGENT_EXEC_MAX;
    out = g_strndup((const char *)data, len);
    g_free(data);
    return out;
}

gboolean
vn_agent_exec(virDomainPtr dom, const char *const *argv, guint timeout_s,
              char **out, char **err, int *status, GError **error)
{
    const char *name = virDomainGetName(dom);
    g_autoptr(VnJsonWriter) w = vn_json_writer_new();
    g_autofree char *cmd = NULL;
    g_autoptr(VnJson) started = NULL;
    const VnJson *ret;
    gint64 pid, deadline;

    g_return_val_if_fail(argv && argv[0], FALSE);
    vn_json_begin_object(w, NULL);
    vn_json_string(w, "execute", "guest-exec");
    vn_json_begin_object(w, "arguments");
    vn_json_string(w, "path", argv[0]);
    vn_json_begin_array(w, "arg");
    for (guint i = 1; argv[i]; i++)
        vn_json_string(w, NULL, argv[i]);
    vn_json_end_array(w);
    vn_json_bool(w, "capture-output", TRUE);
    vn_json_end_object(w);
    vn_json_end_object(w);
    cmd = vn_json_writer_finish(w);
    if (!(started = agent_command(dom, cmd, 10, error)))
        return FALSE;
    ret = vn_json_get(started, "return");
    if (!ret || !vn_json_get_int(ret, "pid", &pid)) {
        g_set_error(error, VN_ERROR, VN_ERROR_FAILED,
                    "domain '%s': guest-exec returned no pid",
                    name ? name : "?");
        return FALSE;
    }
    deadline = g_get_monotonic_time() + (gint64)timeout_s * G_USEC_PER_SEC;
    for (;;) {
        g_autofree char *q = g_strdup_printf(
            "{\"execute\":\"guest-exec-status\",\"arguments\":"
            "{\"pid\":%" G_GINT64_FORMAT "}}", pid);
        g_autoptr(VnJson) st = agent_command(dom, q, 10, error);
        const VnJson *r;
        gboolean exited = FALSE;
        gint64 code = -1;

        if (!st)
            return FALSE;
        r = vn_json_get(st, "return");
        if (r && vn_json_get_bool(r, "exited", &exited) && exited) {
            if (!vn_json_get_int(r, "exitcode", &code))
                code = 128;     /* killed by a signal */
            *out = exec_output(r, "out-data");
            *err = exec_output(r, "err-data");
            *status = (int)code;
            return TRUE;
        }
        if (g_get_monotonic_time() > deadline) {
            g_set_error(error, VN_ERROR, VN_ERROR_FAILED,
                        "domain '%s': '%s' did not end within %u s inside "
                        "it", name ? name : "?", argv[0], timeout_s);
            return FALSE;
        }
        g_usleep(200 * 1000);
    }
}
