/* ledger.h: the ledger of what virt-nest installed, per object, under the
 * state directory (see statepath.h for the layout).
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <glib.h>

#include "fwbackend.h"
#include "model.h"

G_BEGIN_DECLS

typedef enum {
    VN_OBJECT_NETWORK,
    VN_OBJECT_DOMAIN,
} VnObjectKind;

const char *vn_object_kind_to_string(VnObjectKind kind);

/* A route virt-nest added (or adopted), or one it needs and cannot add
 * yet. */
typedef struct {
    VnCidr dst;
    VnCidr via;             /* empty when pending */
    char *dev;
    gboolean pending;       /* next hop not known: nothing installed */
    guint8 adopted;         /* 0, or the routing protocol of the identical
                             * hand-made route virt-nest took over, which
                             * it gets back when no longer needed */
} VnLedgerRoute;

typedef struct {
    VnObjectKind kind;
    char *name;
    GPtrArray *rules;       /* VnFwEntry: each exception in each backend */
    GPtrArray *routes;      /* VnLedgerRoute */
    gboolean rules_lost;    /* read from an older ledger that installed
                             * rules and could not record them (version 1
                             * and a name GKeyFile refused): removal must
                             * search the firewall by tag */
} VnLedger;

VnLedger *vn_ledger_new(VnObjectKind kind, const char *name);
void vn_ledger_free(VnLedger *ledger);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VnLedger, vn_ledger_free)
/* Adds a copy of @entry. */
void vn_ledger_add_rule(VnLedger *ledger, const VnFwEntry *entry);
VnLedgerRoute *vn_ledger_add_route(VnLedger *ledger, const VnCidr *dst,
                                   const VnCidr *via, const char *dev,
                                   gboolean pending);

/* Replace @path atomically with @data: a temporary file (in @tmpdir, else
 * in @path's directory), made @mode and, when @sync, flushed to disk, then
 * renamed over @path. The state needs no @sync: it lives in /run, which a
 * reboot empties along with every route and rule it describes. */
gboolean vn_file_replace(const char *path, const char *tmpdir, const char *data,
                         gsize len, int mode, gboolean sync, GError **error);

/* The state directory: VIRT_NEST_STATE_DIR, else /run/virt-nest. */
const char *vn_state_dir(void);

/* Create the state directory and take its lock; returns the fd to close
 * (which releases the lock), or -1 with @error. Blocks while another hook
 * holds it. Refuses a state directory others can write
 * (vn_state_dir_check). */
int vn_state_lock(const char *dir, GError **error);

/* FALSE when the state directory was lost (or never written): removal must
 * then search the firewall by tag. */
gboolean vn_state_intact(const char *dir);
gboolean vn_state_mark_intact(const char *dir, GError **error);

/**
 * vn_ledger_parse:
 * @data: the text of a ledger file, @len bytes (-1: NUL-terminated)
 * @what: the file, for messages
 * @ledger: (out): the ledger of @kind @name; transfer full
 *
 * Reads every version of the format (1: rules keyed by their raw comment;
 * 2: records numbered, texts as GKeyFile strings; 3: every text
 * %XX-escaped). Pure: no files.
 *
 * Returns: FALSE with @error when the text is no ledger, or from a newer
 * virt-nest.
 */
gboolean vn_ledger_parse(const char *data, gssize len, const char *what,
                         VnObjectKind kind, const char *name,
                         VnLedger **ledger, GError **error);

/* The text vn_ledger_save writes (the current version); transfer full. */
char *vn_ledger_format(const VnLedger *ledger, gsize *len);

/**
 * vn_ledger_load:
 * @ledger: (out): the ledger, or NULL when the object has none
 *
 * Returns: FALSE with @error when the file exists but is unreadable.
 */
gboolean vn_ledger_load(const char *dir, VnObjectKind kind, const char *name,
                        VnLedger **ledger, GError **error);

/* Write atomically (temporary file and rename); an empty ledger removes the
 * file. Refuses a state directory others can write (vn_state_dir_check). */
gboolean vn_ledger_save(const char *dir, const VnLedger *ledger,
                        GError **error);

/* Every ledger in @dir, sorted by kind and name. */
GPtrArray *vn_ledger_load_all(const char *dir, GError **error);

/* The network XML the network hook saved, or NULL. transfer full. */
char *vn_state_network_xml(const char *dir, const char *name);

G_END_DECLS
