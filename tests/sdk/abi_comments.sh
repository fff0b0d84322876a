#!/usr/bin/env bash
# The comment grammar of the C ABI headers (provider.h explains it): in sdk/include/llmhost/*.h,
# every function pointer's comment starts with a thread tag, and every struct's comment says
# OWNERSHIP. Prints each declaration that lacks one, with its file and line.
# Usage: abi_comments.sh <source dir>
set -euo pipefail
status=0
for header in "$1"/sdk/include/llmhost/*.h; do
  awk -v file="$header" '
    function check(what, pattern) {
      if (comment !~ pattern) { printf "%s:%d: %s without %s in the comment above it\n", file, FNR, what, pattern; bad = 1 }
    }
    in_comment { comment = comment $0; if ($0 ~ /\*\//) in_comment = 0; next }
    /^[[:space:]]*\/\*/ { comment = $0; in_comment = ($0 !~ /\*\//); next }
    /^[[:space:]]*$/ || /^#/ { next }
    {
      if ($0 ~ /\(\*[a-z_]+\)\(/) check("function pointer", "\\[thread: [a-z ]+\\]")
      if ($0 ~ /^typedef struct [a-z_]+ \{/) check("struct", "OWNERSHIP:")
      comment = ""
    }
    END { exit bad }
  ' "$header" || status=1
done
[ "$status" = 0 ] && echo "ABI comments OK: every function pointer has a thread tag, every struct its OWNERSHIP"
exit "$status"
