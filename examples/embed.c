/*
 * embed.c: use mailman-gate from C, as an MTA other than Exim would.
 *
 *   cargo build --release --lib
 *   cc examples/embed.c -Iinclude -Ltarget/release -lmailman_gate \
 *      -Wl,-rpath,$PWD/target/release -o embed
 *   ./embed LISTS_DIR LOCAL_PART DOMAIN [ENVELOPE_SENDER MESSAGE_FILE]
 *
 * Routes LOCAL_PART@DOMAIN against the Mailman lists in LISTS_DIR and, if
 * it is a list address and a message is given, prints what Mailman would
 * do with it and the SMTP answer. Exit status: 0 answered, 1 error.
 */
#include <stdio.h>
#include <stdlib.h>

#include "mailman_gate.h"

static int fail(const char *what, mg_result rc)
{
    fprintf(stderr, "%s: %s (%d): %s\n", what, mg_result_text(rc), (int)rc,
            mg_last_error());
    return 1;
}

static unsigned char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    unsigned char *buf = NULL;
    size_t cap = 0, n = 0, r;
    if (!f)
        return NULL;
    do {
        if (n == cap) {
            unsigned char *nb = realloc(buf, cap = cap ? 2 * cap : 65536);
            if (!nb) { free(buf); fclose(f); return NULL; }
            buf = nb;
        }
        r = fread(buf + n, 1, cap - n, f);
        n += r;
    } while (r > 0);
    fclose(f);
    *len = n;
    return buf;
}

int main(int argc, char **argv)
{
    mg_gate *gate = NULL;
    mg_route *route = NULL;
    mg_verdict *v = NULL;
    mg_result rc;
    int status = 0;

    if (argc != 4 && argc != 6) {
        fprintf(stderr, "usage: %s LISTS_DIR LOCAL_PART DOMAIN [SENDER MESSAGE_FILE]\n", argv[0]);
        return 1;
    }
    printf("mailman-gate %s\n", mg_version());

    rc = mg_gate_open_lists(argv[1], "standard", &gate);
    if (rc != MG_RESULT_OK)
        return fail("open", rc);

    rc = mg_gate_route(gate, argv[2], argv[3], &route);
    if (rc != MG_RESULT_OK) {
        status = fail("route", rc);
        goto out;
    }
    if (!route) {
        printf("route: %s@%s is not a Mailman address\n", argv[2], argv[3]);
        goto out;
    }
    printf("route: list=%s kind=%s domain=%s\n", mg_route_list(route),
           mg_route_kind(route), mg_route_domain(route));

    if (argc == 6) {
        size_t len = 0;
        unsigned char *msg = slurp(argv[5], &len);
        if (!msg) {
            perror(argv[5]);
            status = 1;
            goto out;
        }
        rc = mg_gate_check(gate, mg_route_list(route), mg_route_kind(route),
                           argv[4], msg, len, &v);
        free(msg);
        if (rc != MG_RESULT_OK) {
            status = fail("check", rc);
            goto out;
        }
        printf("action: %s\n", mg_action_name(mg_verdict_action(v)));
        printf("step: %s\n", mg_verdict_step(v) ? mg_verdict_step(v) : "-");
        printf("reason: %s\n", mg_verdict_reason(v) ? mg_verdict_reason(v) : "-");
        printf("smtp: %d\n", mg_verdict_smtp_code(v));
        printf("token: %s\n", mg_verdict_token(v));
        for (size_t i = 0; i < mg_verdict_trace_len(v); i++)
            printf("trace: %s\n", mg_verdict_trace(v, i));
    }

out:
    mg_verdict_free(v);
    mg_route_free(route);
    mg_gate_free(gate);
    return status;
}
