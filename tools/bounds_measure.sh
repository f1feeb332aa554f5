#!/usr/bin/env bash
# bounds_measure.sh [SIZE_MIB] [RUNS]: time and peak memory of one verdict
# per attack of tools/hostile_corpus.py, each message SIZE_MIB (default 64)
# MiB, by `mailman-gate check` on the fixture list `test`, RUNS (default 3)
# runs each; prints the README "Reliability" table (worst of the runs).
set -euo pipefail
cd "$(dirname "$0")/.."
size_mib=${1:-64}
runs=${2:-3}
cargo build --release --quiet --bin mailman-gate
bin=target/release/mailman-gate
work=$(mktemp -d /tmp/mailman-gate-bounds.XXXXXX)
trap 'rm -rf "$work"' EXIT
python3 tools/hostile_corpus.py messages --size $((size_mib << 20)) --out "$work" >/dev/null
echo "| attack | message | worst time (wall / CPU) | peak RSS | bound (64 MiB + 2 x size) | SMTP answer |"
echo "| --- | ---: | ---: | ---: | ---: | --- |"
python3 - "$work/manifest.json" <<'PY' | while IFS=$'\t' read -r name file bytes; do
import json, sys
for m in json.load(open(sys.argv[1])):
    print("%s\t%s\t%d" % (m["name"], m["file"], m["bytes"]))
PY
    worst_wall=0 worst_cpu=0 worst_rss=0 json=
    for _ in $(seq "$runs"); do
        out=$(/usr/bin/time -f "TIME %e %U %S %M" "$bin" check --lists tests/fixtures/lists \
            --list test --sender alice@example.com --message "$file" --json 2>&1)
        json=$(grep -v '^TIME' <<<"$out")
        read -r _ wall user sys rss < <(grep '^TIME' <<<"$out")
        cpu=$(echo "$user + $sys" | bc)
        worst_wall=$(echo "if ($wall > $worst_wall) $wall else $worst_wall" | bc)
        worst_cpu=$(echo "if ($cpu > $worst_cpu) $cpu else $worst_cpu" | bc)
        [ "$rss" -gt "$worst_rss" ] && worst_rss=$rss
    done
    answer=$(python3 -c '
import json, sys
v = json.loads(sys.argv[1])
code = "550" if v["action"] == "reject" else "250"
if v.get("undecided"):
    print("%s (undecided: %s)" % (code, v["undecided"].replace("the message is past a parser limit: ", "")))
else:
    print("%s (%s%s)" % (code, v["action"], ", " + v["reason"] if v.get("reason") else ""))
' "$json")
    bound=$(( (64 << 10) + 2 * bytes / 1024 ))
    printf "| %s | %.1f MiB | %s s / %s s | %.1f MiB | %.0f MiB | %s |\n" "$name" \
        "$(echo "$bytes / 1048576" | bc -l)" "$worst_wall" "$worst_cpu" \
        "$(echo "$worst_rss / 1024" | bc -l)" "$(echo "$bound / 1024" | bc -l)" "$answer"
    if [ "$worst_rss" -ge "$bound" ]; then
        echo "bound exceeded: $name" >&2
    fi
done
