#!/bin/bash
# A real Postfix on loopback with and without mailman-gate-milter, paired
# in one run (msg/s, CPU per message of smtpd and of the milter), and the
# milter's own verdict latency (p50/p99) and RSS with 100 lists, one of
# them with 100,000 members.
#
#   tools/bench_postfix.sh         (as root; needs python3 and apt-get, or
#                                   POSTFIX_ROOT: an unpacked postfix .deb)
#
# Environment: MESSAGES (default 2000) per run, CONC (default 8) concurrent
# connections, ROUNDS (default 3) alternating rounds, PORT (default 25350;
# PORT+1 is used too), VERDICTS (default 20000) milter round trips for the
# latency, MILTER_ARGS more milter arguments (e.g. `--threads 1`), KEEP=1
# keeps the temporary directory. Only 127.0.0.1 is used.
#
# Postfix is Debian's package unpacked (never installed: it conflicts with
# exim4), one instance with two smtpd listeners: PORT without milter,
# PORT+1 with `smtpd_milters` on the milter's UNIX socket. Both place every
# message on hold (`check_client_access static:HOLD`): received and queued,
# never delivered, as the Exim bench's queue_only. The milter reads
# snapshots written by `mailman-gate export`. The latency part runs the
# milter and its client at nice -15 (other work on the machine then does
# not sit in the percentiles). CPU: utime+stime of the
# instance's smtpd processes (max_use is raised so none exits during a
# run) and of the milter, from /proc, per message.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
MESSAGES=${MESSAGES:-2000}
CONC=${CONC:-8}
ROUNDS=${ROUNDS:-3}
PORT=${PORT:-25350}
VERDICTS=${VERDICTS:-20000}
TARGET=${CARGO_TARGET_DIR:-$ROOT/target}
PFROOT=${POSTFIX_ROOT:-$TARGET/postfix-root}

[ "$(id -u)" = 0 ] || { echo "bench_postfix.sh: run as root" >&2; exit 2; }

(cd "$ROOT" && cargo build --quiet --release --features milter --bin mailman-gate-milter \
    && cargo build --quiet --release --bin mailman-gate)

if [ ! -x "$PFROOT/usr/sbin/postfix" ]; then
    tmp=$(mktemp -d)
    (cd "$tmp" && apt-get download -qq postfix)
    dpkg-deb -x "$tmp"/postfix_*.deb "$PFROOT"
    rm -rf "$tmp"
fi
getent group postdrop >/dev/null || groupadd --system postdrop
getent passwd postfix >/dev/null || useradd --system --no-create-home \
    --home-dir /nonexistent --shell /usr/sbin/nologin postfix

D=$(mktemp -d /tmp/mailman-gate-pfbench.XXXXXX)
chmod 755 "$D"
MILTER_PID=
export LD_LIBRARY_PATH=$PFROOT/usr/lib/postfix
PF() { "$PFROOT/usr/sbin/postfix" -c "$D/conf" "$@"; }
cleanup() {
    PF stop >/dev/null 2>&1 || true
    if [ -n "$MILTER_PID" ]; then kill "$MILTER_PID" 2>/dev/null || true; fi
    rm -rf "$D"
}
trap cleanup EXIT; [ -n "${KEEP:-}" ] && trap 'PF stop >/dev/null 2>&1 || true; [ -n "$MILTER_PID" ] && kill "$MILTER_PID"' EXIT

# 100 lists: the big one and 99 copies of the `test` fixture.
mkdir -p "$D/lists/biglist" "$D/snapshots" "$D/conf" "$D/queue" "$D/data" "$D/log"
python3 "$ROOT/tools/py2pickle.py" synth --members 100000 -o "$D/lists/biglist/config.pck" >/dev/null
for i in $(seq -w 1 99); do
    mkdir -p "$D/lists/list$i"
    cp "$ROOT/tests/fixtures/lists/test/config.pck" "$D/lists/list$i/config.pck"
done
printf 'lists_dir = %s\nsnapshot_dir = %s\n' "$D/lists" "$D/snapshots" > "$D/gate.conf"
"$TARGET/release/mailman-gate" export --config "$D/gate.conf" >/dev/null
MEMBER=$("$TARGET/release/mailman-gate" dump --lists "$D/lists" biglist --members \
    | awk '/^member: / { n++; if (n == 50000) print $2 }')
TO=biglist@lists.example.org

"$TARGET/release/mailman-gate-milter" --config "$D/gate.conf" --socket "unix:$D/milter.sock" \
    --socket-mode 0666 --mailman-domain lists.example.org,example.com ${MILTER_ARGS:-} 2>"$D/milter.log" &
MILTER_PID=$!
for _ in $(seq 100); do [ -S "$D/milter.sock" ] && break; sleep 0.05; done

