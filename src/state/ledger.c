/* ledger.c: the ledger of what virt-nest installed.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>
#include <linux/netfilter.h>

#include "error.h"
#include "ledger.h"
#include "statepath.h"

/* 2: one group per rule, [rule N], with its backend; 1: [rule COMMENT],
 * the backend in [ledger] firewall (still read) */
#define LEDGER_VERSION 2

const char *
vn_object_kind_to_string(VnObjectKind kind)
{
    return kind == VN_OBJECT_NETWORK ? "network" : "domain";
}

static void
route_free(VnLedgerRoute *r)
{
    g_free(r->dev);
    g_free(r);
}

VnLedger *
vn_ledger_new(VnObjectKind kind, const char *name)
{
    VnLedger *l = g_new0(VnLedger, 1);

    l->kind = kind;
    l->name = g_strdup(name);
    l->rules = g_ptr_array_new_with_free_func((GDestroyNotify)vn_fw_entry_free);
    l->routes = g_ptr_array_new_with_free_func((GDestroyNotify)route_free);
    return l;
}

void
vn_ledger_free(VnLedger *ledger)
{
    if (!ledger)
        return;
    g_free(ledger->name);
    g_ptr_array_unref(ledger->rules);
    g_ptr_array_unref(ledger->routes);
    g_free(ledger);
}

void
vn_ledger_add_rule(VnLedger *ledger, const VnFwEntry *entry)
{
    g_ptr_array_add(ledger->rules, vn_fw_entry_copy(entry));
}

VnLedgerRoute *
vn_ledger_add_route(VnLedger *ledger, const VnCidr *dst, const VnCidr *via,
                    const char *dev, gboolean pending)
{
    VnLedgerRoute *r = g_new0(VnLedgerRoute, 1);

    r->dst = *dst;
    if (via)
        r->via = *via;
    r->dev = g_strdup(dev);
    r->pending = pending;
    g_ptr_array_add(ledger->routes, r);
    return r;
}

const char *
vn_state_dir(void)
{
    return vn_state_root();
}

static gboolean
mkdirs(const char *dir, GError **error)
{
    static const char *const subs[] = { "network", "domain" };

    for (guint i = 0; i < G_N_ELEMENTS(subs); i++) {
        g_autofree char *p = g_build_filename(dir, subs[i], NULL);

        if (g_mkdir_with_parents(p, 0755) < 0) {
            g_set_error(error, VN_ERROR, VN_ERROR_FAILED,
                        "cannot create %s: %s", p, g_strerror(errno));
            return FALSE;
        }
    }
    return TRUE;
}

int
vn_state_lock(const char *dir, GError **error)
{
    g_autofree char *path = g_build_filename(dir, "lock", NULL);
    int fd;

    if (!mkdirs(dir, error))
        return -1;
    fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) {
        g_set_error(error, VN_ERROR, VN_ERROR_FAILED, "cannot open %s: %s",
                    path, g_strerror(errno));
        return -1;
    }
    while (flock(fd, LOCK_EX) < 0) {
        if (errno == EINTR)
            continue;
        g_set_error(error, VN_ERROR, VN_ERROR_FAILED, "cannot lock %s: %s",
                    path, g_strerror(errno));
        close(fd);
        return -1;
    }
    return fd;
}

gboolean
vn_file_replace(const char *path, const char *tmpdir, const char *data,
                gsize len, int mode, gboolean sync, GError **error)
{
    g_autofree char *dir = tmpdir ? g_strdup(tmpdir) : g_path_get_dirname(path);
    g_autofree char *tmp = g_build_filename(dir, ".virt-nest.XXXXXX", NULL);
    int fd = g_mkstemp_full(tmp, O_WRONLY | O_CLOEXEC, mode);
    gsize done = 0;

    if (fd < 0) {
        g_set_error(error, VN_ERROR, VN_ERROR_FAILED, "cannot create %s: %s",
                    tmp, g_strerror(errno));
        return FALSE;
    }
    while (done < len) {
        ssize_t n = write(fd, data + done, len - done);

        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        done += (gsize)n;
    }
    if (done < len || fchmod(fd, (mode_t)mode) < 0 || (sync && fsync(fd) < 0) ||
        close(fd) < 0 || rename(tmp, path) < 0) {
        g_set_error(error, VN_ERROR, VN_ERROR_FAILED, "cannot write %s: %s",
                    path, g_strerror(errno));
        unlink(tmp);
        return FALSE;
    }
    return TRUE;
}

