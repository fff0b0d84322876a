// `llmhost __worker` as the supervisor will drive it: the real binary in a real child process,
// on one end of a socketpair, loading real plugins; the test speaks the frames itself.
#include <doctest/doctest.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "isolation/frame.hpp"
#include "isolation/messages.hpp"
#include "support.hpp"

using namespace llmhost;
using namespace llmhost::isolation;
using namespace std::chrono_literals;

namespace {

// One worker process and the host's end of its channel.
class Worker {
 public:
  explicit Worker(const std::filesystem::path &plugin) {
    int sv[2];
    REQUIRE(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == 0);
    const std::string cli = test::cli().string(), file = plugin.string();  // no allocation after fork
    pid_ = ::fork();
    REQUIRE(pid_ >= 0);
    if (pid_ == 0) {
      ::dup2(sv[1], 3);  // dup2 clears close-on-exec on the copy
      ::execl(cli.c_str(), cli.c_str(), "__worker", "--fd", "3", file.c_str(), static_cast<char *>(nullptr));
      ::_exit(127);
    }
    ::close(sv[1]);
    fd_ = sv[0];
  }
  ~Worker() {
    close_channel();
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
  }

  void send(FrameType type, uint64_t id, std::string_view payload) {
    std::string frame;
    append_frame(frame, type, id, payload);
    REQUIRE(::write(fd_, frame.data(), frame.size()) == static_cast<ssize_t>(frame.size()));
  }
  void call(uint64_t id, CallKind kind, const Request &r) {
    send(FrameType::kCall, id, test::call_payload(kind, "m", r));
  }
  // The next frame that is not a log line; fails the test after `timeout`.
  Frame next(std::chrono::milliseconds timeout = 10s) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
      Frame f;
      const auto status = reader_.next(f);
      REQUIRE(status != FrameReader::Status::kBad);
      if (status == FrameReader::Status::kFrame) {
        if (f.type == FrameType::kLog) continue;
        last_ = std::string(f.payload);
        f.payload = last_;
        return f;
      }
      const auto left =
          std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
      REQUIRE(left.count() > 0);
      pollfd p{fd_, POLLIN, 0};
      ::poll(&p, 1, static_cast<int>(left.count()));
      char buf[65536];
      const ssize_t n = ::read(fd_, buf, sizeof buf);
      REQUIRE(n > 0);
      reader_.feed(std::string_view(buf, static_cast<size_t>(n)));
    }
  }
  // The worker's hello, once it has asked for its config and been handed `config`.
  HelloMessage hello(const std::string &config = "{}") {
    for (;;) {
      const Frame f = next();
      REQUIRE(f.type == FrameType::kHello);
      HelloMessage h;
      REQUIRE(decode_hello(f.payload, h));
      if (!h.needs_config) return h;
      std::string setup;
      encode_setup(setup, config);
      send(FrameType::kHello, 0, setup);
    }
  }
  void close_channel() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }
  // The worker's exit status as waitpid reports it.
  int wait_exit() {
    int status = 0;
    REQUIRE(::waitpid(pid_, &status, 0) == pid_);
    pid_ = -1;
    return status;
  }

 private:
  pid_t pid_ = -1;
  int fd_ = -1;
  FrameReader reader_;
  std::string last_;
};

std::filesystem::path echo() { return test::bundled_plugins() / "libecho.so"; }

DoneMessage done_of(const Frame &f) {
  REQUIRE(f.type == FrameType::kDone);
  DoneMessage d;
  REQUIRE(decode_done(f.payload, d));
  return d;
}

}  // namespace

TEST_CASE("the worker loads the plugin, says what it is, and answers complete, stream and embed") {
  Worker w(echo());
  const HelloMessage hello = w.hello();
  REQUIRE(hello.ok);
  CHECK(hello.info.name == "echo");
  CHECK(hello.info.capabilities ==
        (kComplete | kStream | kEmbed | kCompleteText | kStreamText | kRerank | kGenerateImages | kEditImages));

  w.call(1, CallKind::kComplete, test::chat("echo/m", "hello worker"));
  DoneMessage done = done_of(w.next());
  REQUIRE(done.kind == DoneKind::kResponse);
  CHECK(done.response.content == "hello worker");

  w.call(2, CallKind::kStream, test::chat("echo/m", "a b c"));
  std::string text;
  for (;;) {
    const Frame f = w.next();
    CHECK(f.call_id == 2);
    if (f.type == FrameType::kDone) {
      CHECK(done_of(f).kind == DoneKind::kStream);
      break;
    }
    REQUIRE(f.type == FrameType::kChunk);
    ChunkView c;
    REQUIRE(decode_chunk(f.payload, c));
    text += c.chunk.content;
  }
  CHECK(text == "a b c");

  Request emb;
  emb.input = {"x", "y"};
  w.call(3, CallKind::kEmbed, emb);
  done = done_of(w.next());
  REQUIRE(done.kind == DoneKind::kEmbeddings);
  CHECK(done.embeddings.data.size() == 2);
}

