#!/usr/bin/env bash
# ctest entry: js-tiktoken (reference.mjs) encodes the corpus and generated texts, then the test
# binary checks that llmhost's tokenizer gives the same ids for each. Needs node and the package
# (`npm ci` in this folder; scripts/test.sh does it). Without them: a failure under CI=true,
# else exit 77 (ctest: skipped), saying why.
#   run.sh <test_tokens_tiktoken binary>
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
if ! command -v node >/dev/null 2>&1 || [ ! -f "$here/node_modules/js-tiktoken/package.json" ]; then
  echo "test_tokens_tiktoken: node or $here/node_modules/js-tiktoken is missing (run npm ci in $here)"
  [ "${CI:-}" = true ] && { echo "FAILED: CI runs every test"; exit 1; }
  echo "SKIPPED"
  exit 77
fi
reference=$(mktemp)
trap 'rm -f "$reference"' EXIT
node "$here/reference.mjs" "$here/corpus.json" >"$reference" || { echo "reference.mjs failed"; exit 1; }
LLMHOST_TIKTOKEN_REFERENCE=$reference "$1"
