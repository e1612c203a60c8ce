/* xtables.c: legacy xtables on this host: which tables the kernel has and
 * what they hold, iptables-legacy-save and -restore run, the backend.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <netinet/in.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <linux/netfilter.h>
#include <linux/netfilter_ipv4/ip_tables.h>
#include <linux/netfilter_ipv6/ip6_tables.h>

#include "error.h"
#include "fwbackend.h"
#include "xtables.h"

static void
fd_close(int *fd)
{
    if (*fd >= 0)
        close(*fd);
}

#define AUTOFD __attribute__((cleanup(fd_close)))

/* ------------------------------------------------------------------ */
/* the kernel's view: which legacy tables exist, and whether they hold   */
/* anything (no process for that)                                      */

static const char *
family_cmd(int family)
{
    return family == NFPROTO_IPV6 ? "ip6tables" : "iptables";
}

/* The legacy tables that exist in this network namespace. */
static char **
table_names(int family)
{
    g_autofree char *text = NULL;

    if (!g_file_get_contents(family == NFPROTO_IPV6 ?
                             "/proc/net/ip6_tables_names" :
                             "/proc/net/ip_tables_names", &text, NULL, NULL))
        return g_new0(char *, 1);
    g_strstrip(text);
    if (!*text)
        return g_new0(char *, 1);
    return g_strsplit(text, "\n", -1);
}

/* What a legacy table holds, as the kernel hands it out. */
typedef struct {
    gboolean rules;         /* more than its built-in chains' policies */
    gboolean to_beat;       /* what an exception must beat or a stop must
                             * remove: a REJECT, a DROP (rule or policy),
                             * MASQUERADE, SNAT, a LIBVIRT_* chain (whose
                             * rules a stopped network took away), a rule
                             * with virt-nest's comment */
} TableUse;

/* The entries of one table: a walk over the blob that IPT_SO_GET_ENTRIES
 * returns (what libiptc reads), so that no process is needed to know
 * whether the table matters. */
static void
scan_entries(gboolean v6, const guint8 *base, guint size, TableUse *use)
{
    gsize head = v6 ? sizeof(struct ip6t_entry) : sizeof(struct ipt_entry);

    for (guint off = 0; off + head <= size;) {
        const guint8 *e = base + off;
        guint16 toff = v6 ? ((const struct ip6t_entry *)e)->target_offset
                          : ((const struct ipt_entry *)e)->target_offset;
        guint16 noff = v6 ? ((const struct ip6t_entry *)e)->next_offset
                          : ((const struct ipt_entry *)e)->next_offset;
        const struct xt_entry_target *t;

        if (noff < head || toff < head || off + noff > size ||
            toff + sizeof(*t) > noff)
            return;         /* not what the kernel hands out: stop */
        for (guint m = (guint)head; m + sizeof(struct xt_entry_match) <= toff;) {
            const struct xt_entry_match *em = (const void *)(e + m);
            guint16 msize = em->u.match_size;

            if (msize < sizeof(*em) || m + msize > toff)
                break;
            if (!strncmp(em->u.user.name, "comment", sizeof(em->u.user.name)) &&
                msize >= sizeof(*em) + strlen("virt-nest ") &&
                !strncmp((const char *)em->data, "virt-nest ", strlen("virt-nest ")))
                use->to_beat = TRUE;
            m += msize;
        }
        t = (const void *)(e + toff);
        if (t->u.user.name[0] == '\0') {
            if (toff + sizeof(struct xt_standard_target) <= noff &&
                ((const struct xt_standard_target *)t)->verdict == -NF_DROP - 1)
                use->to_beat = TRUE;
        } else if (!strcmp(t->u.user.name, XT_ERROR_TARGET)) {
            if (toff + sizeof(struct xt_error_target) <= noff &&
                !strncmp(((const struct xt_error_target *)t)->errorname,
                         "LIBVIRT_", strlen("LIBVIRT_")))
                use->to_beat = TRUE;
        } else if (!strcmp(t->u.user.name, "REJECT") ||
                   !strcmp(t->u.user.name, "MASQUERADE") ||
                   !strcmp(t->u.user.name, "SNAT")) {
            use->to_beat = TRUE;
        }
        off += noff;
    }
}

