#include "loader/plugin_trust.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <string>

#include "llmhost/errors.hpp"

namespace llmhost::detail {
namespace {

void check_one(const std::filesystem::path &path, const char *what, const std::filesystem::path &file) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return;
  auto refuse = [&](const std::string &why) {
    throw LoadException({LoadErrorKind::kUntrusted, file.string(),
                         "plugin " + file.string() + ": refused: " + what + " " + path.string() + " " + why +
                             " (allow with --allow-untrusted-plugins, for development only)"});
  };
  if (st.st_mode & S_IWOTH) {
    char mode[8];
    std::snprintf(mode, sizeof mode, "%04o", static_cast<unsigned>(st.st_mode & 07777));
    refuse(std::string("is world-writable (mode ") + mode + ")");
  }
  const uid_t me = ::geteuid();
  if (st.st_uid != me && st.st_uid != 0)
    refuse("is owned by uid " + std::to_string(st.st_uid) + ", not by this user (uid " + std::to_string(me) +
           ") or root");
}

}  // namespace

void require_trusted(const std::filesystem::path &file) {
  const std::filesystem::path folder = std::filesystem::absolute(file).parent_path();
  check_one(folder, "folder", file);
  check_one(file, "file", file);
}

}  // namespace llmhost::detail
