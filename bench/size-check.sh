#!/usr/bin/env bash
# The size guard (issue 5): builds the static release binary with the README's command
# and fails when it is larger than the budget. Size is deterministic for a given
# toolchain and Cargo.lock, so unlike timings it can be checked in CI.
#
#   bench/size-check.sh [BUDGET_BYTES]     (default: $SESAME_SIZE_BUDGET, else 2300000)
#
# Exit 0 within budget, 1 over it (2 if the build fails). Prints the size either way.
set -euo pipefail
cd "$(dirname "$0")/.."

budget=${1:-${SESAME_SIZE_BUDGET:-2300000}}
triple=x86_64-unknown-linux-gnu
target_dir=${CARGO_TARGET_DIR:-$PWD/target}

if ! RUSTFLAGS='-C target-feature=+crt-static' cargo build --quiet --release --target "$triple"; then
    echo "size-check: the static release build failed" >&2
    exit 2
fi
bin=$target_dir/$triple/release/sesame
size=$(stat -c %s "$bin")
if ! file "$bin" 2>/dev/null | grep -q 'static'; then
    # `file` may be missing; readelf is in binutils, which the Rust toolchain needs anyway.
    if readelf -d "$bin" 2>/dev/null | grep -q NEEDED; then
        echo "size-check: $bin is not statically linked" >&2
        exit 1
    fi
fi

if ((size > budget)); then
    echo "size-check: FAIL: sesame is $size bytes, over the budget of $budget bytes by $((size - budget))" >&2
    exit 1
fi
echo "size-check: ok: sesame is $size bytes, $((budget - size)) under the budget of $budget bytes"
