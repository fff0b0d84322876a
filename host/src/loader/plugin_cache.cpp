#include "loader/plugin_cache.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <string>
#include <system_error>

namespace llmhost::detail {

PluginCache::PluginCache(std::filesystem::path dir) {
  if (dir.empty()) {
    std::string tmpl = (std::filesystem::temp_directory_path() / "llmhost-cache-XXXXXX").string();
    if (!::mkdtemp(tmpl.data()))
      throw std::filesystem::filesystem_error("cannot create the plugin cache folder", tmpl,
                                              std::error_code(errno, std::generic_category()));
    dir_ = tmpl;
    owned_ = true;
    return;
  }
  dir_ = std::move(dir);
  owned_ = std::filesystem::create_directories(dir_);
  std::filesystem::permissions(dir_, std::filesystem::perms::owner_all, std::filesystem::perm_options::replace);
}

PluginCache::~PluginCache() {
  std::error_code ec;
  if (owned_) std::filesystem::remove_all(dir_, ec);
}

std::filesystem::path PluginCache::copy_in(const std::filesystem::path &file) {
  const auto to = dir_ / (std::to_string(next_.fetch_add(1)) + "-" + file.filename().string());
  std::filesystem::copy_file(file, to, std::filesystem::copy_options::overwrite_existing);
  return to;
}

}  // namespace llmhost::detail
