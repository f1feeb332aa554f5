#!/bin/bash
# SMTP cost of mailman-gate in a real Exim on loopback, on a
# 100,000-member list: messages per second and CPU per connection of the
# receiving processes, paired in one run for three daemons:
#
#   nogate  the shipped recipe without the two gate calls
#   gate    the shipped recipe: each connection's process loads the
#           library and opens the list itself
#   warm    the same, plus warm start in the daemon (README, "Warm start"):
#           smtp_accept_max_per_host = ${dlfunc{LIB}{mailman_gate_daemon}{CONF}}
#
# and the peak RSS of one receiving process, what loading the library
# costs a new process (benches/dlopen_cost.c), the time of the RCPT and
# DATA calls in a new process with and without warm start
# (benches/exim_calls.c), and the same two calls timed inside a real Exim
# with warm start (timestamps around each ${dlfunc} in the ACLs, against
# the same recipe around a library of entry points that do nothing).
#
#   tools/bench_exim.sh            (as root; needs exim4-daemon-heavy, python3, cc)
#
# Environment: MESSAGES (default 2000) messages per run, CONC (default 8)
# concurrent connections, ROUNDS (default 3) rounds, each running the
# daemons one after the other, CONFIGS (default "nogate gate warm"; also
# "aclonly", see below), PORT (default 25590), KEEP=1 keeps the temporary
# directory, PROFILE (default dist) the cargo profile of the library.
# BASE_LIB=/path/to/libmailman_gate.so (another build, e.g. of the commit
# before a change) adds the configurations "gatebase" and "warmbase" (the
# same recipes with that library) and runs the calls table for both
# libraries alternately, CALL_PAIRS (default 3) times: paired runs of a
# baseline and a change (and adds "base" to the calls inside Exim, which
# run INSIDE_BATCHES (default 10) turns of INSIDE_BATCH (default 30)
# connections per daemon). ROUNDS=0 stops after the calls tables. Only
# 127.0.0.1 is listened on.
#
# CPU per connection: the receiving processes are the daemon's children;
# the kernel adds a child's CPU time to its parent's cutime/cstime
# (/proc/PID/stat) when the parent reaps it, so the difference over a run
# (after every child was reaped) divided by the messages is what each
# connection cost. The daemon's own CPU (utime/stime; with warm start it
# runs the expansion before each fork) is reported beside it and counted in
# the total. Clock ticks are 10 ms: runs of 2000 messages take seconds.
#
# The configurations are the shipped examples/exim/exim.conf with its path
# macros set; "no gate" is the same file with the two
# mailman-gate ACL blocks (between the `>>>`/`<<<` marks) removed. All run
# with queue_only (messages are received and spooled, never delivered) so
# that delivery does not dominate. The gate reads the list from a snapshot
# (snapshot_dir, written by `mailman-gate export`).
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
EXIM=/usr/sbin/exim4
MESSAGES=${MESSAGES:-2000}
CONC=${CONC:-8}
ROUNDS=${ROUNDS:-3}
PORT=${PORT:-25590}
TARGET=${CARGO_TARGET_DIR:-$ROOT/target}
PROFILE=${PROFILE:-dist}
CALL_PAIRS=${CALL_PAIRS:-3}

[ "$(id -u)" = 0 ] || { echo "bench_exim.sh: run as root" >&2; exit 2; }
[ -x "$EXIM" ] || { echo "bench_exim.sh: $EXIM missing" >&2; exit 2; }

# The library as the README installs it (profile dist), the tool as built.
(cd "$ROOT" && cargo build --quiet --profile "$PROFILE" --lib && cargo build --quiet --release --bin mailman-gate)