gboolean
vn_state_intact(const char *dir)
{
    g_autofree char *path = g_build_filename(dir, "intact", NULL);

    return g_file_test(path, G_FILE_TEST_EXISTS);
}

gboolean
vn_state_mark_intact(const char *dir, GError **error)
{
    g_autofree char *path = g_build_filename(dir, "intact", NULL);
    static const char text[] = "virt-nest state\n";

    return vn_file_replace(path, NULL, text, sizeof(text) - 1, 0644, FALSE, error);
}

static char *
ledger_path(const char *dir, VnObjectKind kind, const char *name,
            const char *ext)
{
    char buf[4096];

    if (vn_state_path(buf, sizeof(buf), dir, vn_object_kind_to_string(kind),
                      name, ext) < 0)
        return NULL;
    return g_strdup(buf);
}

static const char *
family_name(int family)
{
    return family == NFPROTO_IPV6 ? "ip6" : "ip";
}

static gboolean
incomplete(const char *path, const char *group, GError **error)
{
    g_set_error(error, VN_ERROR, VN_ERROR_FAILED, "%s: [%s] is incomplete",
                path, group);
    return FALSE;
}

static gboolean
load_rule(GKeyFile *kf, const char *g, int version, const char *v1_backend,
          VnLedger *l, const char *path, GError **error)
{
    g_autofree char *family = g_key_file_get_string(kf, g, "family", NULL);
    g_autofree char *table = g_key_file_get_string(kf, g, "table", NULL);
    g_autofree char *chain = g_key_file_get_string(kf, g, "chain", NULL);
    g_autofree char *backend = g_key_file_get_string(kf, g, "backend", NULL);
    g_autofree char *comment = NULL;
    g_autoptr(VnFwEntry) e = NULL;
    VnFwBackend b;

    if (version < 2) {
        /* [rule COMMENT], the backend once for all */
        comment = g_strdup(g + strlen("rule "));
        g_free(backend);
        backend = g_strdup(v1_backend ? v1_backend : "iptables");
    } else {
        comment = g_key_file_get_string(kf, g, "comment", NULL);
    }
    if (!family || !table || !comment || !vn_fw_backend_from_string(backend, &b))
        return incomplete(path, g, error);
    e = vn_fw_entry_new(b, g_strcmp0(family, "ip6") == 0 ? NFPROTO_IPV6
                                                         : NFPROTO_IPV4,
                        table, chain, comment);
    e->handle = g_key_file_get_uint64(kf, g, "handle", NULL);
    e->spec = g_key_file_get_string(kf, g, "spec", NULL);
    /* nf_tables rules are found by handle, the others by their spec */
    if ((b == VN_FW_IPTABLES || b == VN_FW_NFTABLES) && (!chain || !e->handle))
        return incomplete(path, g, error);
    if ((b == VN_FW_LEGACY || b == VN_FW_FIREWALLD) && !e->spec)
        return incomplete(path, g, error);
    g_ptr_array_add(l->rules, g_steal_pointer(&e));
    return TRUE;
}

