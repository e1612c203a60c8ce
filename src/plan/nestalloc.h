/* nestalloc.h: `virt-nest plan`: addresses and subnets for a new nested
 * guest that collide with nothing known anywhere in the nest.
 *
 * Pure: the layers in, the plan out. Deterministic: the same layers and
 * options give the same plan, generated MACs included.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <glib.h>

#include "model.h"
#include "vnconfig.h"

G_BEGIN_DECLS

typedef struct {
    const char *network;    /* --network: the guest's network on this layer */
    const char *guest;      /* --guest */
    const char *mac;        /* --mac, or NULL to use the guest's or generate */
    guint depth;            /* nested levels to plan, >= 1 */
    GArray *pool;           /* VnCidr: where subnets come from, in order;
                             * NULL: 192.168.124.0/24 and up within
                             * 192.168.0.0/16, then 10.0.0.0/8 */
    guint prefix;           /* prefix length of each planned subnet: 24 */
} VnNestOptions;

/* One thing that is in use somewhere in the nest. */
typedef struct {
    VnCidr cidr;
    char *what;             /* "L0 network 'default'", "L1 host route ..." */
} VnInUse;

/* One nested level: the network on layer @level and the guest on it that
 * hosts the next level (if any). */
typedef struct {
    guint level;            /* 1..depth */
    char *network;          /* "default": the inner libvirt's own network */
    char *bridge;           /* "virbr0" */
    VnCidr address;         /* the bridge's address: SUBNET.1 */
    VnCidr subnet;
    VnCidr range_start;     /* DHCP range: .100 - last usable */
    VnCidr range_end;
    GArray *peers;          /* VnCidr: every subnet above this level */
    char *guest;            /* the guest on this network that nests the next
                             * level; NULL at the deepest level */
    char *guest_mac;
    VnCidr guest_address;   /* its reservation: outside the DHCP range */
    GArray *guest_routes;   /* VnCidr: every subnet below it */
} VnNestLevel;

typedef struct {
    /* on this layer */
    char *network;          /* NET */
    char *bridge;
    VnCidr network_subnet;
    char *guest;
    gboolean guest_exists;
    char *mac;
    gboolean mac_generated;
    VnCidr address;         /* the guest's reservation on NET */
    gboolean address_exists;/* NET already reserves it for the MAC */
    gboolean address_in_range;  /* inside NET's DHCP range: none was free outside */
    GArray *routes;         /* VnCidr: the guest's <nest:route> subnets */
    GPtrArray *levels;      /* VnNestLevel */
    GPtrArray *in_use;      /* VnInUse: what the plan avoided, sorted */
} VnNestPlan;

void vn_nest_plan_free(VnNestPlan *plan);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VnNestPlan, vn_nest_plan_free)

/* Everything in use on @layer, named with @tag ("L0", "snapshot x.json"). */
void vn_in_use_collect(const VnLayer *layer, const char *tag, GPtrArray *out);
void vn_in_use_free(VnInUse *u);

/* The default pool: 192.168.124.0/24 and up to 192.168.255.0/24, then
 * 10.0.0.0/8. */
GArray *vn_nest_default_pool(void);

/**
 * vn_nest_plan:
 * @layer: this layer (URI, host when read)
 * @others: (element-type VnLayer) (nullable): snapshots of other layers
 * @opts: what to plan
 * @error: bad input, with the fix: an unknown network, a guest that
 *   already delegates subnets, a MAC in use, no free subnet in the pool
 *
 * Returns: (transfer full): the plan.
 */
VnNestPlan *vn_nest_plan(const VnLayer *layer, GPtrArray *others,
                         const VnNestOptions *opts, GError **error);

/* The network XML of a level (libvirt's network format, with the
 * <nest:network> peers). transfer full. */
char *vn_nest_level_network_xml(const VnNestLevel *level);

/* <nest:guest> with @routes (and the uplink MAC when given), as it goes
 * into a domain's <metadata>. transfer full. */
char *vn_nest_guest_metadata(GArray *routes, const char *uplink_mac);

/* Whether libvirt takes @name as a <host name=>: an ASCII letter first
 * (libvirt refuses anything else, "Cannot use host name"), then letters,
 * digits, '-' and '.', as a DNS name: libvirt 9.0 writes the attribute
 * back unescaped, so a quote or '&' there leaves a network it cannot
 * read again. */
gboolean vn_nest_host_name_ok(const char *name);

/* The <host mac= name= ip=/> of a reservation, without name= when
 * vn_nest_host_name_ok() refuses it (the MAC and address are the
 * reservation; the name is only DNS). transfer full. */
char *vn_nest_dhcp_host_xml(const char *mac, const char *name,
                            const VnCidr *ip);

/* A network of this layer whose subnet collides with one of the host's
 * own addresses (the inner default network on 192.168.122.0/24 again,
 * under an uplink on 192.168.122.0/24): libvirt refuses to start it. */
typedef struct {
    char *network;
    VnCidr subnet;
    VnCidr address;         /* the host's address in the way */
    char *link;             /* and its link */
    VnCidr renumber;        /* a free subnet to move the network to, or empty */
    char *xml;              /* the network, renumbered; NULL without one */
} VnCollision;

void vn_collision_free(VnCollision *c);

/* "network 'default' (192.168.122.0/24) collides with ..." transfer full */
char *vn_collision_describe(const VnCollision *c);

/* The collisions of @layer's networks with its host's addresses (none when
 * the host was not read), each with a free subnet from the pool avoiding
 * everything in use in @layer and @others. (element-type VnCollision) */
GPtrArray *vn_nest_collisions(const VnLayer *layer, GPtrArray *others,
                              const VnNestOptions *opts);

/* What the hooks will install at every layer once the plan is applied and
 * the guests started, as the hooks' own planner computes it with @config's
 * limits: lines "L0: route ...", "L1: accept ...". transfer full. NULL with
 * @error set when a hook would refuse a level (the plan is then unusable:
 * nothing is left out silently). */
GPtrArray *vn_nest_installs(const VnNestPlan *plan, const VnLayer *layer,
                            const VnConfig *config, GError **error);

G_END_DECLS
