/* fwwatch.h: firewalld's reloads and restarts, over D-Bus.
 *
 * firewalld flushes tables on `firewall-cmd --reload` and on its own
 * (re)start (with its iptables backend: every iptables table), and libvirt
 * puts its own rules back then without running any hook. The watcher tells
 * its caller when that happened so that it can reconcile. It lives here
 * because only fw/ and kernel/ open D-Bus sockets; the CLI's `virt-nest
 * watch` uses it. It runs in the thread-default GMainContext of its
 * creator.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef enum {
    VN_FW_EVENT_BUS,       /* connected to the system bus (detail: its address) */
    VN_FW_EVENT_BUS_LOST,  /* the bus is gone; the watcher reconnects */
    VN_FW_EVENT_RUNNING,   /* firewalld is on the bus and answers (at start,
                            * after a restart) */
    VN_FW_EVENT_GONE,      /* firewalld left the bus */
    VN_FW_EVENT_RELOADED,  /* firewalld's Reloaded signal */
} VnFwEvent;

typedef void (*VnFwWatchFunc)(VnFwEvent event, const char *detail,
                              gpointer data);

typedef struct _VnFwWatch VnFwWatch;

/* Watch firewalld on the system bus (DBUS_SYSTEM_BUS_ADDRESS, else the
 * default). No bus or no firewalld is no error: the watcher keeps trying
 * to connect every @retry_ms and waits for firewalld to appear. */
VnFwWatch *vn_fw_watch_new(guint retry_ms, VnFwWatchFunc func, gpointer data);
void vn_fw_watch_free(VnFwWatch *w);

/* A name for @event, for logs. */
const char *vn_fw_event_name(VnFwEvent event);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(VnFwWatch, vn_fw_watch_free)

G_END_DECLS