/* What the legacy table @name (which exists) holds. Asked only of tables
 * that exist: the query would make one in this network namespace
 * otherwise. */
static gboolean
table_use(int family, const char *name, TableUse *use, GError **error)
{
    gboolean v6 = family == NFPROTO_IPV6;
    int level = v6 ? IPPROTO_IPV6 : IPPROTO_IP;
    struct ipt_getinfo info;    /* the same layout as ip6t_getinfo */
    socklen_t len = sizeof(info);
    gsize hsize = v6 ? sizeof(struct ip6t_get_entries)
                     : sizeof(struct ipt_get_entries);
    g_autofree guint8 *buf = NULL;
    AUTOFD int fd = socket(v6 ? AF_INET6 : AF_INET, SOCK_RAW | SOCK_CLOEXEC,
                           IPPROTO_RAW);
    guint hooks = 0;

    G_STATIC_ASSERT(sizeof(struct ipt_getinfo) == sizeof(struct ip6t_getinfo));
    G_STATIC_ASSERT(IPT_SO_GET_INFO == IP6T_SO_GET_INFO &&
                    IPT_SO_GET_ENTRIES == IP6T_SO_GET_ENTRIES);
    G_STATIC_ASSERT(G_STRUCT_OFFSET(struct ipt_get_entries, size) ==
                    G_STRUCT_OFFSET(struct ip6t_get_entries, size));
    memset(use, 0, sizeof(*use));
    memset(&info, 0, sizeof(info));
    g_strlcpy(info.name, name, sizeof(info.name));
    if (fd < 0 || getsockopt(fd, level, IPT_SO_GET_INFO, &info, &len) < 0) {
        if (errno == ENOENT)
            return TRUE;    /* gone since it was listed */
        g_set_error(error, VN_ERROR, VN_ERROR_FAILED,
                    "cannot read the legacy %s table %s: %s; run as root",
                    family_cmd(family), name, g_strerror(errno));
        return FALSE;
    }
    for (guint h = 0; h < NF_INET_NUMHOOKS; h++)
        hooks += (info.valid_hooks >> h) & 1;
    use->rules = info.num_entries > hooks + 1;
    /* the kernel wants the exact size of its family's header */
    len = (socklen_t)(hsize + info.size);
    buf = g_malloc0(len);
    g_strlcpy((char *)buf, name, XT_TABLE_MAXNAMELEN);
    ((struct ipt_get_entries *)buf)->size = info.size;
    if (getsockopt(fd, level, IPT_SO_GET_ENTRIES, buf, &len) < 0) {
        if (errno == EAGAIN || errno == ENOENT)
            return TRUE;    /* changed under us: it is in use */
        g_set_error(error, VN_ERROR, VN_ERROR_FAILED,
                    "cannot read the legacy %s table %s: %s",
                    family_cmd(family), name, g_strerror(errno));
        return FALSE;
    }
    scan_entries(v6, buf + hsize, info.size, use);
    return TRUE;
}

static gboolean
listed(char **names, const char *table)
{
    return names && g_strv_contains((const char *const *)names, table);
}

/* ------------------------------------------------------------------ */
/* running the binaries                                                */

/* iptables-legacy-save, iptables-legacy-restore (and ip6tables-...) where
 * distributions put them; else the plain names when they are not
 * iptables-nft's (iptables before 1.8 is legacy only). NULL if none. */
static char *
find_tool(int family, const char *what)
{
    static const char *const dirs[] = {
        "/usr/sbin", "/sbin", "/usr/local/sbin", "/usr/bin", "/bin",
    };
    const char *cmd = family_cmd(family);

    for (guint i = 0; i < G_N_ELEMENTS(dirs); i++) {
        g_autofree char *p = g_strdup_printf("%s/%s-legacy-%s", dirs[i], cmd,
                                             what);

        if (access(p, X_OK) == 0)
            return g_steal_pointer(&p);
    }
    for (guint i = 0; i < G_N_ELEMENTS(dirs); i++) {
        g_autofree char *p = g_strdup_printf("%s/%s-%s", dirs[i], cmd, what);
        g_autofree char *real = NULL;

        if (access(p, X_OK) != 0 || !(real = realpath(p, NULL)))
            continue;
        if (!strstr(real, "nft"))
            return g_steal_pointer(&p);
    }
    return NULL;
}

