// Runs an isolated plugin's worker process and carries its calls: starts the worker and checks
// what it loaded, sends each call and hands back its chunks and its end, forwards cancels and
// flow-control credits, and forwards the plugin's log lines. When the worker dies (a crash, an
// exit, or a kill for a hang or a malformed frame) every call in flight on it ends at once
// with 502 plugin_crashed, and a new worker starts: at once the first time, then after a
// backoff doubling up to a limit; a provider crashing in a loop is unavailable (503) meanwhile.
//
// One thread per supervisor reads the channel and watches the worker; the calls' callbacks run
// there, never under the supervisor's lock. Every public function may be called from any
// thread.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <unordered_map>

#include "http/asio.hpp"
#include "isolation/messages.hpp"
#include "isolation/worker_process.hpp"
#include "llmhost/host.hpp"
#include "loader/plugin.hpp"

namespace llmhost::isolation {

// How one plugin's workers run: the Host's worker settings (executable resolved), and the
// plugin's memory cap.
struct SupervisorSettings : WorkerSettings {
  size_t max_memory_mb = 0;  // the worker's address space cap; 0 = none
  // The encoding the worker's llmhost.tokens.v1 counts unknown models with (the Host's).
  std::string default_encoding = "cl100k_base";
  // Where the worker's channel is read: an I/O loop of the host's (ChannelWatch), or, empty,
  // the supervisor's own thread.
  boost::asio::any_io_executor reader;
};

// One call in flight, as the supervisor drives it. The callbacks run on the supervisor's
// thread (or, for a call refused at once, on the caller's, inside begin()).
class PendingCall {
 public:
  virtual ~PendingCall() = default;
  // A stream's next chunk: its frame's payload, which decode_chunk accepted; a view valid only
  // during this call.
  virtual void on_chunk(std::string_view payload) = 0;
  // The call's end, exactly once: the worker's answer, or an error. `code` is the OpenAI error
  // code of an error the host made ("plugin_crashed", "provider_unavailable"), else nullptr.
  virtual void on_done(DoneMessage &&done, const char *code) = 0;
  // Polled while the call runs: true once the caller has given up, so that the worker hears.
  virtual bool cancelled() = 0;
};

class Supervisor final : public detail::PluginWorker {
 public:
  using LogFn = std::function<void(int level, std::string_view provider, std::string_view message)>;
  // The JSON object handed to create() of the provider named.
  using ConfigFn = std::function<std::string(std::string_view provider)>;

  // Starts the first worker on `plugin_copy` (a private copy of `file`, which this owns and
  // removes) and waits for its hello. Throws LoadException naming `file` when the worker
  // cannot start or the plugin does not load there.
  Supervisor(std::filesystem::path file, std::filesystem::path plugin_copy, ConfigFn config_for,
             SupervisorSettings settings, LogFn log);
  // Stops the worker (it sees its channel close) and the thread. No call may be in flight.
  ~Supervisor() override;

  // The plugin as the worker loaded it.
  const HelloMessage &hello() const { return hello_; }

  // Starts a call. Returns its id, or 0 when it was refused at once (the provider is
  // unavailable: `call` has had its on_done then).
  uint64_t begin(std::shared_ptr<PendingCall> call, CallKind kind, const llmh_request &request, bool body_checked,
                 CallParts parts = {});
  // The caller has given up on call `id`: the plugin's cancelled() turns true.
  void cancel(uint64_t id);
  // The consumer of stream `id` took `chunks` more chunks: the worker may send as many more.
  void credit(uint64_t id, uint32_t chunks);

  WorkerStatus status() const override;

 private:
  enum class State { kStarting, kRunning, kRestarting, kUnavailable, kStopping };
  struct Entry {
    std::shared_ptr<PendingCall> call;
    CallKind kind = CallKind::kComplete;
    int64_t deadline_ns = INT64_MAX;  // INT64_MAX: none
    int64_t cancelled_ns = 0;         // when the cancel was sent; 0: not yet
    uint32_t outstanding = 0;         // chunks received and not yet credited back
    std::string frame;                // the call, while it waits for a worker to start
  };
  using Clock = std::chrono::steady_clock;
  // A worker that loaded the plugin, or why none did.
  struct Launch {
    std::shared_ptr<WorkerProcess> worker;
    LoadErrorKind kind = LoadErrorKind::kCreateFailed;
    std::string error;
    bool whole = false;  // `error` is the worker's own load error, which names the file
  };
  // Why a worker ended: the crash reason label and what happened, or the host stopping it.
  struct Ending {
    std::string reason, message;
    bool stopping;
  };

  // Starts a worker and reads its hello into `hello`.
  Launch launch(HelloMessage &hello);
  void run();
  // Reads frames until the worker ends, watching the calls meanwhile.
  Ending serve();
  // Reads and handles what the channel holds now. kKilled: the worker sent a frame the host
  // must not trust (`why`), and was killed.
  enum class Read { kMore, kClosed, kKilled };
  Read read_channel(WorkerProcess &w, std::string &why);
  // Call `id` if the worker has it (sent, not answered); nullptr otherwise. Under mu_.
  Entry *sent(uint64_t id);
  // Handles one frame; false (with `why`) for a frame the host must not trust.
  bool handle(const Frame &frame, std::string &why);
  // Sends cancels the callers asked for and finds a call hung past its grace.
  std::optional<std::string> watch_calls();
  // Ends every call of the dead worker with `message`, then decides when to restart.
  void worker_died(const std::string &reason, const std::string &message);
  void fail(std::shared_ptr<PendingCall> call, int status, std::string message, const char *code);
  void wake();
  std::string unavailable_message() const;  // under mu_

  const std::filesystem::path file_, copy_;
  const ConfigFn config_for_;
  const SupervisorSettings settings_;
  const LogFn log_;
  HelloMessage hello_;
  int wake_fd_ = -1;  // eventfd: stop and new calls wake the thread

  mutable std::mutex mu_;
  std::condition_variable changed_;
  State state_ = State::kStarting;
  std::shared_ptr<WorkerProcess> worker_;  // the running one; senders copy it
  // Of worker_'s channel: the thread's, or, while a ChannelWatch reads it, the watch's.
  FrameReader reader_;
  ChunkView checked_;  // a chunk being checked
  uint64_t next_id_ = 0;
  std::unordered_map<uint64_t, Entry> calls_;
  std::deque<Clock::time_point> recent_crashes_;  // within crash_loop_window
  Clock::time_point restart_at_;
  std::string last_crash_;
  uint64_t starts_ = 0;
  std::map<std::string, uint64_t> crashes_;
  std::thread thread_;
};

}  // namespace llmhost::isolation
