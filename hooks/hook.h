/* hook.h: the interface between the hook's front end (front.c, libc only)
 * and the module it loads when there is work (hook.c, the whole library).
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <stddef.h>

#define VN_HOOK_SYMBOL "vn_hook_run"

typedef struct {
    const char *driver;     /* "network" or "qemu" */
    const char *name;       /* the network or domain */
    const char *op;         /* "started", "stopped", ... */
    const char *subop;      /* "begin", "end", "-" */
    const char *xml;        /* stdin */
    size_t len;
} VnHookCall;

/* Returns the hook's exit status. Prints errors, one line each, on stderr;
 * never writes stdout. */
typedef int (*VnHookRun)(const VnHookCall *call);

int vn_hook_run(const VnHookCall *call);
