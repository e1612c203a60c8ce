/* ops.h: what an apply changes, as a list of operations decided before
 * anything is touched, and the one function that executes such a list
 * all or nothing (as libvirt's virFirewall and systemd's firewall-util
 * do).
 *
 * The list is plain data: vn_op_describe() gives each operation as one
 * line, which golden tests compare and `reconcile --dry-run` prints.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <glib.h>

#include "fwbackend.h"
#include "layerplan.h"
#include "router.h"

G_BEGIN_DECLS

typedef enum {
    VN_OP_ROUTE_ADD,        /* a route of ours where there was none */
    VN_OP_ROUTE_REPLACE,    /* ours, but with another next hop or device */
    VN_OP_ROUTE_ADOPT,      /* a hand-made route, identical to the one
                             * needed: retagged as virt-nest's */
    VN_OP_ROUTE_RETURN,     /* an adopted route no longer needed: given
                             * back its own protocol */
    VN_OP_ROUTE_DEL,        /* exactly ours */
    VN_OP_RULE_INSERT,      /* at the head of the entry's chain */
    VN_OP_RULE_DELETE,      /* exactly the entry */
} VnOpKind;

typedef struct {
    VnOpKind kind;
    char *object;           /* "network 'default'", "domain 'debian'" */
    char *note;             /* NULL, or why: "a restored copy", ... */
    /* routes */
    VnKernelRoute route;    /* dev owned */
    VnKernelRoute old;      /* REPLACE: the route of ours it replaces, to
                             * put back on failure; dev owned */
    guint8 protocol;        /* ADOPT: the route's own protocol; RETURN:
                             * the protocol it gets back */
    /* rules */
    VnRule *rule;           /* INSERT: what to build; owned */
    VnFwEntry *entry;       /* where; INSERT gets its handle on execution */
} VnOp;

void vn_op_free(VnOp *op);

/* A new, empty list of VnOp. */
GPtrArray *vn_ops_new(void);

/* @old: REPLACE only (else NULL); @protocol: ADOPT and RETURN only. */
void vn_ops_add_route(GPtrArray *ops, VnOpKind kind, const char *object,
                      const VnKernelRoute *route, const VnKernelRoute *old,
                      guint8 protocol);
void vn_ops_add_rule(GPtrArray *ops, VnOpKind kind, const char *object,
                     const VnRule *rule, const VnFwEntry *entry,
                     const char *note);

/* The operation in one line, without the object:
 *   add route 192.168.124.0/24 via 192.168.122.191 dev virbr0 proto 155
 *   insert rule "virt-nest default in ..." at the head of ip filter FORWARD
 *   delete rule "virt-nest ..." from ip filter FORWARD (handle 7)
 * transfer full. */
char *vn_op_describe(const VnOp *op);

/**
 * vn_ops_execute:
 * @ops: (element-type VnOp): the list, in the order decided
 * @fw: the firewall context (nullable when @ops holds no rule operation)
 * @router: the route socket (nullable when @ops holds no route operation)
 * @error: set on failure; everything done until then was undone
 *
 * Routes first, one by one; then each firewall backend's operations in one
 * commit, nf_tables last (one batch, which the kernel commits whole or not
 * at all). When a step fails, the steps before it are undone in reverse:
 * routes added are deleted, routes deleted added back, replaced routes
 * given back, rules inserted deleted, rules deleted inserted again.
 */
gboolean vn_ops_execute(GPtrArray *ops, VnFw *fw, VnRouter *router,
                        GError **error);

G_END_DECLS
