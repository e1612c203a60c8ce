/* hook.c: the work of virt-nest-hook, loaded by its front end (front.c)
 * when a network or guest carries virt-nest metadata or virt-nest state.
 *
 * network started/updated: install the forward exceptions for its peers
 * network stopped:         remove them
 * qemu started/reconnect:  install the routes to the guest's subnets
 * qemu stopped/release:    remove them
 *
 * Refused metadata is one line on stderr and exit status 1: libvirt then
 * aborts the start and shows that line. Nothing is changed then. The libvirt
 * API is never called: a hook that calls back into libvirt deadlocks.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <gmodule.h>

#include "apply.h"
#include "hook.h"
#include "leases.h"
#include "parse.h"
#include "plan.h"
#include "vnconfig.h"

#define LIBVIRT_NETWORK_RUN_DIR "/run/libvirt/network"

static int
fail(const char *kind, const char *name, const GError *err)
{
    g_autofree char *prefix = g_strdup_printf("%s '%s': ", kind, name);

    /* messages from the planner and the parser already name the object */
    if (g_str_has_prefix(err->message, prefix))
        fprintf(stderr, "virt-nest: %s\n", err->message);
    else
        fprintf(stderr, "virt-nest: %s%s\n", prefix, err->message);
    return 1;
}

static int
run_network(const VnHookCall *call, VnApply *apply, const VnConfig *config)
{
    g_autoptr(GError) err = NULL, nest_err = NULL;
    g_autoptr(VnNetwork) net = vn_network_parse(call->xml, (gssize)call->len,
                                                &nest_err, &err);
    g_autoptr(VnPlan) plan = vn_plan_new();
    gboolean install = strcmp(call->op, "stopped") != 0;

    if (!net)
        return install ? fail("network", call->name, err) : 0;
    if (install && nest_err)
        return fail("network", call->name, nest_err);
    if (install && net->nest && !vn_plan_network(plan, net, config, &err))
        return fail("network", call->name, err);
    vn_plan_sort(plan);
    if (!vn_apply_network(apply, call->name, plan->rules, &err) ||
        !vn_apply_finish(apply, &err))
        return fail("network", call->name, err);
    return 0;
}

/* The network the guest's uplink is on, as the network hook saw it when it
 * started; else libvirt's own status file of the running network. */
static VnNetwork *
load_network(const char *dir, const char *name)
{
    g_autofree char *xml = vn_state_network_xml(dir, name);
    const char *run = g_getenv("VIRT_NEST_LIBVIRT_NETWORK_DIR");

    if (!xml) {
        g_autofree char *f = g_strdup_printf("%s.xml", name);
        g_autofree char *path = g_build_filename(run ? run : LIBVIRT_NETWORK_RUN_DIR,
                                                 f, NULL);

        if (!g_file_get_contents(path, &xml, NULL, NULL))
            return NULL;
    }
    return vn_network_parse(xml, -1, NULL, NULL);
}

static int
run_domain(const VnHookCall *call, VnApply *apply, const char *dir,
           const VnConfig *config)
{
    g_autoptr(GError) err = NULL, nest_err = NULL;
    g_autoptr(VnGuest) guest = vn_guest_parse(call->xml, (gssize)call->len,
                                              &nest_err, &err);
    g_autoptr(VnPlan) plan = vn_plan_new();
    g_autoptr(GPtrArray) networks =
        g_ptr_array_new_with_free_func((GDestroyNotify)vn_network_free);
    g_autoptr(GPtrArray) leases =
        g_ptr_array_new_with_free_func((GDestroyNotify)vn_lease_free);
    gboolean install = !strcmp(call->op, "started") ||
                       !strcmp(call->op, "reconnect");

    if (!guest)
        return install ? fail("domain", call->name, err) : 0;
    if (install && nest_err)
        return fail("domain", call->name, nest_err);

    if (install && guest->nest) {
        const VnIface *up = vn_guest_uplink(guest);
        const VnHost *host;
        const char *leases_dir = g_getenv("VIRT_NEST_LEASES_DIR");
        VnNetwork *net = NULL;

        if (up && up->network && (net = load_network(dir, up->network)))
            g_ptr_array_add(networks, net);
        if (up && vn_iface_bridge(up, net) &&
            !vn_leases_load(leases_dir ? leases_dir : VN_LEASES_DIR,
                            vn_iface_bridge(up, net), leases, &err))
            g_clear_error(&err);    /* a broken lease file: no lease */
        if (!(host = vn_apply_host(apply, &err)))
            return fail("domain", call->name, err);
        if (!vn_plan_guest(plan, guest, networks, leases, host, config,
                           g_get_real_time() / G_USEC_PER_SEC, &err))
            return fail("domain", call->name, err);
        vn_plan_sort(plan);
    }
    if (!vn_apply_domain(apply, call->name, plan->routes, guest->routes, &err) ||
        !vn_apply_finish(apply, &err))
        return fail("domain", call->name, err);
    return 0;
}

G_MODULE_EXPORT int
vn_hook_run(const VnHookCall *call)
{
    const char *dir = vn_state_dir();
    g_autoptr(GError) err = NULL;
    g_autoptr(VnApply) apply = NULL;
    gboolean network = strcmp(call->driver, "network") == 0;
    VnConfig config;
    int lock, rc;

    if (!vn_config_load(NULL, &config, &err))
        return fail(network ? "network" : "domain", call->name, err);
    /* libvirt starts guests in parallel: one hook at a time changes state */
    if ((lock = vn_state_lock(dir, &err)) < 0)
        return fail(network ? "network" : "domain", call->name, err);
    apply = vn_apply_new(dir);
    rc = network ? run_network(call, apply, &config)
                 : run_domain(call, apply, dir, &config);
    close(lock);
    return rc;
}