static char *
tool(int family, const char *what, GError **error)
{
    char *p = find_tool(family, what);

    if (!p)
        g_set_error(error, VN_ERROR, VN_ERROR_UNSUPPORTED,
                    "this host's firewall rules are in legacy iptables, but "
                    "%s-legacy-%s is not in /usr/sbin or /sbin: install "
                    "iptables (apt-get install iptables; dnf install "
                    "iptables-legacy)", family_cmd(family), what);
    return p;
}

/* A memory file holding @text, above the standard descriptors. */
static int
memfile(const char *text, GError **error)
{
    int fd = memfd_create("virt-nest", MFD_CLOEXEC), high;
    gsize len = text ? strlen(text) : 0, done = 0;

    if (fd < 0) {
        g_set_error(error, VN_ERROR, VN_ERROR_FAILED, "memfd_create: %s",
                    g_strerror(errno));
        return -1;
    }
    if (fd <= 2) {
        high = fcntl(fd, F_DUPFD_CLOEXEC, 3);
        close(fd);
        fd = high;
    }
    while (fd >= 0 && done < len) {
        ssize_t n = write(fd, text + done, len - done);

        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            g_set_error(error, VN_ERROR, VN_ERROR_FAILED, "write: %s",
                        g_strerror(errno));
            close(fd);
            return -1;
        }
        done += (gsize)n;
    }
    if (fd >= 0 && lseek(fd, 0, SEEK_SET) < 0) {
        close(fd);
        fd = -1;
    }
    if (fd < 0 && error && !*error)
        g_set_error(error, VN_ERROR, VN_ERROR_FAILED, "memfd: %s",
                    g_strerror(errno));
    return fd;
}

static char *
slurp(int fd)
{
    GString *s = g_string_new(NULL);
    char buf[8192];
    ssize_t n;

    lseek(fd, 0, SEEK_SET);
    while ((n = read(fd, buf, sizeof(buf))) != 0) {
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            break;
        g_string_append_len(s, buf, n);
    }
    return g_string_free(s, FALSE);
}

/* The first line of @text, for a message. transfer full. */
static char *
first_line(const char *text)
{
    gsize n = strcspn(text, "\n");

    return n ? g_strndup(text, n) : g_strdup("no message");
}

/* Run @argv (argv[0] an absolute path) with @input on its stdin, in the
 * C locale; *@out (nullable) gets its stdout. FALSE with @error (the first
 * line of its stderr) when it does not exit 0; *@err_out (nullable) gets
 * all of its stderr then. */
static gboolean
run(char **argv, const char *input, char **out, char **err_out,
    GError **error)
{
    char *envp[] = { (char *)"LC_ALL=C",
                     (char *)"PATH=/usr/sbin:/usr/bin:/sbin:/bin", NULL };
    AUTOFD int in = memfile(input, error);
    AUTOFD int o = in >= 0 ? memfile(NULL, error) : -1;
    AUTOFD int e = o >= 0 ? memfile(NULL, error) : -1;
    g_autofree char *name = g_path_get_basename(argv[0]);
    posix_spawn_file_actions_t fa;
    int status = 0, rc;
    pid_t pid;

    if (e < 0)
        return FALSE;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, in, 0);
    posix_spawn_file_actions_adddup2(&fa, o, 1);
    posix_spawn_file_actions_adddup2(&fa, e, 2);
    rc = posix_spawn(&pid, argv[0], &fa, NULL, argv, envp);
    posix_spawn_file_actions_destroy(&fa);
    if (rc != 0) {
        g_set_error(error, VN_ERROR, VN_ERROR_FAILED, "cannot run %s: %s",
                    argv[0], g_strerror(rc));
        return FALSE;
    }
    while ((rc = waitpid(pid, &status, 0)) < 0 && errno == EINTR)
        ;
    if (rc < 0) {
        /* e.g. SIGCHLD ignored: its exit status is lost */
        g_set_error(error, VN_ERROR, VN_ERROR_FAILED,
                    "cannot wait for %s: %s", name, g_strerror(errno));
        return FALSE;
    }
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        g_autofree char *err = slurp(e);
        g_autofree char *line = first_line(err);

        g_set_error(error, VN_ERROR, VN_ERROR_FAILED, "%s %s: %s", name,
                    WIFEXITED(status) ? "failed" : "was killed", line);
        if (err_out)
            *err_out = g_steal_pointer(&err);
        return FALSE;
    }
    if (out)
        *out = slurp(o);
    return TRUE;
}

