// Isolated plugins through llmhost::Host: real worker processes running the real faulty
// fixture, killed by real signals. What a caller sees when a plugin crashes, aborts, exits,
// hangs or eats memory, and that the plugin serves again after its restart.
#include <doctest/doctest.h>

#include <unistd.h>

#include <chrono>
#include <future>
#include <string>
#include <thread>
#include <variant>

#include "support.hpp"

using namespace std::chrono_literals;

namespace {

// A Host with the faulty plugin (and echo, as a bystander) each in a worker process.
struct Isolated {
  explicit Isolated(void (*tweak)(llmhost::HostOptions &) = nullptr) : host(make(tweak)) {}
  llmhost::HostOptions make(void (*tweak)(llmhost::HostOptions &)) {
    llmhost::HostOptions o = test::options_for({dir.path()});
    o.plugin_files = {test::test_plugin("libfaulty.so"), test::bundled_plugins() / "libecho.so"};
    o.isolation.mode = llmhost::Isolation::kProcess;
    o.workers.executable = test::cli();
    o.workers.first_backoff = 50ms;
    if (tweak) tweak(o);
    return o;
  }
  std::string ask(const std::string &model) { return host.complete(test::chat(model, "hi")).content; }
  llmhost::WorkerStatus status(const std::string &provider) {
    for (const llmhost::WorkerStatus &w : host.workers())
      if (w.provider == provider) return w;
    FAIL("no worker for " << provider);
    return {};
  }

  test::TempDir dir;  // no plugins of its own
  llmhost::Host host;
};

// A call in flight through the callback form (the stand-in's asynchronous path). Its outcome is
// a value: an exception rethrown on another thread is invisible to TSan's view of libstdc++.
std::future<llmhost::CompleteResult> start(Isolated &iso, llmhost::Request request, std::stop_token cancel = {}) {
  auto outcome = std::make_shared<std::promise<llmhost::CompleteResult>>();
  std::future<llmhost::CompleteResult> f = outcome->get_future();
  iso.host.complete(
      std::move(request), [outcome](llmhost::CompleteResult r) { outcome->set_value(std::move(r)); }, cancel);
  return f;
}

llmhost::Error error_in(std::future<llmhost::CompleteResult> &f) {
  llmhost::CompleteResult r = f.get();
  REQUIRE(std::holds_alternative<llmhost::Error>(r));
  return std::get<llmhost::Error>(r);
}

// The error a call on `model` ends with.
llmhost::Error failure(Isolated &iso, const std::string &model) {
  return test::error_of([&] { iso.ask(model); });
}

// The next answer of `model`, retrying while its worker restarts (503); how long it took.
std::pair<std::string, std::chrono::milliseconds> answer_after_restart(Isolated &iso, const std::string &model) {
  const auto t0 = std::chrono::steady_clock::now();
  for (;;) {
    try {
      std::string content = iso.ask(model);
      return {content, std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0)};
    } catch (const llmhost::Error &e) {
      REQUIRE(e.status() == 503);
      REQUIRE(std::chrono::steady_clock::now() - t0 < 10s);
      std::this_thread::sleep_for(5ms);
    }
  }
}

}  // namespace

TEST_CASE("an isolated plugin is listed as such and answers from its own process") {
  Isolated iso;
  bool listed = false;
  for (const llmhost::ProviderInfo &p : iso.host.providers())
    if (p.name == "faulty") {
      listed = true;
      CHECK(p.isolation == llmhost::Isolation::kProcess);
      CHECK(p.file == test::test_plugin("libfaulty.so").string());
      CHECK(p.capabilities == (llmhost::kComplete | llmhost::kStream | llmhost::kEmbed));
    }
  CHECK(listed);
  const llmhost::WorkerStatus w = iso.status("faulty");
  CHECK(w.state == "running");
  CHECK(w.starts == 1);
  CHECK(w.crashes.empty());
  REQUIRE(w.pid > 0);
  CHECK(w.pid != ::getpid());
  CHECK(iso.ask("faulty/ok") == "ok from pid " + std::to_string(w.pid));
}

