// Token counting (host/src/tokens), one benchmark per text of $LLMHOST_BENCH_TEXTS and
// encoding, named count/<encoding>/<file>, with the count as counter "tokens"; plus a 64 KiB
// run of one character (the case naive merging makes quadratic), which tiktoken is not run on.
// bench/tokens/run.sh writes the texts and sets the ratio beside tiktoken (docs/benchmarks.md).
#include <benchmark/benchmark.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "tokens/encoding.hpp"

namespace {

using llmhost::detail::tokens::Encoding;

void count(benchmark::State &state, const Encoding *e, const std::string *text) {
  size_t tokens = 0;
  for (auto _ : state) benchmark::DoNotOptimize(tokens = e->count(*text));
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * text->size()));
  state.counters["tokens"] = static_cast<double>(tokens);
}

}  // namespace

int main(int argc, char **argv) {
  std::vector<std::pair<std::string, std::string>> texts;  // file name, contents
  if (const char *dir = std::getenv("LLMHOST_BENCH_TEXTS")) {
    for (const auto &entry : std::filesystem::directory_iterator(dir)) {
      std::ifstream in(entry.path(), std::ios::binary);
      texts.emplace_back(entry.path().filename().string(),
                         std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()));
    }
  }
  texts.emplace_back("one_char_run_64k", std::string(64 * 1024, 'a'));
  for (std::string_view name : Encoding::names()) {
    const Encoding *e = Encoding::find(name);  // loaded here, not in the first measurement
    for (const auto &[file, text] : texts)
      benchmark::RegisterBenchmark(("count/" + std::string(name) + "/" + file).c_str(), count, e, &text);
  }
  benchmark::Initialize(&argc, argv);
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
}