/* iptables-legacy-save's tables of @family. */
static VnXtRuleset *
save(int family, GError **error)
{
    g_autofree char *path = tool(family, "save", error);
    g_autofree char *text = NULL;
    char *argv[] = { path, NULL };

    if (!path || !run(argv, NULL, &text, NULL, error))
        return NULL;
    return vn_xt_ruleset_parse(text, family, error);
}

gboolean
vn_xt_read(GPtrArray *chains, GError **error)
{
    static const int families[] = { NFPROTO_IPV4, NFPROTO_IPV6 };

    for (guint f = 0; f < G_N_ELEMENTS(families); f++) {
        g_auto(GStrv) names = table_names(families[f]);
        g_autoptr(VnXtRuleset) rs = NULL;
        g_autofree char *list = NULL;
        gboolean used = FALSE;

        /* only tables that hold something: doctor evaluates every table
         * (a DROP in mangle drops too) */
        for (guint i = 0; names[i] && !used; i++) {
            TableUse use;

            if (!table_use(families[f], names[i], &use, error))
                return FALSE;
            used = use.rules || use.to_beat;
        }
        if (!used)
            continue;
        if (!(rs = save(families[f], error))) {
            list = g_strjoinv(", ", names);
            g_prefix_error(error, "cannot read the legacy %s tables (%s): ",
                           family_cmd(families[f]), list);
            return FALSE;
        }
        vn_xt_ruleset_model(rs, chains);
    }
    return TRUE;
}

/* ------------------------------------------------------------------ */
/* the backend                                                         */

/* What one run knows of this host's legacy tables, per family. */
typedef struct {
    int asked[2];           /* 0 not yet; 1 in the forward path; -1 not */
    char **names[2];        /* the tables that exist */
    VnXtRuleset *rs[2];     /* iptables-legacy-save's, read when needed */
} Legacy;

static void
legacy_free(Legacy *l)
{
    for (guint f = 0; f < 2; f++) {
        g_strfreev(l->names[f]);
        vn_xt_ruleset_free(l->rs[f]);
    }
    g_free(l);
}

static Legacy *
legacy_of(VnFw *fw)
{
    Legacy *l = vn_fw_get_data(fw, VN_FW_LEGACY);

    if (!l) {
        l = g_new0(Legacy, 1);
        vn_fw_set_data(fw, VN_FW_LEGACY, l, (GDestroyNotify)legacy_free);
    }
    return l;
}

static int
fam(int family)
{
    return family == NFPROTO_IPV6 ? 1 : 0;
}

static char **
names_of(VnFw *fw, int family)
{
    Legacy *l = legacy_of(fw);
    int f = fam(family);

    if (!l->names[f])
        l->names[f] = table_names(family);
    return l->names[f];
}

/* This run's copy of the tables of @family: iptables-legacy-save runs
 * once, and only when a rule's text is needed (to find, compare or remove
 * one); starting a network needs none. */
static const VnXtRuleset *
ruleset(VnFw *fw, int family, GError **error)
{
    Legacy *l = legacy_of(fw);
    int f = fam(family);

    if (!l->rs[f])
        l->rs[f] = save(family, error);
    return l->rs[f];
}

/* In the forward path when filter or nat holds what an exception must
 * beat, or rules of virt-nest's (a stop must find them): told by the
 * kernel, no process. */
static int
legacy_detect(VnFw *fw, int family, GError **error)
{
    static const char *const tables[] = { "filter", "nat" };
    Legacy *l = legacy_of(fw);
    int f = fam(family);
    char **names = names_of(fw, family);
    gboolean on = FALSE;

    if (l->asked[f])
        return l->asked[f] > 0;
    for (guint i = 0; i < G_N_ELEMENTS(tables) && !on; i++) {
        TableUse use;

        if (!listed(names, tables[i]))
            continue;
        if (!table_use(family, tables[i], &use, error))
            return -1;
        on = use.to_beat;
    }
    l->asked[f] = on ? 1 : -1;
    return on;
}

