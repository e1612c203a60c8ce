/* model.h: one libvirt layer as virt-nest sees it: the host, the libvirt
 * networks and guests, and the DHCP leases.
 *
 * Everything here is plain data: parsers fill it (libvirtxml.c, leases.c),
 * the host reader (hostread.c) and the libvirt discovery (discover.c) put
 * it together, and the planner (layerplan.c) and the views (layerview.c,
 * nestview.c) read it.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <glib.h>

#include "cidr.h"

G_BEGIN_DECLS

/* The namespace of virt-nest's metadata in libvirt XML. */
#define VN_NS_URI "urn:virt-nest:1"
#define VN_NS_PREFIX "nest"

/* Where an address of a guest comes from. */
typedef enum {
    VN_SOURCE_NONE = 0,
    VN_SOURCE_METADATA,     /* <nest:uplink address=...> */
    VN_SOURCE_RESERVATION,  /* the network's <dhcp><host mac= ip=> */
    VN_SOURCE_LEASE,        /* a DHCP lease (API or lease status file) */
    VN_SOURCE_LINKLOCAL,    /* IPv6 only: fe80::/64 EUI-64 of the MAC */
    VN_SOURCE_AGENT,        /* the guest agent's word, API side only */
} VnSource;

const char *vn_source_to_string(VnSource source);

/* <dhcp><host mac= name= ip=> */
typedef struct {
    char *mac;              /* lowercase aa:bb:cc:dd:ee:ff */
    char *name;             /* may be NULL */
    VnCidr ip;              /* a host address (/32 or /128) */
} VnDhcpHost;

/* <dhcp><range start= end=> */
typedef struct {
    VnCidr start;
    VnCidr end;
} VnDhcpRange;

/* One <ip> of a network. */
typedef struct {
    VnCidr address;         /* the bridge's address and prefix: 192.168.122.1/24 */
    VnCidr subnet;          /* the subnet: 192.168.122.0/24 */
    GArray *ranges;         /* VnDhcpRange */
    GPtrArray *hosts;       /* VnDhcpHost */
} VnNetIp;

/* <route address= prefix= gateway=> of a network. */
typedef struct {
    VnCidr dest;
    VnCidr gateway;
} VnNetRoute;

typedef struct {
    char *name;
    char *uuid;
    char *bridge;           /* NULL for networks without a bridge of their own */
    char *forward_mode;     /* "nat", "route", "open", "bridge", ...; "isolated" if none */
    gboolean active;
    gboolean persistent;
    gboolean autostart;
    GPtrArray *ips;         /* VnNetIp */
    GArray *routes;         /* VnNetRoute */
    gboolean nest;          /* carries <nest:network> metadata */
    GArray *peers;          /* VnCidr: <nest:peer subnet=> */
    gboolean ipv6;          /* <network ipv6='yes'>: IPv6 on the bridge
                             * without an IPv6 <ip> */
    GPtrArray *warnings;    /* char *: metadata that is ignored but looks
                             * meant for virt-nest (without the object) */
} VnNetwork;

/* One <interface> of a guest. */
typedef struct {
    char *type;             /* "network", "bridge", "direct", ... */
    char *mac;              /* lowercase */
    char *network;          /* <source network=> */
    char *bridge;           /* <source bridge=>: the live bridge for type=network */
    char *target;           /* <target dev=>: the TAP, for a running guest */
    char *model;
} VnIface;

typedef struct {
    char *name;
    char *uuid;
    int id;                 /* -1 when not running */
    char *state;            /* "running", "shut off", ... */
    gboolean persistent;
    GPtrArray *ifaces;      /* VnIface */
    gboolean nest;          /* carries <nest:guest> metadata */
    GArray *routes;         /* VnCidr: <nest:route subnet=> */
    char *uplink_mac;       /* <nest:uplink mac=>, NULL if not given */
    VnCidr uplink_address;  /* <nest:uplink address=>, empty if not given */
    GPtrArray *warnings;    /* char *: as for VnNetwork */
    /* What the guest's agent reports on the interface with this MAC
     * (discover.c, never the hook): host addresses inside that
     * interface's network, the next hop of last resort (no metadata,
     * reservation or lease). */
    char *agent_mac;
    GArray *agent_addrs;    /* VnCidr; NULL when the agent was not asked */
} VnGuest;