TEST_CASE("a crash fails the calls in flight on that worker with 502 plugin_crashed, and only those") {
  Isolated iso;
  const long first_pid = iso.status("faulty").pid;
  // A call in flight on the same worker when it crashes, and one on another provider's.
  auto in_flight = start(iso, test::chat("faulty/slow", "x"));
  auto bystander = start(iso, test::chat("echo/any", "still here", R"({"mock_delay_ms":300})"));
  std::this_thread::sleep_for(100ms);

  const llmhost::Error e = failure(iso, "faulty/segv");
  CHECK(e.status() == 502);
  CHECK(e.code() == "plugin_crashed");
  CHECK(std::string(e.what()).find("provider faulty") != std::string::npos);
  CHECK(std::string(e.what()).find("signal 11 (SIGSEGV)") != std::string::npos);
  const llmhost::Error lost = error_in(in_flight);
  CHECK(lost.status() == 502);
  CHECK(lost.code() == "plugin_crashed");
  llmhost::CompleteResult answered = bystander.get();
  REQUIRE(std::holds_alternative<llmhost::Response>(answered));
  CHECK(std::get<llmhost::Response>(answered).content == "still here");

  // Restarted at once: the next call is answered by a new process.
  const auto [content, took] = answer_after_restart(iso, "faulty/ok");
  MESSAGE("answering again " << took.count() << " ms after the crash");
  const llmhost::WorkerStatus w = iso.status("faulty");
  CHECK(content == "ok from pid " + std::to_string(w.pid));
  CHECK(w.pid != first_pid);
  CHECK(w.starts == 2);
  CHECK(w.crashes.at("signal") == 1);
  CHECK(w.last_crash.find("SIGSEGV") != std::string::npos);
}

TEST_CASE("abort and exit are crashes too, named by their signal or exit code") {
  Isolated iso;
  const llmhost::Error aborted = failure(iso, "faulty/abort");
  CHECK(aborted.status() == 502);
  CHECK(std::string(aborted.what()).find("signal 6 (SIGABRT)") != std::string::npos);
  answer_after_restart(iso, "faulty/ok");
  const llmhost::Error exited = failure(iso, "faulty/exit");
  CHECK(exited.status() == 502);
  CHECK(exited.code() == "plugin_crashed");
  CHECK(std::string(exited.what()).find("exited with code 3") != std::string::npos);
  answer_after_restart(iso, "faulty/ok");
  const llmhost::WorkerStatus w = iso.status("faulty");
  CHECK(w.crashes.at("signal") == 1);
  CHECK(w.crashes.at("exit") == 1);
}

TEST_CASE("a stream that crashes after its first chunk ends with the crash, after that chunk") {
  Isolated iso;
  std::string got;
  const llmhost::Error e = test::error_of([&] {
    iso.host.stream(test::chat("faulty/segv", "x"), [&](const llmhost::Chunk &c) {
      got += c.content;
      return true;
    });
  });
  CHECK(got == "ok");
  CHECK(e.status() == 502);
  CHECK(e.code() == "plugin_crashed");
  got.clear();
  iso.host.stream(test::chat("echo/any", "a b"), [&](const llmhost::Chunk &c) {
    got += c.content;
    return true;
  });
  CHECK(got == "a b");
}

TEST_CASE("a plugin that ignores its deadline is killed after the grace, with the calls beside it") {
  Isolated iso([](llmhost::HostOptions &o) { o.workers.hang_grace = 200ms; });
  auto beside = start(iso, test::chat("faulty/slow", "x"));
  llmhost::Request hang = test::chat("faulty/hang", "x");
  hang.timeout_s = 0.2;
  const llmhost::Error e = test::error_of([&] { iso.host.complete(hang); });
  CHECK(e.status() == 502);
  CHECK(std::string(e.what()).find("past its deadline") != std::string::npos);
  const llmhost::Error lost = error_in(beside);
  CHECK(lost.status() == 502);
  CHECK(lost.code() == "plugin_crashed");
  CHECK(std::string(lost.what()).find("hangs") != std::string::npos);
  answer_after_restart(iso, "faulty/ok");
  CHECK(iso.status("faulty").crashes.at("hang") == 1);
}

