/* fwbackend.c: the firewall backends.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include <string.h>
#include <sys/socket.h>
#include <linux/netfilter.h>

#include "error.h"
#include "fwbackend.h"
#include "nftables.h"

static const char *const backend_names[VN_FW_N_BACKENDS] = {
    [VN_FW_NONE] = "none",
    [VN_FW_IPTABLES] = "iptables",
    [VN_FW_NFTABLES] = "nftables",
    [VN_FW_LEGACY] = "legacy",
    [VN_FW_FIREWALLD] = "firewalld",
};

const char *
vn_fw_backend_to_string(VnFwBackend backend)
{
    if ((guint)backend < VN_FW_N_BACKENDS)
        return backend_names[backend];
    return "none";
}

gboolean
vn_fw_backend_from_string(const char *s, VnFwBackend *out)
{
    for (guint i = 0; s && i < VN_FW_N_BACKENDS; i++) {
        if (strcmp(s, backend_names[i]) == 0) {
            *out = (VnFwBackend)i;
            return TRUE;
        }
    }
    return FALSE;
}

/* ------------------------------------------------------------------ */
/* entries                                                             */

VnFwEntry *
vn_fw_entry_new(VnFwBackend backend, int family, const char *table,
                const char *chain, const char *comment)
{
    VnFwEntry *e = g_new0(VnFwEntry, 1);

    e->backend = backend;
    e->family = family;
    e->table = g_strdup(table);
    e->chain = g_strdup(chain);
    e->comment = g_strdup(comment);
    return e;
}

VnFwEntry *
vn_fw_entry_copy(const VnFwEntry *entry)
{
    VnFwEntry *e = vn_fw_entry_new(entry->backend, entry->family,
                                   entry->table, entry->chain,
                                   entry->comment);

    e->handle = entry->handle;
    e->spec = g_strdup(entry->spec);
    return e;
}

void
vn_fw_entry_free(VnFwEntry *entry)
{
    if (!entry)
        return;
    g_free(entry->table);
    g_free(entry->chain);
    g_free(entry->comment);
    g_free(entry->spec);
    g_free(entry);
}

gboolean
vn_fw_entry_same_place(const VnFwEntry *a, const VnFwEntry *b)
{
    return a->backend == b->backend && a->family == b->family &&
           g_strcmp0(a->table, b->table) == 0 &&
           g_strcmp0(a->chain, b->chain) == 0 &&
           g_strcmp0(a->comment, b->comment) == 0;
}

char *
vn_chain_ref_describe(const VnChainRef *ref)
{
    return g_strdup_printf("%s %s %s",
                           ref->family == NFPROTO_IPV6 ? "ip6" : "ip",
                           ref->table, ref->chain);
}

char *
vn_fw_entry_where(const VnFwEntry *entry)
{
    const char *family = entry->family == NFPROTO_IPV6 ? "ip6" : "ip";

    switch (entry->backend) {
    case VN_FW_LEGACY:
        return g_strdup_printf("legacy %s %s %s", family, entry->table,
                               entry->chain);
    case VN_FW_FIREWALLD:
        return g_strdup_printf("firewalld policy %s", entry->table);
    default:
        return g_strdup_printf("%s %s %s", family, entry->table,
                               entry->chain);
    }
}

/* ------------------------------------------------------------------ */
/* the per-run context                                                 */

struct _VnFw {
    VnNft *nft;
    gpointer data[VN_FW_N_BACKENDS];
    GDestroyNotify free_data[VN_FW_N_BACKENDS];
    /* per family (0: IPv4, 1: IPv6) and backend: -1 not asked yet, 0 no,
     * 1 in this host's forward path */
    int active[2][VN_FW_N_BACKENDS];
    gboolean overridden[VN_FW_N_BACKENDS];
    const VnFwBackendClass *klass[VN_FW_N_BACKENDS];
    GPtrArray *notes;       /* char*: what a backend could not do, and the fix */
};

VnFw *
vn_fw_new(void)
{
    VnFw *fw = g_new0(VnFw, 1);

    memset(fw->active, 0xff, sizeof(fw->active));
    return fw;
}

void
vn_fw_note(VnFw *fw, const char *note)
{
    if (!fw->notes)
        fw->notes = g_ptr_array_new_with_free_func(g_free);
    for (guint i = 0; i < fw->notes->len; i++)
        if (!strcmp(fw->notes->pdata[i], note))
            return;
    g_ptr_array_add(fw->notes, g_strdup(note));
}

const GPtrArray *
vn_fw_notes(VnFw *fw)
{
    return fw->notes;
}

void
vn_fw_free(VnFw *fw)
{
    if (!fw)
        return;
    if (fw->notes)
        g_ptr_array_unref(fw->notes);
    for (guint i = 0; i < VN_FW_N_BACKENDS; i++)
        if (fw->data[i] && fw->free_data[i])
            fw->free_data[i](fw->data[i]);
    vn_nft_close(fw->nft);
    g_free(fw);
}

VnNft *
vn_fw_nft(VnFw *fw, GError **error)
{
    if (!fw->nft)
        fw->nft = vn_nft_open(error);
    return fw->nft;
}

gpointer
vn_fw_get_data(VnFw *fw, VnFwBackend backend)
{
    return fw->data[backend];
}

