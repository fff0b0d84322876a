// Token counting throughput (host/src/tokens): prose, code and CJK through each encoding, and a
// long run of one character (the case naive merging makes quadratic). Results:
// docs/benchmarks.md.
#include <benchmark/benchmark.h>

#include <string>

#include "tokens/encoding.hpp"

namespace {

using llmhost::detail::tokens::Encoding;

std::string repeat(std::string_view unit, size_t bytes) {
  std::string out;
  while (out.size() < bytes) out += unit;
  return out;
}

const std::string kProse = repeat(
    "Large language models are trained on vast corpora of text. They predict the next token, one at a time, "
    "and a gateway counts those tokens to bill, to limit and to plot them. It's 5 o'clock somewhere.\n",
    64 * 1024);
const std::string kCode =
    repeat("int main(int argc, char **argv) {\n    for (int i = 0; i < argc; ++i) printf(\"%s\\n\", argv[i]);\n}\n",
           64 * 1024);
const std::string kCjk =
    repeat("大型语言模型通过预测下一个词元来生成文本。吾輩は猫である。대규모 언어 모델", 64 * 1024);
const std::string kRun(64 * 1024, 'a');

void count(benchmark::State &state, const char *encoding, const std::string *text) {
  const Encoding &e = *Encoding::find(encoding);
  size_t tokens = 0;
  for (auto _ : state) benchmark::DoNotOptimize(tokens = e.count(*text));
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * text->size()));
  state.counters["tokens"] = static_cast<double>(tokens);
}

}  // namespace

BENCHMARK_CAPTURE(count, o200k_prose, "o200k_base", &kProse);
BENCHMARK_CAPTURE(count, cl100k_prose, "cl100k_base", &kProse);
BENCHMARK_CAPTURE(count, o200k_code, "o200k_base", &kCode);
BENCHMARK_CAPTURE(count, o200k_cjk, "o200k_base", &kCjk);
BENCHMARK_CAPTURE(count, o200k_one_char_run, "o200k_base", &kRun);
BENCHMARK_CAPTURE(count, cl100k_one_char_run, "cl100k_base", &kRun);

BENCHMARK_MAIN();
