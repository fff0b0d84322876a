// Which files in a plugin folder are plugins: every regular file (or link to one) named *.so,
// in sorted order. Hidden names (".name.so", the temporary files of rsync and of writers that
// rename into place) and names without the suffix are not plugins, wherever they appear.
#pragma once

#include <filesystem>
#include <system_error>
#include <vector>

namespace llmhost::detail {

bool is_plugin_file(const std::filesystem::path &p);
// The plugin files of `dir`, sorted by path; `ec` is set when the folder cannot be read.
std::vector<std::filesystem::path> plugin_files_in(const std::filesystem::path &dir, std::error_code &ec);

}  // namespace llmhost::detail