void
vn_fw_set_data(VnFw *fw, VnFwBackend backend, gpointer data,
               GDestroyNotify free_func)
{
    if (fw->data[backend] && fw->free_data[backend])
        fw->free_data[backend](fw->data[backend]);
    fw->data[backend] = data;
    fw->free_data[backend] = free_func;
}

/* VIRT_NEST_FIREWALL=NAME[,NAME...] or none forces the set (for tests). */
static gboolean
forced(VnFwBackend backend, gboolean *is_forced, gboolean *on, GError **error)
{
    const char *force = g_getenv("VIRT_NEST_FIREWALL");
    g_auto(GStrv) names = NULL;

    *is_forced = force && *force;
    *on = FALSE;
    if (!*is_forced)
        return TRUE;
    names = g_strsplit(force, ",", -1);
    for (guint i = 0; names[i]; i++) {
        VnFwBackend b;

        if (!vn_fw_backend_from_string(g_strstrip(names[i]), &b)) {
            g_set_error(error, VN_ERROR, VN_ERROR_INVALID,
                        "VIRT_NEST_FIREWALL='%s': use none or a list of "
                        "iptables, nftables, legacy, firewalld", force);
            return FALSE;
        }
        *on = *on || b == backend;
    }
    return TRUE;
}

gboolean
vn_fw_active(VnFw *fw, VnFwBackend backend, int family, gboolean *active,
             GError **error)
{
    int f = family == NFPROTO_IPV6 ? 1 : 0;
    const VnFwBackendClass *klass = vn_fw_class(fw, backend);
    gboolean is_forced, on;
    int rc;

    *active = FALSE;
    if ((guint)backend >= VN_FW_N_BACKENDS)
        return TRUE;
    if (fw->active[f][backend] >= 0) {
        *active = fw->active[f][backend] == 1;
        return TRUE;
    }
    if (!forced(backend, &is_forced, &on, error))
        return FALSE;
    if (is_forced)
        rc = on && klass;
    else if (!klass)
        rc = 0;
    else if ((rc = klass->detect(fw, family, error)) < 0)
        return FALSE;
    fw->active[f][backend] = rc ? 1 : 0;
    *active = rc != 0;
    return TRUE;
}

gboolean
vn_fw_backends(VnFw *fw, int family, GArray *out, GError **error)
{
    /* the order they are asked in; the executor commits nf_tables last
     * whatever this order is */
    static const VnFwBackend all[] = {
        VN_FW_IPTABLES, VN_FW_NFTABLES, VN_FW_LEGACY, VN_FW_FIREWALLD,
    };

    for (guint i = 0; i < G_N_ELEMENTS(all); i++) {
        gboolean on;

        if (!vn_fw_active(fw, all[i], family, &on, error))
            return FALSE;
        if (on)
            g_array_append_val(out, all[i]);
    }
    return TRUE;
}

/* firewalld.c, where linked in (it needs GIO, which the static hook
 * cannot link): a weak reference pulls nothing in */
extern const VnFwBackendClass vn_fw_firewalld_class __attribute__((weak));

gboolean
vn_fw_firewalld_built_in(void)
{
    return &vn_fw_firewalld_class != NULL;
}

int
vn_fw_firewalld_table(VnFw *fw, GError **error)
{
    VnNft *nft = vn_fw_nft(fw, error);

    return nft ? vn_nft_exists(nft, NFPROTO_INET, "firewalld", NULL, error)
               : -1;
}

const VnFwBackendClass *
vn_fw_backend_class(VnFwBackend backend)
{
    switch (backend) {
    case VN_FW_IPTABLES:
        return &vn_fw_iptables_class;
    case VN_FW_NFTABLES:
        return &vn_fw_nftables_class;
    case VN_FW_LEGACY:
        return &vn_fw_legacy_class;
    case VN_FW_FIREWALLD:
        return vn_fw_firewalld_built_in() ? &vn_fw_firewalld_class : NULL;
    default:
        return NULL;
    }
}

gboolean
vn_fw_chain_ref(VnFwBackend backend, VnRuleKind kind, int family,
                VnChainRef *out)
{
    out->family = family == AF_INET6 ? NFPROTO_IPV6 : NFPROTO_IPV4;
    switch (backend) {
    case VN_FW_IPTABLES:
    case VN_FW_LEGACY:
        out->table = kind == VN_RULE_NAT ? "nat" : "filter";
        out->chain = kind == VN_RULE_NAT ? "POSTROUTING" : "FORWARD";
        return TRUE;
    case VN_FW_NFTABLES:
        out->table = "libvirt_network";
        out->chain = kind == VN_RULE_NAT ? "guest_nat" : "forward";
        return TRUE;
    default:
        break;
    }
    return FALSE;
}

const VnFwBackendClass *
vn_fw_class(VnFw *fw, VnFwBackend backend)
{
    if ((guint)backend >= VN_FW_N_BACKENDS)
        return NULL;
    return fw->overridden[backend] ? fw->klass[backend]
                                   : vn_fw_backend_class(backend);
}

void
vn_fw_set_class(VnFw *fw, VnFwBackend backend, const VnFwBackendClass *klass)
{
    fw->overridden[backend] = TRUE;
    fw->klass[backend] = klass;
    fw->active[0][backend] = fw->active[1][backend] = -1;
}
