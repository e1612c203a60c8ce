/* fwwatch.c: firewalld's reloads and restarts, over D-Bus (fwwatch.h).
 *
 * One private connection to the system bus, so that its loss is ours to
 * handle (a shared g_bus_get() connection exits the process when it
 * closes). On it: firewalld's Reloaded signal, and its well-known name.
 * When the name appears, firewalld has only begun to start: it takes the
 * name before it applies its rules, and answers no method call until it
 * is done. So "running" is reported when it answers a Get of its `state`
 * property, i.e. once its rules are in place.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include <gio/gio.h>

#include "fwwatch.h"

#define FWD_NAME "org.fedoraproject.FirewallD1"
#define FWD_PATH "/org/fedoraproject/FirewallD1"
/* firewalld with many zones and the iptables backend takes long to start */
#define FWD_STATE_TIMEOUT_MS (120 * 1000)

struct _VnFwWatch {
    guint retry_ms;
    VnFwWatchFunc func;
    gpointer data;
    GCancellable *cancel;     /* the connection attempt, the state queries */
    GDBusConnection *bus;
    gulong closed_id;
    guint reload_sub;
    guint name_watch;
    guint retry_id;
    char *owner;              /* firewalld's unique name, while it has one */
    gboolean lost_reported;   /* BUS_LOST said for this outage */
};

static void watch_connect(VnFwWatch *w);

const char *
vn_fw_event_name(VnFwEvent event)
{
    switch (event) {
    case VN_FW_EVENT_BUS: return "bus";
    case VN_FW_EVENT_BUS_LOST: return "bus lost";
    case VN_FW_EVENT_RUNNING: return "running";
    case VN_FW_EVENT_GONE: return "gone";
    case VN_FW_EVENT_RELOADED: return "reloaded";
    }
    return "?";
}

static void
emit(VnFwWatch *w, VnFwEvent event, const char *detail)
{
    w->func(event, detail, w->data);
}

static void
on_reloaded(GDBusConnection *bus, const char *sender, const char *path,
            const char *iface, const char *signal, GVariant *params,
            gpointer data)
{
    emit(data, VN_FW_EVENT_RELOADED, sender);
}

typedef struct {
    VnFwWatch *w;
    char *owner;
} StateQuery;

static void
on_state(GObject *src, GAsyncResult *res, gpointer data)
{
    StateQuery *q = data;
    g_autoptr(GError) err = NULL;
    g_autoptr(GVariant) reply = g_dbus_connection_call_finish(G_DBUS_CONNECTION(src),
                                                              res, &err);
    g_autofree char *state = NULL;

    if (g_error_matches(err, G_IO_ERROR, G_IO_ERROR_CANCELLED)) {
        g_free(q->owner);
        g_free(q);
        return;
    }
    if (reply) {
        g_autoptr(GVariant) v = NULL;

        g_variant_get(reply, "(v)", &v);
        if (g_variant_is_of_type(v, G_VARIANT_TYPE_STRING))
            state = g_variant_dup_string(v, NULL);
    }
    /* still the same firewalld: an error means it started and failed, or
     * has no such property (it answered, so its start is over either way) */
    if (g_strcmp0(q->w->owner, q->owner) == 0)
        emit(q->w, VN_FW_EVENT_RUNNING, state ? state : err->message);
    g_free(q->owner);
    g_free(q);
}

static void
on_appeared(GDBusConnection *bus, const char *name, const char *owner,
            gpointer data)
{
    VnFwWatch *w = data;
    StateQuery *q = g_new0(StateQuery, 1);

    g_free(w->owner);
    w->owner = g_strdup(owner);
    q->w = w;
    q->owner = g_strdup(owner);
    g_dbus_connection_call(bus, owner, FWD_PATH, "org.freedesktop.DBus.Properties",
                           "Get", g_variant_new("(ss)", FWD_NAME, "state"),
                           G_VARIANT_TYPE("(v)"), G_DBUS_CALL_FLAGS_NONE,
                           FWD_STATE_TIMEOUT_MS, w->cancel, on_state, q);
}

