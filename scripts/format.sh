#!/usr/bin/env bash
# Formats the C and C++ sources with .clang-format (clang-format 14, Debian 12).
#   scripts/format.sh           rewrite every tracked source in place
#   scripts/format.sh --check   change nothing; fail naming each file that is not formatted
set -euo pipefail
source "$(dirname "$0")/deps.sh"
llmhost_install_deps clang-format
cd "$LLMHOST_ROOT"
mapfile -t files < <(git ls-files '*.c' '*.h' '*.cpp' '*.hpp')
if [ "${1:-}" = "--check" ]; then
  clang-format --dry-run --Werror "${files[@]}"
  echo "format: ${#files[@]} files formatted as .clang-format says"
else
  clang-format -i "${files[@]}"
fi
