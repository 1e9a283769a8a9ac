#!/usr/bin/env bash
# Mutation testing of the core library: the exact command behind the counts in the README.
#
#   scripts/mutants.sh                 # the whole library (about an hour on 2 cores)
#   scripts/mutants.sh -f src/json/read.rs   # extra arguments go to cargo mutants
#   scripts/mutants.sh --list          # what CI runs: the mutant list, no builds
#
# Mutants judged equivalent (no test can tell them from the original) are listed, each with a
# one-line reason, in scripts/mutants-equivalent.txt and excluded here. The CLI (its own tests
# in tests/cli.rs drive a subprocess) and src/fuzzing.rs (compiled only under cargo fuzz) are
# not library code and are left out.
set -euo pipefail
cd "$(dirname "$0")/.."

# shellcheck source=scripts/mutants-excludes.sh
source scripts/mutants-excludes.sh

exec cargo mutants \
  --package stackjwt \
  --exclude src/bin/stackjwt.rs --exclude src/fuzzing.rs \
  "${excludes[@]}" \
  --jobs "${MUTANTS_JOBS:-2}" \
  --minimum-test-timeout 30 \
  --output "${MUTANTS_OUT:-target/mutants}" \
  "$@" \
  -- --all-features --lib --test reject --test vectors --test gateway --test corpus \
  --test no_alloc --test hardening
