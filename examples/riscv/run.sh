#!/usr/bin/env bash
# Builds the RISC-V program (riscv32imc) in its three forms (full, sign-only, verify-only),
# runs each under qemu-system-riscv32 (virt, semihosting, -icount shift=0), and fails when a
# run does not print PASS or a figure is over its budget.
#
# Prints one line per form: flash, stack (key and buffers included), key size, instructions
# per sign and per verify (minstret: exact counts, not timings). Flash and stack come from the
# footprint build; the instruction counts from a second build with `--features count`, so
# that the measuring code is not counted as the device's flash.
set -euo pipefail
cd "$(dirname "$0")"

# Budgets, bytes (flash, stack): the figures measured so far (README), so that a change that
# grows them fails here; lowered as the footprint goals are reached.
declare -A FLASH_BUDGET=([full]=19200 [sign-only]=8960 [verify-only]=15872)
declare -A STACK_BUDGET=([full]=2048 [sign-only]=1408 [verify-only]=2048)

status=0
for form in full sign-only verify-only; do
  features=()
  [ "$form" = full ] || features=(--features "$form")
  cargo build --quiet --release "${features[@]}"
  flash=$(python3 ../cortex-m/size.py target/riscv32imc-unknown-none-elf/release/stackjwt-riscv --flash-only)
  out=$(timeout 120 cargo run --quiet --release "${features[@]}" 2>&1)
  # The same program with the instruction counter built in.
  counted=$(timeout 120 cargo run --quiet --release "${features[@]}" --features count 2>&1)
  stack=$(grep '^stack=' <<<"$out" | sed -E 's/^stack=([0-9]+) key=([0-9]+).*/stack=\1 key=\2/' || true)
  insns=$(grep '^stack=' <<<"$counted" | sed -E 's/.*(sign_insns=.*)/\1/' || true)
  echo "riscv32imc-unknown-none-elf $form flash=$flash $stack $insns"
  if ! grep -q '^PASS$' <<<"$out" || ! grep -q '^PASS$' <<<"$counted"; then
    echo "$out"
    echo "$counted"
    echo "FAIL: riscv32imc $form did not pass"
    status=1
    continue
  fi
  stack=$(sed -E 's/^stack=([0-9]+).*/\1/' <<<"$stack")
  if [ "$flash" -gt "${FLASH_BUDGET[$form]}" ]; then
    echo "FAIL: riscv32imc $form flash $flash B over its budget of ${FLASH_BUDGET[$form]} B"
    status=1
  fi
  if [ "$stack" -gt "${STACK_BUDGET[$form]}" ]; then
    echo "FAIL: riscv32imc $form stack $stack B over its budget of ${STACK_BUDGET[$form]} B"
    status=1
  fi
done
exit $status
