// Every way an operator lands a new build on a plugin file, for the hot-reload stress tests
// (tests/loader/reload_test.cpp in process, tests/proxy/reload_test.cpp through llmhost serve).
#pragma once

#include <filesystem>
#include <string>
#include <string_view>

#include "support.hpp"

namespace test {

enum class Swap {
  kWriteInPlace,    // truncate and write the file, in two halves with a pause between
  kCopyOver,        // cp over
  kRenameOver,      // write a hidden temporary file beside it, then mv it over
  kInstall,         // GNU install: unlinks the file, then creates it
  kRemoveThenCopy,  // rm, then cp
  kFolderSwap,      // a copy of the whole folder with the new build, the folder's link re-pointed to it
};
inline constexpr Swap kEverySwap[] = {Swap::kWriteInPlace, Swap::kCopyOver,       Swap::kRenameOver,
                                      Swap::kInstall,      Swap::kRemoveThenCopy, Swap::kFolderSwap};
std::string_view to_string(Swap swap);

// A plugin folder reached through a link, `dir()` (root/plugins -> root/blue), as blue/green
// deploys and Kubernetes volumes lay it out: a folder swap re-points the link atomically.
class SwapFolder {
 public:
  SwapFolder();
  fs::path dir() const { return root_.path() / "plugins"; }
  fs::path file(const std::string &name) const { return dir() / name; }

  // Lands `build` on file `name` of the folder, the way `swap` does.
  void land(Swap swap, const fs::path &build, const std::string &name);
  // Renames file `name` away (out of the folder's plugin files) and back after `away`.
  void rename_away_and_back(const std::string &name, std::chrono::milliseconds away);

 private:
  TempDir root_;
  bool blue_ = true;  // where the link leads now
};

}  // namespace test