/* A DHCP lease, from virNetworkGetDHCPLeases or a lease status file. */
typedef struct {
    char *mac;
    char *hostname;
    char *client_id;
    char *bridge;           /* the bridge the lease was handed out on */
    VnCidr ip;
    gint64 expiry;          /* seconds since the epoch; 0 = never */
} VnLease;

/* The host part, read over netlink (hostread.c). */
typedef struct {
    int ifindex;
    char *name;
    char *mac;
    char *kind;             /* "bridge", "veth", "tun", ... or NULL */
    int master;             /* ifindex of the bridge it is enslaved to, 0 */
    guint mtu;
    gboolean up;
    int rp_filter;          /* net.ipv4.conf.LINK.rp_filter, -1 unknown */
} VnLink;

typedef struct {
    int ifindex;
    VnCidr address;         /* with its prefix */
} VnHostAddr;

typedef struct {
    VnCidr dst;
    VnCidr gateway;         /* empty when directly connected */
    int oif;
    guint8 protocol;
    guint8 scope;
    guint8 type;
    guint32 table;
    guint32 priority;
} VnHostRoute;

typedef struct {
    char *hostname;
    GPtrArray *links;       /* VnLink, by ifindex */
    GPtrArray *addrs;       /* VnHostAddr */
    GPtrArray *routes;      /* VnHostRoute, main table */
    /* the forwarding path, read for status and doctor (nftread.c) */
    int ip_forward;         /* net.ipv4.ip_forward, -1 unknown */
    int ip6_forward;        /* net.ipv6.conf.all.forwarding, -1 unknown */
    int rp_filter_all;      /* net.ipv4.conf.all.rp_filter, -1 unknown */
    GPtrArray *firewall;    /* VnFwChain, NULL when not read */
    char *firewall_error;   /* why it was not read */
} VnHost;

/* A problem found in the input, kept so that one bad object does not hide
 * the rest. object names the object ("domain 'debian'"). */
typedef struct {
    char *object;
    char *message;
} VnProblem;

typedef struct {
    char *uri;              /* where the libvirt part came from */
    VnHost *host;           /* NULL when the host was not read */
    GPtrArray *networks;    /* VnNetwork, sorted by name */
    GPtrArray *guests;      /* VnGuest, sorted by name */
    GPtrArray *leases;      /* VnLease */
    GPtrArray *problems;    /* VnProblem */
    /* The guest agents' answers (VnAgentAnswer, agentlayer.h), by guest
     * name; NULL when they were not asked (the hook, the test driver). */
    GPtrArray *agents;
    char *agent_note;       /* why they were not asked, or NULL */
} VnLayer;

/* An address of a guest interface and where it comes from. */
typedef struct {
    const VnIface *iface;
    const VnNetwork *network;   /* NULL if the interface is not on a known network */
    VnCidr address;
    VnSource source;
} VnGuestAddr;

VnNetIp *vn_net_ip_new(void);
void vn_net_ip_free(VnNetIp *ip);
void vn_dhcp_host_free(VnDhcpHost *host);
VnNetwork *vn_network_new(void);
void vn_network_free(VnNetwork *net);
VnIface *vn_iface_new(void);
void vn_iface_free(VnIface *iface);
VnGuest *vn_guest_new(void);
void vn_guest_free(VnGuest *guest);
VnLease *vn_lease_new(void);
void vn_lease_free(VnLease *lease);
void vn_link_free(VnLink *link);
VnHost *vn_host_new(void);
void vn_host_free(VnHost *host);
VnProblem *vn_problem_new(const char *object, const char *message);
void vn_problem_free(VnProblem *problem);
VnLayer *vn_layer_new(const char *uri);
void vn_layer_free(VnLayer *layer);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(VnNetwork, vn_network_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VnGuest, vn_guest_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VnLease, vn_lease_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VnHost, vn_host_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VnLayer, vn_layer_free)

/* Record a problem with an object; the layer keeps going. */
void vn_layer_add_problem(VnLayer *layer, const char *object,
                          const char *message);

/* Add a problem from an error whose message may already start with
 * "OBJECT: "; that prefix is not repeated. */
void vn_problems_add_error(GPtrArray *problems, const char *object,
                           const GError *error);

