/* Time of the RCPT and DATA calls in a new SMTP connection's process,
 * without and with warm start, outside Exim: this program stands in for
 * Exim's daemon. It exports the few globals and functions of Exim's
 * local_scan API the library reads (link with -rdynamic), forks one child
 * per "connection", and in the child times mailman_gate_rcpt and
 * mailman_gate_data exactly as the ACLs call them.
 *
 *   cc -O2 -rdynamic -o exim_calls benches/exim_calls.c -ldl
 *   ./exim_calls N LIB CONFIG LIST DOMAIN SENDER SPOOL_DIR POST
 *
 * cold: the child dlopens the library and calls (what each connection pays
 *       without warm start; the dlopen is reported apart).
 * warm: the parent dlopened it and calls mailman_gate_daemon{CONFIG}
 *       before each fork (what `smtp_accept_max_per_host =
 *       ${dlfunc{LIB}{mailman_gate_daemon}{CONFIG}}` does in Exim; the
 *       first call warms, the others find everything current).
 * Prints min and median over N children, in microseconds, and the tokens
 * of the last child (EXIM_CALLS_REPEAT=1: DATA's time and faults are
 * those of a second transaction in the same child; EXIM_CALLS_EVICT_MIB=N:
 * the caches are overwritten with N MiB before DATA). The message is POST
 * (benches/post.eml, placeholders filled in): its headers become
 * header_list, one header_line per field as Exim keeps them, and
 * SPOOL_DIR/input/ gets the -D file of its body. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* local_scan.h's header_line and the globals the library reads. */
typedef struct header_line {
    struct header_line *next;
    int type;
    int slen;
    unsigned char *text;
} header_line;

header_line *header_list;
unsigned char *sender_address;
unsigned char *message_id;
static unsigned char message_id_buf[32];
int recipients_count = 1;
void *recipients_list;

void log_write(unsigned int selector, int flags, const char *format, ...) {
    (void)selector;
    (void)flags;
    va_list ap;
    va_start(ap, format);
    fprintf(stderr, "log: ");
    vfprintf(stderr, format, ap);
    fprintf(stderr, "\n");
    va_end(ap);
}

unsigned char *expand_string(const unsigned char *s) {
    (void)s;
    return NULL;
}

typedef int dlfunc(unsigned char **, int, unsigned char **);

static double now_us(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1e6 + t.tv_nsec / 1e3;
}

static double cpu_us(const struct rusage *u) {
    return (u->ru_utime.tv_sec + u->ru_stime.tv_sec) * 1e6 + u->ru_utime.tv_usec +
           u->ru_stime.tv_usec;
}