D=$(mktemp -d /tmp/mailman-gate-eximbench.XXXXXX)
DAEMON_PID=
declare -A INSIDE_PID INSIDE_PORT
cleanup() {
    if [ -n "$DAEMON_PID" ]; then kill "$DAEMON_PID" 2>/dev/null || true; fi
    for c in "${!INSIDE_PID[@]}"; do kill "${INSIDE_PID[$c]}" 2>/dev/null || true; done
    rm -rf "$D"
}
trap cleanup EXIT; [ -n "${KEEP:-}" ] && trap - EXIT

mkdir -p "$D/mailman/lists/biglist" "$D/snapshots" "$D/log" "$D/out"
cp "$TARGET/$PROFILE/libmailman_gate.so" "$D/libmailman_gate.so"
if [ -n "${BASE_LIB:-}" ]; then cp "$BASE_LIB" "$D/libbase.so"; fi
python3 "$ROOT/tools/py2pickle.py" synth --members 100000 \
    -o "$D/mailman/lists/biglist/config.pck" >/dev/null
printf 'lists_dir = %s\n' "$D/mailman/lists" > "$D/gate-pck.conf"
printf 'lists_dir = %s\nsnapshot_dir = %s\n' "$D/mailman/lists" "$D/snapshots" \
    > "$D/gate-snapshot.conf"
"$TARGET/release/mailman-gate" export --config "$D/gate-snapshot.conf" >/dev/null
MEMBER=$("$TARGET/release/mailman-gate" dump --lists "$D/mailman/lists" biglist --members \
    | awk '/^member: / { n++; if (n == 50000) print $2 }')
TO=biglist@lists.example.org
chmod -R a+rX "$D"

# exim_conf GATE_CONF SPOOL: the shipped recipe, paths substituted.
exim_conf() {
    mkdir -p "$2"
    chown Debian-exim:Debian-exim "$2"
    cat <<EOT
primary_hostname = mx.bench.example
spool_directory = $2
log_file_path = $D/log/%slog
tls_advertise_hosts =
deliver_drop_privilege = true
queue_only = true
smtp_accept_max = 200
smtp_accept_max_per_host = 0
smtp_accept_queue_per_connection = 0
host_lookup =
EOT
    sed -e "s|^MAILMAN_GATE_LIB .*|MAILMAN_GATE_LIB = $D/libmailman_gate.so|" \
        -e "s|^MAILMAN_GATE_CONFIG .*|MAILMAN_GATE_CONFIG = $1|" \
        -e "s|^MAILMAN_HOME .*|MAILMAN_HOME = $D/mailman|" \
        -e "s|^MAILMAN_WRAP .*|MAILMAN_WRAP = /bin/true|" \
        -e "s|^MAILMAN_USER .*|MAILMAN_USER = Debian-exim|" \
        -e "s|^MAILMAN_GROUP .*|MAILMAN_GROUP = Debian-exim|" \
        "$ROOT/examples/exim/exim.conf"
}
exim_conf "$D/gate-snapshot.conf" "$D/spool-gate" > "$D/exim-gate.conf"
# Warm start: the option (0, no limit, above) becomes the daemon call,
# whose empty result also means no limit.
exim_conf "$D/gate-snapshot.conf" "$D/spool-warm" \
    | sed "s|^smtp_accept_max_per_host = 0\$|smtp_accept_max_per_host = \${dlfunc{$D/libmailman_gate.so}{mailman_gate_daemon}{$D/gate-snapshot.conf}}|" \
    > "$D/exim-warm.conf"
grep -q '^smtp_accept_max_per_host = ${dlfunc' "$D/exim-warm.conf" \
    || { echo "bench_exim.sh: warm start line not set" >&2; exit 1; }
# "aclonly" (CONFIGS=...aclonly...): the gate's ACLs with each library
# call replaced by the token it gives here, to tell Exim's share of the
# cost (the ACL statements and expansions) from the library's.
perl -0pe 's/\$\{dlfunc\{[^}]*\}\{mailman_gate_rcpt\}.*?\{\$acl_m_mailman_gate\}\}/list biglist post lists.example.org/s;
           s/\$\{dlfunc\{[^}]*\}\{mailman_gate_data\}.*?\{\$spool_directory\}\}/accept/s' \
    "$D/exim-gate.conf" | sed "s|spool-gate|spool-aclonly|" > "$D/exim-aclonly.conf"
