/* virt-nest: the command line.
 *
 * Only this file and the hook's main() print; the library never does.
 * Exit status: 0 success, 1 runtime error (or problems found), 2 usage.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include <getopt.h>
#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

static const VnCommand commands[] = {
    { "status", "show this layer: networks, guests, what it needs, drift",
      vn_cmd_status },
    { "plan", "addresses and subnets for a new nested guest, with its XML",
      vn_cmd_plan },
    { "graph", "the whole nest from one snapshot per layer, as one picture",
      vn_cmd_graph },
    { "doctor", "walk a packet across the layers; where it dies, and the fix",
      vn_cmd_doctor },
    { "adopt", "delegate the nested subnets a guest's agent reports to it",
      vn_cmd_adopt },
    { "reconcile", "install what is missing, remove what is stale",
      vn_cmd_reconcile },
    { "watch", "stay running: reconcile when libvirtd or firewalld reload",
      vn_cmd_watch },
    { "log", "the last changes the hooks and reconcile made here",
      vn_cmd_log },
    { "install-hooks", "install virt-nest-hook as libvirt's network and qemu hook",
      vn_cmd_install_hooks },
    { "uninstall-hooks", "remove the hooks, and what virt-nest installed",
      vn_cmd_uninstall_hooks },
};

static void
usage(FILE *f)
{
    fprintf(f, "Usage: virt-nest [--version] [--help] COMMAND [OPTIONS]\n\n"
               "Routes and firewall exceptions for nested libvirt guests.\n\n"
               "Commands:\n");
    for (guint i = 0; i < G_N_ELEMENTS(commands); i++)
        fprintf(f, "  %-16s %s\n", commands[i].name, commands[i].summary);
    fprintf(f, "\nRun 'virt-nest COMMAND --help' for its options; "
               "see virt-nest(1).\n");
}

int
main(int argc, char **argv)
{
    setlocale(LC_ALL, "");
    if (argc < 2) {
        usage(stderr);
        return VN_EXIT_USAGE;
    }
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
        strcmp(argv[1], "help") == 0) {
        usage(stdout);
        return 0;
    }
    if (strcmp(argv[1], "--version") == 0 || strcmp(argv[1], "version") == 0) {
        printf("virt-nest %s\n", VN_VERSION);
        return 0;
    }
    for (guint i = 0; i < G_N_ELEMENTS(commands); i++)
        if (strcmp(argv[1], commands[i].name) == 0)
            return commands[i].run(argc - 1, argv + 1);
    fprintf(stderr, "virt-nest: unknown command '%s'; run 'virt-nest --help' "
                    "for the list\n", argv[1]);
    return VN_EXIT_USAGE;
}