TEST_CASE("calls run at once, a cancel reaches its call only, and errors keep their status") {
  Worker w(echo());
  REQUIRE(w.hello().ok);
  w.call(7, CallKind::kComplete, test::chat("echo/m", "slow", R"({"mock_delay_ms":60000})"));
  w.call(8, CallKind::kComplete, test::chat("echo/m", "fast"));
  Frame f = w.next();  // the fast one, while the slow one still runs
  CHECK(f.call_id == 8);
  CHECK(done_of(f).response.content == "fast");
  w.send(FrameType::kCancel, 7, "");
  f = w.next(5s);
  CHECK(f.call_id == 7);
  DoneMessage cancelled = done_of(f);
  CHECK(cancelled.kind == DoneKind::kError);
  CHECK(cancelled.status == 499);
  w.call(9, CallKind::kComplete, test::chat("echo/m", "x", R"({"mock_error_status":429})"));
  DoneMessage failed = done_of(w.next());
  CHECK(failed.status == 429);
  CHECK(failed.message.find("mock error 429") != std::string::npos);
}

TEST_CASE("a file that does not load is reported in the hello, and the worker exits 2") {
  Worker w(test::test_plugin("not_a_library.so"));
  const HelloMessage hello = w.hello();
  CHECK_FALSE(hello.ok);
  CHECK(hello.error_kind == "not_shared_library");
  const int status = w.wait_exit();
  CHECK(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 2);
}

TEST_CASE("the worker ends when the host closes the channel, and refuses a host that sends garbage") {
  {
    Worker w(echo());
    REQUIRE(w.hello().ok);
    w.close_channel();
    const int status = w.wait_exit();
    CHECK(WIFEXITED(status));
    CHECK(WEXITSTATUS(status) == 0);
  }
  {
    Worker w(echo());
    REQUIRE(w.hello().ok);
    w.send(FrameType::kChunk, 1, "");  // a frame only a worker sends
    const int status = w.wait_exit();
    CHECK(WIFEXITED(status));
    CHECK(WEXITSTATUS(status) == 3);
  }
}

TEST_CASE("a worker never outlives its host: it is killed when the process that started it dies") {
  // A stand-in host: starts a worker, reports its pid, and dies without closing anything.
  int report[2];
  REQUIRE(::pipe(report) == 0);
  const std::string cli = test::cli().string(), file = echo().string();
  const pid_t host = ::fork();
  REQUIRE(host >= 0);
  if (host == 0) {
    int sv[2];
    if (::socketpair(AF_UNIX, SOCK_STREAM, 0, sv) != 0) ::_exit(1);
    const pid_t worker = ::fork();
    if (worker == 0) {
      ::dup2(sv[1], 3);
      ::execl(cli.c_str(), cli.c_str(), "__worker", "--fd", "3", file.c_str(), static_cast<char *>(nullptr));
      ::_exit(127);
    }
    char hello[4];
    (void)!::read(sv[0], hello, sizeof hello);  // the worker is up (asking for its config)
    (void)!::write(report[1], &worker, sizeof worker);
    // sv[0] has no close-on-exec, so the worker holds it too: the channel never reads as closed,
    // and only the parent-death signal can end the worker.
    ::_exit(0);
  }
  pid_t worker = 0;
  REQUIRE(::read(report[0], &worker, sizeof worker) == sizeof worker);
  ::waitpid(host, nullptr, 0);
  // Gone, or a zombie waiting for whoever inherited it: either way no longer running.
  auto running = [worker] {
    std::ifstream stat("/proc/" + std::to_string(worker) + "/stat");
    std::string pid, comm, state;
    return stat >> pid >> comm >> state && state != "Z";
  };
  const auto deadline = std::chrono::steady_clock::now() + 5s;
  while (running() && std::chrono::steady_clock::now() < deadline) std::this_thread::sleep_for(10ms);
  CHECK_FALSE(running());
  ::close(report[0]);
  ::close(report[1]);
}
