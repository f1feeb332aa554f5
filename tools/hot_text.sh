#!/bin/bash
# The functions a warm connection's RCPT and DATA calls run (a member's
# post to a list read from its snapshot, benches/post.eml) that lie
# outside the library's hot sections: each such function's 64 KiB window
# is one more page fault in every connection forked from a warm daemon.
# Mark the crate's own with the `.text.hot.mailman_gate[_verdict]` link
# section; name the others (closures, generic and std code) in build.rs.
#
#   tools/hot_text.sh        (needs valgrind, python3, cc)
#
# Prints one line per function outside: its address, size and symbol,
# then how many ran inside and outside.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
TARGET=${CARGO_TARGET_DIR:-$ROOT/target}
(cd "$ROOT" && cargo build --quiet --profile dist --lib && cargo build --quiet --release --bin mailman-gate)
LIB=$TARGET/dist/libmailman_gate.so
D=$(mktemp -d /tmp/mailman-gate-hot-text.XXXXXX)
trap 'rm -rf "$D"' EXIT

mkdir -p "$D/lists/biglist" "$D/snapshots" "$D/spool"
python3 "$ROOT/tools/py2pickle.py" synth --members 1000 -o "$D/lists/biglist/config.pck" >/dev/null
printf 'lists_dir = %s\nsnapshot_dir = %s\n' "$D/lists" "$D/snapshots" >"$D/gate.conf"
"$TARGET/release/mailman-gate" export --config "$D/gate.conf" >/dev/null
MEMBER=$("$TARGET/release/mailman-gate" dump --lists "$D/lists" biglist --members |
    awk '/^member: / { n++; if (n == 500) print $2 }')
cc -O2 -rdynamic -o "$D/exim_calls" "$ROOT/benches/exim_calls.c" -ldl

# One warm connection, counted inside the two entry points only.
EXIM_CALLS_WARM_ONLY=1 valgrind --tool=callgrind --demangle=no --trace-children=yes \
    --callgrind-out-file="$D/cg.%p" \
    --toggle-collect=mailman_gate_rcpt --toggle-collect=mailman_gate_data \
    "$D/exim_calls" 1 "$LIB" "$D/gate.conf" biglist lists.example.org "$MEMBER" \
    "$D/spool" "$ROOT/benches/post.eml" >"$D/calls.out" 2>"$D/valgrind.err" ||
    { cat "$D/valgrind.err" >&2; exit 1; }
grep -q "tokens: list biglist post .* / accept" "$D/calls.out" ||
    { echo "hot_text.sh: the calls did not give list/accept:" >&2; cat "$D/calls.out" >&2; exit 1; }
# The child's profile is the largest file.
CG=$(ls -S "$D"/cg.* | head -1)
callgrind_annotate --inclusive=no --threshold=100 "$CG" >"$D/annotate.txt"
nm -S "$LIB" >"$D/nm.txt"
readelf -SW "$LIB" >"$D/sections.txt"

python3 - "$D" <<'EOF'
import re, sys
d = sys.argv[1]
hot = []
for line in open(f"{d}/sections.txt"):
    m = re.search(r"\]\s+(\.text\.hot\S*)\s+\S+\s+([0-9a-f]+)\s+[0-9a-f]+\s+([0-9a-f]+)", line)
    if m:
        lo = int(m.group(2), 16)
        hot.append((lo, lo + int(m.group(3), 16)))
syms = {}
for line in open(f"{d}/nm.txt"):
    p = line.split(None, 3)
    if len(p) == 4 and p[2] in "tT":
        syms.setdefault(p[3].strip(), []).append((int(p[0], 16), int(p[1], 16)))
ran = set()
for line in open(f"{d}/annotate.txt"):
    m = re.match(r"\s*[\d,]+ \([^)]*\)\s+\S*?:(.*?) \[", line)
    if m:
        ran.add(m.group(1))
inside = outside = 0
for name in sorted(ran):
    for addr, size in syms.get(name, []):
        if any(lo <= addr < hi for lo, hi in hot):
            inside += 1
        else:
            outside += 1
            print(f"{addr:#x} {size:6d} {name}")
print(f"ran inside the hot sections: {inside}; outside: {outside}")
EOF