/* GCompareFunc for a GPtrArray of VnProblem: by object. */
int vn_problem_compare(gconstpointer a, gconstpointer b);

/* Sort networks, guests, leases and problems, so every output is
 * deterministic. */
void vn_layer_sort(VnLayer *layer);

/* Look-ups; they return borrowed pointers or NULL. */
const VnNetwork *vn_layer_find_network(const VnLayer *layer, const char *name);
const VnNetwork *vn_layer_find_network_by_bridge(const VnLayer *layer,
                                                 const char *bridge);
const VnGuest *vn_layer_find_guest(const VnLayer *layer, const char *name);
/* TRUE unless @guest is shut off or crashed: only a guest that runs needs
 * its routes (reconcile installs them, status counts them as drift). */
gboolean vn_guest_running(const VnGuest *guest);
const VnLink *vn_host_find_link(const VnHost *host, int ifindex);
const VnLink *vn_host_find_link_by_name(const VnHost *host, const char *name);

/* The DHCP reservation of @mac in @net, or NULL. */
const VnDhcpHost *vn_network_find_host(const VnNetwork *net, const char *mac);

/* The newest unexpired lease of @mac on @bridge (any bridge if NULL) at
 * time @now, or NULL. */
const VnLease *vn_leases_find(GPtrArray *leases, const char *mac,
                              const char *bridge, gint64 now);

/* The bridge an interface is plugged into: its live <source bridge=>, or
 * the bridge of its source network. */
const char *vn_iface_bridge(const VnIface *iface, const VnNetwork *net);

/* The interface of @guest that carries its uplink: the one with the
 * <nest:uplink mac=>, else the first type='network' interface. */
const VnIface *vn_guest_uplink(const VnGuest *guest);

/* The address of @iface on @net with its source: the uplink address from
 * the metadata (when @iface is the uplink), the reservation, the lease,
 * else the address the guest's agent reports for @iface's MAC inside
 * @net's subnet (VN_SOURCE_AGENT; the API side only fills it). Returns
 * FALSE when none is known. */
gboolean vn_guest_iface_address(const VnGuest *guest, const VnIface *iface,
                                const VnNetwork *net, GPtrArray *leases,
                                gint64 now, int family, VnGuestAddr *out);

/* The same, with @iface's reservation on @net already looked up (NULL:
 * none), for callers that look up many (layerindex.h). */
gboolean vn_guest_iface_address_with(const VnGuest *guest,
                                     const VnIface *iface,
                                     const VnNetwork *net,
                                     const VnDhcpHost *reservation,
                                     GPtrArray *leases, gint64 now,
                                     int family, VnGuestAddr *out);

/* The IPv6 link-local address a guest derives from @mac by EUI-64 (the
 * kernel's default, addr_gen_mode eui64): fe80::5054:ff:fefc:38e0 for
 * 52:54:00:fc:38:e0. FALSE if @mac is invalid. */
gboolean vn_mac_link_local(const char *mac, VnCidr *out);

/* The TAP MAC of a guest MAC: libvirt sets the first byte to 0xfe (0xfa
 * when the guest MAC already starts with fe). Returns a new string. */
char *vn_mac_tap(const char *guest_mac);

/* Normalise a MAC to lowercase aa:bb:cc:dd:ee:ff; NULL if invalid. */
char *vn_mac_normalize(const char *mac);

/* TRUE when @route has the metric a route added without one gets: 0 for
 * IPv4, 1024 for IPv6 (virt-nest's own, and the usual hand fix). */
gboolean vn_host_route_default_metric(const VnHostRoute *route);

/**
 * vn_host_overlaps:
 * @subnet: a subnet a guest would take over
 * @need: (nullable): the route that would go to it (dst, gateway, oif):
 *   a hand-made route identical to it is no clash (virt-nest adopts it);
 *   with neither gateway nor oif, any route to exactly @need's dst
 * @what: (out) (optional): the first clash found, described; transfer full
 *
 * TRUE if @subnet overlaps an address of @host, a directly connected
 * network, or a route of somebody else's (not the default route).
 */
gboolean vn_host_overlaps(const VnHost *host, const VnCidr *subnet,
                          const VnHostRoute *need, char **what);

G_END_DECLS
