/* The floor of benches/exim_calls.c: entry points that do nothing but
 * return the tokens the real library gives for a member post. What the
 * harness measures around a call (a first call into a new object's code
 * page in a forked process, getrusage, the clock) with no library work.
 *
 *   cc -O2 -shared -fPIC -o libnoop.so benches/exim_calls_noop.c */
static unsigned char list_token[] = "list biglist post lists.example.org";
static unsigned char accept_token[] = "accept";
static unsigned char empty_token[] = "";

int mailman_gate_rcpt(unsigned char **y, int argc, unsigned char **argv) {
    (void)argc, (void)argv;
    *y = list_token;
    return 0;
}

int mailman_gate_data(unsigned char **y, int argc, unsigned char **argv) {
    (void)argc, (void)argv;
    *y = accept_token;
    return 0;
}

int mailman_gate_daemon(unsigned char **y, int argc, unsigned char **argv) {
    (void)argc, (void)argv;
    *y = empty_token;
    return 0;
}
