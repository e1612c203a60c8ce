/* doctor.h: walk a packet and its reply across the layers of a nest, and
 * name the first hop where it dies, why, and the fix in virt-nest's terms.
 *
 * Pure: the stitched nest (stitch.h) in, the walk out. Route decisions
 * come from each layer's snapshot; the live layer can supply its own
 * through the lookup callback (RTM_GETROUTE).
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <glib.h>

#include "fweval.h"
#include "stitch.h"

G_BEGIN_DECLS

/* Rule evaluations one doctor run may cost, there and back (fweval.h):
 * a few packets' worth of VN_FW_EVAL_BUDGET. */
#define VN_DOCTOR_EVAL_BUDGET (4 * (guint64)VN_FW_EVAL_BUDGET)

typedef enum {
    VN_WALK_REACHED,        /* delivered to a local address */
    VN_WALK_DIES,           /* dropped; death and fix say where and why */
    VN_WALK_LEAVES,         /* left the layers we have snapshots of */
    VN_WALK_TOO_COMPLEX,    /* a firewall on the way is too complex to
                             * evaluate; death and fix say which */
} VnWalkResult;

/* Texts (text, death, fix, left, warnings) are for people: what a
 * terminal would act on in a name is made visible (escape.h). */
typedef struct {
    const char *layer;      /* "L1" */
    const char *check;      /* "route", "forward", "ip_forward", ... */
    gboolean ok;
    char *text;
} VnStep;

/* A link the packet passes, on its layer; both borrowed from the nest. */
typedef struct {
    const VnNestLayer *layer;
    const VnLink *link;
} VnWalkPoint;

/* One way of the walk: there, or back. */
typedef struct {
    GPtrArray *steps;       /* VnStep */
    GArray *path;           /* VnWalkPoint, in the order the packet passes
                             * them: the link it comes in on, the one it
                             * leaves by, the TAP it crosses; for pictures */
    const VnNestLayer *death_layer; /* where it ends, when it dies or is
                                     * too complex; borrowed */
    const VnLink *death_link;       /* the link of the path on that layer
                                     * it got to, or NULL */
    VnWalkResult result;
    char *death;            /* VN_WALK_DIES and _TOO_COMPLEX: "L1: ..." */
    char *fix;              /* what to do, or NULL */
    char *left;             /* VN_WALK_LEAVES: where */
    guint mtu;              /* the smallest MTU on the way; 0 unknown */
    const char *mtu_where;  /* "L0 eth0" */
} VnWalk;

/* A route decision from outside the snapshot (the kernel's output lookup);
 * returns FALSE when it has none. @oif and @gateway out; @text a
 * description. */
typedef gboolean (*VnRouteLookup)(const VnNestLayer *layer, const VnCidr *dst,
                                  int *oif, VnCidr *gateway, char **text,
                                  gpointer data);

typedef struct {
    VnCidr from;
    VnCidr to;
    guint8 proto;           /* IPPROTO_ICMP (default), IPPROTO_TCP, ... */
    guint size;             /* bytes, don't fragment; 0: not checked */
    VnRouteLookup lookup;   /* NULL: the snapshots' routing tables */
    gpointer lookup_data;
} VnDoctorQuery;

typedef struct {
    VnWalk there;
    VnWalk back;            /* empty when the way there does not arrive */
    gboolean reachable;
    GPtrArray *warnings;    /* char *: MTU mismatches and the like */
    const VnNestLayer *from_layer;
    const char *from_iif;   /* set when --from is outside the one layer:
                             * the link it comes in on */
    const VnNestLayer *to_layer;    /* NULL: in no snapshot */
    guint64 evaluated;      /* firewall rule evaluations the run cost */
} VnDoctor;

/**
 * vn_doctor_run:
 * Walks at most 32 hops each way and evaluates at most
 * VN_DOCTOR_EVAL_BUDGET firewall rules in all: a firewall past that is
 * VN_WALK_TOO_COMPLEX.
 * Returns: (transfer full): the walk, or NULL when @query->from is not an
 * address of any layer (@error says so and lists them).
 */
VnDoctor *vn_doctor_run(const VnNest *nest, const VnDoctorQuery *query,
                        GError **error);
void vn_doctor_free(VnDoctor *doc);

char *vn_doctor_text(const VnDoctor *doc, const VnDoctorQuery *query);
char *vn_doctor_json(const VnDoctor *doc, const VnDoctorQuery *query);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(VnDoctor, vn_doctor_free)

G_END_DECLS
