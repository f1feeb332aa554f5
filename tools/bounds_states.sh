#!/usr/bin/env bash
# bounds_states.sh [SIZE_MIB] [RUNS]: time and peak memory of reading each
# list state of `tools/hostile_corpus.py states` (config.pck files of about
# SIZE_MIB, default 64, MiB): one `mailman-gate check` (a post from a
# stranger) and one `mailman-gate export` (the snapshot) per state, RUNS
# (default 3) runs each; prints the README "Reliability" table (worst run).
set -euo pipefail
cd "$(dirname "$0")/.."
size_mib=${1:-64}
runs=${2:-3}
cargo build --release --quiet --bin mailman-gate
bin=$PWD/target/release/mailman-gate
work=$(mktemp -d /tmp/mailman-gate-states.XXXXXX)
trap 'rm -rf "$work"' EXIT
python3 tools/hostile_corpus.py states --size $((size_mib << 20)) --out "$work/lists" >/dev/null
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
echo "| list state | config.pck | check: CPU / peak RSS | export: CPU / peak RSS | answer |"
echo "| --- | ---: | ---: | ---: | --- |"
python3 - "$work/lists/manifest.json" <<'PY' | while IFS=$'\t' read -r name bytes; do
import json, sys
for m in json.load(open(sys.argv[1])):
    print("%s\t%d" % (m["name"], m["bytes"]))
PY
    IFS=$'\t' read -r _ ccpu crss crc cline < <(measure "$bin" check --lists "$work/lists" \
        --list "$name" --sender out@elsewhere.example --message "$work/post.eml" --json)
    rm -rf "$work/snap" && mkdir "$work/snap"
    IFS=$'\t' read -r _ ecpu erss _ _ < <(measure "$bin" export --lists "$work/lists" \
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
done
