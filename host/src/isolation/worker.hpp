// The worker side of an isolated plugin: `llmhost __worker`, started by the host's supervisor
// with one end of a socketpair. It loads the plugin with the same loader and host services as
// the host (logs go back as frames; the HTTP service runs here), announces it, then runs the
// calls the host sends, several at once, until the host closes the channel or dies.
#pragma once

#include <filesystem>
#include <string>

namespace llmhost::isolation {

struct WorkerOptions {
  int fd = -1;                                   // the channel; owned by the worker from here on
  std::filesystem::path file;                    // the plugin file to load (the supervisor's private copy)
  std::filesystem::path shown_as;                // the file errors name (the one in the plugin folder); empty: `file`
  size_t max_memory_mb = 0;                      // the address space the plugin may use (RLIMIT_AS); 0 = no cap
  std::string default_encoding = "cl100k_base";  // llmhost.tokens.v1's for unknown models (the Host's)
};

// Reads the plugin's config (the host's first frame), loads the plugin and serves until the
// channel closes. Returns the process exit code: 0 when the host closed the channel, 2 when the
// plugin did not load (the hello said why), 3 when the host sent a frame that is not one.
int run_worker(const WorkerOptions &options);

}  // namespace llmhost::isolation
