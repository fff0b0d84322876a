#!/usr/bin/env bash
# llmhost's tokenizer beside tiktoken (npm, WASM) on the same texts, in one run: microseconds
# per count and the ratio. Builds tokens_bench (Release) in build-bench/ and installs tiktoken
# here with npm ci. Usage: bench/tokens/run.sh   (results: docs/benchmarks.md)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/../../scripts/deps.sh"
llmhost_install_deps
build="$LLMHOST_ROOT/build-bench"
llmhost_configure "$build" -DCMAKE_BUILD_TYPE=Release -DLLMHOST_BUILD_BENCH=ON
cmake --build "$build" --target tokens_bench
(cd "$here" && npm ci --no-audit --no-fund --silent)

texts=$(mktemp -d)
trap 'rm -rf "$texts"' EXIT
python3 - "$texts" <<'PY'
import sys
d = sys.argv[1]
def fill(unit, size):
    return (unit * (size // len(unit) + 1))[:size]
prompt = ("You are a helpful assistant. Summarise the following report in three bullet points, "
          "keeping every number: In Q3 2026 revenue rose 12.5% to $4.2M, while costs fell 3%. "
          "The team shipped 14 releases, closed 231 issues and onboarded 3 new customers in the EU. ")
open(f"{d}/prompt_1k.txt", "w").write(fill(prompt, 1024))
open(f"{d}/prose_64k.txt", "w").write(fill("Large language models are trained on vast corpora of text. They predict "
    "the next token, one at a time, and a gateway counts those tokens to bill, to limit and to plot them. "
    "It's 5 o'clock somewhere.\n", 65536))
open(f"{d}/code_64k.txt", "w").write(fill("int main(int argc, char **argv) {\n    for (int i = 0; i < argc; ++i) "
    "printf(\"%s\\n\", argv[i]);\n}\n", 65536))
open(f"{d}/cjk_64k.txt", "w", encoding="utf-8").write(fill("大型语言模型通过预测下一个词元来生成文本。吾輩は猫である。대규모 언어 모델 ", 21000))
PY

ours=$(mktemp)
LLMHOST_BENCH_TEXTS=$texts "$build/bin/tokens_bench" --benchmark_min_time=0.5 --benchmark_format=csv 2>/dev/null >"$ours"
theirs=$(node "$here/tiktoken_wasm.mjs" "$texts")
# Our counts must equal tiktoken's for the ratio to mean anything.
printf '%-14s %-12s %8s %8s %12s %12s %7s\n' text encoding bytes tokens "llmhost µs" "tiktoken µs" ratio
while read -r file enc bytes tokens us; do
  # Google Benchmark's csv: name,iterations,real_time,cpu_time,time_unit,...,tokens (a counter).
  read -r mine mine_tokens < <(awk -F, -v n="\"count/$enc/$file\"" '
    NR == 1 { for (i = 1; i <= NF; ++i) if ($i == "\"tokens\"") col = i }
    $1 == n { print $3 / 1000, $col }' "$ours")
  [ "$mine_tokens" = "$tokens" ] || { echo "token counts differ on $file/$enc: $mine_tokens vs $tokens" >&2; exit 1; }
  ratio=$(awk -v a="$us" -v b="$mine" 'BEGIN { printf "%.2f", a / b }')
  printf '%-14s %-12s %8s %8s %12.2f %12.2f %6sx\n' "$file" "$enc" "$bytes" "$tokens" "$mine" "$us" "$ratio"
done <<<"$theirs"
grep '"count/.*/one_char_run_64k"' "$ours" | awk -F, '{ printf "%s: %.1f µs (llmhost only)\n", $1, $3 / 1000 }'