static void
on_vanished(GDBusConnection *bus, const char *name, gpointer data)
{
    VnFwWatch *w = data;

    /* also at once when it is not there, and when the bus closes */
    if (!bus || g_dbus_connection_is_closed(bus))
        return;
    g_clear_pointer(&w->owner, g_free);
    emit(w, VN_FW_EVENT_GONE, NULL);
}

static void
watch_disconnect(VnFwWatch *w)
{
    if (w->name_watch)
        g_bus_unwatch_name(w->name_watch);
    w->name_watch = 0;
    if (w->bus) {
        if (w->reload_sub)
            g_dbus_connection_signal_unsubscribe(w->bus, w->reload_sub);
        if (w->closed_id)
            g_signal_handler_disconnect(w->bus, w->closed_id);
    }
    w->reload_sub = 0;
    w->closed_id = 0;
    g_clear_object(&w->bus);
    g_clear_pointer(&w->owner, g_free);
}

static gboolean
on_retry(gpointer data)
{
    VnFwWatch *w = data;

    w->retry_id = 0;
    watch_connect(w);
    return G_SOURCE_REMOVE;
}

static void
lost(VnFwWatch *w, const char *why)
{
    watch_disconnect(w);
    if (!w->lost_reported)
        emit(w, VN_FW_EVENT_BUS_LOST, why);
    w->lost_reported = TRUE;
    if (!w->retry_id)
        w->retry_id = g_timeout_add(w->retry_ms, on_retry, w);
}

static void
on_closed(GDBusConnection *bus, gboolean remote_peer_vanished, GError *error,
          gpointer data)
{
    lost(data, error ? error->message : "the system bus closed the connection");
}

static void
on_connected(GObject *src, GAsyncResult *res, gpointer data)
{
    g_autoptr(GError) err = NULL;
    GDBusConnection *bus = g_dbus_connection_new_for_address_finish(res, &err);
    VnFwWatch *w;

    if (g_error_matches(err, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        return;
    w = data;
    if (!bus) {
        lost(w, err->message);
        return;
    }
    w->bus = bus;
    w->lost_reported = FALSE;
    g_dbus_connection_set_exit_on_close(bus, FALSE);
    w->closed_id = g_signal_connect(bus, "closed", G_CALLBACK(on_closed), w);
    w->reload_sub = g_dbus_connection_signal_subscribe(bus, FWD_NAME, FWD_NAME,
                                                       "Reloaded", FWD_PATH, NULL,
                                                       G_DBUS_SIGNAL_FLAGS_NONE,
                                                       on_reloaded, w, NULL);
    emit(w, VN_FW_EVENT_BUS, NULL);
    w->name_watch = g_bus_watch_name_on_connection(bus, FWD_NAME,
                                                   G_BUS_NAME_WATCHER_FLAGS_NONE,
                                                   on_appeared, on_vanished,
                                                   w, NULL);
}

static void
watch_connect(VnFwWatch *w)
{
    g_autoptr(GError) err = NULL;
    g_autofree char *addr = g_dbus_address_get_for_bus_sync(G_BUS_TYPE_SYSTEM,
                                                             NULL, &err);

    if (!addr) {
        lost(w, err->message);
        return;
    }
    g_dbus_connection_new_for_address(addr,
                                      G_DBUS_CONNECTION_FLAGS_AUTHENTICATION_CLIENT |
                                      G_DBUS_CONNECTION_FLAGS_MESSAGE_BUS_CONNECTION,
                                      NULL, w->cancel, on_connected, w);
}

VnFwWatch *
vn_fw_watch_new(guint retry_ms, VnFwWatchFunc func, gpointer data)
{
    VnFwWatch *w = g_new0(VnFwWatch, 1);

    w->retry_ms = retry_ms;
    w->func = func;
    w->data = data;
    w->cancel = g_cancellable_new();
    watch_connect(w);
    return w;
}

void
vn_fw_watch_free(VnFwWatch *w)
{
    if (!w)
        return;
    g_cancellable_cancel(w->cancel);
    if (w->retry_id)
        g_source_remove(w->retry_id);
    watch_disconnect(w);
    g_object_unref(w->cancel);
    g_free(w);
}
