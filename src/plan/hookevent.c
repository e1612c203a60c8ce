/* hookevent.c: what one libvirt hook event asks of this host.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include <string.h>

#include "error.h"
#include "hookevent.h"
#include "leases.h"
#include "libvirtxml.h"
#include "ledger.h"
#include "statepath.h"

VnHookAction
vn_hook_action(const char *driver, const char *op, const char *subop)
{
    if (strcmp(driver, "qemu") == 0) {
        if (!strcmp(op, "prepare") && !strcmp(subop, "begin"))
            return VN_HOOK_CHECK;
        if ((!strcmp(op, "started") || !strcmp(op, "reconnect")) &&
            !strcmp(subop, "begin"))
            return VN_HOOK_INSTALL;
        if ((!strcmp(op, "stopped") || !strcmp(op, "release")) &&
            !strcmp(subop, "end"))
            return VN_HOOK_REMOVE;
        return VN_HOOK_NOTHING;
    }
    if (strcmp(driver, "network") == 0) {
        if (!strcmp(op, "start") && !strcmp(subop, "begin"))
            return VN_HOOK_CHECK;
        if ((!strcmp(op, "started") || !strcmp(op, "updated")) &&
            !strcmp(subop, "begin"))
            return VN_HOOK_INSTALL;
        if (!strcmp(op, "stopped") && !strcmp(subop, "end"))
            return VN_HOOK_REMOVE;
    }
    return VN_HOOK_NOTHING;
}

void
vn_hook_env_init(VnHookEnv *env, const VnConfig *config)
{
    const char *v;

    memset(env, 0, sizeof(*env));
    env->state_dir = vn_state_dir();
    v = g_getenv("VIRT_NEST_LIBVIRT_NETWORK_DIR");
    env->libvirt_network_dir = v && *v ? v : "/run/libvirt/network";
    v = g_getenv("VIRT_NEST_LEASES_DIR");
    env->leases_dir = v && *v ? v : VN_LEASES_DIR;
    env->config = config;
    env->now = g_get_real_time() / G_USEC_PER_SEC;
}

void
vn_hook_plan_clear(VnHookPlan *hp)
{
    g_clear_pointer(&hp->name, g_free);
    g_clear_pointer(&hp->plan, vn_plan_free);
    g_clear_pointer(&hp->subnets, g_array_unref);
    g_clear_pointer(&hp->warnings, g_ptr_array_unref);
}

static void
add_warnings(GPtrArray *out, const char *kind, const char *name,
             GPtrArray *warnings)
{
    for (guint i = 0; warnings && i < warnings->len; i++)
        g_ptr_array_add(out, g_strdup_printf("%s '%s': %s", kind, name,
                                             (char *)warnings->pdata[i]));
}

GPtrArray *
vn_hook_warnings(const char *driver, const char *name, const char *xml,
                 gsize len)
{
    GPtrArray *out = g_ptr_array_new_with_free_func(g_free);

    if (strcmp(driver, "network") == 0) {
        g_autoptr(VnNetwork) net = vn_network_parse(xml, (gssize)len, NULL,
                                                    NULL);

        add_warnings(out, "network", name, net ? net->warnings : NULL);
    } else {
        g_autoptr(VnGuest) guest = vn_guest_parse(xml, (gssize)len, NULL,
                                                  NULL);

        add_warnings(out, "domain", name, guest ? guest->warnings : NULL);
    }
    return out;
}

/* The network a guest's uplink is on, as the network hook saw it when it
 * started; else libvirt's own status file of the running network. */
static VnNetwork *
load_network(const VnHookEnv *env, const char *name)
{
    g_autofree char *xml = vn_state_network_xml(env->state_dir, name);
    char path[4096];

    /* libvirt's file is NAME.xml, NAME as it is: a name libvirt would
     * never write a file for (one with '/') has none */
    if (!xml && (vn_libvirt_path(path, sizeof(path), env->libvirt_network_dir,
                                 name, "xml") < 0 ||
                 !g_file_get_contents(path, &xml, NULL, NULL)))
        return NULL;
    return vn_network_parse(xml, -1, NULL, NULL);
}

