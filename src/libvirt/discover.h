/* discover.h: a layer over the libvirt API.
 *
 * Only the CLI discovers: hooks never call the libvirt API.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <glib.h>
#include <libvirt/libvirt.h>

#include "model.h"

G_BEGIN_DECLS

typedef enum {
    VN_HOST_AUTO,           /* read the host unless the URI is the test driver */
    VN_HOST_YES,
    VN_HOST_NO,
} VnHostMode;

/* Which guests' agents discovery asks (never for the test driver, whose
 * agent answers are made up; only on a read-write connection). */
typedef enum {
    VN_AGENTS_NO = 0,
    VN_AGENTS_NEXT_HOP,     /* running guests with <nest:guest> whose
                             * uplink has no address known otherwise */
    VN_AGENTS_ALL,          /* every running guest (status, adopt) */
} VnAgentsMode;

typedef struct {
    const char *uri;        /* NULL: LIBVIRT_DEFAULT_URI, else qemu:///system */
    const char *leases_dir; /* NULL: VN_LEASES_DIR, except for test:// URIs */
    VnHostMode host;
    VnAgentsMode agents;    /* layer->agents, and the agents' next hops */
    const char *only_guest; /* NULL, or the one guest whose agent to ask */
} VnDiscoverOptions;

/* The URI to connect to: @uri, else LIBVIRT_DEFAULT_URI, else
 * qemu:///system. Borrowed. */
const char *vn_default_uri(const char *uri);

/**
 * vn_discover:
 * @opts: what to read
 * @error: set when the URI cannot be reached or listed
 *
 * Reads every network and domain, active and inactive, with their live
 * XML; the DHCP leases (virNetworkGetDHCPLeases, else the lease status
 * files); and the host. Problems with single objects (bad metadata,
 * duplicate MACs) go into layer->problems.
 *
 * Returns: (transfer full): the layer, or NULL with @error set.
 */
VnLayer *vn_discover(const VnDiscoverOptions *opts, GError **error);

/* As vn_discover(), on a connection the caller opened (borrowed; the
 * agents are asked only when it is read-write). */
VnLayer *vn_discover_conn(virConnectPtr conn, const char *uri,
                          const VnDiscoverOptions *opts, GError **error);

/* Open @uri (NULL: the default) read-write, with libvirt's errors kept
 * quiet; NULL with @error naming the URI. */
virConnectPtr vn_connect(const char *uri, gboolean read_only, GError **error);

/* libvirt's last error of the calling thread, on one line, valid until
 * that thread's next call. */
const char *vn_virt_error(void);

/* The checks across objects: duplicate MACs, guests on unknown
 * networks. Adds to layer->problems. Pure. */
void vn_layer_check(VnLayer *layer);

G_END_DECLS