mkdir -p "$D/spool-aclonly" && chown Debian-exim:Debian-exim "$D/spool-aclonly"
if grep -q 'dlfunc{' "$D/exim-aclonly.conf"; then
    echo "bench_exim.sh: aclonly still calls the library" >&2; exit 1
fi
exim_conf "$D/gate-pck.conf" "$D/spool-pck" > "$D/exim-gate-pck.conf"
if [ -n "${BASE_LIB:-}" ]; then
    for c in gate warm; do
        sed -e "s|$D/libmailman_gate.so|$D/libbase.so|g" -e "s|spool-$c|spool-${c}base|" \
            "$D/exim-$c.conf" > "$D/exim-${c}base.conf"
        mkdir -p "$D/spool-${c}base" && chown Debian-exim:Debian-exim "$D/spool-${c}base"
    done
fi
exim_conf "$D/gate-snapshot.conf" "$D/spool-nogate" \
    | sed -e '/^  # >>> mailman-gate /,/^  # <<< mailman-gate /d' \
    > "$D/exim-nogate.conf"
if grep -q 'mailman_gate_rcpt' "$D/exim-nogate.conf" \
   || [ "$(grep -c '^  # >>> mailman-gate ' "$D/exim-gate.conf")" != 2 ]; then
    echo "bench_exim.sh: the recipe's ACL blocks were not found" >&2; exit 1
fi
chown Debian-exim:Debian-exim "$D/log"
for c in gate warm aclonly gate-pck nogate; do "$EXIM" -C "$D/exim-$c.conf" -bV >/dev/null; done

# One -bh session as root: the answer to a member's post.
session() {
    printf 'EHLO load.example\r\nMAIL FROM:<%s>\r\nRCPT TO:<%s>\r\nDATA\r\n' "$MEMBER" "$TO"
    # The realistic post (benches/post.eml), CRLF line ends.
    sed -e "s|{{SENDER}}|$MEMBER|g; s|{{LIST}}|$TO|g; s|{{N}}|1|g" -e 's/$/\r/' \
        "$ROOT/benches/post.eml"
    printf '.\r\nQUIT\r\n'
}
echo "machine: $(nproc) cores, $(lscpu | sed -n 's/^Model name: *//p' | head -1) ($(lscpu | sed -n 's/^Hypervisor vendor: *//p' | head -1) guest), $("$EXIM" -bV | head -1)"
echo "load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "list: 100000 members; $MESSAGES messages per run over $CONC connections; $ROUNDS rounds"
echo
echo "peak RSS of one exim -bh session (member post), Maximum resident set size:"
for c in nogate gate gate-pck; do
    # Once untimed (page cache), then measured.
    session | "$EXIM" -C "$D/exim-$c.conf" -bh 127.0.0.1 >/dev/null 2>&1
    out=$(session | /usr/bin/time -v "$EXIM" -C "$D/exim-$c.conf" -bh 127.0.0.1 2>&1 >"$D/bh.out")
    grep -q '^250 OK id=' "$D/bh.out" || { echo "bench_exim.sh: $c: no 250 after DATA" >&2; cat "$D/bh.out" >&2; exit 1; }
    rss=$(printf '%s\n' "$out" | awk -F': ' '/Maximum resident set size/ {print $2}')
    wall=$(printf '%s\n' "$out" | awk -F': ' '/Elapsed \(wall clock\)/ {print $2}')
    case $c in
        nogate) what="no gate";;
        gate) what="gate, snapshot";;
        gate-pck) what="gate, config.pck";;
    esac
    printf '  %-18s %8s KiB   (wall %s)\n' "$what" "$rss" "$wall"
