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

/* 3: every text %XX-escaped, so that GKeyFile neither refuses nor rewrites
 * anything a name holds; 2: one group per rule, [rule N], with its
 * backend, texts as GKeyFile strings; 1: [rule COMMENT], the backend in
 * [ledger] firewall, which GKeyFile refused for a name with '[', ']' or a
 * control byte, so that the rules outlived their network. All still read. */
#define LEDGER_VERSION 3

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

/* vn_state_dir_check, as a GError. */
static gboolean
check_dir(const char *dir, GError **error)
{
    char msg[4400];

    if (vn_state_dir_check(dir, msg, sizeof(msg)) < 0) {
        g_set_error_literal(error, VN_ERROR, VN_ERROR_FAILED, msg);
        return FALSE;
    }
    return TRUE;
}

static gboolean
mkdirs(const char *dir, GError **error)
{
    static const char *const subs[] = { "network", "domain" };

    /* before making anything in it, and once more for what was made */
    if (!check_dir(dir, error))
        return FALSE;
    for (guint i = 0; i < G_N_ELEMENTS(subs); i++) {
        g_autofree char *p = g_build_filename(dir, subs[i], NULL);

        if (g_mkdir_with_parents(p, 0755) < 0) {
            g_set_error(error, VN_ERROR, VN_ERROR_FAILED,
                        "cannot create %s: %s", p, g_strerror(errno));
            return FALSE;
        }
    }
    return check_dir(dir, error);
}

