#!/usr/bin/env bash
# bounds_states.sh [SIZE_MIB] [RUNS] [largest]: time and peak memory of
# reading each list state of `tools/hostile_corpus.py states` (config.pck
# files of about SIZE_MIB, default 64, MiB): one `mailman-gate check` (a
# post from a stranger) and one `mailman-gate export` (the snapshot) per
# state, RUNS (default 3) runs each; prints the README "Reliability" table
# (worst run). With `largest`, each state is taken at the largest size
# between 1 MiB and SIZE_MIB that the reader accepts (bisected to 64 KiB:
# `check` not exiting 3), the slowest a list of that kind can make a
# verdict.
set -euo pipefail
cd "$(dirname "$0")/.."
size_mib=${1:-64}
runs=${2:-3}
mode=${3:-}
cargo build --release --quiet --bin mailman-gate
bin=$PWD/target/release/mailman-gate
work=$(mktemp -d /tmp/mailman-gate-states.XXXXXX)
trap 'rm -rf "$work"' EXIT
printf 'From: out@elsewhere.example\nTo: x@example.com\nSubject: hi\n\nhello\n' >"$work/post.eml"
# worst of $runs runs: "wall cpu rss_kib exit first-line-of-output"
measure() {
    local worst_wall=0 worst_cpu=0 worst_rss=0 out rc line
    for _ in $(seq "$runs"); do
        rc=0
        out=$(/usr/bin/time -f "TIME %e %U %S %M" "$@" 2>&1) || rc=$?
        read -r _ wall user sys rss < <(grep '^TIME' <<<"$out")
        line=$(grep -v '^TIME' <<<"$out" | head -1)
        cpu=$(echo "$user + $sys" | bc)
        worst_wall=$(echo "if ($wall > $worst_wall) $wall else $worst_wall" | bc)
        worst_cpu=$(echo "if ($cpu > $worst_cpu) $cpu else $worst_cpu" | bc)
        [ "$rss" -gt "$worst_rss" ] && worst_rss=$rss
    done
    printf '%s\t%s\t%s\t%s\t%s\n' "$worst_wall" "$worst_cpu" "$worst_rss" "$rc" "$line"
}
# states NAME BYTES DIR: write state NAME (all when NAME is empty) of
# about BYTES into DIR.
states() {
    rm -rf "$3"
    python3 tools/hostile_corpus.py states --size "$2" --out "$3" \
        ${1:+--only "$1"} >/dev/null
}
# accepted NAME BYTES: whether `check` reads state NAME at BYTES.
accepted() {
    states "$1" "$2" "$work/probe"
    local rc=0
    "$bin" check --lists "$work/probe" --list "$1" --sender out@elsewhere.example \
        --message "$work/post.eml" --json >/dev/null 2>&1 || rc=$?
    [ "$rc" != 3 ]
}
# row NAME LISTS_DIR BYTES: one line of the table.
row() {
    local name=$1 lists=$2 bytes=$3
    IFS=$'\t' read -r _ ccpu crss crc cline < <(measure "$bin" check --lists "$lists" \
        --list "$name" --sender out@elsewhere.example --message "$work/post.eml" --json)
    rm -rf "$work/snap" && mkdir "$work/snap"
    IFS=$'\t' read -r _ ecpu erss _ _ < <(measure "$bin" export --lists "$lists" \
        --snapshots "$work/snap" --list "$name")
    if [ "$crc" = 0 ]; then
        answer=$(python3 -c '
import json, sys
v = json.loads(sys.argv[1])
code = "550" if v["action"] == "reject" else "250"
print("%s (%s)" % (code, v.get("undecided") or v["action"]))' "$cline")
    else
        answer="250 (list unreadable: $(sed -E 's/.*: //' <<<"$cline"))"
    fi
    printf "| %s | %.1f MiB | %s s / %.0f MiB | %s s / %.0f MiB | %s |\n" "$name" \
        "$(echo "$bytes / 1048576" | bc -l)" "$ccpu" "$(echo "$crss / 1024" | bc -l)" \
        "$ecpu" "$(echo "$erss / 1024" | bc -l)" "$answer"
}
manifest() {
    python3 - "$1/manifest.json" <<'PY'
import json, sys
for m in json.load(open(sys.argv[1])):
    print("%s\t%d" % (m["name"], m["bytes"]))
PY
}
echo "| list state | config.pck | check: CPU / peak RSS | export: CPU / peak RSS | answer |"
echo "| --- | ---: | ---: | ---: | --- |"
if [ "$mode" != largest ]; then
    states "" $((size_mib << 20)) "$work/lists"
    manifest "$work/lists" | while IFS=$'\t' read -r name bytes; do
        row "$name" "$work/lists" "$bytes"
    done
    exit 0
fi
states "" $((1 << 20)) "$work/names"
manifest "$work/names" | while IFS=$'\t' read -r name _; do
    lo=$((1 << 20)) hi=$((size_mib << 20))
    if accepted "$name" "$hi"; then
        lo=$hi
    elif accepted "$name" "$lo"; then
        while [ $((hi - lo)) -gt $((64 << 10)) ]; do
            mid=$(((lo + hi) / 2))
            if accepted "$name" "$mid"; then lo=$mid; else hi=$mid; fi
        done
    fi
    states "$name" "$lo" "$work/lists"
    row "$name" "$work/lists" "$(manifest "$work/lists" | cut -f2)"
done
