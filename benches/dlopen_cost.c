/* What loading the library costs a new process, as Exim's ${dlfunc} pays
 * it in each SMTP connection: fork, then dlopen(path, RTLD_LAZY) and one
 * dlsym in the child; wall time and the child's CPU time (getrusage).
 *
 *   cc -O2 -o dlopen_cost benches/dlopen_cost.c -ldl
 *   ./dlopen_cost N LIB [LIB...]
 *
 * The libraries are measured alternately (one fork each per round) so that
 * machine noise hits them alike. Prints, per library, the min and median
 * over N rounds in microseconds, and the median of the child's page
 * faults (minor). */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

struct sample { double wall_us, cpu_us, minflt; };

static double now_us(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1e6 + t.tv_nsec / 1e3;
}

static int cmp(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static struct sample one(const char *lib) {
    int p[2];
    struct sample s = {0, 0, 0};
    if (pipe(p) != 0) exit(2);
    pid_t pid = fork();
    if (pid == 0) {
        struct rusage r0, r1;
        getrusage(RUSAGE_SELF, &r0);
        double t0 = now_us();
        void *h = dlopen(lib, RTLD_LAZY);
        if (!h || !dlsym(h, "mailman_gate_version")) _exit(3);
        double t1 = now_us();
        getrusage(RUSAGE_SELF, &r1);
        struct sample c;
        c.wall_us = t1 - t0;
        c.cpu_us = (r1.ru_utime.tv_sec - r0.ru_utime.tv_sec) * 1e6 +
                   (r1.ru_utime.tv_usec - r0.ru_utime.tv_usec) +
                   (r1.ru_stime.tv_sec - r0.ru_stime.tv_sec) * 1e6 +
                   (r1.ru_stime.tv_usec - r0.ru_stime.tv_usec);
        c.minflt = r1.ru_minflt - r0.ru_minflt;
        if (write(p[1], &c, sizeof c) != sizeof c) _exit(4);
        _exit(0);
    }
    close(p[1]);
    if (read(p[0], &s, sizeof s) != sizeof s) {
        fprintf(stderr, "dlopen_cost: %s: the child failed\n", lib);
        exit(1);
    }
    close(p[0]);
    int st;
    waitpid(pid, &st, 0);
    return s;
}

int main(int argc, char **argv) {
    if (argc < 3) {
        fprintf(stderr, "usage: dlopen_cost N LIB [LIB...]\n");
        return 2;
    }
    int n = atoi(argv[1]), k = argc - 2;
    double *wall = calloc((size_t)n * k, sizeof *wall);
    double *cpu = calloc((size_t)n * k, sizeof *cpu);
    double *flt = calloc((size_t)n * k, sizeof *flt);
    for (int i = 0; i < n; i++)
        for (int j = 0; j < k; j++) {
            struct sample s = one(argv[2 + j]);
            wall[j * n + i] = s.wall_us;
            cpu[j * n + i] = s.cpu_us;
            flt[j * n + i] = s.minflt;
        }
    for (int j = 0; j < k; j++) {
        qsort(wall + j * n, n, sizeof *wall, cmp);
        qsort(cpu + j * n, n, sizeof *cpu, cmp);
        qsort(flt + j * n, n, sizeof *flt, cmp);
        printf("%s: dlopen wall min %.0f median %.0f us; cpu median %.0f us; minor faults median %.0f\n",
               argv[2 + j], wall[j * n], wall[j * n + n / 2], cpu[j * n + n / 2], flt[j * n + n / 2]);
    }
    return 0;
}
