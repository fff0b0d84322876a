// Where plugins are found by default, and which files in a folder count as plugins.
#include "loader/plugin_dirs.hpp"

#include <algorithm>
#include <boost/dll/runtime_symbol_info.hpp>
#include <cstdlib>

#include "llmhost/host.hpp"

namespace llmhost {

std::vector<std::filesystem::path> Host::default_plugin_dirs() {
  if (const char *env = std::getenv("LLMHOST_PLUGIN_DIR"); env && *env) return {env};
  boost::dll::fs::error_code ec;
  const std::filesystem::path exe_dir = boost::dll::program_location(ec).parent_path().string();
  std::error_code fs_ec;
  const auto build_tree = exe_dir / ".." / "plugins";
  if (std::filesystem::is_directory(build_tree, fs_ec)) return {build_tree.lexically_normal()};
  return {(exe_dir / ".." / LLMHOST_INSTALL_PLUGIN_DIR).lexically_normal()};
}

namespace detail {

bool is_plugin_file(const std::filesystem::path &p) {
  const std::string name = p.filename().string();
  return !name.empty() && name.front() != '.' && p.extension() == ".so";
}

std::vector<std::filesystem::path> plugin_files_in(const std::filesystem::path &dir, std::error_code &ec) {
  std::vector<std::filesystem::path> files;
  for (std::filesystem::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    std::error_code type_ec;
    if (it->is_regular_file(type_ec) && is_plugin_file(it->path())) files.push_back(it->path());
  }
  std::sort(files.begin(), files.end());
  return files;
}

}  // namespace detail
}  // namespace llmhost