static gboolean
plan_network(const char *name, gboolean install, const char *xml, gsize len,
             const VnHookEnv *env, VnHookPlan *out, GError **error)
{
    g_autoptr(GError) err = NULL, nest_err = NULL;
    g_autoptr(VnNetwork) net = vn_network_parse(xml, (gssize)len, &nest_err,
                                                &err);

    if (!install)
        return TRUE;
    if (net)
        add_warnings(out->warnings, "network", name, net->warnings);
    if (!net) {
        g_set_error(error, VN_ERROR, VN_ERROR_INVALID, "network '%s': %s",
                    name, err->message);
        return FALSE;
    }
    if (nest_err) {
        g_propagate_error(error, g_steal_pointer(&nest_err));
        return FALSE;
    }
    if (net->nest && !vn_plan_network(out->plan, net, env->config, error))
        return FALSE;
    return TRUE;
}

static gboolean
plan_domain(const char *name, gboolean install, gboolean check,
            const char *xml, gsize len, const VnHookEnv *env,
            VnHookPlan *out, GError **error)
{
    g_autoptr(GError) err = NULL, nest_err = NULL;
    g_autoptr(VnGuest) guest = vn_guest_parse(xml, (gssize)len, &nest_err,
                                              &err);
    g_autoptr(GPtrArray) networks =
        g_ptr_array_new_with_free_func((GDestroyNotify)vn_network_free);
    g_autoptr(GPtrArray) leases =
        g_ptr_array_new_with_free_func((GDestroyNotify)vn_lease_free);
    const VnIface *up;
    VnNetwork *net = NULL;

    if (guest)
        g_array_append_vals(out->subnets, guest->routes->data,
                            guest->routes->len);
    if (!install)
        return TRUE;
    if (guest)
        add_warnings(out->warnings, "domain", name, guest->warnings);
    if (!guest) {
        g_set_error(error, VN_ERROR, VN_ERROR_INVALID, "domain '%s': %s",
                    name, err->message);
        return FALSE;
    }
    if (nest_err) {
        g_propagate_error(error, g_steal_pointer(&nest_err));
        return FALSE;
    }
    if (!guest->nest)
        return TRUE;
    up = vn_guest_uplink(guest);
    if (up && up->network && (net = load_network(env, up->network)))
        g_ptr_array_add(networks, net);
    /* a missing or broken lease file only means: no lease */
    if (up && vn_iface_bridge(up, net))
        vn_leases_load(env->leases_dir, vn_iface_bridge(up, net), leases, NULL);
    if (check)
        return vn_plan_guest_check(guest, networks, env->host, env->config,
                                   error);
    return vn_plan_guest(out->plan, guest, networks, leases, env->host,
                         env->config, env->now, error);
}

gboolean
vn_hook_plan(const char *driver, const char *name, VnHookAction action,
             const char *xml, gsize len, const VnHookEnv *env,
             VnHookPlan *out, GError **error)
{
    gboolean install = action == VN_HOOK_INSTALL || action == VN_HOOK_CHECK;
    gboolean ok;

    memset(out, 0, sizeof(*out));
    out->network = strcmp(driver, "network") == 0;
    out->name = g_strdup(name);
    out->plan = vn_plan_new();
    out->subnets = g_array_new(FALSE, TRUE, sizeof(VnCidr));
    out->warnings = g_ptr_array_new_with_free_func(g_free);
    ok = out->network ? plan_network(name, install, xml, len, env, out, error)
                      : plan_domain(name, install, action == VN_HOOK_CHECK, xml, len,
                                   env, out, error);
    vn_plan_sort(out->plan);
    return ok;
}
