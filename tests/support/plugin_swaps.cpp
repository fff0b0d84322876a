#include "plugin_swaps.hpp"

#include <fstream>
#include <iterator>
#include <thread>

namespace test {
namespace {

std::string slurp(const fs::path &p) {
  std::ifstream in(p, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

void write_in_place(const fs::path &from, const fs::path &to) {
  const std::string bytes = slurp(from);
  std::ofstream out(to, std::ios::binary | std::ios::trunc);
  // Two writes with a pause between: a half-written file must never be loaded.
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size() / 2)).flush();
  std::this_thread::sleep_for(std::chrono::milliseconds(2));
  out.write(bytes.data() + bytes.size() / 2, static_cast<std::streamsize>(bytes.size() - bytes.size() / 2));
}

void run(const std::string &command) { REQUIRE_MESSAGE(std::system(command.c_str()) == 0, command); }

std::string quoted(const fs::path &p) { return "'" + p.string() + "'"; }

}  // namespace

std::string_view to_string(Swap swap) {
  switch (swap) {
    case Swap::kWriteInPlace: return "write in place";
    case Swap::kCopyOver: return "cp over";
    case Swap::kRenameOver: return "mv over";
    case Swap::kInstall: return "install";
    case Swap::kRemoveThenCopy: return "rm + cp";
    case Swap::kFolderSwap: return "folder swap";
  }
  return "?";
}

SwapFolder::SwapFolder() {
  fs::create_directory(root_.path() / "blue");
  fs::create_directory(root_.path() / "green");
  fs::create_directory_symlink("blue", dir());
}

void SwapFolder::land(Swap swap, const fs::path &build, const std::string &name) {
  const fs::path to = file(name);
  switch (swap) {
    case Swap::kWriteInPlace: return write_in_place(build, to);
    case Swap::kCopyOver: return run("cp " + quoted(build) + " " + quoted(to));
    case Swap::kRenameOver: {
      const fs::path tmp = dir() / ("." + name + ".tmp.so");  // hidden: never loaded itself
      fs::copy_file(build, tmp, fs::copy_options::overwrite_existing);
      return fs::rename(tmp, to);
    }
    case Swap::kInstall: return run("install -m 755 " + quoted(build) + " " + quoted(to));
    case Swap::kRemoveThenCopy: return run("rm " + quoted(to) + " && cp " + quoted(build) + " " + quoted(to));
    case Swap::kFolderSwap: {
      const fs::path next = root_.path() / (blue_ ? "green" : "blue");
      fs::remove_all(next);
      fs::create_directory(next);
      for (const auto &entry : fs::directory_iterator(dir()))
        if (entry.path().filename() != name) fs::copy_file(entry.path(), next / entry.path().filename());
      fs::copy_file(build, next / name);
      const fs::path link = root_.path() / ".plugins.next";
      fs::create_directory_symlink(next.filename(), link);
      fs::rename(link, dir());  // atomic: the folder is either all old or all new
      blue_ = !blue_;
      return;
    }
  }
}

void SwapFolder::rename_away_and_back(const std::string &name, std::chrono::milliseconds away) {
  const fs::path aside = dir() / (name + ".disabled");
  fs::rename(file(name), aside);
  std::this_thread::sleep_for(away);
  fs::rename(aside, file(name));
}

}  // namespace test