int
vn_state_lock(const char *dir, GError **error)
{
    g_autofree char *path = g_build_filename(dir, "lock", NULL);
    int fd;

    if (!mkdirs(dir, error))
        return -1;
    fd = open(path, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0644);
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

/* Version 3's escape: '%', '\\', control bytes, bytes past ASCII and a
 * leading or trailing space as %XX. */
static char *
escape(const char *s)
{
    GString *out = g_string_new(NULL);
    gsize len = strlen(s);

    for (gsize i = 0; i < len; i++) {
        guchar c = (guchar)s[i];

        if (c < 0x20 || c >= 0x7f || c == '%' || c == '\\' ||
            (c == ' ' && (i == 0 || i == len - 1)))
            g_string_append_printf(out, "%%%02X", c);
        else
            g_string_append_c(out, (char)c);
    }
    return g_string_free(out, FALSE);
}

/* Undo the %XX escapes of escape() and of statepath.h; NULL for a '%'
 * without two hex digits, or an escaped NUL. */
static char *
unescape(const char *s, gsize len)
{
    g_autoptr(GString) out = g_string_new(NULL);

    for (gsize i = 0; i < len; i++) {
        int hi, lo;

        if (s[i] != '%') {
            g_string_append_c(out, s[i]);
            continue;
        }
        if (i + 2 >= len || (hi = g_ascii_xdigit_value(s[i + 1])) < 0 ||
            (lo = g_ascii_xdigit_value(s[i + 2])) < 0 || hi + lo == 0)
            return NULL;
        g_string_append_c(out, (char)(hi * 16 + lo));
        i += 2;
    }
    return g_string_free(g_steal_pointer(&out), FALSE);
}

/* A text of @group: a GKeyFile string before version 3, escaped since. */
static char *
get_text(GKeyFile *kf, const char *group, const char *key, gint64 version)
{
    g_autofree char *v = NULL;

    if (version < 3)
        return g_key_file_get_string(kf, group, key, NULL);
    if (!(v = g_key_file_get_value(kf, group, key, NULL)))
        return NULL;
    return unescape(v, strlen(v));
}

static void
set_text(GKeyFile *kf, const char *group, const char *key, const char *text)
{
    g_autofree char *v = escape(text);

    g_key_file_set_value(kf, group, key, v);
}

/* A ledger that cannot be read: without the state directory, removal
 * finds what virt-nest installed by its tags (comments, route protocol). */
#define FIX_LEDGER "move the state directory away and run 'virt-nest " \
                   "reconcile', which finds virt-nest's rules and routes by " \
                   "their tags"

static gboolean
incomplete(const char *what, const char *group, GError **error)
{
    g_autofree char *g = escape(group);

    g_set_error(error, VN_ERROR, VN_ERROR_FAILED,
                "%s: [%s] is incomplete; " FIX_LEDGER, what, g);
    return FALSE;
}

static gboolean
load_rule(GKeyFile *kf, const char *g, gint64 version, const char *v1_backend,
          VnLedger *l, const char *what, GError **error)
{
    g_autofree char *family = get_text(kf, g, "family", version);
    g_autofree char *table = get_text(kf, g, "table", version);
    g_autofree char *chain = get_text(kf, g, "chain", version);
    g_autofree char *backend = get_text(kf, g, "backend", version);
    g_autofree char *comment = NULL;
    g_autoptr(VnFwEntry) e = NULL;
    gboolean v6 = g_strcmp0(family, "ip6") == 0;
    VnFwBackend b;

    if (version < 2) {
        /* [rule COMMENT], the backend once for all */
        comment = g_strdup(g + strlen("rule "));
        g_free(backend);
        backend = g_strdup(v1_backend ? v1_backend : "iptables");
    } else {
        comment = get_text(kf, g, "comment", version);
    }
    if (!family || !table || !comment || !vn_fw_backend_from_string(backend, &b) ||
        (version >= 3 && !v6 && strcmp(family, "ip") != 0))
        return incomplete(what, g, error);
    e = vn_fw_entry_new(b, v6 ? NFPROTO_IPV6 : NFPROTO_IPV4, table, chain,
                        comment);
    e->handle = g_key_file_get_uint64(kf, g, "handle", NULL);
    e->spec = get_text(kf, g, "spec", version);
    /* nf_tables rules are found by handle, the others by their spec */
    if ((b == VN_FW_IPTABLES || b == VN_FW_NFTABLES) && (!chain || !e->handle))
        return incomplete(what, g, error);
    if ((b == VN_FW_LEGACY || b == VN_FW_FIREWALLD) && !e->spec)
        return incomplete(what, g, error);
    g_ptr_array_add(l->rules, g_steal_pointer(&e));
    return TRUE;
}

static gboolean
load_route(GKeyFile *kf, const char *g, gint64 version, VnLedger *l,
           const char *what, GError **error)
{
    g_autofree char *via = get_text(kf, g, "via", version);
    g_autofree char *dev = get_text(kf, g, "dev", version);
    gboolean pending = g_key_file_get_boolean(kf, g, "pending", NULL);
    gint adopted = g_key_file_get_integer(kf, g, "adopted", NULL);
    VnCidr dst, gw = { 0 };

    if (!vn_cidr_parse(g + strlen("route "), VN_CIDR_SUBNET, &dst, NULL) ||
        !dev || adopted < 0 || adopted > 255 ||
        (!pending && (!via || !vn_cidr_parse(via, VN_CIDR_ADDRESS, &gw, NULL))))
        return incomplete(what, g, error);
    vn_ledger_add_route(l, &dst, &gw, dev, pending)->adopted = (guint8)adopted;
    return TRUE;
}

gboolean
vn_ledger_parse(const char *data, gssize len, const char *what,
                VnObjectKind kind, const char *name, VnLedger **out,
                GError **error)
{
    g_autoptr(GKeyFile) kf = g_key_file_new();
    g_autoptr(GError) err = NULL;
    g_autoptr(VnLedger) l = NULL;
    g_auto(GStrv) groups = NULL;
    g_autofree char *v = NULL;
    g_autofree char *v1_backend = NULL;
    gint64 version = 1;

    *out = NULL;
    if (len < 0)
        len = (gssize)strlen(data);
    if (memchr(data, '\0', (gsize)len)) {
        g_set_error(error, VN_ERROR, VN_ERROR_FAILED,
                    "%s: a NUL byte; " FIX_LEDGER, what);
        return FALSE;
    }
    if (!g_key_file_load_from_data(kf, data, (gsize)len, G_KEY_FILE_NONE,
                                   &err)) {
        g_set_error(error, VN_ERROR, VN_ERROR_FAILED, "%s: %s", what,
                    err->message);
        return FALSE;
    }
    if ((v = g_key_file_get_value(kf, "ledger", "version", NULL)) &&
        !g_ascii_string_to_signed(g_strstrip(v), 10, 1, G_MAXINT, &version,
                                  NULL)) {
        g_set_error(error, VN_ERROR, VN_ERROR_FAILED,
                    "%s: version '%s' is not a number", what, v);
        return FALSE;
    }
    if (version > LEDGER_VERSION) {
        g_set_error(error, VN_ERROR, VN_ERROR_FAILED,
                    "%s: version %" G_GINT64_FORMAT " of the ledger is newer "
                    "than this virt-nest reads (%d); run the virt-nest that "
                    "wrote it", what, version, LEDGER_VERSION);
        return FALSE;
    }
    l = vn_ledger_new(kind, name);
    v1_backend = get_text(kf, "ledger", "firewall", version);
    groups = g_key_file_get_groups(kf, NULL);
    for (guint i = 0; groups[i]; i++) {
        const char *g = groups[i];

        if (g_str_has_prefix(g, "rule ")) {
            if (!load_rule(kf, g, version, v1_backend, l, what, error))
                return FALSE;
        } else if (g_str_has_prefix(g, "route ")) {
            if (!load_route(kf, g, version, l, what, error))
                return FALSE;
        }
    }
    /* version 1 wrote a network's ledger only when it installed rules: none
     * read back means GKeyFile refused their groups */
    l->rules_lost = version < 2 && kind == VN_OBJECT_NETWORK && !l->rules->len;
    *out = g_steal_pointer(&l);
    return TRUE;
}

gboolean
vn_ledger_load(const char *dir, VnObjectKind kind, const char *name,
               VnLedger **out, GError **error)
{
    g_autofree char *path = ledger_path(dir, kind, name, "state");
    g_autofree char *data = NULL;
    g_autoptr(GError) err = NULL;
    gsize len;

    *out = NULL;
    if (!path)
        return TRUE;
    if (!g_file_get_contents(path, &data, &len, &err)) {
        if (g_error_matches(err, G_FILE_ERROR, G_FILE_ERROR_NOENT))
            return TRUE;
        g_set_error(error, VN_ERROR, VN_ERROR_FAILED, "%s", err->message);
        return FALSE;
    }
    return vn_ledger_parse(data, (gssize)len, path, kind, name, out, error);
}

char *
vn_ledger_format(const VnLedger *ledger, gsize *len)
{
    g_autoptr(GKeyFile) kf = g_key_file_new();

    g_key_file_set_integer(kf, "ledger", "version", LEDGER_VERSION);
    g_key_file_set_string(kf, "ledger", "object",
                          vn_object_kind_to_string(ledger->kind));
    set_text(kf, "ledger", "name", ledger->name);
    for (guint i = 0; i < ledger->rules->len; i++) {
        const VnFwEntry *r = ledger->rules->pdata[i];
        g_autofree char *g = g_strdup_printf("rule %u", i + 1);

        set_text(kf, g, "comment", r->comment);
        set_text(kf, g, "backend", vn_fw_backend_to_string(r->backend));
        set_text(kf, g, "family", family_name(r->family));
        set_text(kf, g, "table", r->table);
        if (r->chain)
            set_text(kf, g, "chain", r->chain);
        if (r->handle)
            g_key_file_set_uint64(kf, g, "handle", r->handle);
        if (r->spec)
            set_text(kf, g, "spec", r->spec);
    }
    for (guint i = 0; i < ledger->routes->len; i++) {
        const VnLedgerRoute *r = ledger->routes->pdata[i];
        char d[VN_CIDR_STRLEN], v[VN_CIDR_STRLEN];
        g_autofree char *g = g_strdup_printf("route %s",
                                             vn_cidr_format(&r->dst, TRUE, d));

        if (r->pending)
            g_key_file_set_boolean(kf, g, "pending", TRUE);
        else
            set_text(kf, g, "via", vn_cidr_format(&r->via, FALSE, v));
        set_text(kf, g, "dev", r->dev);
        if (r->adopted)
            g_key_file_set_integer(kf, g, "adopted", r->adopted);
    }
    return g_key_file_to_data(kf, len, NULL);
}

gboolean
vn_ledger_save(const char *dir, const VnLedger *ledger, GError **error)
{
    g_autofree char *path = ledger_path(dir, ledger->kind, ledger->name,
                                        "state");
    g_autofree char *data = NULL;
    gsize len;

    if (!path) {
        g_set_error(error, VN_ERROR, VN_ERROR_FAILED,
                    "%s '%s': the name is empty or too long for a state "
                    "file", vn_object_kind_to_string(ledger->kind),
                    ledger->name);
        return FALSE;
    }
    if (!check_dir(dir, error))
        return FALSE;
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
    data = vn_ledger_format(ledger, &len);
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
            if (!name)
                continue;       /* no name of vn_state_path's */
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
