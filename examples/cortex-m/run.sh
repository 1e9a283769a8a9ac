#!/usr/bin/env bash
# Builds the Cortex-M program for three targets in its three forms (full, sign-only,
# verify-only), runs the thumbv7m and thumbv6m builds under QEMU (lm3s6965evb, a Cortex-M3;
# ARMv6-M code runs on it too; the eabihf build enables an FPU the M3 lacks, so it is built and
# sized only), and fails when a run does not print PASS or a figure is over its budget.
#
# Prints one line per build: target, form, flash, stack (key and buffers included), key size,
# instructions per sign and per verify (QEMU -icount: exact counts, not timings). Flash and
# stack come from the footprint build; the instruction counts from a second build with
# `--features count`, so that the measuring code is not counted as the device's flash.
set -euo pipefail
cd "$(dirname "$0")"

# Budgets, bytes (flash, stack), for the thumbv7m builds; the other targets are reported.
# The full program's are the goals, 16 KiB and 2 KiB. The goals for the others (sign-only
# 8,192/1,024, verify-only 12,288 flash) are not met yet: their budgets hold the figures
# measured (README) with a little room, so that a change that grows them fails here.
declare -A FLASH_BUDGET=([full]=16384 [sign-only]=8448 [verify-only]=13568)
declare -A STACK_BUDGET=([full]=2048 [sign-only]=1536 [verify-only]=2048)

status=0
for target in thumbv7m-none-eabi thumbv6m-none-eabi thumbv7em-none-eabihf; do
  for form in full sign-only verify-only; do
    features=()
    [ "$form" = full ] || features=(--features "$form")
    cargo build --quiet --release --target "$target" "${features[@]}"
    elf="target/$target/release/stackjwt-cortex-m"
    flash=$(python3 size.py "$elf" --flash-only)
    if [ "$target" = thumbv7em-none-eabihf ]; then
      echo "$target $form flash=$flash (built, not run)"
      continue
    fi
    out=$(timeout 120 cargo run --quiet --release --target "$target" "${features[@]}" 2>&1 | grep -v '^Timer with period zero')
    # The same program with the instruction counter built in.
    counted=$(timeout 120 cargo run --quiet --release --target "$target" "${features[@]}" --features count 2>&1 | grep -v '^Timer with period zero')
    stack=$(grep '^stack=' <<<"$out" | sed -E 's/^stack=([0-9]+) key=([0-9]+).*/stack=\1 key=\2/' || true)
    insns=$(grep '^stack=' <<<"$counted" | sed -E 's/.*(sign_insns=.*)/\1/' || true)
    echo "$target $form flash=$flash $stack $insns"
    if ! grep -q '^PASS$' <<<"$out" || ! grep -q '^PASS$' <<<"$counted"; then
      echo "$out"
      echo "$counted"
      echo "FAIL: $target $form did not pass"
      status=1
      continue
    fi
    if [ "$target" = thumbv7m-none-eabi ]; then
      stack=$(sed -E 's/^stack=([0-9]+).*/\1/' <<<"$stack")
      if [ "$flash" -gt "${FLASH_BUDGET[$form]}" ]; then
        echo "FAIL: $form flash $flash B over its budget of ${FLASH_BUDGET[$form]} B"
        status=1
      fi
      if [ "$stack" -gt "${STACK_BUDGET[$form]}" ]; then
        echo "FAIL: $form stack $stack B over its budget of ${STACK_BUDGET[$form]} B"
        status=1
      fi
    fi
  done
done
exit $status
