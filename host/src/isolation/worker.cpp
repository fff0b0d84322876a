#include "isolation/worker.hpp"

#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <csignal>
#include <deque>
#include <fstream>
#include <functional>
#include <list>
#include <map>
#include <mutex>
#include <optional>
#include <stop_token>
#include <thread>

#include <llmhost/views.hpp>

#include "dispatch/abi_call.hpp"
#include "dispatch/async_call.hpp"
#include "dispatch/request_body.hpp"
#include "http/http_extension.hpp"
#include "isolation/frame.hpp"
#include "isolation/messages.hpp"
#include "isolation/outbox.hpp"
#include "loader/plugin.hpp"
#include "tokens/tokens_extension.hpp"

namespace llmhost::isolation {
namespace {

// Reads whole frames off the channel, blocking. False when the channel closed or sent a
// malformed frame (`bad` tells which).
class Inbox {
 public:
  explicit Inbox(int fd) : fd_(fd) {}
  bool next(Frame &frame, bool &bad) {
    for (;;) {
      const FrameReader::Status status = reader_.next(frame);
      if (status == FrameReader::Status::kFrame) return true;
      if (status == FrameReader::Status::kBad) return bad = true, false;
      const ssize_t n = ::read(fd_, buf_, sizeof buf_);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) return false;  // the host closed the channel, or died
      reader_.feed(std::string_view(buf_, static_cast<size_t>(n)));
    }
  }

 private:
  int fd_;
  FrameReader reader_;
  char buf_[64 * 1024];
};

// The calls running now: their cancel, and for a stream the chunks it may still send. Every
// frame of a call goes out through here, so that its end never overtakes its chunks.
class Calls {
 public:
  explicit Calls(Outbox &outbox) : outbox_(outbox) {}

  std::stop_token start(uint64_t id) {
    std::lock_guard lock(mu_);
    Running &r = running_[id];
    r.credit = kStreamWindow;
    return r.stop.get_token();
  }
  void cancel(uint64_t id) {
    std::lock_guard lock(mu_);
    if (auto it = running_.find(id); it != running_.end()) it->second.stop.request_stop();
    changed_.notify_all();
  }
  void cancel_all() {
    std::lock_guard lock(mu_);
    for (auto &[id, r] : running_) r.stop.request_stop();
    changed_.notify_all();
  }
  // More room for a stream: sends what it holds. False when the host grants more than the
  // window: it is broken.
  bool credit(uint64_t id, uint32_t chunks) {
    std::lock_guard lock(mu_);
    auto it = running_.find(id);
    if (it == running_.end()) return true;  // the call ended while the credit was on its way
    Running &r = it->second;
    if (chunks > kStreamWindow - r.credit) return false;
    r.credit += chunks;
    for (; r.credit > 0 && !r.held.empty(); --r.credit) {
      outbox_.send_batched(FrameType::kChunk, id, r.held.front());
      r.held_bytes -= r.held.front().size();
      r.held.pop_front();
    }
    if (r.held.empty() && r.done) {
      outbox_.send(FrameType::kDone, id, *r.done);
      running_.erase(it);
    }
    changed_.notify_all();
    return true;
  }
  // A chunk from a plugin's own thread (`stream`): waits while the consumer is a window behind.
  // False when the call was cancelled or reached `deadline` meanwhile.
  bool send_chunk(uint64_t id, std::string_view chunk, std::chrono::steady_clock::time_point deadline) {
    std::unique_lock lock(mu_);
    Running &r = running_.at(id);
    if (!changed_.wait_until(lock, deadline, [&] { return r.credit > 0 || r.stop.stop_requested(); })) return false;
    if (r.stop.stop_requested()) return false;
    --r.credit;
    return outbox_.send_batched(FrameType::kChunk, id, chunk);
  }
  // A chunk from the HTTP event loop (`stream_async`), which must not wait: held while the
  // consumer is a window behind, and false (the plugin stops) once kHeldMax bytes wait, as the
  // host's proxy does for a client that stopped reading.
  bool send_or_hold_chunk(uint64_t id, std::string chunk) {
    std::lock_guard lock(mu_);
    Running &r = running_.at(id);
    if (r.stop.stop_requested()) return false;
    if (r.credit > 0 && r.held.empty()) {
      --r.credit;
      return outbox_.send_batched(FrameType::kChunk, id, chunk);
    }
    if (r.held_bytes + chunk.size() > kHeldMax) return false;
    r.held_bytes += chunk.size();
    r.held.push_back(std::move(chunk));
    return true;
  }
  // The call's end, sent after the chunks it still holds (dropped when it was cancelled).
  void end(uint64_t id, std::string done) {
    std::lock_guard lock(mu_);
    auto it = running_.find(id);
    if (!it->second.held.empty() && !it->second.stop.stop_requested()) {
      it->second.done = std::move(done);
      return;
    }
    outbox_.send(FrameType::kDone, id, done);
    running_.erase(it);
    changed_.notify_all();
  }

