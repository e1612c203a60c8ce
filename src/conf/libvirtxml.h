/* libvirtxml.h: libvirt XML (network, domain, hook <hookData>) to the model.
 *
 * One set of parsers for both paths: the CLI feeds them the XML it gets
 * over the libvirt API, the hook the XML libvirt writes to its stdin.
 * They are pure: a string in, a struct out.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <glib.h>

#include "model.h"

G_BEGIN_DECLS

/**
 * vn_network_parse:
 * @xml: libvirt network XML (<network>), or network hook stdin (<hookData>)
 * @len: length of @xml, or -1 if NUL-terminated
 * @nest_error: (out) (optional): set when the nest:network metadata is
 *   unusable; the network is still returned, with nest == FALSE
 * @error: set when the XML is not a network at all
 *
 * Metadata in a namespace that only looks like virt-nest's is ignored,
 * with a line in the network's warnings.
 *
 * Returns: (transfer full): the network, or NULL with @error set.
 */
VnNetwork *vn_network_parse(const char *xml, gssize len, GError **nest_error,
                            GError **error);

/**
 * vn_guest_parse:
 * @xml: libvirt domain XML (<domain>), e.g. qemu hook stdin
 * @len: length of @xml, or -1 if NUL-terminated
 * @nest_error: (out) (optional): as for vn_network_parse()
 * @error: set when the XML is not a domain
 *
 * A domain XML with an id attribute is a running guest.
 *
 * Returns: (transfer full): the guest, or NULL with @error set.
 */
VnGuest *vn_guest_parse(const char *xml, gssize len, GError **nest_error,
                        GError **error);

/**
 * vn_xml_with_nest_metadata:
 * @xml: a network's or domain's XML as libvirt writes it
 *   (virNetworkGetXMLDesc)
 * @root: its root element: "network", "domain"
 * @element: virt-nest's element, with its xmlns:nest declaration
 *   (vn_peer_metadata(..., FALSE))
 * @error: when @xml is not libvirt's XML of a @root
 *
 * @xml with virt-nest's element under <metadata> replaced by @element
 * (added when there is none, <metadata> too): for virNetworkDefineXML,
 * where libvirt has no virNetworkSetMetadata (before 9.7). The rest is
 * kept byte for byte. Pure.
 *
 * Returns: (transfer full): the new XML, or NULL.
 */
char *vn_xml_with_nest_metadata(const char *xml, const char *root,
                                const char *element, GError **error);

/**
 * vn_ns_lookalike:
 * @text: a namespace URI, or a whole XML document
 * @len: its length
 *
 * TRUE when @text holds "virt" then "nest", in any case, with at most
 * three punctuation bytes between them: what a namespace meant to be
 * virt-nest's (urn:virtnest:1, urn:Virt_Nest:1) looks like. Plain C,
 * cheap enough for the hook to run on every event's XML.
 */
gboolean vn_ns_lookalike(const char *text, gsize len);

G_END_DECLS
