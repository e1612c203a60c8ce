/* vnconfig.c: /etc/virt-nest/virt-nest.conf (GKeyFile).
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"     /* the build's config.h: VN_CONFIG_FILE */
#include "vnconfig.h"

#include <stdlib.h>
#include <string.h>

#include "error.h"

void
vn_config_init(VnConfig *config)
{
    config->min_prefix_v4 = 8;
    config->min_prefix_v6 = 16;
    config->max_entries = 32;
    config->allow_any_peer = FALSE;
    config->masquerade_peers = FALSE;
}

static gboolean
get_uint(GKeyFile *kf, const char *path, const char *group, const char *key,
         guint max, guint *out, GError **error)
{
    g_autoptr(GError) err = NULL;
    g_autofree char *v = g_key_file_get_value(kf, group, key, NULL);
    guint64 n;

    if (!v)
        return TRUE;
    if (!g_ascii_string_to_unsigned(g_strstrip(v), 10, 0, max, &n, &err)) {
        g_set_error(error, VN_ERROR, VN_ERROR_INVALID,
                    "%s: [%s] %s=%s: expected a number from 0 to %u", path,
                    group, key, v, max);
        return FALSE;
    }
    *out = (guint)n;
    return TRUE;
}

static gboolean
get_bool(GKeyFile *kf, const char *path, const char *group, const char *key,
         gboolean *out, GError **error)
{
    g_autoptr(GError) err = NULL;
    gboolean v;

    if (!g_key_file_has_key(kf, group, key, NULL))
        return TRUE;
    v = g_key_file_get_boolean(kf, group, key, &err);
    if (err) {
        g_set_error(error, VN_ERROR, VN_ERROR_INVALID,
                    "%s: [%s] %s: expected true or false", path, group, key);
        return FALSE;
    }
    *out = v;
    return TRUE;
}

static gboolean
check_keys(GKeyFile *kf, const char *path, GError **error)
{
    static const char *const known[] = {
        "limits/min_prefix_v4", "limits/min_prefix_v6", "limits/max_entries",
        "limits/allow_any_peer", "firewall/masquerade_peers", NULL,
    };
    g_auto(GStrv) groups = g_key_file_get_groups(kf, NULL);

    for (guint i = 0; groups[i]; i++) {
        g_auto(GStrv) keys = g_key_file_get_keys(kf, groups[i], NULL, NULL);

        for (guint j = 0; keys && keys[j]; j++) {
            g_autofree char *k = g_strdup_printf("%s/%s", groups[i], keys[j]);

            if (!g_strv_contains(known, k)) {
                g_set_error(error, VN_ERROR, VN_ERROR_INVALID,
                            "%s: unknown key [%s] %s; see virt-nest.conf(5)",
                            path, groups[i], keys[j]);
                return FALSE;
            }
        }
    }
    return TRUE;
}

gboolean
vn_config_parse(const char *data, gssize len, const char *path,
                VnConfig *config, GError **error)
{
    g_autoptr(GKeyFile) kf = g_key_file_new();
    g_autoptr(GError) err = NULL;

    vn_config_init(config);
    if (len < 0)
        len = (gssize)strlen(data);
    if (!g_key_file_load_from_data(kf, data, (gsize)len, G_KEY_FILE_NONE,
                                   &err)) {
        g_set_error(error, VN_ERROR, VN_ERROR_INVALID, "%s: %s", path,
                    err->message);
        return FALSE;
    }
    return check_keys(kf, path, error) &&
           get_uint(kf, path, "limits", "min_prefix_v4", 32,
                    &config->min_prefix_v4, error) &&
           get_uint(kf, path, "limits", "min_prefix_v6", 128,
                    &config->min_prefix_v6, error) &&
           get_uint(kf, path, "limits", "max_entries", 4096,
                    &config->max_entries, error) &&
           get_bool(kf, path, "limits", "allow_any_peer",
                    &config->allow_any_peer, error) &&
           get_bool(kf, path, "firewall", "masquerade_peers",
                    &config->masquerade_peers, error);
}

gboolean
vn_config_load(const char *path, VnConfig *config, GError **error)
{
    g_autoptr(GError) err = NULL;
    g_autofree char *data = NULL;
    gsize len;

    gboolean named = FALSE;

    vn_config_init(config);
    if (!path && (path = g_getenv("VIRT_NEST_CONFIG")) && *path)
        named = TRUE;
    if (!path || !*path)
        path = VN_CONFIG_FILE;
    if (!g_file_get_contents(path, &data, &len, &err)) {
        /* the default file is optional; one asked for by name is not:
         * a typo there must not fall back to the defaults unseen */
        if (g_error_matches(err, G_FILE_ERROR, G_FILE_ERROR_NOENT) && named) {
            g_set_error(error, VN_ERROR, VN_ERROR_INVALID,
                        "configuration file %s (VIRT_NEST_CONFIG) does not "
                        "exist; create it, or unset VIRT_NEST_CONFIG to use "
                        "%s", path, VN_CONFIG_FILE);
            return FALSE;
        }
        if (g_error_matches(err, G_FILE_ERROR, G_FILE_ERROR_NOENT))
            return TRUE;
        g_set_error(error, VN_ERROR, VN_ERROR_INVALID, "%s: %s", path,
                    err->message);
        return FALSE;
    }
    return vn_config_parse(data, (gssize)len, path, config, error);
}
