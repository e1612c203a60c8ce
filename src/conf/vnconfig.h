/* vnconfig.h: /etc/virt-nest/virt-nest.conf, the limits on what metadata may
 * ask for, and the firewall choices.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct {
    /* [limits] */
    guint min_prefix_v4;        /* widest IPv4 route or peer: /8 */
    guint min_prefix_v6;        /* widest IPv6 route or peer: /16 */
    guint max_entries;          /* routes per guest, peers per network: 32 */
    gboolean allow_any_peer;    /* accept 0.0.0.0/0 and ::/0 as peers */
    /* [firewall] */
    gboolean masquerade_peers;  /* keep libvirt's MASQUERADE towards peers */
} VnConfig;

/* The built-in defaults. */
void vn_config_init(VnConfig *config);

/**
 * vn_config_load:
 * @path: the file; NULL means VIRT_NEST_CONFIG, else VN_CONFIG_FILE
 * @config: (out): the result, defaults for what the file does not set
 * @error: names the file, the key and the fix
 *
 * A missing file is no error: the defaults apply.
 */
gboolean vn_config_load(const char *path, VnConfig *config, GError **error);

/* The parser under vn_config_load: @data, @len bytes (-1: NUL-terminated),
 * read as the file @path (named in messages). Pure: no files. */
gboolean vn_config_parse(const char *data, gssize len, const char *path,
                         VnConfig *config, GError **error);

G_END_DECLS
