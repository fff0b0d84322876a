// Watches plugin folders with inotify and reports each plugin file that settled after a
// change: written and closed, renamed in or out, or deleted. Bursts of events on one file are
// debounced into one report, and a file still open for writing is never reported, so a
// half-written build is never loaded.
//
// Content can also change behind a link, with no event on the plugin file itself; those
// changes are reported as "rescan everything": a plugin folder that is a link re-pointed to
// another folder (blue/green deploys; its parent is watched for that), and a link created or
// renamed inside a plugin folder (Kubernetes volumes re-point `..data`, which the files link
// through).
#pragma once

#include <chrono>
#include <filesystem>
#include <functional>
#include <thread>
#include <vector>

namespace llmhost::detail {

class DirWatcher {
 public:
  // A plugin file that settled, or an empty path: rescan every folder (events were lost, or
  // content changed behind a link).
  using Callback = std::function<void(const std::filesystem::path &file)>;

  // Starts watching `dirs` on a thread of its own; `on_settled` runs on that thread.
  // Throws std::system_error when inotify cannot be set up.
  DirWatcher(const std::vector<std::filesystem::path> &dirs, std::chrono::milliseconds debounce, Callback on_settled);
  ~DirWatcher();  // stops and joins the thread
  DirWatcher(const DirWatcher &) = delete;
  DirWatcher &operator=(const DirWatcher &) = delete;

 private:
  struct Folder {
    std::filesystem::path dir;   // as given: the files reported are dir / name
    std::filesystem::path name;  // its last component, as its parent's events name it
    int wd = -1;                 // on the folder the path leads to now; -1 while the path leads nowhere
    int parent_wd = -1;          // on its parent, which sees the path re-pointed
  };

  void run();
  // Moves the folder's watch to where its path leads now.
  void rewatch(Folder &folder);

  int inotify_fd_ = -1;
  int stop_fd_ = -1;  // eventfd: wakes the thread to exit
  std::chrono::milliseconds debounce_;
  Callback on_settled_;
  std::vector<Folder> folders_;
  std::thread thread_;
};

}  // namespace llmhost::detail
