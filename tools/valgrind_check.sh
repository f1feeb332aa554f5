#!/usr/bin/env bash
# Leaks and memory errors at the C boundary, under valgrind:
#   1. examples/embed.c on the fixture lists (route, accept, hold, error);
#   2. tools/valgrind_loop.c: the C API and the Exim dlfunc entry points
#      called N times (argument errors, NULLs, non-UTF-8, a corrupt list,
#      gates opened and freed), at two N: no definite or indirect leak at
#      either, and what is still reachable at exit (the process-wide gate
#      table and each thread's last dlfunc answer, both by design) does
#      not grow with N.
#
#   tools/valgrind_check.sh [N]      (default N=300; exit 1 on any finding)
#
# Needs valgrind and cc. Uses $CARGO_TARGET_DIR (default target/).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
n=${1:-300}
target=${CARGO_TARGET_DIR:-$root/target}
cargo build --release --quiet --lib
lib=$target/release
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

cc -std=c99 -Wall -Wextra -Werror -g -o "$work/embed" examples/embed.c \
    -Iinclude -L"$lib" -lmailman_gate -Wl,-rpath,"$lib"
cc -std=c99 -Wall -Wextra -Werror -g -o "$work/loop" tools/valgrind_loop.c \
    -Iinclude -L"$lib" -lmailman_gate -Wl,-rpath,"$lib"

lists=$root/tests/fixtures/lists
printf 'lists_dir = %s\n' "$lists" >"$work/gate.conf"
printf 'From: alice@example.com\nTo: test@example.com\nSubject: hi\n\nHello.\n' >"$work/alice.eml"
printf 'From: bob@example.com\nTo: test@example.com\nSubject: hi\n\nHello.\n' >"$work/bob.eml"

vg() {
    local log=$1
    shift
    valgrind --quiet --leak-check=full --show-leak-kinds=definite,indirect,possible \
        --errors-for-leak-kinds=definite,indirect --error-exitcode=1 \
        --log-file="$log" "$@" >/dev/null
}

status=0
check() {
    local name=$1 log=$2 rc=$3
    if [ "$rc" -ne 0 ] && [ "$rc" -ne 99 ]; then
        echo "$name: valgrind found errors or leaks (exit $rc):"
        cat "$log"
        status=1
    else
        echo "$name: clean"
    fi
}

# embed.c exits 1 on the broken list by design: only valgrind's verdict
# counts, so its error exit code is made distinct.
for args in "test-request example.com" "test example.com alice@example.com $work/alice.eml" \
    "test example.com bob@example.com $work/bob.eml" "broken example.com alice@example.com $work/alice.eml"; do
    set +e
    # shellcheck disable=SC2086
    valgrind --quiet --leak-check=full --errors-for-leak-kinds=definite,indirect \
        --error-exitcode=99 --log-file="$work/embed.log" "$work/embed" "$lists" $args >/dev/null 2>&1
    rc=$?
    set -e
    if [ "$rc" -eq 99 ]; then
        echo "embed $args: valgrind found errors or leaks:"
        cat "$work/embed.log"
        status=1
    else
        echo "embed $args: clean (exit $rc)"
    fi
done

reachable() {
    valgrind --leak-check=full --show-leak-kinds=all "$work/loop" "$lists" "$work/gate.conf" "$1" 2>&1 >/dev/null |
        grep -o 'still reachable: [0-9,]* bytes' | tr -dc '0-9'
}
for k in 10 "$n"; do
    set +e
    vg "$work/loop-$k.log" "$work/loop" "$lists" "$work/gate.conf" "$k"
    rc=$?
    set -e
    check "C API and dlfunc loop x$k" "$work/loop-$k.log" "$rc"
done
small=$(reachable 10)
large=$(reachable "$n")
echo "still reachable at exit: ${small:-0} bytes after 10 iterations, ${large:-0} after $n"
if [ "${large:-0}" -gt "${small:-0}" ]; then
    echo "reachable memory grows with the number of calls"
    status=1
fi
exit $status
