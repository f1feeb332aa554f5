#!/usr/bin/env bash
# Ask mailman-gate about a few posts to the bundled example lists
# (tests/fixtures/lists, written by Mailman 2.1.39 itself).
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --quiet --bin mailman-gate
# The binary where cargo put it (CARGO_TARGET_DIR or the build config).
target_dir=$(cargo metadata --format-version 1 --no-deps |
    python3 -c 'import json, sys; print(json.load(sys.stdin)["target_directory"])')
gate="$target_dir/release/mailman-gate"
lists=tests/fixtures/lists

echo "== routing"
for addr in test@example.com TEST-Request@example.com test-bounces+x=y.org@example.com nosuch@example.com; do
    printf '%-40s ' "$addr"
    $gate route --lists $lists "${addr%@*}" "${addr#*@}" --json
done
echo "== verdicts"
for m in examples/messages/*.eml; do
    sender=$(sed -n 's/^From: .*<\(.*\)>.*/\1/p; s/^From: \([^<]*\)$/\1/p' "$m" | head -n 1)
    printf '%-40s ' "$(basename "$m")"
    $gate check --lists $lists --list test --sender "$sender" --message "$m" --json
done
echo "== why (explain) for the non-member post"
$gate explain --lists $lists --list test --sender mallory@spam.example --message examples/messages/nonmember.eml
