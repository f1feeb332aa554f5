#!/usr/bin/env bash
# Run every fuzz target for a bounded time.
#
#   tools/fuzz_run.sh SECONDS [TARGET...]
#
# With a nightly toolchain and cargo-fuzz: `cargo +nightly fuzz run` per
# target, for SECONDS each, on a scratch copy of fuzz/corpus/<target> (the
# committed corpora stay small), inputs up to 64 KiB, 2 GB RSS limit.
# Otherwise (or with FUZZ_FALLBACK=1): the stable driver fuzz-fallback,
# corpus plus deterministic mutations for SECONDS per target.
# Crashes land in fuzz/artifacts/<target>/; the exit status is non-zero
# if any target found one. Replay one with
#   cargo +nightly fuzz run TARGET fuzz/artifacts/TARGET/crash-...
#   (or: fuzz-fallback replay TARGET FILE)
set -euo pipefail
cd "$(dirname "$0")/../fuzz"

secs=${1:?usage: tools/fuzz_run.sh SECONDS [TARGET...]}
shift
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(pickle snapshot message decide capi pyre)
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$PWD/target}

use_libfuzzer() {
    [ "${FUZZ_FALLBACK:-0}" != 1 ] &&
        rustup run nightly rustc --version >/dev/null 2>&1 &&
        cargo fuzz --version >/dev/null 2>&1
}

status=0
if use_libfuzzer; then
    echo "libFuzzer (cargo +nightly fuzz), ${secs}s per target"
    cargo +nightly fuzz build --release
    scratch=$(mktemp -d)
    trap 'rm -rf "$scratch"' EXIT
    for t in "${targets[@]}"; do
        mkdir -p "$scratch/$t" "artifacts/$t"
        cp corpus/"$t"/* "$scratch/$t/" 2>/dev/null || true
        log="$scratch/$t.log"
        if cargo +nightly fuzz run --release "$t" "$scratch/$t" -- \
            -max_total_time="$secs" -max_len=65536 -rss_limit_mb=2048 \
            -timeout=10 -print_final_stats=1 >"$log" 2>&1; then
            result=ok
        else
            result=FAILED
            status=1
            tail -40 "$log"
        fi
        execs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' || echo "?")
        cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1 || true)
        echo "$t: $result, $execs execs in ${secs}s, $cov, corpus $(ls "$scratch/$t" | wc -l) inputs"
    done
else
    echo "stable fallback driver, ${secs}s per target"
    cargo build --release -q -p mailman-gate-fuzz-common --bin fuzz-fallback
    "$CARGO_TARGET_DIR/release/fuzz-fallback" "$secs" "${targets[@]}" || status=1
fi
exit $status
