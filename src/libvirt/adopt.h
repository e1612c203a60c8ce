/* adopt.h: `virt-nest adopt`'s writes over the libvirt API: the
 * <nest:guest> metadata of a guest on this layer, and the peer metadata
 * of a network on the layer inside it.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <glib.h>
#include <libvirt/libvirt.h>

G_BEGIN_DECLS

/**
 * vn_adopt_set_guest:
 * @conn: this layer, read-write
 * @guest: the domain's name
 * @metadata_set: the <guest> element without a prefix (VnProposal's
 *   metadata_set)
 * @where: (out): "live and config", "live" or "config"; transfer none
 * @error: names the domain and libvirt's reason
 *
 * virDomainSetMetadata() under urn:virt-nest:1, key "nest": live when the
 * domain runs (VIR_DOMAIN_AFFECT_LIVE), persistent when it is
 * (VIR_DOMAIN_AFFECT_CONFIG).
 */
gboolean vn_adopt_set_guest(virConnectPtr conn, const char *guest,
                            const char *metadata_set, const char **where,
                            GError **error);

/**
 * vn_adopt_set_network:
 * @conn: the inner layer, read-write
 * @network: the network's name
 * @element: its new <nest:network> element (vn_peer_metadata(.., FALSE))
 * @element_set: the same without a prefix (vn_peer_metadata(.., TRUE))
 * @how: (out): one line saying what changed and when it takes effect;
 *   transfer full
 * @error: names the network and libvirt's reason
 *
 * With libvirt 9.7 and later, virNetworkSetMetadata() (live when the
 * network runs, and config); before it, the network is defined again with
 * @element under <metadata> (virNetworkDefineXML), which a running network
 * takes when it starts again: *@how says so.
 */
gboolean vn_adopt_set_network(virConnectPtr conn, const char *network,
                              const char *element, const char *element_set,
                              char **how, GError **error);

/* The network's persistent XML (its live one when it is transient, or
 * for the test driver, which has one); free() it. NULL on error. */
char *vn_network_xml_inactive(virNetworkPtr net);

G_END_DECLS
