// The private folder the host loads plugin copies from. A plugin file is copied here under a
// unique name and dlopen'ed from the copy, which is unlinked right after loading (the mapping
// keeps the inode alive). So a build or `cp` rewriting the original never touches mapped code,
// dlopen never hands back an old build cached under the same path, and nothing is left behind.
#pragma once

#include <atomic>
#include <filesystem>

namespace llmhost::detail {

class PluginCache {
 public:
  // Creates `dir` (mode 0700), or a fresh folder under the system temp dir when empty.
  explicit PluginCache(std::filesystem::path dir = {});
  ~PluginCache();  // removes the folder
  PluginCache(const PluginCache &) = delete;
  PluginCache &operator=(const PluginCache &) = delete;

  const std::filesystem::path &dir() const { return dir_; }
  // Copies `file` to a new unique path in the folder and returns it. Throws
  // std::filesystem::filesystem_error when the copy fails.
  std::filesystem::path copy_in(const std::filesystem::path &file);

 private:
  std::filesystem::path dir_;
  bool owned_ = false;  // created by us: removed on destruction
  std::atomic<uint64_t> next_{0};
};

}  // namespace llmhost::detail
