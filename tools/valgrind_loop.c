/*
 * valgrind_loop.c: call the C API and the Exim dlfunc entry points N times
 * (argument errors, NULLs, non-UTF-8, every verdict getter), for
 * tools/valgrind_check.sh.  Usage: valgrind_loop LISTS_DIR CONFIG N
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mailman_gate.h"

int mailman_gate_rcpt(unsigned char **yield, int argc, const unsigned char *argv[]);
int mailman_gate_data(unsigned char **yield, int argc, const unsigned char *argv[]);
int mailman_gate_version(unsigned char **yield, int argc, const unsigned char *argv[]);

static const char *MSGS[] = {
    "From: alice@example.com\nTo: test@example.com\nSubject: hi\n\nHello.\n",
    "From: bob@example.com\nTo: test@example.com\nSubject: hi\n\nHello.\n",
    "From: out@elsewhere.example\nSubject: =?utf-8?b?w6k=?=\n\nHello.\n",
    "From: \xff\xfe@x\nSubject: \xc3(\n\nbody\n",
};

int main(int argc, char **argv)
{
    mg_gate *gate = NULL;
    long n, i;
    size_t k, t;
    if (argc != 4) {
        fprintf(stderr, "usage: %s LISTS_DIR CONFIG N\n", argv[0]);
        return 2;
    }
    n = atol(argv[3]);
    if (mg_gate_open_lists(argv[1], "standard", &gate) != MG_RESULT_OK) {
        fprintf(stderr, "open: %s\n", mg_last_error());
        return 1;
    }
    for (i = 0; i < n; i++) {
        mg_route *r = NULL;
        mg_verdict *v = NULL;
        unsigned char *y = NULL;
        const char *list = (i % 5 == 4) ? "broken" : "test";
        const char *msg = MSGS[i % 4];
        const unsigned char *rargs[] = {(const unsigned char *)argv[2],
                                        (const unsigned char *)"test-request",
                                        (const unsigned char *)"example.com",
                                        (const unsigned char *)"yes",
                                        (const unsigned char *)"0",
                                        (const unsigned char *)""};
        if (mg_gate_route(gate, "Test-Owner", "example.com", &r) == MG_RESULT_OK && r)
            (void)(mg_route_list(r) && mg_route_kind(r) && mg_route_domain(r));
        mg_route_free(r);
        r = NULL;
        (void)mg_gate_route(gate, "nosuch", "example.com", &r);
        mg_route_free(r);
        (void)mg_gate_route(gate, NULL, "example.com", &r);
        (void)mg_gate_route(gate, "\xff\xfe", "example.com", &r);
        if (mg_gate_check(gate, list, NULL, "alice@example.com",
                          (const uint8_t *)msg, strlen(msg), &v) == MG_RESULT_OK) {
            (void)mg_action_name(mg_verdict_action(v));
            (void)mg_verdict_step(v);
            (void)mg_verdict_reason(v);
            (void)mg_verdict_smtp_code(v);
            (void)mg_verdict_smtp_text(v);
            (void)mg_verdict_token(v);
            for (t = 0, k = mg_verdict_trace_len(v); t <= k; t++)
                (void)mg_verdict_trace(v, t);
            for (t = 0, k = mg_verdict_caveats_len(v); t <= k; t++)
                (void)mg_verdict_caveat(v, t);
            mg_verdict_free(v);
        } else {
            (void)mg_last_error();
        }
        v = NULL;
        (void)mg_gate_check(gate, "test", "nokind", NULL, NULL, 0, &v);
        (void)mg_gate_check(gate, "test", NULL, NULL, NULL, 5, &v);
        (void)mg_gate_check(gate, "../etc", NULL, NULL, NULL, 0, &v);
        mg_verdict_free(v);
        mailman_gate_rcpt(&y, 6, rargs);
        mailman_gate_rcpt(&y, 0, NULL);
        mailman_gate_data(&y, 2, rargs);
        mailman_gate_version(&y, 0, NULL);
        if (i % 100 == 0) {
            /* A gate opened and closed again. */
            mg_gate *g2 = NULL;
            if (mg_gate_open(argv[2], &g2) == MG_RESULT_OK)
                mg_gate_free(g2);
            (void)mg_gate_open("/nonexistent/mailman-gate.conf", &g2);
        }
    }
    mg_gate_free(gate);
    printf("%ld iterations\n", n);
    return 0;
}
