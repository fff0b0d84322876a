#!/usr/bin/env bash
# Installs the build into a scratch prefix, builds tests/out_of_tree/myprov against that prefix
# only (find_package(llmhost)), and loads and calls it through the installed llmhost.
# Usage: run.sh <llmhost build dir>
set -euo pipefail
build=$1
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

cmake --install "$build" --prefix "$work/prefix" >/dev/null
# A clean environment: nothing from the source or build tree may leak in.
env -i PATH=/usr/bin:/bin HOME="$work" cmake -S "$here/myprov" -B "$work/build" -G Ninja \
  -DCMAKE_PREFIX_PATH="$work/prefix" >/dev/null
cmake --build "$work/build" >/dev/null

llmhost="$work/prefix/bin/llmhost"
"$llmhost" check "$work/build/libmyprov.so"
out=$("$llmhost" --plugins "$work/build" complete myprov/any "hello from outside")
[ "$out" = "myprov says: hello from outside" ] || { echo "unexpected reply: $out" >&2; exit 1; }
# The installed binary finds the installed bundled plugins with no flag.
env -u LLMHOST_PLUGIN_DIR "$llmhost" providers | grep -q '^echo ' || { echo "installed llmhost lacks echo" >&2; exit 1; }
echo "out-of-tree plugin OK"