 private:
  static constexpr size_t kHeldMax = 4 << 20;
  struct Running {
    std::stop_source stop;
    uint32_t credit = 0;
    std::deque<std::string> held;  // chunks waiting for credit (stream_async)
    size_t held_bytes = 0;
    std::optional<std::string> done;  // the end, once the plugin finished with chunks held
  };
  Outbox &outbox_;
  std::mutex mu_;
  std::condition_variable changed_;
  std::map<uint64_t, Running> running_;
};

std::string done_error(const Error &e) {
  std::string payload;
  encode_done_error(payload, e.status(), e.what());
  return payload;
}

std::chrono::steady_clock::time_point deadline_of(const Request &r) {
  return std::chrono::steady_clock::now() + detail::timeout_of(r.timeout_s > 0 ? r.timeout_s : 1e7);
}

// Runs one call on a pool thread through the plugin's blocking functions.
void run_blocking(const detail::Plugin &plugin, Calls &calls, uint64_t id, const CallMessage &call,
                  std::stop_token stop) {
  std::string payload;
  try {
    std::string body_storage;
    const detail::Body body = detail::request_body(call.request, body_storage);
    const detail::CRequest creq(call.request, call.model, body, plugin.reads_body_members());
    const detail::Form form = call.kind == CallKind::kCompleteText || call.kind == CallKind::kStreamText
                                  ? detail::Form::kText
                                  : detail::Form::kChat;
    switch (call.kind) {
      case CallKind::kComplete:
      case CallKind::kCompleteText:
        encode_done_response(payload, detail::call_complete(plugin, *creq.get(), stop, form));
        break;
      case CallKind::kStream:
      case CallKind::kStreamText: {
        const auto deadline = deadline_of(call.request);
        std::string chunk;
        detail::call_stream(
            plugin, *creq.get(),
            [&](const Chunk &c) {
              chunk.clear();
              encode_chunk(chunk, c);
              return calls.send_chunk(id, chunk, deadline);
            },
            stop, nullptr, form);
        encode_done_stream(payload);
        break;
      }
      case CallKind::kEmbed: encode_done_embeddings(payload, detail::call_embed(plugin, *creq.get(), stop)); break;
      case CallKind::kRerank: {
        const llmh_rerank_request rerank{sizeof(llmh_rerank_request), creq.get(), llmh::str(call.query), call.top_n};
        encode_done_ranking(payload, detail::call_rerank(plugin, rerank, stop));
        break;
      }
      case CallKind::kGenerateImages:
      case CallKind::kEditImages: {
        const detail::CImageRequest image(call.image, creq.get());
        encode_done_images(payload,
                           detail::call_images(plugin, *image.get(), stop, call.kind == CallKind::kEditImages));
        break;
      }
    }
  } catch (...) {
    payload = done_error(detail::current_error());
  }
  calls.end(id, std::move(payload));
}

// Starts one call on the plugin's asynchronous form (llmhost/async.h), as the host would: no
// worker thread waits for it.
void start_async(const std::shared_ptr<detail::Plugin> &plugin, Calls &calls, detail::CallTracker &tracker, uint64_t id,
                 CallMessage &&call, std::stop_token stop) {
  std::string model = std::move(call.model);
  if (call.kind == CallKind::kComplete)
    return detail::start_async_complete(
        plugin, std::move(model), std::move(call.request),
        [&calls, id](CompleteResult result) {
          std::string payload;
          if (Response *r = std::get_if<Response>(&result))
            encode_done_response(payload, *r);
          else
            payload = done_error(std::get<Error>(result));
          calls.end(id, std::move(payload));
        },
        std::move(stop), tracker);
  detail::start_async_stream(
      plugin, std::move(model), std::move(call.request),
      [&calls, id](const Chunk &c) {
        std::string chunk;
        encode_chunk(chunk, c);
        return calls.send_or_hold_chunk(id, std::move(chunk));
      },
      [&calls, id](std::optional<Error> error) {
        std::string payload;
        if (error)
          payload = done_error(*error);
        else
          encode_done_stream(payload);
        calls.end(id, std::move(payload));
      },
      std::move(stop), tracker);
}

// A blocking call as read off the channel, for the thread that runs it.
struct BlockingCall {
  uint64_t id = 0;
  CallMessage call;
  std::stop_token stop;
};

// The threads that read the channel and run the plugin's blocking calls, taking turns: the one
// holding the turn reads, and on a blocking call hands the turn on (to an idle thread, or a new
// one) and runs the call itself. So a call starts on the thread that read it, with no hand-off:
// one thread wake-up less per call than a reader feeding a pool. Past kMaxThreads calls at once,
// calls wait for the next thread done with one, and the reader reads on: cancels and credits
// must always get through.
class Readers {
 public:
  // `next` reads under the turn until a blocking call (true, with it) or the channel's end
  // (false); it handles every other frame itself. `run` runs one blocking call.
  Readers(std::function<bool(BlockingCall &)> next, std::function<void(BlockingCall &)> run)
      : next_(std::move(next)), run_(std::move(run)) {}

