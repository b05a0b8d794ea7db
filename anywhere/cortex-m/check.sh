#!/usr/bin/env bash
# The microcontroller example's check: lint and build it for thumbv7em-none-eabihf (release),
# print its flash and RAM sizes from the ELF, run it under QEMU's Cortex-M4 board
# (mps2-an386) with semihosting, and compare what it prints with expected.txt (the host's
# outputs for the same weights, made by the root's tests/cortex_m_weights.rs): the same
# class for every input, probabilities within 1e-6, no allocation per sample after the first.
#
# What cannot be had (the target, llvm-size, QEMU) is installed if it can be; if that fails,
# the script says why and skips only what needed it. Anything else that fails, fails it.
#
#   bash anywhere/cortex-m/check.sh        (from anywhere; CARGO_TARGET_DIR is honoured)

set -euo pipefail
cd "$(dirname "$0")" # .cargo/config.toml (the target, the linker script) applies from here

TARGET=thumbv7em-none-eabihf
TOLERANCE=1e-6
# Budgets, about 25% above what is measured today (see the README): a change that pulls a
# large piece of code or a bigger heap into the example fails here.
FLASH_BUDGET=$((212 * 1024))
RAM_BUDGET=$((16 * 1024))

t0=$EPOCHREALTIME
part_start() { t0=$EPOCHREALTIME; echo "== $1"; }
part_end() { awk -v what="$1" -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN { printf "   (%s: %.1f s)\n", what, b - a }'; }

if ! rustup target list --installed | grep -qx "$TARGET"; then
    if ! out=$(rustup target add "$TARGET" 2>&1); then
        echo "SKIP cortex-m: the target $TARGET cannot be installed:"
        echo "$out"
        exit 0
    fi
fi

part_start "lint (rustfmt, clippy -D warnings)"
cargo fmt --check
cargo clippy --release --locked --quiet -- -D warnings
part_end lint

part_start "build (release, $TARGET)"
cargo build --release --locked --quiet
elf="${CARGO_TARGET_DIR:-target}/$TARGET/release/mlp-cortex-m"
part_end build

part_start "sizes"
llvm_size=$(ls "$(rustc --print sysroot)"/lib/rustlib/*/bin/llvm-size 2>/dev/null || true)
if [[ -z $llvm_size ]] && out=$(rustup component add llvm-tools 2>&1); then
    llvm_size=$(ls "$(rustc --print sysroot)"/lib/rustlib/*/bin/llvm-size)
fi
if [[ -z $llvm_size ]]; then
    echo "SKIP sizes: llvm-size (rustup's llvm-tools) cannot be installed:"
    echo "$out"
else
    weights=$(stat -c %s model.safetensors)
    # Flash holds the vector table, code, constants (the weights among them) and .data's
    # initial values; RAM holds .data, .bss (the heap array among them) and the stack.
    "$llvm_size" -A "$elf" | awk -v weights="$weights" -v flash_budget="$FLASH_BUDGET" \
        -v ram_budget="$RAM_BUDGET" '
        $1 == ".vector_table" || $1 == ".text" || $1 == ".rodata" { flash += $2 }
        $1 == ".data" { flash += $2; ram += $2 }
        $1 == ".bss" || $1 == ".uninit" { ram += $2 }
        $1 ~ /^\.(vector_table|text|rodata|data|bss|uninit)$/ { printf "   %-14s %7d\n", $1, $2 }
        END {
            printf "   flash %d bytes: weights %d, everything else %d\n", flash, weights, flash - weights
            printf "   RAM %d bytes static (.data + .bss, the heap array included), plus the stack\n", ram
            if (flash > flash_budget) { printf "FAIL: flash %d > budget %d\n", flash, flash_budget; exit 1 }
            if (ram > ram_budget) { printf "FAIL: static RAM %d > budget %d\n", ram, ram_budget; exit 1 }
        }'
fi
part_end sizes

part_start "run (QEMU mps2-an386, Cortex-M4)"
if ! command -v qemu-system-arm >/dev/null; then
    echo "   installing qemu-system-arm"
    if ! out=$( (apt-get update -qq && apt-get install -y -qq qemu-system-arm) 2>&1); then
        echo "SKIP run: qemu-system-arm cannot be installed:"
        echo "$out" | tail -5
        part_end run
        exit 0
    fi
fi
# The semihosting exit call ends QEMU with the program's status; the timeout only guards a
# program that hangs.
status=0
output=$(timeout 60 qemu-system-arm -machine mps2-an386 -cpu cortex-m4 -nographic \
    -semihosting-config enable=on,target=native -kernel "$elf") || status=$?
if ((status != 0)); then
    echo "$output"
    echo "FAIL: the program under QEMU exited with status $status"
    exit 1
fi
echo "$output" | sed 's/^/   /'
# Each `sample I class C p P0 P1 P2 P3` line against expected.txt's `I C P0 P1 P2 P3`.
echo "$output" | awk -v tol="$TOLERANCE" '
    function abs(v) { return v < 0 ? -v : v }
    NR == FNR { if ($1 !~ /^#/ && NF == 6) { class[$1] = $2; for (k = 3; k <= 6; k++) p[$1, k - 2] = $k; n++ }; next }
    $1 == "sample" {
        seen++
        if ($4 != class[$2]) { printf "FAIL: sample %s: class %s, expected %s\n", $2, $4, class[$2]; bad++ }
        for (k = 1; k <= 4; k++)
            if (abs($(5 + k) - p[$2, k]) > tol) {
                printf "FAIL: sample %s: p%d = %s, expected %s (within %s)\n", $2, k - 1, $(5 + k), p[$2, k], tol; bad++
            }
    }
    /^allocations after the first sample:/ { allocs = $NF }
    END {
        if (seen != n) { printf "FAIL: %d samples printed, %d expected\n", seen, n; bad++ }
        if (allocs != "0") { printf "FAIL: %s allocations after the first sample, expected none\n", allocs; bad++ }
        if (bad) exit 1
        printf "   %d samples: classes equal to the host'\''s, probabilities within %s, no allocation after the first\n", seen, tol
    }' expected.txt -
part_end run