static void
where_of(VnRuleKind kind, const char **table, const char **chain)
{
    *table = kind == VN_RULE_NAT ? "nat" : "filter";
    *chain = kind == VN_RULE_NAT ? "POSTROUTING" : "FORWARD";
}

static gboolean
legacy_place(VnFw *fw, const VnRule *rule, VnFwEntry **out, GError **error)
{
    int family = rule->src.family == AF_INET6 ? NFPROTO_IPV6 : NFPROTO_IPV4;
    g_autofree char *comment = NULL;
    const char *table, *chain;

    *out = NULL;
    where_of(rule->kind, &table, &chain);
    /* a table that exists has its built-in chains */
    if (!listed(names_of(fw, family), table))
        return TRUE;        /* no legacy nat table: no MASQUERADE there */
    comment = vn_rule_comment(rule);
    *out = vn_fw_entry_new(VN_FW_LEGACY, family, table, chain, comment);
    (*out)->spec = vn_xt_rule_spec(rule);
    return TRUE;
}

/* The chain of @e, NULL when it is not there (no process when its table
 * is not either: a ruleset that a reboot took away) or with @error. */
static const VnXtChain *
entry_chain(VnFw *fw, const VnFwEntry *e, GError **error)
{
    const VnXtRuleset *rs;

    if (!listed(names_of(fw, e->family), e->table))
        return NULL;
    rs = ruleset(fw, e->family, error);
    return rs ? vn_xt_ruleset_chain(rs, e->table, e->chain) : NULL;
}

static int
legacy_exists(VnFw *fw, const VnFwEntry *e, GError **error)
{
    g_autoptr(GError) err = NULL;
    const VnXtChain *c = entry_chain(fw, e, &err);

    if (err) {
        g_propagate_error(error, g_steal_pointer(&err));
        return -1;
    }
    for (guint i = 0; c && i < c->rules->len; i++)
        if (!g_strcmp0(c->rules->pdata[i], e->spec))
            return 1;
    return 0;
}

static gboolean
legacy_list(VnFw *fw, int family, const char *prefix, GPtrArray *out,
            GError **error)
{
    static const VnRuleKind kinds[] = { VN_RULE_IN, VN_RULE_NAT };
    const VnXtRuleset *rs = ruleset(fw, family, error);

    if (!rs)
        return FALSE;
    for (guint k = 0; k < G_N_ELEMENTS(kinds); k++) {
        const char *table, *chain;
        const VnXtChain *c;

        where_of(kinds[k], &table, &chain);
        c = vn_xt_ruleset_chain(rs, table, chain);
        for (guint i = 0; c && i < c->rules->len; i++) {
            const char *spec = c->rules->pdata[i];
            g_autofree char *cm = vn_xt_spec_comment(spec);
            VnFwEntry *e;

            if (!cm || (prefix ? !g_str_has_prefix(cm, prefix)
                               : !vn_rule_comment_is_ours(cm)))
                continue;
            e = vn_fw_entry_new(VN_FW_LEGACY, family, table, chain, cm);
            e->spec = g_strdup(spec);
            g_ptr_array_add(out, e);
        }
    }
    return TRUE;
}

static int
legacy_preceded(VnFw *fw, const VnFwEntry *e, GError **error)
{
    g_autoptr(GError) err = NULL;
    const VnXtChain *c = entry_chain(fw, e, &err);

    if (err) {
        g_propagate_error(error, g_steal_pointer(&err));
        return -1;
    }
    for (guint i = 0; c && i < c->rules->len; i++) {
        const char *spec = c->rules->pdata[i];
        g_autofree char *cm = NULL;

        if (!strcmp(spec, e->spec))
            return 0;
        cm = vn_xt_spec_comment(spec);
        if (!vn_rule_comment_is_ours(cm))
            return 1;
    }
    return 0;
}

/* The changes of one table: one iptables-legacy-restore --noflush block,
 * which the kernel takes whole or not at all, and its inverse. */
typedef struct {
    int family;
    const char *table;
    GString *text;
    GString *undo;
    GString *undo_inserts;  /* the inverse's re-inserts, after its deletes */
    GHashTable *pos;        /* chain -> the position of its next insert */
} Block;