  // Serves on the calling thread and as many more as the calls need, until the channel ends and
  // every thread has finished its call.
  void serve() {
    {
      std::lock_guard lock(mu_);
      ++threads_;
      ++idle_;
    }
    loop();
    std::list<std::thread> others;
    {
      std::lock_guard lock(mu_);  // no thread starts once the channel has ended
      others.swap(started_);
    }
    for (std::thread &t : others) t.join();
  }

 private:
  static constexpr size_t kMaxThreads = 256;

  void loop() {
    for (;;) {
      BlockingCall call;
      {
        std::unique_lock turn(turn_);
        for (;;) {
          if (ended_ || !next_(call)) {
            ended_ = true;
            return;
          }
          std::lock_guard lock(mu_);
          if (idle_ == 1 && threads_ < kMaxThreads) {  // nobody else would read: one more thread
            ++threads_;
            ++idle_;
            started_.emplace_back([this] { loop(); });
          }
          if (idle_ > 1) {
            --idle_;
            break;  // another thread takes the turn; this one runs the call
          }
          waiting_.push_back(std::move(call));
        }
      }
      for (bool more = true; more;) {
        run_(call);
        std::lock_guard lock(mu_);
        more = !waiting_.empty();
        if (more) {
          call = std::move(waiting_.front());
          waiting_.pop_front();
        } else {
          ++idle_;
        }
      }
    }
  }

  const std::function<bool(BlockingCall &)> next_;
  const std::function<void(BlockingCall &)> run_;
  std::mutex turn_;     // the right to read the channel
  bool ended_ = false;  // under turn_
  std::mutex mu_;
  size_t threads_ = 0, idle_ = 0;  // idle: not running a call (waiting for the turn, or reading)
  std::deque<BlockingCall> waiting_;
  std::list<std::thread> started_;
};

// Caps the address space the worker may add from here on, before the plugin is loaded: a plugin
// allocating past it fails there (its allocation returns NULL or throws) and never takes memory
// from the host. Counted from what the worker has mapped now, so that the binary, its libraries
// (and a sanitizer's shadow memory) are not the plugin's to pay for.
void cap_memory(size_t max_memory_mb) {
  if (!max_memory_mb) return;
  size_t pages = 0;
  std::ifstream("/proc/self/statm") >> pages;
  const rlim_t bytes = static_cast<rlim_t>(pages) * static_cast<rlim_t>(::sysconf(_SC_PAGESIZE)) +
                       (static_cast<rlim_t>(max_memory_mb) << 20);
  const rlimit limit{bytes, bytes};
  ::setrlimit(RLIMIT_AS, &limit);
}

}  // namespace