chown postfix "$D/data"
cat > "$D/conf/main.cf" <<EOF
compatibility_level = 3.6
queue_directory = $D/queue
data_directory = $D/data
meta_directory = $PFROOT/etc/postfix
command_directory = $PFROOT/usr/sbin
daemon_directory = $PFROOT/usr/lib/postfix/sbin
shlib_directory = $PFROOT/usr/lib/postfix
sendmail_path = $PFROOT/usr/sbin/sendmail
newaliases_path = $PFROOT/usr/bin/newaliases
mailq_path = $PFROOT/usr/bin/mailq
manpage_directory = $PFROOT/usr/share/man
html_directory = no
readme_directory = no
import_environment = MAIL_CONFIG MAIL_DEBUG MAIL_LOGTAG TZ LANG=C LD_LIBRARY_PATH
export_environment = TZ MAIL_CONFIG LANG LD_LIBRARY_PATH
maillog_file_prefixes = $D/log
maillog_file = $D/log/maillog
myhostname = mx.bench.example
mydestination =
inet_interfaces = loopback-only
inet_protocols = ipv4
mynetworks = 127.0.0.0/8
alias_maps =
alias_database =
smtpd_client_connection_count_limit = 0
smtpd_client_connection_rate_limit = 0
default_process_limit = 100
max_use = 1000000
smtpd_peername_lookup = no
smtpd_end_of_data_restrictions = check_client_access static:HOLD
milter_default_action = accept
milter_protocol = 6
EOF
cat > "$D/conf/master.cf" <<EOF
127.0.0.1:$PORT inet n - n - - smtpd
127.0.0.1:$((PORT + 1)) inet n - n - - smtpd
  -o smtpd_milters=unix:$D/milter.sock