done
echo

start_daemon() {
    rm -f "$D/exim.pid"
    # An interface list in -oX: listen on 127.0.0.1 only.
    "$EXIM" -C "$D/exim-$1.conf" -bd -oX "127.0.0.1.$PORT" -oP "$D/exim.pid"
    for _ in $(seq 100); do [ -s "$D/exim.pid" ] && break; sleep 0.1; done
    DAEMON_PID=$(cat "$D/exim.pid")
    for _ in $(seq 100); do
        (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null && break
        sleep 0.1
    done
}
stop_daemon() {
    kill "$DAEMON_PID"
    for _ in $(seq 100); do kill -0 "$DAEMON_PID" 2>/dev/null || break; sleep 0.1; done
    DAEMON_PID=
}

# CPU seconds (user+system) of PID itself and of its reaped children.
cpu_of() {
    local tck; tck=$(getconf CLK_TCK)
    # Fields after "pid (comm) ": utime is the 12th, stime 13th, cutime
    # 14th, cstime 15th.
    sed 's/^.*) //' "/proc/$1/stat" | awk -v t="$tck" '{printf "%.3f %.3f\n", ($12+$13)/t, ($14+$15)/t}'
}

echo "what loading the library costs a new process (fork, dlopen, dlsym; benches/dlopen_cost.c):"
cc -O2 -o "$D/dlopen_cost" "$ROOT/benches/dlopen_cost.c" -ldl
"$D/dlopen_cost" 400 "$D/libmailman_gate.so" | sed "s|$D/||; s/^/  /"
echo
echo "the RCPT and DATA calls in a new connection's process, member post, without and"
echo "with warm start (benches/exim_calls.c stands in for Exim's daemon):"
cc -O2 -rdynamic -o "$D/exim_calls" "$ROOT/benches/exim_calls.c" -ldl
mkdir -p "$D/calls-spool"
# The floor: the same harness around entry points that do nothing.
cc -O2 -shared -fPIC -o "$D/libnoop.so" "$ROOT/benches/exim_calls_noop.c"
echo "  floor (benches/exim_calls_noop.c, entry points that do nothing):"
"$D/exim_calls" 200 "$D/libnoop.so" "$D/gate-snapshot.conf" biglist lists.example.org \
    "$MEMBER" "$D/calls-spool" "$ROOT/benches/post.eml" | sed 's/^/    /'
if [ -n "${BASE_LIB:-}" ]; then
    for k in $(seq "$CALL_PAIRS"); do
        for lib in base mailman_gate; do
            echo "  pair $k, lib$lib.so:"
            "$D/exim_calls" 200 "$D/lib$lib.so" "$D/gate-snapshot.conf" biglist lists.example.org \
                "$MEMBER" "$D/calls-spool" "$ROOT/benches/post.eml" | sed 's/^/    /'
        done
    done
else
    "$D/exim_calls" 400 "$D/libmailman_gate.so" "$D/gate-snapshot.conf" biglist lists.example.org \
        "$MEMBER" "$D/calls-spool" "$ROOT/benches/post.eml" | sed 's/^/  /'
fi
echo

# The same two calls inside a real Exim: warm daemons whose ACLs take
# $tod_epoch_l (gettimeofday, µs) just before each ${dlfunc} expansion
# and log the difference right after it ("gate-timing-CONF rcpt|data N").
# The floor is the same recipe around benches/exim_calls_noop.c; the
# daemons run side by side and get their connections in turns (batches of
# INSIDE_BATCH, INSIDE_BATCHES times, one at a time), so that the
# machine's drift falls on all of them alike.
timed_acls() {
    perl -0pe 's/(\n\s+)set acl_m_mailman_gate_r = /$1set acl_m_gate_t0 = \$tod_epoch_l$1set acl_m_mailman_gate_r = /;
               s/(\n\s+)set acl_m_mailman_gate_v = /$1set acl_m_gate_t0 = \$tod_epoch_l$1set acl_m_mailman_gate_v = /;
               s/\n(  warn   condition = \$\{if eq\{\$acl_m_mailman_gate_r\}\{missing\}\})/\n  warn   logwrite = gate-timing-TAG rcpt \${eval:\$tod_epoch_l-\$acl_m_gate_t0}\n$1/;
               s/\n(  deny   condition = \$\{if match\{\$acl_m_mailman_gate_v\})/\n  warn   logwrite = gate-timing-TAG data \${eval:\$tod_epoch_l-\$acl_m_gate_t0}\n$1/' \
        "$D/exim-warm.conf" | sed -e "s|gate-timing-TAG|gate-timing-$1|" -e "s|spool-warm|spool-in$1|" \
        -e "s|$D/libmailman_gate.so|$2|g"
}
INSIDE=(noop gate)
[ -n "${BASE_LIB:-}" ] && INSIDE=(noop base gate)
declare -A INSIDE_LIB=([noop]="$D/libnoop.so" [base]="$D/libbase.so" [gate]="$D/libmailman_gate.so")
inport=$((PORT + 1))
for c in "${INSIDE[@]}"; do
    timed_acls "$c" "${INSIDE_LIB[$c]}" > "$D/exim-in$c.conf"
    [ "$(grep -c "gate-timing-$c \(rcpt\|data\)" "$D/exim-in$c.conf")" = 2 ] \
        || { echo "bench_exim.sh: the timing lines were not placed in the recipe" >&2; exit 1; }
    mkdir -p "$D/spool-in$c" && chown Debian-exim:Debian-exim "$D/spool-in$c"
    rm -f "$D/in$c.pid"
    "$EXIM" -C "$D/exim-in$c.conf" -bd -oX "127.0.0.1.$inport" -oP "$D/in$c.pid"
    INSIDE_PORT[$c]=$inport; inport=$((inport + 1))
done
for c in "${INSIDE[@]}"; do
    for _ in $(seq 100); do [ -s "$D/in$c.pid" ] && break; sleep 0.1; done
    INSIDE_PID[$c]=$(cat "$D/in$c.pid")
    python3 "$ROOT/benches/exim_load.py" "${INSIDE_PORT[$c]}" 20 1 "$MEMBER" "$TO" >/dev/null
done
log0=$(wc -l < "$D/log/mainlog")
for _ in $(seq "${INSIDE_BATCHES:-10}"); do
    for c in "${INSIDE[@]}"; do
        python3 "$ROOT/benches/exim_load.py" "${INSIDE_PORT[$c]}" "${INSIDE_BATCH:-30}" 1 "$MEMBER" "$TO" >/dev/null
    done
done
sleep 0.5
for c in "${INSIDE[@]}"; do kill "${INSIDE_PID[$c]}"; done
tail -n +$((log0 + 1)) "$D/log/mainlog" > "$D/inside.log"
# median of the numbers on stdin
median() { sort -n | awk '{a[NR]=$1} END {if (NR) print a[int((NR+1)/2)]; else print "none"}'; }
spread() { sort -n | awk '{a[NR]=$1} END {if (NR) printf "n %d, min %d, median %d, p90 %d", NR, a[1], a[int((NR+1)/2)], a[int(NR*0.9)]}'; }
echo "the same calls inside a real Exim, warm start (µs between \$tod_epoch_l before and after"
echo "each \${dlfunc}; ${INSIDE_BATCHES:-10} turns of ${INSIDE_BATCH:-30} connections per daemon):"
for k in rcpt data; do
    floor=$(grep -o "gate-timing-noop $k -\?[0-9]*" "$D/inside.log" | awk '{print $3}' | median)
    for c in "${INSIDE[@]}"; do
        v=$(grep -o "gate-timing-$c $k -\?[0-9]*" "$D/inside.log" | awk '{print $3}')
        [ -n "$v" ] || { echo "bench_exim.sh: no $k timings from $c" >&2; exit 1; }
        m=$(printf '%s\n' "$v" | median)
        printf '  %-4s %-5s %s; median above the floor %d\n' "$k" "$c" "$(printf '%s\n' "$v" | spread)" $((m - floor))
    done
done
echo

declare -A RATES CHILD DAEMON TOTAL
CONFIGS=${CONFIGS:-nogate gate warm}
for r in $(seq "$ROUNDS"); do
    for c in $CONFIGS; do
        start_daemon "$c"
        # A few warm-up connections (and, for warm, the daemon's first pass).
        python3 "$ROOT/benches/exim_load.py" "$PORT" 20 4 "$MEMBER" "$TO" >/dev/null
        sleep 0.3
        read -r d0 c0 < <(cpu_of "$DAEMON_PID")
        line=$(timeout 600 python3 "$ROOT/benches/exim_load.py" "$PORT" "$MESSAGES" "$CONC" "$MEMBER" "$TO")
        # Let the daemon reap the last children.
        sleep 0.5
        read -r d1 c1 < <(cpu_of "$DAEMON_PID")
        stop_daemon
        rm -rf "$D/spool-$c/input" "$D/spool-$c/msglog"
        child=$(awk -v a="$c0" -v b="$c1" -v n="$MESSAGES" 'BEGIN {printf "%.3f", (b - a) / n * 1000}')
        daemon=$(awk -v a="$d0" -v b="$d1" -v n="$MESSAGES" 'BEGIN {printf "%.3f", (b - a) / n * 1000}')
        total=$(awk -v a="$child" -v b="$daemon" 'BEGIN {printf "%.3f", a + b}')
        rate=$(printf '%s\n' "$line" | sed 's/.*msgs_per_s=//')
        echo "round $r $c: $line cpu_ms_per_conn: children=$child daemon=$daemon total=$total"
        RATES[$c]="${RATES[$c]:-} $rate"
        CHILD[$c]="${CHILD[$c]:-} $child"
        DAEMON[$c]="${DAEMON[$c]:-} $daemon"
        TOTAL[$c]="${TOTAL[$c]:-} $total"
        eval "R_${c}_$r=$rate T_${c}_$r=$total"
    done
done
echo
# ROUNDS=0: the tables above only.
[ "$ROUNDS" -gt 0 ] || exit 0
summary() { printf '%s\n' $1 | sort -n | awk '{a[NR]=$1} END {printf "min %.3f  median %.3f  max %.3f", a[1], a[int((NR+1)/2)], a[NR]}'; }
for c in $CONFIGS; do
    echo "$c: messages/s $(summary "${RATES[$c]}")"
    echo "$c: CPU ms per connection, receiving processes $(summary "${CHILD[$c]}")"
    echo "$c: CPU ms per connection, daemon             $(summary "${DAEMON[$c]}")"
    echo "$c: CPU ms per connection, total              $(summary "${TOTAL[$c]}")"
done
echo
# Paired ratios: each round's gate and warm runs against that round's
# no-gate run; min / median / max over the rounds.
for c in $CONFIGS; do
    [ "$c" = nogate ] && continue
    rr=""; tr=""
    for r in $(seq "$ROUNDS"); do
        eval "rn=\$R_nogate_$r rc=\$R_${c}_$r tn=\$T_nogate_$r tc=\$T_${c}_$r"
        rr="$rr $(awk -v a="$rc" -v b="$rn" 'BEGIN {printf "%.3f", a / b}')"
        tr="$tr $(awk -v a="$tc" -v b="$tn" 'BEGIN {printf "%.3f", a / b}')"
    done
    echo "$c / nogate, paired: messages/s $(summary "$rr"); CPU per connection $(summary "$tr")"
done
echo "load average at end: $(cut -d' ' -f1-3 /proc/loadavg)"
