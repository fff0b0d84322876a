#include "isolation/supervisor.hpp"

#include <poll.h>
#include <pthread.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <climits>

#include "dispatch/abi_call.hpp"
#include "isolation/channel_watch.hpp"
#include "loader/plugin.hpp"

namespace llmhost::isolation {
namespace {

constexpr const char *kCrashed = "plugin_crashed";
constexpr const char *kUnavailable = "provider_unavailable";
// How often calls in flight are checked for a cancel and for a hang; with none, how long the
// thread sleeps between looks (a call started meanwhile is checked on the next one).
constexpr int kWatchMs = 10, kIdleMs = 100;
// Cancels are not sent this close to a call's deadline (watch_calls).
constexpr int64_t kDeadlineMarginNs = 100'000'000;
// How long a worker whose channel closed, or that is asked to stop, has to exit by itself.
constexpr int kExitGraceMs = 2000;

int64_t now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

LoadErrorKind kind_named(std::string_view name) {
  for (LoadErrorKind k : {LoadErrorKind::kNotFound, LoadErrorKind::kNotSharedLibrary, LoadErrorKind::kMissingEntry,
                          LoadErrorKind::kAbiMismatch, LoadErrorKind::kInvalidDescriptor, LoadErrorKind::kInvalidName,
                          LoadErrorKind::kCreateFailed, LoadErrorKind::kUntrusted})
    if (to_string(k) == name) return k;
  return LoadErrorKind::kCreateFailed;
}

std::string seconds(std::chrono::milliseconds d) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f s", static_cast<double>(d.count()) / 1000.0);
  return buf;
}

}  // namespace

Supervisor::Supervisor(std::filesystem::path file, std::filesystem::path plugin_copy, ConfigFn config_for,
                       SupervisorSettings settings, LogFn log)
    : file_(std::move(file)),
      copy_(std::move(plugin_copy)),
      config_for_(std::move(config_for)),
      settings_(std::move(settings)),
      log_(std::move(log)) {
  wake_fd_ = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  Launch first = launch(hello_);
  if (!first.worker) {
    std::error_code ec;
    std::filesystem::remove(copy_, ec);
    ::close(wake_fd_);
    throw LoadException(LoadError{first.kind, file_.string(),
                                  first.whole ? first.error : "plugin " + file_.string() + ": " + first.error});
  }
  worker_ = std::move(first.worker);
  state_ = State::kRunning;
  thread_ = std::thread([this] {
    ::pthread_setname_np(::pthread_self(), "llmh-supervise");
    run();
  });
}

Supervisor::~Supervisor() {
  {
    std::lock_guard lock(mu_);
    state_ = State::kStopping;
  }
  changed_.notify_all();
  wake();
  thread_.join();
  worker_died("", "");  // fails whatever call was still waiting for a worker (none should be)
  std::error_code ec;
  std::filesystem::remove(copy_, ec);
  ::close(wake_fd_);
}

void Supervisor::wake() {
  const uint64_t one = 1;
  [[maybe_unused]] const ssize_t n = ::write(wake_fd_, &one, sizeof one);
}

