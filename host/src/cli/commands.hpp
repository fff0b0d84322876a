// The CLI's commands, each a function from parsed options to an exit code:
// 0 success, 1 the call failed (message on stderr), 2 usage error.
#pragma once

#include <filesystem>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "llmhost/host.hpp"

namespace llmhost::cli {

enum ExitCode { kOk = 0, kCallFailed = 1, kUsage = 2 };

// Options shared by every command that talks to providers.
struct CallOptions {
  std::string model;
  std::vector<std::string> params;  // KEY=VALUE
  std::string system;
  std::string api_key, api_base;
  double timeout_s = 0;
  bool json = false;
  bool text = false;  // complete, stream: a text completion of the prompt (/v1/completions), not a chat
};

int run_providers(Host &host, bool json);
int run_complete(Host &host, const CallOptions &opts, const std::string &prompt);
int run_stream(Host &host, const CallOptions &opts, const std::string &prompt);
int run_embed(Host &host, const CallOptions &opts, const std::vector<std::string> &texts);
// Prints each result as "INDEX SCORE DOCUMENT", best first; --json: the rerank answer.
int run_rerank(Host &host, const CallOptions &opts, const std::string &query, const std::vector<std::string> &documents,
               std::optional<size_t> top_n);
// What `llmhost image` makes: images of a prompt, or (with `edit`, the files to change) an edit.
struct ImageOptions {
  std::string prompt, size;
  int64_t n = 1;
  std::filesystem::path out;
  std::vector<std::filesystem::path> edit;
};
// Generates (or edits) images and writes them to `out` (the first; the others beside it, with
// "-2", "-3", ... before the extension); prints each path. --json: the images answer instead.
int run_image(Host &host, const CallOptions &opts, const ImageOptions &image);
int run_check(const std::filesystem::path &file, bool allow_untrusted);

// A malformed command line the parser could not catch (a bad --param): exit code 2.
struct UsageError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// Builds the Request for MODEL with --param/--system etc. applied. Throws UsageError for a
// malformed --param.
Request make_request(const CallOptions &opts);

}  // namespace llmhost::cli
