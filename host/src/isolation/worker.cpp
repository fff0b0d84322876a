#include "isolation/worker.hpp"

#include <sys/prctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <map>
#include <mutex>
#include <stop_token>
#include <thread>

#include "dispatch/abi_call.hpp"
#include "dispatch/request_body.hpp"
#include "dispatch/thread_pool.hpp"
#include "http/http_extension.hpp"
#include "isolation/frame.hpp"
#include "isolation/messages.hpp"
#include "loader/plugin.hpp"

namespace llmhost::isolation {
namespace {

// The worker's end of the channel. Frames go out whole, one writer at a time; a write that
// fails means the host has gone, which every later send reports too.
class Channel {
 public:
  explicit Channel(int fd) : fd_(fd) {}
  ~Channel() { ::close(fd_); }
  int fd() const { return fd_; }

  bool send(FrameType type, uint64_t call_id, std::string_view payload) {
    std::string frame;
    append_frame(frame, type, call_id, payload);
    std::lock_guard lock(mu_);
    for (size_t sent = 0; sent < frame.size();) {
      // MSG_NOSIGNAL: a host that has gone is an error here, not a SIGPIPE.
      const ssize_t n = ::send(fd_, frame.data() + sent, frame.size() - sent, MSG_NOSIGNAL);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) return false;
      sent += static_cast<size_t>(n);
    }
    return true;
  }

 private:
  int fd_;
  std::mutex mu_;
};

// The calls running now, so that a cancel frame reaches the right one.
class Calls {
 public:
  std::stop_token start(uint64_t id) {
    std::lock_guard lock(mu_);
    return running_[id].get_token();
  }
  void end(uint64_t id) {
    std::lock_guard lock(mu_);
    running_.erase(id);
  }
  void cancel(uint64_t id) {
    std::lock_guard lock(mu_);
    if (auto it = running_.find(id); it != running_.end()) it->second.request_stop();
  }
  void cancel_all() {
    std::lock_guard lock(mu_);
    for (auto &[id, stop] : running_) stop.request_stop();
  }

 private:
  std::mutex mu_;
  std::map<uint64_t, std::stop_source> running_;
};

// Runs one call on the plugin and sends its chunks and its end.
void run_call(const detail::Plugin &plugin, Channel &channel, uint64_t id, const CallMessage &call,
              std::stop_token stop) {
  std::string payload;
  try {
    std::string body_storage;
    const detail::Body body = detail::request_body(call.request, body_storage);
    const detail::CRequest creq(call.request, call.model, body, plugin.reads_body_members());
    switch (call.kind) {
      case CallKind::kComplete: encode_done_response(payload, detail::call_complete(plugin, *creq.get(), stop)); break;
      case CallKind::kStream: {
        std::string chunk;
        detail::call_stream(
            plugin, *creq.get(),
            [&](const Chunk &c) {
              chunk.clear();
              encode_chunk(chunk, c);
              return channel.send(FrameType::kChunk, id, chunk);
            },
            stop);
        encode_done_stream(payload);
        break;
      }
      case CallKind::kEmbed: encode_done_embeddings(payload, detail::call_embed(plugin, *creq.get(), stop)); break;
    }
  } catch (...) {
    const Error e = detail::current_error();
    payload.clear();
    encode_done_error(payload, e.status(), e.what());
  }
  channel.send(FrameType::kDone, id, payload);
}

}  // namespace

int run_worker(const WorkerOptions &options) {
  // The worker never outlives the host: the kernel kills it when the host goes, and a host
  // gone before this line is noticed by the channel closing.
  ::prctl(PR_SET_PDEATHSIG, SIGKILL);
  Channel channel(options.fd);

  auto log = [&channel](int level, std::string_view provider, std::string_view message) {
    std::string payload;
    Encoder(payload).u8(static_cast<uint8_t>(level)).str(provider).str(message);
    channel.send(FrameType::kLog, 0, payload);
  };
  auto services = std::make_shared<detail::HostServices>();
  services->extension = detail::http::make_extension_lookup(log);
  services->log = log;
  services->config_for = [config = options.config_json](std::string_view) { return config; };

  std::shared_ptr<detail::Plugin> plugin;
  std::string hello;
  try {
    plugin = detail::Plugin::load(options.file, options.file, services);
  } catch (const LoadException &e) {
    encode_hello_error(hello, to_string(e.error().kind), e.error().message);
    channel.send(FrameType::kHello, 0, hello);
    return 2;
  }
  encode_hello(hello, plugin->info());
  if (!channel.send(FrameType::kHello, 0, hello)) return 0;

  Calls calls;
  int exit_code = 0;
  {
    // Calls run concurrently, as the ABI allows; the pool grows while calls block in the plugin.
    detail::ThreadPool pool(2, 256);
    FrameReader reader;
    char buf[64 * 1024];
    for (bool open = true; open;) {
      const ssize_t n = ::read(channel.fd(), buf, sizeof buf);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) break;  // the host closed the channel, or died
      reader.feed(std::string_view(buf, static_cast<size_t>(n)));
      Frame f;
      FrameReader::Status status = FrameReader::Status::kNeedMore;
      while (open && (status = reader.next(f)) == FrameReader::Status::kFrame) {
        if (f.type == FrameType::kCancel) {
          calls.cancel(f.call_id);
        } else if (f.type == FrameType::kCall) {
          auto call = std::make_shared<CallMessage>();
          if (!decode_call(f.payload, *call)) open = false;
          if (!open) break;
          const uint64_t id = f.call_id;
          std::stop_token stop = calls.start(id);
          pool.post([&, id, call, stop] {
            run_call(*plugin, channel, id, *call, stop);
            calls.end(id);
          });
        } else if (f.type != FrameType::kCredit) {
          open = false;  // a frame only a worker sends
        }
      }
      if (!open || status == FrameReader::Status::kBad) {
        exit_code = 3;
        break;
      }
    }
    // The host has gone or misbehaved: every call ends as cancelled; the pool joins them.
    calls.cancel_all();
  }
  return exit_code;
}

}  // namespace llmhost::isolation
