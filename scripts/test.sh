#!/usr/bin/env bash
# The whole suite: machine set-up, type-check, build when stale, then ONE node test run.
#   scripts/test.sh            unit + e2e
#   scripts/test.sh unit       unit tests only (no Docker needed)
#   scripts/test.sh e2e        e2e tests only
#   scripts/test.sh FILE...    just these test files
# K2D_TEST_CONCURRENCY: test files run at once (default 2); e2e files wait on Docker more than
# on the CPU, and each uses its own port, data dir and instance label.
# K2D_TEST_BUNDLE: run the e2e tests against that server bundle instead of building dist/.
# K2D_TEST_VERBOSE=1 streams server output; K2D_KEEP_TEST_DATA=1 keeps .test-tmp/e2e.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
shopt -s nullglob globstar

mode=${1:-all}
case $mode in
  all) files=(test/unit/**/*.test.ts test/e2e/**/*.test.ts) ;;
  unit) files=(test/unit/**/*.test.ts) ;;
  e2e) files=(test/e2e/**/*.test.ts) ;;
  *) files=("$@") ;;
esac
if ((${#files[@]} == 0)); then
  echo "test.sh: no test files for '$mode'" >&2
  exit 1
fi

needs_e2e=
for f in "${files[@]}"; do
  if [[ $f == *e2e* ]]; then needs_e2e=1; fi
done
if [[ -n $needs_e2e ]]; then
  bash scripts/test-env.sh
fi

# newer_than REF PATH...: true when REF is missing or any file under PATH is newer.
newer_than() {
  local ref=$1
  shift
  [[ ! -f $ref ]] || [[ -n $(find "$@" -newer "$ref" -type f -print -quit 2>/dev/null) ]]
}

# generated/ first: the type-check reads its .ts files. A stamp, because codegen leaves
# unchanged files untouched.
stamp=.test-tmp/codegen.stamp
if [[ ! -f generated/kinds.json ]] || newer_than "$stamp" codegen openapi package-lock.json; then
  echo "test.sh: codegen"
  npm run --silent codegen
  mkdir -p .test-tmp && touch "$stamp"
fi

echo "test.sh: type-check"
npx tsc -p .

if [[ -n $needs_e2e ]]; then
  if [[ -n ${K2D_TEST_BUNDLE:-} ]]; then
    echo "test.sh: testing $K2D_TEST_BUNDLE (no bundling)"
  elif newer_than dist/k2d.js src generated scripts/bundle.mjs scripts/unused-stub.cjs package-lock.json; then
    echo "test.sh: bundle"
    node scripts/bundle.mjs
  fi
fi

echo "test.sh: ${#files[@]} test files"
exec node --import tsx --test \
  --test-concurrency="${K2D_TEST_CONCURRENCY:-2}" \
  --test-timeout="${K2D_TEST_TIMEOUT_MS:-600000}" \
  --test-reporter=spec --test-reporter-destination=stdout \
  "${files[@]}"
