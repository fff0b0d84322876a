// Runs a fuzz target's LLVMFuzzerTestOneInput over files, without libFuzzer: the regression
// replay of the normal build.
//   replay_<target> CORPUS [REGRESSIONS...]
// CORPUS must be a folder holding at least one input: a replay over nothing would pass while
// proving nothing (a renamed folder, a checkout without it). The other folders may be missing
// (a target gets regressions/<target>/ only once a fuzzer found a crash in it). Every regular
// file not hidden is replayed, sorted. A crash or a broken invariant aborts, failing the test.
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

namespace fs = std::filesystem;

namespace {

size_t add_inputs(const fs::path &dir, std::vector<fs::path> &files) {
  size_t n = 0;
  for (const auto &e : fs::directory_iterator(dir))
    if (e.is_regular_file() && e.path().filename().string()[0] != '.') {
      files.push_back(e.path());
      ++n;
    }
  return n;
}

}  // namespace

int main(int argc, char **argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s CORPUS [REGRESSIONS...]\n", argv[0]);
    return 2;
  }
  std::vector<fs::path> files;
  std::error_code ec;
  if (!fs::is_directory(argv[1], ec) || add_inputs(argv[1], files) == 0) {
    std::fprintf(stderr, "fuzz replay: the corpus folder %s is missing or holds no input\n", argv[1]);
    return 1;
  }
  for (int i = 2; i < argc; ++i)
    if (fs::is_directory(argv[i], ec)) add_inputs(argv[i], files);
  std::sort(files.begin(), files.end());
  for (const fs::path &f : files) {
    std::ifstream in(f, std::ios::binary);
    const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    std::fprintf(stderr, "replay %s (%zu bytes)\n", f.c_str(), bytes.size());
    LLVMFuzzerTestOneInput(reinterpret_cast<const uint8_t *>(bytes.data()), bytes.size());
  }
  std::printf("replayed %zu inputs\n", files.size());
  return 0;
}
