// Watches plugin folders with inotify and reports each plugin file that settled after a
// change: written and closed, renamed in or out, or deleted. Bursts of events on one file are
// debounced into one report, and a file still open for writing is never reported, so a
// half-written build is never loaded.
#pragma once

#include <chrono>
#include <filesystem>
#include <functional>
#include <thread>
#include <vector>

namespace llmhost::detail {

class DirWatcher {
 public:
  using Callback = std::function<void(const std::filesystem::path &file)>;

  // Starts watching `dirs` on a thread of its own; `on_settled` runs on that thread.
  // Throws std::system_error when inotify cannot be set up.
  DirWatcher(const std::vector<std::filesystem::path> &dirs, std::chrono::milliseconds debounce, Callback on_settled);
  ~DirWatcher();  // stops and joins the thread
  DirWatcher(const DirWatcher &) = delete;
  DirWatcher &operator=(const DirWatcher &) = delete;

 private:
  void run();

  int inotify_fd_ = -1;
  int stop_fd_ = -1;  // eventfd: wakes the thread to exit
  std::chrono::milliseconds debounce_;
  Callback on_settled_;
  std::vector<std::pair<int, std::filesystem::path>> watches_;  // watch descriptor -> folder
  std::thread thread_;
};

}  // namespace llmhost::detail
