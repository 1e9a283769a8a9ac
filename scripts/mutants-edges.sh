#!/usr/bin/env bash
# Mutation testing of the edges around the core, with the exclusions of mutants-equivalent.txt:
#
#   scripts/mutants-edges.sh nginx                # the NGINX module's decisions (nginx/src/check.rs)
#   scripts/mutants-edges.sh authz                # stackjwt-authz and the axum layer (axum/src)
#   scripts/mutants-edges.sh authz --in-diff FILE # extra arguments go to cargo mutants
#
# The module's decisions are tested by their unit tests (a mutant of check.rs would need the
# module rebuilt inside NGINX for the NGINX tests to see it; the unit tests cover what those
# decide). stackjwt-authz runs every test of its package: the NGINX and Redis tests need nginx
# and redis-server (STACKJWT_REQUIRE_NGINX=1 and STACKJWT_REQUIRE_REDIS=1 are set here, so a
# missing one fails the baseline instead of letting mutants survive unseen).
set -euo pipefail
cd "$(dirname "$0")/.."

# shellcheck source=scripts/mutants-excludes.sh
source scripts/mutants-excludes.sh

which=${1:-}
shift || true
case "$which" in
  nginx)
    exec cargo mutants --package stackjwt-nginx --file nginx/src/check.rs "${excludes[@]}" \
      --jobs "${MUTANTS_JOBS:-2}" --output "${MUTANTS_OUT:-target/mutants-nginx}" "$@" -- --lib
    ;;
  authz)
    STACKJWT_REQUIRE_NGINX=1 STACKJWT_REQUIRE_REDIS=1 exec cargo mutants --package stackjwt-axum --features server "${excludes[@]}" \
      --jobs "${MUTANTS_JOBS:-2}" --minimum-test-timeout 60 --output "${MUTANTS_OUT:-target/mutants-authz}" "$@"
    ;;
  *)
    echo "usage: scripts/mutants-edges.sh nginx|authz [cargo mutants arguments]" >&2
    exit 2
    ;;
esac