Supervisor::Launch Supervisor::launch(HelloMessage &hello) {
  Launch out;
  try {
    out.worker = std::make_shared<WorkerProcess>(WorkerCommand{
        settings_.executable, copy_, file_, settings_.max_memory_mb, settings_.hang_grace, settings_.default_encoding});
  } catch (const std::system_error &e) {
    out.error = std::string("cannot start its worker process: ") + e.what();
    out.worker.reset();
    return out;
  }
  {
    std::lock_guard lock(mu_);
    ++starts_;
  }
  WorkerProcess &w = *out.worker;

  reader_ = FrameReader();
  const int64_t deadline = now_ns() + std::chrono::nanoseconds(settings_.start_timeout).count();
  auto give_up = [&](std::string why) {
    w.kill();
    const WorkerExit exit = w.wait();
    out.error = std::move(why);
    if (out.error.empty()) out.error = "its worker process " + exit.describe() + " while loading the plugin";
    out.worker.reset();
    return std::move(out);
  };
  char buf[64 * 1024];
  for (;;) {
    Frame f;
    const FrameReader::Status status = reader_.next(f);
    if (status == FrameReader::Status::kBad) return give_up("its worker sent a malformed frame: " + reader_.error());
    if (status == FrameReader::Status::kFrame) {
      if (f.type == FrameType::kLog) {
        std::string why;
        if (!handle(f, why)) return give_up("its worker " + why);
        continue;
      }
      if (f.type != FrameType::kHello || !decode_hello(f.payload, hello))
        return give_up("its worker sent something other than its hello");
      if (hello.needs_config) {
        if (!detail::valid_provider_name(hello.info.name))
          return give_up("its worker asked for the config of an invalid provider name");
        std::string setup;
        encode_setup(setup, config_for_(hello.info.name));
        w.send(FrameType::kHello, 0, setup);
        continue;
      }
      if (!hello.ok) {  // its own words name the file
        Launch failed = give_up(hello.error_message);
        failed.kind = kind_named(hello.error_kind);
        failed.whole = true;
        return failed;
      }
      if (!detail::valid_provider_name(hello.info.name) || (hello.info.capabilities & ~kAllCapabilities) != 0)
        return give_up("its worker described the plugin in a way no valid plugin is described");
      return out;
    }
    const int64_t left_ms = (deadline - now_ns()) / 1'000'000;
    if (left_ms <= 0)
      return give_up("its worker did not load the plugin within " + seconds(settings_.start_timeout) +
                     " (create() hangs?)");
    pollfd fds[2] = {{w.channel(), POLLIN, 0}, {wake_fd_, POLLIN, 0}};
    ::poll(fds, 2, static_cast<int>(std::min<int64_t>(left_ms, INT_MAX)));
    if (fds[1].revents) {
      std::lock_guard lock(mu_);
      if (state_ == State::kStopping) return give_up("the host is stopping");
    }
    if (!fds[0].revents) continue;
    const ssize_t n = ::read(w.channel(), buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return give_up({});  // it died loading the plugin
    reader_.feed(std::string_view(buf, static_cast<size_t>(n)));
  }
}

void Supervisor::run() {
  for (;;) {
    const Ending ending = serve();
    if (ending.stopping) return;
    worker_died(ending.reason, ending.message);
    for (;;) {  // until a worker serves again, or the host stops
      {
        std::unique_lock lock(mu_);
        changed_.wait_until(lock, restart_at_, [this] { return state_ == State::kStopping; });
        if (state_ == State::kStopping) return;
        state_ = State::kStarting;
      }
      HelloMessage hello;
      Launch next = launch(hello);
      if (next.worker && hello.info.name != hello_.info.name) {
        next.worker.reset();
        next.error = "its worker loaded provider \"" + hello.info.name + "\" instead of \"" + hello_.info.name + "\"";
      }
      if (!next.worker) {
        worker_died("start", next.error);
        continue;
      }
      std::vector<std::pair<uint64_t, std::string>> waiting;
      {
        std::lock_guard lock(mu_);
        if (state_ == State::kStopping) return;
        worker_ = next.worker;
        state_ = State::kRunning;
        for (auto &[id, entry] : calls_)
          if (!entry.frame.empty()) waiting.emplace_back(id, std::move(entry.frame));
      }
      log_(LLMH_LOG_INFO, hello_.info.name, "worker pid " + std::to_string(next.worker->pid()) + " serves again");
      for (auto &[id, frame] : waiting) next.worker->send(FrameType::kCall, id, frame);
      break;
    }
  }
}

Supervisor::Read Supervisor::read_channel(WorkerProcess &w, std::string &why) {
  char buf[64 * 1024];
  for (int reads = 0; reads < 16; ++reads) {  // then the watch, or the loop, has its turn
    const ssize_t n = ::recv(w.channel(), buf, sizeof buf, MSG_DONTWAIT);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return Read::kMore;
    if (n <= 0) return Read::kClosed;  // it closed its end: it is exiting, or broken
    reader_.feed(std::string_view(buf, static_cast<size_t>(n)));
    Frame f;
    for (FrameReader::Status status; (status = reader_.next(f)) != FrameReader::Status::kNeedMore;) {
      if (status == FrameReader::Status::kBad)
        why = "sent a malformed frame: " + reader_.error();
      else if (handle(f, why))
        continue;
      w.kill();
      return Read::kKilled;
    }
  }
  return Read::kMore;
}

Supervisor::Ending Supervisor::serve() {
  std::shared_ptr<WorkerProcess> w;
  {
    std::lock_guard lock(mu_);
    w = worker_;
  }
  std::optional<Ending> killed;  // why the host killed it, when it did
  bool stopping = false;
  int64_t stop_deadline = 0;
  // Reading on the host's I/O loop: the watch's verdict, once it stopped by itself.
  std::shared_ptr<ChannelWatch> watch;
  std::atomic<bool> watch_ended{false};
  Read watch_read = Read::kMore;  // written by the watch before watch_ended, read after stop()
  std::string watch_why;
  if (settings_.reader)
    watch = ChannelWatch::start(settings_.reader, w->channel(), [&] {
      watch_read = read_channel(*w, watch_why);
      if (watch_read == Read::kMore) return true;
      watch_ended = true;
      wake();
      return false;
    });
  const auto untrusted = [](const std::string &why) {
    return Ending{"protocol", "was killed because it " + why, false};
  };
  // What a read found, for the loop: false when the worker ends now.
  const auto after = [&](Read read, std::string &why) {
    if (read == Read::kMore) return true;
    if (read == Read::kKilled) {
      killed = untrusted(why);
      return false;
    }
    pollfd exited{w->pidfd(), POLLIN, 0};
    if (::poll(&exited, 1, kExitGraceMs) == 0 && !stopping)
      killed = Ending{"protocol", "was killed because it closed its channel", false};
    w->kill();
    return false;
  };
  for (;;) {
    bool idle;
    {
      std::lock_guard lock(mu_);
      idle = calls_.empty();
      if (state_ == State::kStopping && !stopping) {
        stopping = true;
        stop_deadline = now_ns() + int64_t{kExitGraceMs} * 1'000'000;
        w->close_channel();
      }
    }
    if (stopping && now_ns() > stop_deadline) w->kill();
    // The channel is polled here only when no watch reads it.
    pollfd fds[3] = {{w->pidfd(), POLLIN, 0}, {wake_fd_, POLLIN, 0}, {w->channel(), POLLIN, 0}};
    ::poll(fds, watch ? 2 : 3, idle && !stopping ? kIdleMs : kWatchMs);
    if (fds[1].revents) {
      uint64_t count;
      [[maybe_unused]] const ssize_t r = ::read(wake_fd_, &count, sizeof count);
    }
    if (watch && (fds[0].revents || watch_ended)) {
      watch->stop();  // the channel is this thread's from here on
      if (watch_ended && !after(watch_read, watch_why)) break;
      watch.reset();
    }
    if (fds[0].revents) {
      // Gone: take what it sent before it went (answers it finished are answers), then reap.
      std::string why;
      if (!killed && read_channel(*w, why) == Read::kKilled) killed = untrusted(why);
      break;
    }
    if (fds[2].revents && !killed) {
      std::string why;
      if (!after(read_channel(*w, why), why)) break;
    }
    if (!killed && !stopping)
      if (std::optional<std::string> hung = watch_calls()) {
        killed = Ending{"hang", "was killed because " + *hung, false};
        w->kill();
      }
  }
  if (watch) watch->stop();
  const WorkerExit exit = w->wait();
  if (stopping) return Ending{"", "", true};
  if (killed) return *killed;
  return Ending{exit.reason(), exit.describe(), false};
}

Supervisor::Entry *Supervisor::sent(uint64_t id) {
  auto it = calls_.find(id);
  return it == calls_.end() || !it->second.frame.empty() ? nullptr : &it->second;
}

bool Supervisor::handle(const Frame &f, std::string &why) {
  switch (f.type) {
    case FrameType::kLog: {
      int level;
      std::string_view message;
      if (!decode_log(f.payload, level, message)) return why = "sent a malformed log frame", false;
      log_(level, hello_.info.name, message);
      return true;
    }
    case FrameType::kChunk: {
      if (!decode_chunk(f.payload, checked_)) return why = "sent a malformed chunk", false;
      std::shared_ptr<PendingCall> call;
      {
        std::lock_guard lock(mu_);
        Entry *e = sent(f.call_id);
        if (!e || !is_stream(e->kind))
          return why = "sent a chunk for call " + std::to_string(f.call_id) + ", which is no stream in flight", false;
        if (++e->outstanding > kStreamWindow)
          return why = "sent more chunks than its stream's credit (" + std::to_string(kStreamWindow) + ")", false;
        call = e->call;
      }
      call->on_chunk(f.payload);
      return true;
    }
    case FrameType::kDone: {
      DoneMessage done;
      if (!decode_done(f.payload, done)) return why = "sent a malformed answer", false;
      std::shared_ptr<PendingCall> call;
      {
        std::lock_guard lock(mu_);
        Entry *e = sent(f.call_id);
        if (!e) return why = "answered call " + std::to_string(f.call_id) + ", which is not in flight", false;
        const bool fits = done.kind == DoneKind::kError || done.kind == answer_of(e->kind);
        if (!fits) return why = "answered call " + std::to_string(f.call_id) + " with the wrong kind of answer", false;
        call = std::move(e->call);
        calls_.erase(f.call_id);
      }
      call->on_done(std::move(done), nullptr);
      return true;
    }
    default:
      return why = "sent a frame of type " + std::to_string(static_cast<int>(f.type)) + " after its hello", false;
  }
}

std::optional<std::string> Supervisor::watch_calls() {
  std::vector<std::pair<uint64_t, std::shared_ptr<PendingCall>>> running;
  int64_t now = now_ns();
  {
    // Past its deadline a call's cancelled() turns true too; the worker keeps that deadline
    // itself, so that the plugin's own timeout error wins over a cancel racing it. The margin:
    // the caller's deadline was set a little before this one, and on a coarser clock.
    std::lock_guard lock(mu_);
    for (auto &[id, entry] : calls_)
      if (!entry.cancelled_ns && now < entry.deadline_ns - kDeadlineMarginNs) running.emplace_back(id, entry.call);
  }
  for (auto &[id, call] : running)
    if (call->cancelled()) cancel(id);
  now = now_ns();
  const int64_t grace = std::chrono::nanoseconds(settings_.hang_grace).count();
  std::lock_guard lock(mu_);
  for (auto &[id, entry] : calls_) {
    // A stream out of credit waits for its consumer, not for the plugin.
    if (entry.outstanding >= kStreamWindow) continue;
    const char *past = entry.deadline_ns != INT64_MAX && now - entry.deadline_ns > grace ? "deadline"
                       : entry.cancelled_ns && now - entry.cancelled_ns > grace          ? "cancel"
                                                                                         : nullptr;
    if (past)
      return std::string("a call ran ") + seconds(settings_.hang_grace) + " past its " + past +
             " (the plugin hangs, ignoring cancelled())";
  }
  return std::nullopt;
}

void Supervisor::worker_died(const std::string &reason, const std::string &message) {
  std::unordered_map<uint64_t, Entry> lost;
  std::string next;  // what happens now, for the log; empty when the host is stopping
  {
    std::lock_guard lock(mu_);
    lost.swap(calls_);
    worker_.reset();
    if (state_ != State::kStopping) {
      const auto now = Clock::now();
      ++crashes_[reason];
      last_crash_ = message;
      recent_crashes_.push_back(now);
      while (now - recent_crashes_.front() > settings_.crash_loop_window) recent_crashes_.pop_front();
      const size_t n = recent_crashes_.size();
      std::chrono::milliseconds delay{0};
      if (n >= settings_.crash_loop_crashes) {
        delay = settings_.max_backoff;
        state_ = State::kUnavailable;
        next = std::to_string(n) + " crashes within " + seconds(settings_.crash_loop_window) + ": unavailable for " +
               seconds(delay);
      } else {
        if (n > 1)
          delay = std::min<std::chrono::milliseconds>(
              settings_.max_backoff, settings_.first_backoff * (int64_t{1} << std::min<size_t>(n - 2, 20)));
        state_ = delay.count() ? State::kRestarting : State::kStarting;
        next = delay.count() ? "restarting in " + seconds(delay) : "restarting now";
      }
      restart_at_ = now + delay;
    }
  }
  // No call should be left when the host stops this plugin (each pins it), but none may wait for
  // ever either.
  if (next.empty()) {
    for (auto &[id, entry] : lost)
      fail(std::move(entry.call), 503, "provider " + hello_.info.name + " is shutting down", kUnavailable);
    return;
  }
  log_(LLMH_LOG_ERROR, hello_.info.name,
       "worker " + message + "; " + std::to_string(lost.size()) + " call(s) in flight failed; " + next);
  const std::string failure = "provider " + hello_.info.name + ": its worker process " + message;
  for (auto &[id, entry] : lost) fail(std::move(entry.call), 502, failure, kCrashed);
}

void Supervisor::fail(std::shared_ptr<PendingCall> call, int status, std::string message, const char *code) {
  DoneMessage done;
  done.kind = DoneKind::kError;
  done.status = status;
  done.message = std::move(message);
  call->on_done(std::move(done), code);
}

std::string Supervisor::unavailable_message() const {
  const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(restart_at_ - Clock::now());
  return "provider " + hello_.info.name + " is unavailable: its worker process " + last_crash_ +
         (state_ == State::kUnavailable ? " (crashing in a loop)" : "") + "; it restarts in " +
         seconds(std::max(left, std::chrono::milliseconds(0)));
}

uint64_t Supervisor::begin(std::shared_ptr<PendingCall> call, CallKind kind, const llmh_request &request,
                           bool body_checked, CallParts parts) {
  std::string payload;
  encode_call(payload, kind, request, body_checked, parts);
  Entry entry;
  entry.call = call;
  entry.kind = kind;
  if (request.timeout_s > 0) entry.deadline_ns = now_ns() + detail::timeout_of(request.timeout_s).count();
  std::shared_ptr<WorkerProcess> w;
  uint64_t id;
  {
    std::unique_lock lock(mu_);
    if (state_ != State::kStarting && state_ != State::kRunning) {
      std::string why =
          state_ == State::kStopping ? "provider " + hello_.info.name + " is shutting down" : unavailable_message();
      lock.unlock();
      fail(std::move(call), 503, std::move(why), kUnavailable);
      return 0;
    }
    id = ++next_id_;
    if (state_ == State::kStarting) entry.frame = std::move(payload);
    calls_.emplace(id, std::move(entry));
    w = worker_;
  }
  // Off the lock: a full channel must not hold up the other calls. A send that fails has
  // killed the worker, and the thread ends this call with the others.
  if (w) w->send(FrameType::kCall, id, payload);
  return id;
}

void Supervisor::cancel(uint64_t id) {
  std::shared_ptr<PendingCall> unsent;
  std::shared_ptr<WorkerProcess> w;
  {
    std::lock_guard lock(mu_);
    auto it = calls_.find(id);
    if (it == calls_.end() || it->second.cancelled_ns) return;
    if (!it->second.frame.empty()) {  // never sent: it ends here
      unsent = std::move(it->second.call);
      calls_.erase(it);
    } else {
      it->second.cancelled_ns = now_ns();
      w = worker_;
    }
  }
  if (unsent) return fail(std::move(unsent), 499, "the call was cancelled before a worker took it", nullptr);
  if (w) w->send(FrameType::kCancel, id, {});
}

void Supervisor::credit(uint64_t id, uint32_t chunks) {
  std::shared_ptr<WorkerProcess> w;
  {
    std::lock_guard lock(mu_);
    auto it = calls_.find(id);
    if (it == calls_.end()) return;
    it->second.outstanding -= std::min(it->second.outstanding, chunks);
    w = worker_;
  }
  std::string payload;
  encode_credit(payload, chunks);
  if (w) w->send(FrameType::kCredit, id, payload);
}

WorkerStatus Supervisor::status() const {
  std::lock_guard lock(mu_);
  WorkerStatus s;
  s.provider = hello_.info.name;
  s.file = file_.string();
  static constexpr const char *kStates[] = {"starting", "running", "restarting", "unavailable", "stopping"};
  s.state = kStates[static_cast<int>(state_)];
  s.pid = worker_ ? worker_->pid() : 0;
  s.starts = starts_;
  s.crashes = crashes_;
  s.last_crash = last_crash_;
  return s;
}

}  // namespace llmhost::isolation
