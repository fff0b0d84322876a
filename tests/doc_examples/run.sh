#!/usr/bin/env bash
# Every code example in README.md and docs/*.md that is a whole C, C++ or Python file (it has an
# #include, or an import) is built and used against the installed tree only, as a reader would:
# - one that exports a provider (a line starting LLMH_PROVIDER or defining llmh_provider_entry)
#   is built with find_package(llmhost) and llmhost_add_provider, and the installed llmhost must
#   load it (`llmhost check`);
# - one with a main() is an embedder: built with find_package(llmhost COMPONENTS host), linked
#   with llmhost::host, and run; a Python one is run with python3 against the installed
#   libllmhost. When a ```text block follows it, what it prints must be exactly that;
# - any other (helpers for a reader's provider) is compiled, so that it uses nothing the
#   installed headers do not declare.
# README's provider and the plugin guide's asynchronous one are also called and must answer as
# their docs say, and the embedding headers must include nothing beyond the standard library.
# A fragment (no #include) is prose and is not built.
# Usage: run.sh <llmhost build dir> <source dir>
set -euo pipefail
build=$1
src=$2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

cmake --install "$build" --prefix "$work/prefix" >/dev/null
mkdir -p "$work/examples"
for doc in "$src/README.md" "$src"/docs/*.md; do
  # Each fenced c, cpp or python block with an #include or import -> examples/<doc>_<line>.<ext>;
  # a text block right after it (blank lines between) -> the same name plus .expected.
  awk -v out="$work/examples" -v name="$(basename "$doc" .md | tr -c 'A-Za-z0-9\n' '_')" '
    /^```(c|cpp|python)$/ { lang = substr($0, 4); start = NR; body = ""; inside = 1; next }
    /^```text$/ && last != "" { expecting = 1; body = ""; next }
    inside && /^```/ {
      last = ""
      if (body ~ /#include|^import|\nimport /) {
        last = out "/" name "_" start "." (lang == "python" ? "py" : lang)
        printf "%s", body > last; close(last)
      }
      inside = 0; next
    }
    expecting && /^```/ { f = last ".expected"; printf "%s", body > f; close(f); expecting = 0; last = ""; next }
    inside || expecting { body = body $0 "\n"; next }
    /^[[:space:]]*$/ { next }
    { last = "" }
  ' "$doc"
done

# A sanitized build's library needs its runtime in every process that loads it.
sanitize=$(sed -n 's/^LLMHOST_SANITIZE:STRING=//p' "$build/CMakeCache.txt")
{
  echo 'cmake_minimum_required(VERSION 3.25)'
  echo 'project(doc_examples LANGUAGES C CXX)'
  echo 'set(CMAKE_C_STANDARD 11)'
  echo 'set(CMAKE_CXX_STANDARD 20)'
  echo 'find_package(llmhost REQUIRED COMPONENTS host)'
  echo 'find_package(simdjson REQUIRED)  # the JSON library the docs parse with'
  echo 'add_compile_options(-Wall -Wextra -Werror)'
  for f in "$work"/examples/*.c "$work"/examples/*.cpp; do
    target=$(basename "$f" | tr '.' '_')
    if grep -qE '^(LLMH_PROVIDER\(|LLMH_EXPORT const llmh_provider \*llmh_provider_entry)' "$f"; then
      echo "llmhost_add_provider($target $f)"
    elif grep -qE '^int main\(' "$f"; then
      echo "add_executable($target $f)"
      echo "target_link_libraries($target PRIVATE llmhost::host)"
      [ -n "$sanitize" ] && echo "target_compile_options($target PRIVATE -fsanitize=$sanitize)" &&
        echo "target_link_options($target PRIVATE -fsanitize=$sanitize)"
    else  # helpers for the reader's own provider: static, so unused here
      echo "add_library($target OBJECT $f)"
      echo "target_link_libraries($target PRIVATE llmhost::sdk)"
      echo "target_compile_options($target PRIVATE -Wno-unused-function)"
    fi
    if grep -q '#include <simdjson.h>' "$f"; then echo "target_link_libraries($target PRIVATE simdjson::simdjson)"; fi
  done
} >"$work/examples/CMakeLists.txt"
echo "doc examples: $(ls "$work"/examples/*.c "$work"/examples/*.cpp "$work"/examples/*.py | wc -l) files"
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

# The embedders: each run against the installed plugins, its output checked when the doc shows it.
plugins="$work/prefix/lib/llmhost/plugins"
preload=""
for runtime in $(tr ',' ' ' <<<"$sanitize"); do
  case $runtime in
    address) preload+=" $(c++ -print-file-name=libasan.so)" ;;
    undefined) preload+=" $(c++ -print-file-name=libubsan.so)" ;;
    thread) preload+=" $(c++ -print-file-name=libtsan.so)" ;;
  esac
done
run_example() {  # run_example FILE COMMAND...
  local file=$1 got
  shift
  got=$("$@") || { echo "doc example $(basename "$file") failed" >&2; exit 1; }
  if [ -f "$file.expected" ] && [ "$got" != "$(cat "$file.expected")" ]; then
    echo "doc example $(basename "$file") printed:" >&2
    echo "$got" >&2
    echo "where its doc shows:" >&2
    cat "$file.expected" >&2
    exit 1
  fi
}
embedders=0
for f in "$work"/examples/*.c "$work"/examples/*.cpp; do
  grep -qE '^int main\(' "$f" || continue
  run_example "$f" env LLMHOST_PLUGIN_DIR="$plugins" "$work/out/$(basename "$f" | tr '.' '_')"
  embedders=$((embedders + 1))
done
for f in "$work"/examples/*.py; do
  [ -e "$f" ] || continue
  # Without LLMHOST_PLUGIN_DIR: the C API finds the plugins installed beside the library.
  run_example "$f" env LLMHOST_LIB="$work/prefix/lib/libllmhost.so" ${preload:+LD_PRELOAD="${preload# }"} \
    ASAN_OPTIONS=detect_leaks=0 python3 "$f"
  embedders=$((embedders + 1))
done

# An embedder needs no Boost, simdjson or libcurl headers: the embedding headers include none.
for header in llmhost/host.hpp llmhost/host.h; do
  deps=$(echo "#include <$header>" | c++ -std=c++20 -x c++ -M -I"$work/prefix/include" -)
  if grep -qE 'boost|simdjson|curl' <<<"$deps"; then
    echo "$header includes more than the standard library:" >&2
    grep -E 'boost|simdjson|curl' <<<"$deps" >&2
    exit 1
  fi
done
echo "doc examples OK: $(ls "$work"/out/lib*.so | wc -l) plugins loaded, $embedders embedders run, the rest compiled"
