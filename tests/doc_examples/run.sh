#!/usr/bin/env bash
# Every code example in README.md and docs/*.md that is a whole C or C++ file (it has an
# #include) is built against the installed tree only, as a reader would build it:
# - one that exports a provider (a line starting LLMH_PROVIDER or defining llmh_provider_entry)
#   with find_package(llmhost) and llmhost_add_provider, and the installed llmhost must load it
#   (`llmhost check`);
# - any other (helpers for a reader's provider) is compiled, so that it uses nothing the
#   installed headers do not declare.
# README's provider and the plugin guide's asynchronous one are also called and must answer as
# their docs say. A fragment (no #include) is
# prose and is not built.
# Usage: run.sh <llmhost build dir> <source dir>
set -euo pipefail
build=$1
src=$2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

cmake --install "$build" --prefix "$work/prefix" >/dev/null
mkdir -p "$work/examples"
for doc in "$src/README.md" "$src"/docs/*.md; do
  # Each fenced c or cpp block with an #include -> examples/<doc>_<line>.<c|cpp>
  awk -v out="$work/examples" -v name="$(basename "$doc" .md | tr -c 'A-Za-z0-9\n' '_')" '
    /^```(c|cpp)$/ { lang = substr($0, 4); start = NR; body = ""; inside = 1; next }
    inside && /^```/ {
      if (body ~ /#include/) { f = out "/" name "_" start "." lang; printf "%s", body > f; close(f) }
      inside = 0; next
    }
    inside { body = body $0 "\n" }
  ' "$doc"
done

{
  echo 'cmake_minimum_required(VERSION 3.25)'
  echo 'project(doc_examples LANGUAGES C CXX)'
  echo 'set(CMAKE_C_STANDARD 11)'
  echo 'set(CMAKE_CXX_STANDARD 20)'
  echo 'find_package(llmhost REQUIRED)'
  echo 'find_package(simdjson REQUIRED)  # the JSON library the docs parse with'
  echo 'add_compile_options(-Wall -Wextra -Werror)'
  for f in "$work"/examples/*.c "$work"/examples/*.cpp; do
    target=$(basename "$f" | tr '.' '_')
    if grep -qE '^(LLMH_PROVIDER\(|LLMH_EXPORT const llmh_provider \*llmh_provider_entry)' "$f"; then
      echo "llmhost_add_provider($target $f)"
    else  # helpers for the reader's own provider: static, so unused here
      echo "add_library($target OBJECT $f)"
      echo "target_link_libraries($target PRIVATE llmhost::sdk)"
      echo "target_compile_options($target PRIVATE -Wno-unused-function)"
    fi
    if grep -q '#include <simdjson.h>' "$f"; then echo "target_link_libraries($target PRIVATE simdjson::simdjson)"; fi
  done
} >"$work/examples/CMakeLists.txt"
echo "doc examples: $(ls "$work"/examples/*.c "$work"/examples/*.cpp | wc -l) files"
# A clean environment: nothing from the source or build tree may leak in.
env -i PATH=/usr/bin:/bin HOME="$work" cmake -S "$work/examples" -B "$work/out" -G Ninja \
  -DCMAKE_PREFIX_PATH="$work/prefix" >/dev/null
env -i PATH=/usr/bin:/bin HOME="$work" cmake --build "$work/out" -- -k 0

llmhost="$work/prefix/bin/llmhost"
for so in "$work"/out/lib*.so; do
  "$llmhost" check "$so" >/dev/null || { echo "doc example $(basename "$so") does not load:" >&2; "$llmhost" check "$so"; exit 1; }
done
mkdir -p "$work/readme"
cp "$work"/out/libREADME_*.so "$work/readme/"
out=$("$llmhost" --plugins "$work/readme" complete shout/x "make it loud")
[ "$out" = "MAKE IT LOUD" ] || { echo "README's provider answered: $out" >&2; exit 1; }
# The guide's asynchronous provider (section 12), through the blocking form the SDK makes.
mkdir -p "$work/guide"
cp "$work"/out/libplugin_guide_*.so "$work/guide/"
out=$("$llmhost" --plugins "$work/guide" complete later/x "hi")
[ "$out" = "later: hi" ] || { echo "the plugin guide's asynchronous provider answered: $out" >&2; exit 1; }
echo "doc examples OK: $(ls "$work"/out/lib*.so | wc -l) plugins loaded, the rest compiled"
