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
#include "hookplan.h"
#include "vnconfig.h"

static int
fail(const VnHookCall *call, const GError *err)
{
    const char *kind = strcmp(call->driver, "network") ? "domain" : "network";
    g_autofree char *prefix = g_strdup_printf("%s '%s': ", kind, call->name);

    /* messages from the planner and the parser already name the object */
    if (g_str_has_prefix(err->message, prefix))
        fprintf(stderr, "virt-nest: %s\n", err->message);
    else
        fprintf(stderr, "virt-nest: %s%s\n", prefix, err->message);
    return 1;
}

static int
run(const VnHookCall *call, VnHookAction action, const VnConfig *config)
{
    g_autoptr(GError) err = NULL;
    g_autoptr(VnApply) apply = vn_apply_new(vn_state_dir());
    VnHookPlan hp;
    VnHookEnv env;
    gboolean ok;

    vn_hook_env_init(&env, config);
    /* the overlap checks need this host's addresses and connected
     * networks; the route changes need its routes anyway */
    if (action == VN_HOOK_INSTALL && strcmp(call->driver, "qemu") == 0 &&
        !(env.host = vn_apply_host(apply, &err)))
        return fail(call, err);
    if (!vn_hook_plan(call->driver, call->name, action, call->xml, call->len,
                      &env, &hp, &err)) {
        vn_hook_plan_clear(&hp);
        return fail(call, err);
    }
    ok = hp.network ? vn_apply_network(apply, hp.name, hp.plan->rules, &err)
                    : vn_apply_domain(apply, hp.name, hp.plan->routes,
                                      hp.subnets, &err);
    vn_hook_plan_clear(&hp);
    if (!ok || !vn_apply_finish(apply, &err))
        return fail(call, err);
    return 0;
}

G_MODULE_EXPORT int
vn_hook_run(const VnHookCall *call)
{
    g_autoptr(GError) err = NULL;
    VnHookAction action = vn_hook_action(call->driver, call->op, call->subop);
    VnConfig config;
    int lock, rc;

    if (action == VN_HOOK_NOTHING)
        return 0;
    if (!vn_config_load(NULL, &config, &err))
        return fail(call, err);
    /* libvirt starts guests in parallel: one hook at a time changes state */
    if ((lock = vn_state_lock(vn_state_dir(), &err)) < 0)
        return fail(call, err);
    rc = run(call, action, &config);
    close(lock);
    return rc;
}