cleanup   unix  n - n - 0 cleanup
qmgr      unix  n - n 300 1 qmgr
rewrite   unix  - - n - - trivial-rewrite
bounce    unix  - - n - 0 bounce
defer     unix  - - n - 0 bounce
trace     unix  - - n - 0 bounce
verify    unix  - - n - 1 verify
flush     unix  n - n 1000? 0 flush
proxymap  unix  - - n - - proxymap
showq     unix  n - n - - showq
error     unix  - - n - - error
retry     unix  - - n - - error
discard   unix  - - n - - discard
anvil     unix  - - n - 1 anvil
scache    unix  - - n - 1 scache
postlog   unix-dgram n - n - 1 postlogd
EOF
PF start 2>/dev/null
for p in "$PORT" "$((PORT + 1))"; do
    for _ in $(seq 100); do (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null && break; sleep 0.1; done
done
MASTER=$(head -1 "$D/queue/pid/master.pid" | tr -d ' ')

# CPU ticks (utime+stime) of the instance's smtpd processes / of the milter.
ticks() { awk '{ s += $14 + $15 } END { print s + 0 }' "$@" 2>/dev/null || echo 0; }
smtpd_ticks() {
    local f=()
    for p in $(pgrep -P "$MASTER" -x smtpd); do f+=("/proc/$p/stat"); done
    [ ${#f[@]} = 0 ] && { echo 0; return; }
    ticks "${f[@]}"
}
HZ=$(getconf CLK_TCK)

echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), Postfix $(PF -h 2>/dev/null | head -0; "$PFROOT/usr/sbin/postconf" -c "$D/conf" -h mail_version)"
echo "lists: 100 (biglist: 100000 members); $MESSAGES messages per run over $CONC connections; $ROUNDS rounds"

# Warm up both listeners (spawns the smtpd processes, maps the snapshot).
for p in "$PORT" "$((PORT + 1))"; do
    python3 "$ROOT/benches/exim_load.py" "$p" 40 "$CONC" "$MEMBER" "$TO" >/dev/null
done

declare -A RATES SCPU MCPU
for r in $(seq "$ROUNDS"); do
    for c in nomilter milter; do
        p=$PORT; [ $c = milter ] && p=$((PORT + 1))
        # smtpd processes spawned during the run are counted from 0.
        s0=$(smtpd_ticks); m0=$(ticks "/proc/$MILTER_PID/stat")
        line=$(timeout 600 python3 "$ROOT/benches/exim_load.py" "$p" "$MESSAGES" "$CONC" "$MEMBER" "$TO")
        s1=$(smtpd_ticks); m1=$(ticks "/proc/$MILTER_PID/stat")
        rate=$(printf '%s\n' "$line" | sed 's/.*msgs_per_s=//')
        scpu=$(awk -v a="$s0" -v b="$s1" -v n="$MESSAGES" -v hz="$HZ" 'BEGIN { printf "%.3f", (b - a) / hz / n * 1000 }')
        mcpu=$(awk -v a="$m0" -v b="$m1" -v n="$MESSAGES" -v hz="$HZ" 'BEGIN { printf "%.3f", (b - a) / hz / n * 1000 }')
        echo "round $r $c: $line smtpd_cpu_ms_per_msg=$scpu milter_cpu_ms_per_msg=$mcpu"
        RATES[$c]="${RATES[$c]:-} $rate"; SCPU[$c]="${SCPU[$c]:-} $scpu"; MCPU[$c]="${MCPU[$c]:-} $mcpu"
        PF flush >/dev/null 2>&1 || true
        "$PFROOT/usr/sbin/postsuper" -c "$D/conf" -d ALL hold >/dev/null 2>&1 || true
    done
done
echo
summary() { printf '%s\n' $1 | sort -n | awk '{a[NR]=$1} END {printf "min %.1f  median %.1f  max %.1f", a[1], a[int((NR+1)/2)], a[NR]}'; }
med() { printf '%s\n' $1 | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
echo "messages/s without milter: $(summary "${RATES[nomilter]}")"
echo "messages/s with milter:    $(summary "${RATES[milter]}")"
awk -v g="$(med "${RATES[milter]}")" -v n="$(med "${RATES[nomilter]}")" \
    'BEGIN { printf "difference (median): %+.1f%%\n", (g - n) / n * 100 }'
echo "CPU ms per message, median: smtpd without milter $(med "${SCPU[nomilter]}"), with milter $(med "${SCPU[milter]}"); milter $(med "${MCPU[milter]}")"
echo

# The milter alone: a milter-protocol client on the UNIX socket, one
# message per transaction, timing RCPT and end-of-message round trips.
cat > "$D/client.py" <<'PY'
import socket, struct, sys, time
path, n, member = sys.argv[1], int(sys.argv[2]), sys.argv[3].encode()
# The realistic post (benches/post.eml): its fields (a folded value keeps
# its line breaks) and its body with CRLF line ends.
template = open(sys.argv[4], 'rb').read()
def message(sender, rcpt, i):
    t = (template.replace(b'{{SENDER}}', sender).replace(b'{{LIST}}', rcpt)
         .replace(b'{{N}}', b'%d' % i))
    head, body = t.split(b'\n\n', 1)
    fields = []
    for line in head.split(b'\n'):
        if line[:1] in (b' ', b'\t'):
            fields[-1][1] += b'\n' + line
        else:
            k, v = line.split(b':', 1)
            fields.append([k, v])
    return fields, body.replace(b'\n', b'\r\n')
s = socket.socket(socket.AF_UNIX); s.connect(path)
f = s.makefile('rb')
def send(cmd, data=b''):
    s.sendall(struct.pack('>I', len(data) + 1) + cmd + data)
def recv():
    ln = struct.unpack('>I', f.read(4))[0]
    b = f.read(ln)
    return b[:1], b[1:]
# Protocol 6, no actions, all protocol options the milter may ask for.
send(b'O', struct.pack('>III', 6, 0, 0x1fffff))
c, d = recv()
assert c == b'O'
opts = struct.unpack('>III', d[:12])[2]
nr_mail, nr_hdr, nr_body = opts & 0x4000, opts & 0x80, opts & 0x80000
rcpt_t, eom_t, data_t, codes = [], [], [], {}
lists = [b'biglist'] + [b'list%02d' % i for i in range(1, 100)]
for i in range(n):
    lst = lists[i % 100]
    sender = member if lst == b'biglist' else b'alice@example.com'
    send(b'M', b'<' + sender + b'>\0')
    if not nr_mail: recv()
    t = time.perf_counter()
    send(b'R', b'<' + lst + b'@lists.example.org>\0'); c, _ = recv()
    rcpt_t.append(time.perf_counter() - t)
    t = time.perf_counter()
    send(b'T'); recv()
    data_t.append(time.perf_counter() - t)
    fields, body = message(sender, lst + b'@lists.example.org', i)
    for k, v in fields:
        send(b'L', k + b'\0' + v + b'\0')
        if not nr_hdr: recv()
    send(b'B', body)
    if not nr_body: recv()
    t = time.perf_counter()
    send(b'E'); c, _ = recv()
    eom_t.append(time.perf_counter() - t)
    codes[c] = codes.get(c, 0) + 1
def pct(v, p):
    v = sorted(v); return v[min(len(v) - 1, int(len(v) * p))] * 1e6
print('round trips: %d; replies at end of message: %s' % (n, {k.decode(): v for k, v in codes.items()}))
for name, v, what in (('RCPT', rcpt_t, 'route'), ('EOM', eom_t, 'verdict'),
                      ('DATA', data_t, 'no work: the round trip alone')):
    print('%-4s  p50 %4.0f us  p90 %4.0f us  p99 %5.0f us  (%s)'
          % (name, pct(v, .5), pct(v, .9), pct(v, .99), what))
PY
# The milter's own latency, not the machine's load: the milter's threads
# and the client run at nice -15 for this part (root may).
for t in /proc/"$MILTER_PID"/task/*; do renice -n -15 -p "${t##*/}" >/dev/null; done
echo "load average before the latency run: $(cut -d' ' -f1-3 /proc/loadavg)"
nice -n -15 python3 "$D/client.py" "$D/milter.sock" "$VERDICTS" "$MEMBER" "$ROOT/benches/post.eml"
grep -E '^(VmHWM|VmRSS)' "/proc/$MILTER_PID/status" | tr -s ' \t' ' ' | sed 's/^/milter /'