static gboolean
load_route(GKeyFile *kf, const char *g, VnLedger *l, const char *path,
           GError **error)
{
    g_autofree char *via = g_key_file_get_string(kf, g, "via", NULL);
    g_autofree char *dev = g_key_file_get_string(kf, g, "dev", NULL);
    gboolean pending = g_key_file_get_boolean(kf, g, "pending", NULL);
    gint adopted = g_key_file_get_integer(kf, g, "adopted", NULL);
    VnCidr dst, gw = { 0 };

    if (!vn_cidr_parse(g + strlen("route "), VN_CIDR_SUBNET, &dst, NULL) ||
        !dev || adopted < 0 || adopted > 255 ||
        (!pending && (!via || !vn_cidr_parse(via, VN_CIDR_ADDRESS, &gw, NULL))))
        return incomplete(path, g, error);
    vn_ledger_add_route(l, &dst, &gw, dev, pending)->adopted = (guint8)adopted;
    return TRUE;
}

gboolean
vn_ledger_load(const char *dir, VnObjectKind kind, const char *name,
               VnLedger **out, GError **error)
{
    g_autofree char *path = ledger_path(dir, kind, name, "state");
    g_autoptr(GKeyFile) kf = g_key_file_new();
    g_autoptr(GError) err = NULL;
    g_autoptr(VnLedger) l = NULL;
    g_auto(GStrv) groups = NULL;
    g_autofree char *v1_backend = NULL;
    int version;

    *out = NULL;
    if (!path)
        return TRUE;
    if (!g_key_file_load_from_file(kf, path, G_KEY_FILE_NONE, &err)) {
        if (g_error_matches(err, G_FILE_ERROR, G_FILE_ERROR_NOENT))
            return TRUE;
        g_set_error(error, VN_ERROR, VN_ERROR_FAILED, "%s: %s", path,
                    err->message);
        return FALSE;
    }
    l = vn_ledger_new(kind, name);
    version = g_key_file_get_integer(kf, "ledger", "version", NULL);
    v1_backend = g_key_file_get_string(kf, "ledger", "firewall", NULL);
    groups = g_key_file_get_groups(kf, NULL);
    for (guint i = 0; groups[i]; i++) {
        const char *g = groups[i];

        if (g_str_has_prefix(g, "rule ")) {
            if (!load_rule(kf, g, version, v1_backend, l, path, error))
                return FALSE;
        } else if (g_str_has_prefix(g, "route ")) {
            if (!load_route(kf, g, l, path, error))
                return FALSE;
        }
    }
    *out = g_steal_pointer(&l);
    return TRUE;
}

gboolean
vn_ledger_save(const char *dir, const VnLedger *ledger, GError **error)
{
    g_autofree char *path = ledger_path(dir, ledger->kind, ledger->name,
                                        "state");
    g_autoptr(GKeyFile) kf = NULL;
    g_autoptr(GError) err = NULL;
    g_autofree char *data = NULL;
    gsize len;

    if (!path) {
        g_set_error(error, VN_ERROR, VN_ERROR_FAILED,
                    "%s '%s': the name is too long for a state file",
                    vn_object_kind_to_string(ledger->kind), ledger->name);
        return FALSE;
    }
    if (!ledger->rules->len && !ledger->routes->len) {
        if (unlink(path) < 0 && errno != ENOENT) {
            g_set_error(error, VN_ERROR, VN_ERROR_FAILED,
                        "cannot remove %s: %s", path, g_strerror(errno));
            return FALSE;
        }
        return TRUE;
    }
    if (!mkdirs(dir, error))
        return FALSE;
    kf = g_key_file_new();
    g_key_file_set_integer(kf, "ledger", "version", LEDGER_VERSION);
    g_key_file_set_string(kf, "ledger", "object",
                          vn_object_kind_to_string(ledger->kind));
    g_key_file_set_string(kf, "ledger", "name", ledger->name);
    for (guint i = 0; i < ledger->rules->len; i++) {
        const VnFwEntry *r = ledger->rules->pdata[i];
        g_autofree char *g = g_strdup_printf("rule %u", i + 1);

        g_key_file_set_string(kf, g, "comment", r->comment);
        g_key_file_set_string(kf, g, "backend",
                              vn_fw_backend_to_string(r->backend));
        g_key_file_set_string(kf, g, "family", family_name(r->family));
        g_key_file_set_string(kf, g, "table", r->table);
        if (r->chain)
            g_key_file_set_string(kf, g, "chain", r->chain);
        if (r->handle)
            g_key_file_set_uint64(kf, g, "handle", r->handle);
        if (r->spec)
            g_key_file_set_string(kf, g, "spec", r->spec);
    }
    for (guint i = 0; i < ledger->routes->len; i++) {
        const VnLedgerRoute *r = ledger->routes->pdata[i];
        char d[VN_CIDR_STRLEN], v[VN_CIDR_STRLEN];
        g_autofree char *g = g_strdup_printf("route %s",
                                             vn_cidr_format(&r->dst, TRUE, d));

        if (r->pending)
            g_key_file_set_boolean(kf, g, "pending", TRUE);
        else
            g_key_file_set_string(kf, g, "via", vn_cidr_format(&r->via, FALSE, v));
        g_key_file_set_string(kf, g, "dev", r->dev);
        if (r->adopted)
            g_key_file_set_integer(kf, g, "adopted", r->adopted);
    }
    data = g_key_file_to_data(kf, &len, NULL);
    return vn_file_replace(path, NULL, data, len, 0644, FALSE, error);
}

