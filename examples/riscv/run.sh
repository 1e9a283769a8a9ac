#!/usr/bin/env bash
# Builds the RISC-V program (riscv32imc) in its three forms (full, sign-only, verify-only),
# runs each under qemu-system-riscv32 (virt, semihosting, -icount shift=0), and fails when a
# run does not print PASS or a figure is over its budget.
#
# Prints one line per form: flash, stack (key and buffers included), key size, instructions
# per sign and per verify (minstret: exact counts, not timings).
set -euo pipefail
cd "$(dirname "$0")"

# Budgets, bytes (flash, stack): the figures measured so far (README), so that a change that
# grows them fails here; lowered as the footprint goals are reached.
declare -A FLASH_BUDGET=([full]=23552 [sign-only]=9344 [verify-only]=21248)
declare -A STACK_BUDGET=([full]=2432 [sign-only]=1408 [verify-only]=2432)

status=0
for form in full sign-only verify-only; do
  features=()
  [ "$form" = full ] || features=(--features "$form")
  cargo build --quiet --release "${features[@]}"
  flash=$(python3 ../cortex-m/size.py target/riscv32imc-unknown-none-elf/release/stackjwt-riscv --flash-only)
  out=$(timeout 120 cargo run --quiet --release "${features[@]}" 2>&1)
  figures=$(grep '^stack=' <<<"$out" || true)
  echo "riscv32imc-unknown-none-elf $form flash=$flash $figures"
  if ! grep -q '^PASS$' <<<"$out"; then
    echo "$out"
    echo "FAIL: riscv32imc $form did not pass"
    status=1
    continue
  fi
  stack=$(sed -E 's/^stack=([0-9]+).*/\1/' <<<"$figures")
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