int run_worker(const WorkerOptions &options) {
  // The worker never outlives the host: the kernel kills it when the host goes, and a host
  // gone before this line is noticed by the channel closing.
  ::prctl(PR_SET_PDEATHSIG, SIGKILL);
  const struct Closed {  // after the outbox has written its last frame
    int fd;
    ~Closed() { ::close(fd); }
  } channel{options.fd};
  Outbox outbox(options.fd);
  Inbox inbox(options.fd);

  cap_memory(options.max_memory_mb);

  auto log = [&outbox](int level, std::string_view, std::string_view message) {
    std::string payload;
    encode_log(payload, level, message);
    outbox.send(FrameType::kLog, 0, payload);
  };
  auto services = std::make_shared<detail::HostServices>();
  services->extension = detail::extension_chain(detail::http::make_extension_lookup(log),
                                                detail::tokens::make_tokens_extension(options.default_encoding));
  services->log = log;
  // The loader asks once it knows the provider's name; the host answers with its config.
  services->config_for = [&outbox, &inbox](std::string_view name) {
    std::string request, config;
    encode_config_request(request, name);
    Frame f;
    bool bad = false;
    if (!outbox.send(FrameType::kHello, 0, request) || !inbox.next(f, bad) || f.type != FrameType::kHello ||
        !decode_setup(f.payload, config))
      ::_exit(3);  // the host has gone or is broken: nothing to load the plugin for
    return config;
  };

  std::shared_ptr<detail::Plugin> plugin;
  std::string hello;
  try {
    plugin = detail::Plugin::load(options.shown_as.empty() ? options.file : options.shown_as, options.file, services);
  } catch (const LoadException &e) {
    encode_hello_error(hello, to_string(e.error().kind), e.error().message);
    outbox.send(FrameType::kHello, 0, hello);
    return 2;
  }
  encode_hello(hello, plugin->info(), plugin->reads_body_members());
  if (!outbox.send(FrameType::kHello, 0, hello)) return 0;

  Calls calls(outbox);
  detail::CallTracker tracker;  // the calls in the plugin's asynchronous form
  bool bad = false;
  // Reads until a blocking call; asynchronous calls start here, as they return at once.
  auto next = [&](BlockingCall &out) {
    Frame f;
    while (!bad && inbox.next(f, bad)) {
      if (f.type == FrameType::kCancel) {
        calls.cancel(f.call_id);
      } else if (f.type == FrameType::kCredit) {
        uint32_t chunks = 0;
        bad = !decode_credit(f.payload, chunks) || !calls.credit(f.call_id, chunks);
      } else if (f.type == FrameType::kCall) {
        CallMessage call;
        bad = !decode_call(f.payload, call);
        if (bad) break;
        std::stop_token stop = calls.start(f.call_id);
        const bool async = call.kind == CallKind::kComplete ? plugin->async() != nullptr
                           : call.kind == CallKind::kStream ? plugin->async_stream() != nullptr
                                                            : false;
        if (!async) {
          out = {f.call_id, std::move(call), std::move(stop)};
          return true;
        }
        start_async(plugin, calls, tracker, f.call_id, std::move(call), std::move(stop));
      } else {
        bad = true;  // a frame only a worker sends
      }
    }
    // The host has gone or misbehaved: every call ends as cancelled.
    calls.cancel_all();
    return false;
  };
  Readers(next, [&](BlockingCall &c) { run_blocking(*plugin, calls, c.id, c.call, c.stop); }).serve();
  tracker.stop_and_wait();  // the asynchronous calls' ends
  return bad ? 3 : 0;
}

}  // namespace llmhost::isolation