static int cmp(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

struct result {
    double dlopen_us, rcpt_us, data_us, rcpt_flt, data_flt;
    char rcpt[64], data[64];
};

static char *lib, *config, *list, *domain, *spool;
/* EXIM_CALLS_REPEAT=1: report a second RCPT and DATA in the same child. */
static int repeat;
/* EXIM_CALLS_EVICT_MIB=N: before DATA (untimed), the child writes and
 * reads N MiB of its own, as a real Exim's work between RCPT and DATA
 * (reading the message, writing the spool) pushes the library's code and
 * data out of the caches; N beyond the last-level cache: all of it. */
static int evict_mib;

static void evict_caches(void) {
    size_t n = (size_t)evict_mib << 20;
    unsigned char *p = mmap(NULL, n, PROT_READ | PROT_WRITE,
                            MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
    if (p == MAP_FAILED) return;
    volatile unsigned long sum = 0;
    for (int pass = 0; pass < 2; pass++)
        for (size_t i = 0; i < n; i += 64) {
            p[i] = (unsigned char)i;
            sum += p[i];
        }
}

static dlfunc *sym(void *h, const char *name) {
    dlfunc *f = (dlfunc *)dlsym(h, name);
    if (!f) {
        fprintf(stderr, "exim_calls: no %s\n", name);
        exit(1);
    }
    return f;
}

/* One connection, in a new process. */
static struct result connection(void) {
    int p[2];
    struct result r;
    memset(&r, 0, sizeof r);
    if (pipe(p) != 0) exit(2);
    pid_t pid = fork();
    if (pid == 0) {
        struct result c;
        memset(&c, 0, sizeof c);
        /* Only the calls are timed: getrusage and the clock run once
         * first (their code is faulted in here, not inside a call's
         * time), the arguments are set up before, the tokens copied after. */
        struct rusage u1, u2, u3;
        getrusage(RUSAGE_SELF, &u1);
        double t0 = now_us();
        void *h = dlopen(lib, RTLD_LAZY);
        if (!h) _exit(3);
        dlfunc *rcpt = sym(h, "mailman_gate_rcpt"), *data = sym(h, "mailman_gate_data");
        double t1 = now_us();
        unsigned char *y = NULL, *y2 = NULL;
        unsigned char *ra[] = {(unsigned char *)config, (unsigned char *)list,
                               (unsigned char *)domain, (unsigned char *)"yes",
                               (unsigned char *)"0", (unsigned char *)"", NULL};
        unsigned char *da[] = {(unsigned char *)config, NULL, (unsigned char *)spool, NULL};
        getrusage(RUSAGE_SELF, &u1);
        double t1b = now_us();
        rcpt(&y, 6, ra);
        double t2 = now_us();
        getrusage(RUSAGE_SELF, &u2);
        /* The RCPT token, copied without libc (no code to fault in). */
        for (size_t i = 0; y && i + 1 < sizeof c.rcpt && y[i]; i++)
            c.rcpt[i] = (char)y[i];
        da[1] = y;
        if (evict_mib > 0) evict_caches();
        double t2b = now_us();
        data(&y2, 3, da);
        double t3 = now_us();
        getrusage(RUSAGE_SELF, &u3);
        if (repeat) {
            /* The same transaction again in this process: DATA with
             * nothing left to fault in. */
            y = NULL;
            rcpt(&y, 6, ra);
            da[1] = y;
            getrusage(RUSAGE_SELF, &u2);
            t2b = now_us();
            data(&y2, 3, da);
            t3 = now_us();
            getrusage(RUSAGE_SELF, &u3);
        }
        snprintf(c.data, sizeof c.data, "%s", y2 ? (char *)y2 : "(null)");
        c.rcpt_flt = u2.ru_minflt - u1.ru_minflt;
        c.data_flt = u3.ru_minflt - u2.ru_minflt;
        c.dlopen_us = t1 - t0;
        c.rcpt_us = t2 - t1b;
        c.data_us = t3 - t2b;
        if (write(p[1], &c, sizeof c) != sizeof c) _exit(4);
        _exit(0);
    }
    close(p[1]);
    if (read(p[0], &r, sizeof r) != sizeof r) {
        fprintf(stderr, "exim_calls: a child failed\n");
        exit(1);
    }
    close(p[0]);
    int st;
    waitpid(pid, &st, 0);
    return r;
}

static void report(const char *what, int n, double *d, double *rc, double *da, struct result *last) {
    printf("%s: page faults in the last child: RCPT %.0f, DATA %.0f\n", what, last->rcpt_flt, last->data_flt);
    qsort(d, n, sizeof *d, cmp);
    qsort(rc, n, sizeof *rc, cmp);
    qsort(da, n, sizeof *da, cmp);
    printf("%s: dlopen min %.1f median %.1f us; RCPT call min %.1f median %.1f us; "
           "DATA call min %.1f median %.1f us (tokens: %.20s / %.20s)\n",
           what, d[0], d[n / 2], rc[0], rc[n / 2], da[0], da[n / 2], last->rcpt, last->data);
}

/* `text` with every `from` replaced by `to` (a new string). */
static char *replace_all(const char *text, const char *from, const char *to) {
    size_t n = 0, lf = strlen(from), lt = strlen(to);
    for (const char *p = text; (p = strstr(p, from)); p += lf)
        n++;
    char *out = malloc(strlen(text) + n * lt + 1), *o = out;
    if (!out)
        return NULL;
    for (const char *p = text;;) {
        const char *q = strstr(p, from);
        if (!q) {
            strcpy(o, p);
            return out;
        }
        memcpy(o, p, (size_t)(q - p));
        o += q - p;
        memcpy(o, to, lt);
        o += lt;
        p = q + lf;
    }
}

/* The post of benches/post.eml from `sender` to `rcpt`, as a string. */
static char *read_post(const char *path, const char *sender, const char *rcpt) {
    FILE *f = fopen(path, "r");
    if (!f) {
        perror(path);
        exit(1);
    }
    static char buf[16384];
    size_t len = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[len] = 0;
    char *a = replace_all(buf, "{{SENDER}}", sender);
    char *b = replace_all(a, "{{LIST}}", rcpt);
    char *c = replace_all(b, "{{N}}", "1");
    free(a);
    free(b);
    return c;
}

/* header_list from the header block `h` (ends at its blank line): one
 * header_line per field, continuation lines included, as Exim keeps them. */
static header_line *header_lines(char *h) {
    header_line *first = NULL, **tail = &first;
    char *p = h;
    while (*p && *p != '\n') {
        char *e = p;
        do {
            char *nl = strchr(e, '\n');
            e = nl ? nl + 1 : e + strlen(e);
        } while (*e == ' ' || *e == '\t');
        header_line *l = calloc(1, sizeof *l);
        l->text = (unsigned char *)p;
        l->slen = (int)(e - p);
        l->type = ' ';
        *tail = l;
        tail = &l->next;
        p = e;
    }
    return first;
}

int main(int argc, char **argv) {
    if (argc != 9) {
        fprintf(stderr, "usage: exim_calls N LIB CONFIG LIST DOMAIN SENDER SPOOL_DIR POST\n");
        return 2;
    }
    int n = atoi(argv[1]);
    lib = argv[2];
    config = argv[3];
    list = argv[4];
    domain = argv[5];
    sender_address = (unsigned char *)argv[6];
    spool = argv[7];
    repeat = getenv("EXIM_CALLS_REPEAT") && *getenv("EXIM_CALLS_REPEAT");
    evict_mib = getenv("EXIM_CALLS_EVICT_MIB") ? atoi(getenv("EXIM_CALLS_EVICT_MIB")) : 0;

    /* The message: headers in header_list, the body in the -D file. */
    snprintf((char *)message_id_buf, sizeof message_id_buf, "1xXvOc-0006Nc-1i");
    message_id = message_id_buf;
    char rcpt[512];
    snprintf(rcpt, sizeof rcpt, "%s@%s", list, domain);
    char *post = read_post(argv[8], argv[6], rcpt);
    char *body = strstr(post, "\n\n");
    if (!post || !body) {
        fprintf(stderr, "exim_calls: %s: no header/body separator\n", argv[8]);
        return 1;
    }
    body += 2;
    header_list = header_lines(post);
    char path[4096];
    snprintf(path, sizeof path, "%s/input", spool);
    mkdir(path, 0755);
    snprintf(path, sizeof path, "%s/input/%s-D", spool, message_id);
    FILE *f = fopen(path, "w");
    if (!f) {
        perror(path);
        return 1;
    }
    fprintf(f, "%s-D\n%s", message_id, body);
    fclose(f);

    double *d = calloc(n, sizeof *d), *rc = calloc(n, sizeof *rc), *da = calloc(n, sizeof *da);
    struct result last;
    /* EXIM_CALLS_WARM_ONLY=1: skip the cold connections (for profiling). */
    const char *warm_only = getenv("EXIM_CALLS_WARM_ONLY");
    if (!warm_only || !*warm_only) {
        for (int i = 0; i < n; i++) {
            last = connection();
            d[i] = last.dlopen_us, rc[i] = last.rcpt_us, da[i] = last.data_us;
        }
        report("cold (no warm start)", n, d, rc, da, &last);
    }

    /* Warm start in this "daemon": load, then the daemon call twice (the
     * first pass, then a refresh that finds everything current). */
    void *h2 = dlopen(lib, RTLD_LAZY);
    if (!h2) {
        fprintf(stderr, "exim_calls: %s\n", dlerror());
        return 1;
    }
    dlfunc *daemon = sym(h2, "mailman_gate_daemon");
    unsigned char *y = NULL;
    unsigned char *a[] = {(unsigned char *)config, NULL};
    double t0 = now_us();
    daemon(&y, 1, a);
    double t1 = now_us();
    printf("warm start in the daemon: first call %.0f us\n", t1 - t0);
    /* The whole connection's CPU too: the fork, both calls and the
     * child's exit, the daemon's side and the child's. */
    struct rusage s0, c0, s1, c1;
    getrusage(RUSAGE_SELF, &s0);
    getrusage(RUSAGE_CHILDREN, &c0);
    double *dm = calloc(n, sizeof *dm);
    for (int i = 0; i < n; i++) {
        /* Exim expands smtp_accept_max_per_host, so makes the daemon
         * call, before each fork. */
        double t2 = now_us();
        daemon(&y, 1, a);
        dm[i] = now_us() - t2;
        last = connection();
        d[i] = last.dlopen_us, rc[i] = last.rcpt_us, da[i] = last.data_us;
    }
    getrusage(RUSAGE_SELF, &s1);
    getrusage(RUSAGE_CHILDREN, &c1);
    report("warm (daemon warmed before fork)", n, d, rc, da, &last);
    qsort(dm, n, sizeof *dm, cmp);
    printf("warm: the daemon call before each fork min %.1f median %.1f us\n", dm[0], dm[n / 2]);
    printf("warm: CPU per connection (fork, calls, exit; this process and the child) %.1f us\n",
           (cpu_us(&s1) - cpu_us(&s0) + cpu_us(&c1) - cpu_us(&c0)) / n);
    unlink(path);
    return 0;
}
