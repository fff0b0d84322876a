#include "loader/dir_watcher.hpp"

#include <poll.h>
#include <sys/eventfd.h>
#include <sys/inotify.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <map>
#include <system_error>

#include "loader/plugin_dirs.hpp"

namespace llmhost::detail {
namespace {

using Clock = std::chrono::steady_clock;

// A writer that keeps a file open without touching it for this long is taken as done (a
// crashed writer, a hard link); the full validation before a swap still guards the load.
constexpr auto kStaleWriter = std::chrono::seconds(2);

constexpr uint32_t kMask = IN_CREATE | IN_MODIFY | IN_CLOSE_WRITE | IN_MOVED_TO | IN_MOVED_FROM | IN_DELETE;

struct Pending {
  bool writing = false;   // open for writing: wait for IN_CLOSE_WRITE
  Clock::time_point due;  // report at this time unless more events come
};

[[noreturn]] void fail(const char *what) { throw std::system_error(errno, std::generic_category(), what); }

}  // namespace

DirWatcher::DirWatcher(const std::vector<std::filesystem::path> &dirs, std::chrono::milliseconds debounce,
                       Callback on_settled)
    : debounce_(debounce), on_settled_(std::move(on_settled)) {
  inotify_fd_ = ::inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
  if (inotify_fd_ < 0) fail("inotify_init1");
  stop_fd_ = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (stop_fd_ < 0) {
    ::close(inotify_fd_);
    fail("eventfd");
  }
  for (const auto &dir : dirs) {
    const int wd = ::inotify_add_watch(inotify_fd_, dir.c_str(), kMask | IN_ONLYDIR);
    if (wd >= 0) watches_.emplace_back(wd, dir);  // a missing folder is already a load error
  }
  thread_ = std::thread([this] { run(); });
}

DirWatcher::~DirWatcher() {
  const uint64_t one = 1;
  [[maybe_unused]] ssize_t n = ::write(stop_fd_, &one, sizeof one);
  thread_.join();
  ::close(inotify_fd_);
  ::close(stop_fd_);
}

void DirWatcher::run() {
  std::map<std::filesystem::path, Pending> pending;
  alignas(inotify_event) char buf[16 * 1024];
  for (;;) {
    // Sleep until the earliest report is due, or an event arrives.
    int timeout_ms = -1;
    const auto now = Clock::now();
    for (const auto &[file, p] : pending) {
      const auto at = std::max(p.due, now);
      const auto ms = std::chrono::ceil<std::chrono::milliseconds>(at - now).count();
      timeout_ms = timeout_ms < 0 ? static_cast<int>(ms) : std::min(timeout_ms, static_cast<int>(ms));
    }
    pollfd fds[2] = {{inotify_fd_, POLLIN, 0}, {stop_fd_, POLLIN, 0}};
    if (::poll(fds, 2, timeout_ms) < 0 && errno != EINTR) return;
    if (fds[1].revents) return;

    if (fds[0].revents & POLLIN) {
      for (;;) {
        const ssize_t len = ::read(inotify_fd_, buf, sizeof buf);
        if (len <= 0) break;
        for (ssize_t off = 0; off < len;) {
          const auto *ev = reinterpret_cast<const inotify_event *>(buf + off);
          off += static_cast<ssize_t>(sizeof(inotify_event) + ev->len);
          if (ev->mask & IN_Q_OVERFLOW) {
            on_settled_({});  // events were lost: the owner rescans everything
            continue;
          }
          auto dir = std::find_if(watches_.begin(), watches_.end(), [&](auto &w) { return w.first == ev->wd; });
          if (dir == watches_.end() || ev->len == 0) continue;
          const std::filesystem::path file = dir->second / ev->name;
          if (!is_plugin_file(file)) continue;
          Pending &p = pending[file];
          const auto t = Clock::now();
          if (ev->mask & (IN_CREATE | IN_MODIFY)) {
            p.writing = true;
            p.due = t + kStaleWriter;
          } else {  // closed after writing, renamed in or out, deleted: settled soon
            p.writing = false;
            p.due = t + debounce_;
          }
        }
      }
    }

    const auto t = Clock::now();
    for (auto it = pending.begin(); it != pending.end();) {
      if (it->second.due <= t) {
        const std::filesystem::path file = it->first;
        it = pending.erase(it);
        on_settled_(file);
      } else {
        ++it;
      }
    }
  }
}

}  // namespace llmhost::detail
