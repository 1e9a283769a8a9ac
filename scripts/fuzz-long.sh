#!/usr/bin/env bash
# Long fuzz runs, to run by hand and report on (CI runs 30 s of each): every target for
# SECONDS (default 600), two at a time on a 2-core machine, from the committed seeds and
# dictionary, printing executions and coverage. Needs a nightly toolchain and cargo-fuzz.
#   scripts/fuzz-long.sh [SECONDS] [TARGET...]
set -euo pipefail
cd "$(dirname "$0")/../fuzz"
seconds=${1:-600}
shift || true
targets=("${@:-verify}")
[ $# -gt 0 ] || targets=(verify decode roundtrip)
cargo +nightly fuzz build
run() {
  local target=$1 corpus log
  corpus=$(mktemp -d)
  log=$(mktemp)
  if ! cargo +nightly fuzz run "$target" "$corpus" "seeds/$target" -- \
    -dict=jwt.dict -max_total_time="$seconds" -print_final_stats=1 >"$log" 2>&1; then
    tail -n 40 "$log"
    echo "$target: FAILED (log $log, corpus $corpus)"
    return 1
  fi
  local cov
  cov=$(grep -E '^#[0-9]+.*(DONE|pulse)' "$log" | tail -n 1 | grep -oE 'cov: [0-9]+ ft: [0-9]+')
  echo "$target: $(grep -E '^stat::number_of_executed_units' "$log" | grep -oE '[0-9]+$') executions in ${seconds} s, $cov"
  rm -rf "$corpus" "$log"
}
status=0
for ((i = 0; i < ${#targets[@]}; i += 2)); do
  run "${targets[i]}" &
  first=$!
  if ((i + 1 < ${#targets[@]})); then run "${targets[i + 1]}" || status=1; fi
  wait "$first" || status=1
done
exit "$status"