static void
block_free(Block *b)
{
    g_string_free(b->text, TRUE);
    g_string_free(b->undo, TRUE);
    g_string_free(b->undo_inserts, TRUE);
    g_hash_table_unref(b->pos);
    g_free(b);
}

static Block *
block_for(GPtrArray *blocks, const VnFwEntry *e)
{
    Block *b;

    for (guint i = 0; i < blocks->len; i++) {
        b = blocks->pdata[i];
        if (b->family == e->family && !strcmp(b->table, e->table))
            return b;
    }
    b = g_new0(Block, 1);
    b->family = e->family;
    b->table = e->table;
    b->text = g_string_new(NULL);
    b->undo = g_string_new(NULL);
    b->undo_inserts = g_string_new(NULL);
    b->pos = g_hash_table_new(g_str_hash, g_str_equal);
    g_ptr_array_add(blocks, b);
    return b;
}

static char *
block_where(const Block *b)
{
    return g_strdup_printf("legacy %s %s", b->family == NFPROTO_IPV6 ? "ip6"
                                                                      : "ip",
                           b->table);
}

/* Deletions first, then inserts, each at the head after the ones before
 * it: the chain begins with them in the order given. */
static gboolean
build_blocks(GPtrArray *changes, GPtrArray *blocks, GError **error)
{
    for (guint pass = 0; pass < 2; pass++) {
        for (guint i = 0; i < changes->len; i++) {
            const VnFwChange *ch = changes->pdata[i];
            const VnFwEntry *e = ch->entry;
            g_autofree char *built = NULL;
            const char *spec = e->spec;
            Block *b;

            if (ch->insert != (pass == 1))
                continue;
            if (!spec && ch->rule)
                spec = built = vn_xt_rule_spec(ch->rule);
            if (!spec || !e->table || !e->chain) {
                g_set_error(error, VN_ERROR, VN_ERROR_FAILED,
                            "rule \"%s\": a legacy entry without its rule",
                            e->comment);
                return FALSE;
            }
            b = block_for(blocks, e);
            if (ch->insert) {
                guint n = GPOINTER_TO_UINT(g_hash_table_lookup(b->pos,
                                                               e->chain)) + 1;

                g_hash_table_insert(b->pos, e->chain, GUINT_TO_POINTER(n));
                g_string_append_printf(b->text, "-I %s %u %s\n", e->chain, n,
                                       spec);
                g_string_prepend(b->undo, "\n");
                g_string_prepend(b->undo, spec);
                g_string_prepend(b->undo, " ");
                g_string_prepend(b->undo, e->chain);
                g_string_prepend(b->undo, "-D ");
            } else {
                g_string_append_printf(b->text, "-D %s %s\n", e->chain, spec);
                /* put back at the head, the first deleted ending first */
                g_string_prepend(b->undo_inserts, "\n");
                g_string_prepend(b->undo_inserts, spec);
                g_string_prepend(b->undo_inserts, " 1 ");
                g_string_prepend(b->undo_inserts, e->chain);
                g_string_prepend(b->undo_inserts, "-I ");
            }
        }
    }
    for (guint i = 0; i < blocks->len; i++) {
        Block *b = blocks->pdata[i];

        g_string_append(b->undo, b->undo_inserts->str);
    }
    return TRUE;
}

/* The tables changed: read them again when asked. */
static void
legacy_forget(Legacy *l)
{
    for (guint f = 0; f < 2; f++) {
        g_clear_pointer(&l->names[f], g_strfreev);
        g_clear_pointer(&l->rs[f], vn_xt_ruleset_free);
    }
}

/* The line iptables-restore stopped at ("iptables-restore: line 4
 * failed", "Error occurred at line: 4"), or 0. */
static guint
failed_line(const char *err)
{
    guint line = 0;

    for (const char *p = err; p && *p; p++) {
        guint n;

        if ((sscanf(p, "line %u failed", &n) == 1 ||
             sscanf(p, "Error occurred at line: %u", &n) == 1) && n)
            line = n;
    }
    return line;
}

/* @blocks of @family (the inverses, newest first, when @undo) in one
 * iptables-legacy-restore --noflush run. The kernel takes each table
 * whole, in order: when one fails, the ones before it are committed.
 * *@committed gets how many are (G_MAXUINT: unknown). */
