#include "loader/dir_watcher.hpp"

#include <poll.h>
#include <sys/eventfd.h>
#include <sys/inotify.h>
#include <sys/stat.h>
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
// On a plugin folder's parent: only its entries coming and going (the folder's path re-pointed).
// IN_MASK_ADD: a parent that is a plugin folder too keeps its full mask.
constexpr uint32_t kParentMask = IN_CREATE | IN_MOVED_TO | IN_MOVED_FROM | IN_DELETE | IN_ONLYDIR | IN_MASK_ADD;

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
    Folder f;
    f.dir = dir;
    f.wd = ::inotify_add_watch(inotify_fd_, dir.c_str(), kMask | IN_ONLYDIR | IN_MASK_ADD);  // missing: a load error
    const std::filesystem::path path = dir.has_filename() ? dir : dir.parent_path();         // "plugins/" is "plugins"
    f.name = path.filename();
    if (!f.name.empty() && f.name != "." && f.name != "..") {
      const std::filesystem::path parent = path.has_parent_path() ? path.parent_path() : ".";
      f.parent_wd = ::inotify_add_watch(inotify_fd_, parent.c_str(), kParentMask);
    }
    folders_.push_back(std::move(f));
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

void DirWatcher::rewatch(Folder &folder) {
  const int old = folder.wd;
  folder.wd = ::inotify_add_watch(inotify_fd_, folder.dir.c_str(), kMask | IN_ONLYDIR | IN_MASK_ADD);
  if (old < 0 || old == folder.wd) return;
  const bool shared =
      std::any_of(folders_.begin(), folders_.end(), [&](const Folder &f) { return f.wd == old || f.parent_wd == old; });
  if (!shared) ::inotify_rm_watch(inotify_fd_, old);
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

    // Read even when poll only timed out: an event that came since (a writer opening the file
    // again) must be seen before the file is reported.
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
        if (ev->len == 0) continue;
        const auto t = Clock::now();
        for (Folder &f : folders_) {
          if (ev->wd == f.parent_wd && f.name == ev->name) {
            rewatch(f);  // the folder's path was re-pointed: watch where it leads now
            pending[{}].due = t + debounce_;
          }
          if (ev->wd != f.wd) continue;
          const std::filesystem::path file = f.dir / ev->name;
          struct stat st {};
          if (is_plugin_file(file)) {
            Pending &p = pending[file];
            if (ev->mask & (IN_CREATE | IN_MODIFY)) {
              p.writing = true;
              p.due = t + kStaleWriter;
            } else {  // closed after writing, renamed in or out, deleted: settled soon
              p.writing = false;
              p.due = t + debounce_;
            }
          } else if ((ev->mask & (IN_CREATE | IN_MOVED_TO)) && ::lstat(file.c_str(), &st) == 0 && S_ISLNK(st.st_mode)) {
            pending[{}].due = t + debounce_;  // a link that plugin files may lead through
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
