/* layerindex.h: a layer's objects by hash, for code that looks them up
 * once per object of another kind (stitch, graph, status): a snapshot from
 * another layer may hold tens of thousands of each, and model.h's
 * vn_layer_find_*() look through them all on every call.
 *
 * Every lookup gives what the model.h function of the same name would:
 * the first object in the layer's order.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <glib.h>

#include "model.h"

G_BEGIN_DECLS

typedef struct VnLayerIndex VnLayerIndex;

/* An index of @layer, which must outlive it and not change: (transfer
 * full), free with vn_layer_index_free(). */
VnLayerIndex *vn_layer_index_new(const VnLayer *layer);
void vn_layer_index_free(VnLayerIndex *index);

/* The network named @name, or whose bridge is @bridge (NULL: none). */
const VnNetwork *vn_layer_index_network(const VnLayerIndex *index,
                                        const char *name);
const VnNetwork *vn_layer_index_network_by_bridge(const VnLayerIndex *index,
                                                  const char *bridge);

/* The network @iface is on: by its name, else (no network named) by its
 * bridge. */
const VnNetwork *vn_layer_index_iface_network(const VnLayerIndex *index,
                                              const VnIface *iface);

/* The host link @ifindex (0: none), or with @name, or with @mac. */
const VnLink *vn_layer_index_link(const VnLayerIndex *index, int ifindex);
const VnLink *vn_layer_index_link_by_name(const VnLayerIndex *index,
                                          const char *name);
const VnLink *vn_layer_index_link_by_mac(const VnLayerIndex *index,
                                         const char *mac);

/* The host addresses on link @ifindex (VnHostAddr): (transfer none), empty
 * when none. */
GPtrArray *vn_layer_index_addresses(const VnLayerIndex *index, int ifindex);

/* The host address equal to @a (host bits compared, the prefix not), or
 * NULL. */
const VnHostAddr *vn_layer_index_address(const VnLayerIndex *index,
                                         const VnCidr *a);

/* The guest with an interface of MAC @mac, and that interface. */
const VnGuest *vn_layer_index_guest_by_mac(const VnLayerIndex *index,
                                           const char *mac,
                                           const VnIface **iface);

/* The guest whose interface's TAP is @link: by the TAP MAC (vn_mac_tap()),
 * or by the interface's <target dev>, whichever interface comes first. */
const VnGuest *vn_layer_index_guest_on_tap(const VnLayerIndex *index,
                                           const VnLink *link,
                                           const VnIface **iface);

/* The DHCP reservation of @mac (any case) on @net, a network of the
 * layer, as vn_network_find_host() finds it. */
const VnDhcpHost *vn_layer_index_reservation(const VnLayerIndex *index,
                                             const VnNetwork *net,
                                             const char *mac);

/* The address of @iface, as vn_guest_iface_address() has it, from the
 * index: its network, reservation and leases. */
gboolean vn_layer_index_iface_address(const VnLayerIndex *index,
                                      const VnGuest *guest,
                                      const VnIface *iface, gint64 now,
                                      int family, VnGuestAddr *out);

/* The leases of @mac, any case (VnLease): (transfer none), empty when
 * none; pass them to vn_leases_find() or vn_guest_iface_address(). */
GPtrArray *vn_layer_index_leases(const VnLayerIndex *index, const char *mac);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(VnLayerIndex, vn_layer_index_free)

G_END_DECLS