TEST_CASE("a cancelled call's plugin that never returns is killed after the grace") {
  Isolated iso([](llmhost::HostOptions &o) { o.workers.hang_grace = 200ms; });
  std::stop_source cancel;
  auto hung = start(iso, test::chat("faulty/hang", "x"), cancel.get_token());
  std::this_thread::sleep_for(50ms);
  cancel.request_stop();
  const llmhost::Error e = error_in(hung);
  CHECK(e.status() == 499);  // the caller gave up; the worker was killed under it
  answer_after_restart(iso, "faulty/ok");
  const llmhost::WorkerStatus w = iso.status("faulty");
  CHECK(w.crashes.at("hang") == 1);
  CHECK(w.last_crash.find("past its cancel") != std::string::npos);
}

TEST_CASE("a plugin allocating past max_memory_mb crashes its worker, not the host") {
  Isolated iso([](llmhost::HostOptions &o) { o.isolation.max_memory_mb = 1024; });
  const llmhost::Error e = failure(iso, "faulty/oom");
  CHECK(e.status() == 502);
  CHECK(e.code() == "plugin_crashed");
  CHECK(std::string(e.what()).find("SIGSEGV") != std::string::npos);  // the NULL it writes through
  answer_after_restart(iso, "faulty/ok");
}

TEST_CASE("a worker that sends garbage or answers a call never made is killed, never trusted") {
  Isolated iso;
  const llmhost::Error garbage = failure(iso, "faulty/garbage");
  CHECK(garbage.status() == 502);
  CHECK(garbage.code() == "plugin_crashed");
  CHECK(std::string(garbage.what()).find("sent a malformed frame") != std::string::npos);
  answer_after_restart(iso, "faulty/ok");
  const llmhost::Error stray = failure(iso, "faulty/stray");
  CHECK(stray.status() == 502);
  CHECK(std::string(stray.what()).find("answered call 999999, which is not in flight") != std::string::npos);
  answer_after_restart(iso, "faulty/ok");
  CHECK(iso.status("faulty").crashes.at("protocol") == 2);
  CHECK(iso.ask("echo/any") == "hi");
}

TEST_CASE("a crash loop makes the provider unavailable with 503 provider_unavailable, saying why") {
  Isolated iso([](llmhost::HostOptions &o) {
    o.workers.crash_loop_crashes = 3;
    o.workers.first_backoff = 20ms;
  });
  for (int i = 0; i < 3; ++i) {
    CHECK(failure(iso, "faulty/segv").status() == 502);
    if (i < 2) answer_after_restart(iso, "faulty/ok");
  }
  const llmhost::Error e = failure(iso, "faulty/ok");
  CHECK(e.status() == 503);
  CHECK(e.code() == "provider_unavailable");
  CHECK(std::string(e.what()).find("crashing in a loop") != std::string::npos);
  CHECK(std::string(e.what()).find("SIGSEGV") != std::string::npos);
  const llmhost::WorkerStatus w = iso.status("faulty");
  CHECK(w.state == "unavailable");
  CHECK(w.pid == 0);
  CHECK(iso.ask("echo/any") == "hi");  // the others serve on
}

TEST_CASE("a plugin that does not load in its worker is refused with the loader's reason") {
  test::TempDir dir;
  llmhost::HostOptions o = test::options_for({dir.path()});
  o.plugin_files = {test::test_plugin("libcreate_fails.so"), test::test_plugin("libwrong_abi.so"),
                    test::test_plugin("not_a_library.so")};
  o.isolation.mode = llmhost::Isolation::kProcess;
  o.workers.executable = test::cli();
  llmhost::Host host(o);
  CHECK(host.providers().empty());
  CHECK(host.workers().empty());
  const std::vector<llmhost::LoadError> errors = host.load_errors();
  REQUIRE(errors.size() == 3);
  for (const llmhost::LoadError &e : errors) CHECK(e.message.find("plugin " + e.file + ": ") == 0);
  CHECK(errors[0].kind == llmhost::LoadErrorKind::kCreateFailed);
  CHECK(errors[1].kind == llmhost::LoadErrorKind::kAbiMismatch);
  CHECK(errors[2].kind == llmhost::LoadErrorKind::kNotSharedLibrary);
}
