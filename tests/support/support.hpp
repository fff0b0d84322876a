// Test support: where the built plugins and CLI are, scratch folders, running a command.
#pragma once

#include <sys/types.h>

#include <doctest/doctest.h>

#include <chrono>
#include <filesystem>
#include <string>
#include <vector>

#include "isolation/messages.hpp"
#include "llmhost/host.hpp"

namespace test {

namespace fs = std::filesystem;

// The bound for "it did not wait for the long timer the test set up" (5 s and more): loose
// enough that a loaded machine or a sanitizer never trips it. Speed is measured in bench/.
inline constexpr std::chrono::seconds kSoon{3};

inline fs::path test_plugin(const std::string &file) { return fs::path(LLMHOST_TEST_PLUGINS) / file; }
inline fs::path bundled_plugins() { return LLMHOST_BUNDLED_PLUGINS; }
inline fs::path cli() { return LLMHOST_CLI; }

// A fresh folder under the system temp dir, removed with everything in it on destruction.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir &) = delete;
  TempDir &operator=(const TempDir &) = delete;
  const fs::path &path() const { return path_; }
  // Copies `file` into the folder (under `as`, default its own name); returns the new path.
  fs::path add(const fs::path &file, const std::string &as = {}) const;

 private:
  fs::path path_;
};

// A Host over exactly the given folders. Its plugins run where $LLMHOST_TEST_ISOLATION says:
// "process", each in a worker process; unset, in process. So one suite proves both modes
// (tests/CMakeLists.txt runs the suites that matter in each).
llmhost::HostOptions options_for(std::vector<fs::path> dirs);
// Whether this run isolates plugins ($LLMHOST_TEST_ISOLATION=process).
bool isolated();

// Runs `fn`, expecting llmhost::Error; returns it.
template <class Fn>
llmhost::Error error_of(Fn fn) {
  try {
    fn();
  } catch (const llmhost::Error &e) {
    return e;
  }
  FAIL("no llmhost::Error thrown");
  return llmhost::Error(0, "");
}

// A chat request with one user message.
llmhost::Request chat(const std::string &model, const std::string &prompt, const std::string &extra_json = {});

// A call frame's payload as the host sends it to an isolated plugin's worker: `request` laid out
// as a plugin sees it (its body built and checked as the host would), for `model`.
std::string call_payload(llmhost::isolation::CallKind kind, std::string_view model, const llmhost::Request &request);

struct RunResult {
  int exit_code = -1;
  std::string out;
  std::string err;
};

// Starts `argv` (argv[0] is the program path) with `env` added to the environment and its
// stdout/stderr on the given descriptors. Never goes through a shell. Throws on failure.
pid_t spawn(const std::vector<std::string> &argv, const std::vector<std::string> &env, int out_fd, int err_fd);

// Runs `argv` like spawn(), capturing stdout and stderr, and waits for it.
RunResult run(const std::vector<std::string> &argv, const std::vector<std::string> &env = {});

}  // namespace test
