/* runner.c: time commands from inside the namespace they run in, several
 * benchmarks interleaved so that they share the same machine load.
 *
 *   vn-bench-run [-n RUNS] [-w WARMUP] BENCH [--- BENCH]...
 *   BENCH: NAME [-p PREPARE] [-e K=V]... -- [@STDIN] CMD ARGS... [:: ...]
 *
 * Run r of every benchmark comes before run r+1 of any. A run executes the
 * commands of its sequence one after the other (fork and exec, no shell,
 * stdin from @STDIN or /dev/null, stdout and stderr to /dev/null) with a
 * cleared environment holding only LC_ALL=C, PATH and the -e variables, as
 * libvirt runs its hooks. PREPARE runs through /bin/sh before each run and
 * is not timed. A command that fails aborts everything.
 *
 * Prints one line of JSON per benchmark: name, runs, median, mean, min,
 * p90, max, in microseconds.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
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
#define MAX_BENCH 32

typedef struct {
    const char *stdin_path;
    char **argv;
} Cmd;

typedef struct {
    const char *name;
    const char *prepare;
    char *envp[MAX_ENV + 3];
    Cmd cmds[MAX_CMDS];
    int ncmds;
    double *t;
} Bench;

static double
now_us(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

static int
run_cmd(const Cmd *c, char **envp)
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
    fprintf(stderr, "usage: vn-bench-run [-n RUNS] [-w WARMUP] NAME [-p PREPARE] "
                    "[-e K=V]... -- [@STDIN] CMD ARGS... [:: ...] [--- ...]\n");
    exit(2);
}

/* Parse one BENCH from argv[*i]; stops after its "---" or at the end. */
static void
parse_bench(Bench *b, int argc, char **argv, int *i)
{
    int nenv = 0;

    b->envp[nenv++] = "LC_ALL=C";
    b->envp[nenv++] = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
    b->name = argv[(*i)++];
    while (*i < argc && strcmp(argv[*i], "--") != 0) {
        if (!strcmp(argv[*i], "-p") && *i + 1 < argc)
            b->prepare = argv[*i + 1];
        else if (!strcmp(argv[*i], "-e") && *i + 1 < argc && nenv < MAX_ENV)
            b->envp[nenv++] = argv[*i + 1];
        else
            usage();
        *i += 2;
    }
    b->envp[nenv] = NULL;
    if (*i >= argc)
        usage();
    (*i)++;     /* "--" */
    while (*i < argc && strcmp(argv[*i], "---") != 0 && b->ncmds < MAX_CMDS) {
        Cmd *c = &b->cmds[b->ncmds++];

        if (argv[*i][0] == '@')
            c->stdin_path = argv[(*i)++] + 1;
        c->argv = &argv[*i];
        while (*i < argc && strcmp(argv[*i], "::") && strcmp(argv[*i], "---"))
            (*i)++;
        if (*i < argc && !strcmp(argv[*i], "::"))
            argv[(*i)++] = NULL;
        else if (*i < argc) {
            argv[*i] = NULL;    /* "---": also ends this command */
            (*i)++;
            break;
        }
        if (!c->argv[0])
            usage();
    }
    if (!b->ncmds)
        usage();
}

int
main(int argc, char **argv)
{
    int runs = 100, warmup = 5, nbench = 0, opt, i;
    static Bench bench[MAX_BENCH];

    while ((opt = getopt(argc, argv, "+n:w:")) != -1) {
        switch (opt) {
        case 'n': runs = atoi(optarg); break;
        case 'w': warmup = atoi(optarg); break;
        default: usage();
        }
    }
    if (runs < 1)
        usage();
    for (i = optind; i < argc && nbench < MAX_BENCH;)
        parse_bench(&bench[nbench++], argc, argv, &i);
    if (!nbench)
        usage();
    for (int b = 0; b < nbench; b++)
        bench[b].t = calloc((size_t)runs, sizeof(double));
    for (int r = -warmup; r < runs; r++) {
        for (int b = 0; b < nbench; b++) {
            Bench *x = &bench[b];
            double start;

            if (x->prepare && system(x->prepare) != 0) {
                fprintf(stderr, "%s: prepare failed: %s\n", x->name, x->prepare);
                return 1;
            }
            start = now_us();
            for (int k = 0; k < x->ncmds; k++) {
                int rc = run_cmd(&x->cmds[k], x->envp);

                if (rc != 0) {
                    fprintf(stderr, "%s: %s exited %d\n", x->name,
                            x->cmds[k].argv[0], rc);
                    return 1;
                }
            }
            if (r >= 0)
                x->t[r] = now_us() - start;
        }
    }
    for (int b = 0; b < nbench; b++) {
        double *t = bench[b].t, sum = 0;

        for (int r = 0; r < runs; r++)
            sum += t[r];
        qsort(t, (size_t)runs, sizeof(double), cmp_double);
        printf("{\"name\": \"%s\", \"runs\": %d, \"median_us\": %.1f, "
               "\"mean_us\": %.1f, \"min_us\": %.1f, \"p90_us\": %.1f, "
               "\"max_us\": %.1f}\n", bench[b].name, runs,
               runs % 2 ? t[runs / 2] : (t[runs / 2 - 1] + t[runs / 2]) / 2,
               sum / runs, t[0], t[(runs * 9) / 10], t[runs - 1]);
        free(t);
    }
    return 0;
}
