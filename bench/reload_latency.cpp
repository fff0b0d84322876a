// Hot-reload latency: time from the writer closing a new build of a plugin file to the first
// call answered by that build, over N swaps alternating two builds ("v1"/"v2").
//
//   reload_latency <swap_v1.so> <swap_v2.so> [swaps=100]
//
// Prints p50/p90/p99/max in milliseconds. The watcher's debounce (10 ms by default) is part of
// what is measured, as an operator would see it.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "llmhost/host.hpp"

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

static std::string slurp(const fs::path &p) {
  std::ifstream in(p, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

int main(int argc, char **argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: %s <swap_v1.so> <swap_v2.so> [swaps]\n", argv[0]);
    return 2;
  }
  const std::string builds[2] = {slurp(argv[1]), slurp(argv[2])};
  const int swaps = argc > 3 ? std::atoi(argv[3]) : 100;
  const fs::path dir = fs::temp_directory_path() / ("llmhost-reload-bench-" + std::to_string(::getpid()));
  fs::create_directories(dir);
  const fs::path file = dir / "libswap.so";
  std::ofstream(file, std::ios::binary) << builds[0];

  llmhost::HostOptions options;
  options.plugin_dirs = {dir};
  options.watch = true;
  llmhost::Host host(options);
  llmhost::Request req;
  req.model = "swap/m";
  req.messages.push_back({"user", "hi", {}, {}, {}});

  std::vector<double> ms;
  for (int i = 1; i <= swaps; ++i) {
    const std::string want = i % 2 ? "v2" : "v1";
    {
      std::ofstream out(file, std::ios::binary | std::ios::trunc);
      out << builds[i % 2];
    }  // closed here: the clock starts
    const auto t0 = Clock::now();
    while (host.complete(req).content != want) {
      if (Clock::now() - t0 > std::chrono::seconds(10)) {
        std::fprintf(stderr, "swap %d: the new build never answered\n", i);
        return 1;
      }
    }
    ms.push_back(std::chrono::duration<double, std::milli>(Clock::now() - t0).count());
  }
  fs::remove_all(dir);
  std::sort(ms.begin(), ms.end());
  auto pct = [&](double p) { return ms[std::min(ms.size() - 1, static_cast<size_t>(p * ms.size()))]; };
  std::printf("swaps %d  p50 %.2f ms  p90 %.2f ms  p99 %.2f ms  max %.2f ms\n", swaps, pct(0.50), pct(0.90), pct(0.99),
              ms.back());
  return 0;
}
