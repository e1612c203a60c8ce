/* runner.c: time commands from inside the namespace they run in.
 *
 *   vn-bench-run [-n RUNS] [-w WARMUP] [-p PREPARE] [-e K=V]... NAME -- \
 *       [@STDIN] CMD ARGS... [:: [@STDIN] CMD ARGS...]...
 *
 * Each run executes the commands of the sequence one after the other
 * (fork and exec, no shell, stdin from @STDIN or /dev/null, stdout and
 * stderr to /dev/null) with a cleared environment holding only LC_ALL=C,
 * PATH and the -e variables, as libvirt runs its hooks. PREPARE runs
 * through /bin/sh before each run and is not timed. A command that fails
 * aborts the benchmark.
 *
 * Prints one line of JSON: name, runs, median, mean, min, max, p90 (µs).
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MAX_CMDS 16
#define MAX_ENV 32

typedef struct {
    const char *stdin_path;
    char **argv;
} Cmd;

static char *envp[MAX_ENV + 3];

static double
now_us(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

static int
run_cmd(const Cmd *c)
{
    int status;
    pid_t pid = fork();

    if (pid < 0)
        return -1;
    if (pid == 0) {
        int in = open(c->stdin_path ? c->stdin_path : "/dev/null", O_RDONLY);
        int out = open("/dev/null", O_WRONLY);

        if (in < 0 || out < 0)
            _exit(126);
        dup2(in, 0);
        dup2(out, 1);
        dup2(out, 2);
        execve(c->argv[0], c->argv, envp);
        _exit(127);
    }
    while (waitpid(pid, &status, 0) < 0)
        if (errno != EINTR)
            return -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128;
}

static int
cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;

    return x < y ? -1 : x > y;
}

static void
usage(void)
{
    fprintf(stderr, "usage: vn-bench-run [-n RUNS] [-w WARMUP] [-p PREPARE] "
                    "[-e K=V]... NAME -- [@STDIN] CMD ARGS... [:: ...]\n");
    exit(2);
}

int
main(int argc, char **argv)
{
    int runs = 100, warmup = 5, nenv = 0, ncmds = 0, opt;
    const char *prepare = NULL, *name;
    Cmd cmds[MAX_CMDS];
    double *t, sum = 0;

    envp[nenv++] = "LC_ALL=C";
    envp[nenv++] = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
    while ((opt = getopt(argc, argv, "+n:w:p:e:")) != -1) {
        switch (opt) {
        case 'n': runs = atoi(optarg); break;
        case 'w': warmup = atoi(optarg); break;
        case 'p': prepare = optarg; break;
        case 'e':
            if (nenv >= MAX_ENV)
                usage();
            envp[nenv++] = optarg;
            break;
        default: usage();
        }
    }
    envp[nenv] = NULL;
    if (optind + 2 > argc || strcmp(argv[optind + 1], "--") != 0 || runs < 1)
        usage();
    name = argv[optind];
    for (int i = optind + 2; i < argc && ncmds < MAX_CMDS;) {
        Cmd *c = &cmds[ncmds++];

        c->stdin_path = NULL;
        if (argv[i][0] == '@')
            c->stdin_path = argv[i++] + 1;
        c->argv = &argv[i];
        while (i < argc && strcmp(argv[i], "::") != 0)
            i++;
        if (i < argc)
            argv[i++] = NULL;       /* terminate this command's argv */
        if (!c->argv[0])
            usage();
    }
    if (!ncmds)
        usage();
    t = calloc((size_t)runs, sizeof(double));
    for (int r = -warmup; r < runs; r++) {
        double start;

        if (prepare && system(prepare) != 0) {
            fprintf(stderr, "%s: prepare failed: %s\n", name, prepare);
            return 1;
        }
        start = now_us();
        for (int k = 0; k < ncmds; k++) {
            int rc = run_cmd(&cmds[k]);

            if (rc != 0) {
                fprintf(stderr, "%s: %s exited %d\n", name, cmds[k].argv[0], rc);
                return 1;
            }
        }
        if (r >= 0)
            t[r] = now_us() - start;
    }
    for (int r = 0; r < runs; r++)
        sum += t[r];
    qsort(t, (size_t)runs, sizeof(double), cmp_double);
    printf("{\"name\": \"%s\", \"runs\": %d, \"median_us\": %.1f, "
           "\"mean_us\": %.1f, \"min_us\": %.1f, \"p90_us\": %.1f, "
           "\"max_us\": %.1f}\n", name, runs,
           runs % 2 ? t[runs / 2] : (t[runs / 2 - 1] + t[runs / 2]) / 2,
           sum / runs, t[0], t[(runs * 9) / 10 < runs ? (runs * 9) / 10 : runs - 1],
           t[runs - 1]);
    free(t);
    return 0;
}