static int
cmp_ledger(gconstpointer a, gconstpointer b)
{
    const VnLedger *x = *(VnLedger *const *)a;
    const VnLedger *y = *(VnLedger *const *)b;

    if (x->kind != y->kind)
        return x->kind < y->kind ? -1 : 1;
    return g_strcmp0(x->name, y->name);
}

/* Undo the %XX escapes of statepath.h. */
static char *
unescape(const char *s, gsize len)
{
    GString *out = g_string_new(NULL);

    for (gsize i = 0; i < len; i++) {
        int hi, lo;

        if (s[i] == '%' && i + 2 < len && (hi = g_ascii_xdigit_value(s[i + 1])) >= 0 &&
            (lo = g_ascii_xdigit_value(s[i + 2])) >= 0) {
            g_string_append_c(out, (char)(hi * 16 + lo));
            i += 2;
        } else {
            g_string_append_c(out, s[i]);
        }
    }
    return g_string_free(out, FALSE);
}

GPtrArray *
vn_ledger_load_all(const char *dir, GError **error)
{
    static const VnObjectKind kinds[] = { VN_OBJECT_NETWORK, VN_OBJECT_DOMAIN };
    g_autoptr(GPtrArray) all =
        g_ptr_array_new_with_free_func((GDestroyNotify)vn_ledger_free);

    for (guint k = 0; k < G_N_ELEMENTS(kinds); k++) {
        g_autofree char *sub = g_build_filename(dir,
                                                vn_object_kind_to_string(kinds[k]),
                                                NULL);
        g_autoptr(GDir) d = g_dir_open(sub, 0, NULL);
        const char *f;

        while (d && (f = g_dir_read_name(d))) {
            g_autofree char *name = NULL;
            VnLedger *l = NULL;

            if (!g_str_has_suffix(f, ".state"))
                continue;
            name = unescape(f, strlen(f) - strlen(".state"));
            if (!vn_ledger_load(dir, kinds[k], name, &l, error))
                return NULL;
            if (l)
                g_ptr_array_add(all, l);
        }
    }
    g_ptr_array_sort(all, cmp_ledger);
    return g_steal_pointer(&all);
}

char *
vn_state_network_xml(const char *dir, const char *name)
{
    g_autofree char *path = ledger_path(dir, VN_OBJECT_NETWORK, name, "xml");
    char *text = NULL;

    if (path && g_file_get_contents(path, &text, NULL, NULL))
        return text;
    return NULL;
}