static gboolean
restore_family(int family, GPtrArray *blocks, guint n, gboolean undo,
               guint *committed, GError **error)
{
    g_autofree char *path = tool(family, "restore", error);
    g_autoptr(GString) text = g_string_new(NULL);
    g_autoptr(GArray) ends = g_array_new(FALSE, FALSE, sizeof(guint));
    g_autofree char *err = NULL;
    char *argv[] = { path, (char *)"--wait=10", (char *)"--noflush", NULL };
    guint lines = 0, line;

    *committed = 0;
    if (!path)
        return FALSE;
    for (guint k = 0; k < n; k++) {
        const Block *b = blocks->pdata[undo ? n - 1 - k : k];
        const GString *body = undo ? b->undo : b->text;

        if (b->family != family)
            continue;
        g_string_append_printf(text, "*%s\n%sCOMMIT\n", b->table, body->str);
        for (const char *p = body->str; *p; p++)
            lines += *p == '\n';
        lines += 2;
        g_array_append_val(ends, lines);
    }
    if (!ends->len)
        return TRUE;
    if (run(argv, text->str, NULL, &err, error)) {
        *committed = ends->len;
        return TRUE;
    }
    if (!(line = failed_line(err))) {
        *committed = G_MAXUINT;
        return FALSE;
    }
    while (*committed < ends->len &&
           g_array_index(ends, guint, *committed) < line)
        (*committed)++;
    return FALSE;
}

/* Put back the first @n of @blocks of @family, and every block of the
 * families before it; best effort. */
static void
undo_before(GPtrArray *blocks, const int *families, guint f, guint n)
{
    for (guint g = f + 1; g-- > 0;) {
        g_autoptr(GPtrArray) done = g_ptr_array_new();
        guint seen = 0, ignored;

        for (guint i = 0; i < blocks->len; i++) {
            Block *b = blocks->pdata[i];

            if (b->family != families[g])
                continue;
            if (g < f || seen++ < n)
                g_ptr_array_add(done, b);
        }
        restore_family(families[g], done, done->len, TRUE, &ignored, NULL);
    }
}

/* Each family's tables in one iptables-legacy-restore, each table
 * committed by the kernel whole; when one fails, the ones committed
 * before it are undone. */
static gboolean
legacy_commit(VnFw *fw, GPtrArray *changes, GError **error)
{
    static const int families[] = { NFPROTO_IPV4, NFPROTO_IPV6 };
    g_autoptr(GPtrArray) blocks =
        g_ptr_array_new_with_free_func((GDestroyNotify)block_free);
    Legacy *l = legacy_of(fw);

    if (!build_blocks(changes, blocks, error))
        return FALSE;
    for (guint f = 0; f < G_N_ELEMENTS(families); f++) {
        g_autoptr(GError) err = NULL;
        guint committed;

        if (restore_family(families[f], blocks, blocks->len, FALSE,
                           &committed, &err))
            continue;
        legacy_forget(l);
        if (committed == G_MAXUINT) {
            /* iptables-restore did not say where it stopped */
            undo_before(blocks, families, f, 0);
            g_set_error(error, err->domain, err->code, "legacy %s tables "
                        "refused the change (%s); some of them may have "
                        "changed: 'virt-nest reconcile' puts them right",
                        families[f] == NFPROTO_IPV6 ? "ip6" : "ip",
                        err->message);
            return FALSE;
        }
        undo_before(blocks, families, f, committed);
        {
            const Block *b = NULL;
            g_autofree char *where = NULL;

            for (guint i = 0, seen = 0; i < blocks->len && !b; i++)
                if (((Block *)blocks->pdata[i])->family == families[f] &&
                    seen++ == committed)
                    b = blocks->pdata[i];
            where = b ? block_where(b) : g_strdup("legacy iptables");
            g_set_error(error, err->domain, err->code, "%s refused the "
                        "change (%s); nothing was changed", where,
                        err->message);
        }
        return FALSE;
    }
    legacy_forget(l);
    return TRUE;
}

const VnFwBackendClass vn_fw_legacy_class = {
    .backend = VN_FW_LEGACY,
    .detect = legacy_detect,
    .place = legacy_place,
    .exists = legacy_exists,
    .list = legacy_list,
    .preceded = legacy_preceded,
    .commit = legacy_commit,
};
