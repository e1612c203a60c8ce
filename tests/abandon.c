/* abandon.c: the agent calls a caller leaves behind, for real.
 *
 * Usage: vn-abandon URI GUEST, where GUEST runs and its qemu-ga is
 * stopped (SIGSTOP), so that libvirt waits its guest-sync time (5 s)
 * before it gives up, longer than each call here may take (1 s):
 * vn_agent_ifaces_read_bounded() and vn_walk() each return at their own
 * deadline and leave their thread inside libvirt. Then the caller drops
 * everything the threads were given (the domain, the layer, the
 * connection), as `virt-nest watch` does between two discoveries, and
 * lives on until the threads have ended on their own: under valgrind
 * (tests/libvirt/abandon.sh) a thread that touched what the caller freed
 * is an error. Exit 0 when all of it holds, 1 (with the reason) if not.
 */
#include "config.h"

#include <dirent.h>
#include <stdio.h>
#include <string.h>

#include "agent.h"
#include "discover.h"
#include "json.h"
#include "walk.h"

static int fail;

static void
check(gboolean ok, const char *what)
{
    printf("%s: %s\n", ok ? "ok" : "FAIL", what);
    if (!ok)
        fail = 1;
}

/* The threads of this process, this one included. */
static guint
threads(void)
{
    DIR *d = opendir("/proc/self/task");
    struct dirent *e;
    guint n = 0;

    if (!d)
        return 0;
    while ((e = readdir(d)))
        if (e->d_name[0] != '.')
            n++;
    closedir(d);
    return n;
}

int
main(int argc, char **argv)
{
    g_autoptr(GError) err = NULL;
    VnDiscoverOptions dopts = { .host = VN_HOST_NO };
    VnWalkOptions wopts = { .depth = 1, .timeout = 1,
                            .max_output = VN_WALK_MAX_OUTPUT };
    g_autofree char *bundle = NULL;
    g_autofree char *msg = NULL;
    GPtrArray *ifaces;
    virConnectPtr conn;
    virDomainPtr dom;
    VnLayer *layer;
    guint before;
    gint64 t0, took, end;

    if (argc != 3) {
        fprintf(stderr, "usage: vn-abandon URI GUEST\n");
        return 2;
    }
    if (!(conn = vn_connect(argv[1], FALSE, &err))) {
        fprintf(stderr, "vn-abandon: %s\n", err->message);
        return 1;
    }
    if (!(dom = virDomainLookupByName(conn, argv[2]))) {
        fprintf(stderr, "vn-abandon: domain '%s': %s\n", argv[2],
                vn_virt_error());
        return 1;
    }
    before = threads();

    /* 1. the bounded interface read of discovery */
    t0 = g_get_monotonic_time();
    ifaces = vn_agent_ifaces_read_bounded(dom, 1000, &err);
    took = (g_get_monotonic_time() - t0) / 1000;
    msg = g_strdup_printf("vn_agent_ifaces_read_bounded(1000 ms) returned "
                          "in %" G_GINT64_FORMAT " ms, no answer, an error "
                          "naming the domain: %s", took,
                          err ? err->message : "(none)");
    check(!ifaces && err && took < 2500 &&
          strstr(err->message, argv[2]) &&
          strstr(err->message, "did not answer"), msg);
    check(threads() == before + 1,
          "its thread is left inside libvirt, still waiting");
    g_clear_error(&err);
    g_clear_pointer(&msg, g_free);

    /* 2. the walk, --walk-timeout 1 */
    layer = vn_discover_conn(conn, argv[1], &dopts, &err);
    if (!layer) {
        fprintf(stderr, "vn-abandon: %s\n", err->message);
        return 1;
    }
    t0 = g_get_monotonic_time();
    bundle = vn_walk(conn, layer, vn_json_parse("{}", -1, NULL), &wopts,
                     &err);
    took = (g_get_monotonic_time() - t0) / 1000;
    msg = g_strdup_printf("vn_walk(timeout 1 s) returned in %"
                          G_GINT64_FORMAT " ms with the guest a leaf, 'no "
                          "agent answered in 1 s'", took);
    check(bundle && took < 3500 &&
          strstr(bundle, "\"reason\": \"no agent answered in 1 s\""), msg);
    /* the first may have ended by now: libvirt gave up at 5 s */
    check(threads() > before, "the walk's thread is still inside libvirt");

    /* 3. the caller drops everything; the threads end on their own */
    vn_layer_free(layer);
    virDomainFree(dom);
    virConnectClose(conn);
    end = g_get_monotonic_time() + 40 * G_USEC_PER_SEC;
    while (threads() > before && g_get_monotonic_time() < end)
        g_usleep(100 * 1000);
    took = (g_get_monotonic_time() - t0) / 1000;
    g_clear_pointer(&msg, g_free);
    msg = g_strdup_printf("the abandoned threads ended on their own, %"
                          G_GINT64_FORMAT " ms after the walk began", took);
    check(threads() == before, msg);
    return fail;
}
