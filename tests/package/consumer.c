/* consumer.c: a program built against libvirt-nest-dev as its users build
 * theirs (pkg-config --cflags --libs libvirt-nest), run by package.sh in
 * a fresh Debian root: the routes a layer needs, from a libvirt URI.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <stdio.h>
#include <virt-nest.h>

int
main(int argc, char **argv)
{
    VnDiscoverOptions opts = { argc > 1 ? argv[1] : NULL, NULL, VN_HOST_NO };
    g_autoptr(GError) error = NULL;
    g_autoptr(VnLayer) layer = vn_discover(&opts, &error);
    g_autoptr(VnPlan) plan = NULL;
    VnConfig config;

    if (!layer) {
        fprintf(stderr, "consumer: %s\n", error->message);
        return 1;
    }
    vn_config_init(&config);
    plan = vn_plan_layer(layer, &config, 0);
    for (guint i = 0; i < plan->routes->len; i++) {
        g_autofree char *d = vn_route_describe(plan->routes->pdata[i]);

        printf("route %s\n", d);
    }
    return 0;
}
