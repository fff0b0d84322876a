#include "proxy/server.hpp"

#include <pthread.h>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>

#include <sched.h>

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <thread>
#include <vector>

#include "dispatch/thread_pool.hpp"
#include "proxy/session.hpp"

namespace llmhost::proxy {

namespace net = boost::asio;
using tcp = net::ip::tcp;

namespace {

// One I/O thread per two CPUs this process may run on (its affinity mask: taskset, cpusets),
// from 1 to 4. I/O threads only move bytes; more of them than that mostly hand the scheduler
// to each other (on one core, a second I/O thread cost ~30% more CPU per request).
unsigned default_io_threads() {
  cpu_set_t set;
  CPU_ZERO(&set);
  const int cpus = sched_getaffinity(0, sizeof set, &set) == 0 ? CPU_COUNT(&set) : 1;
  return static_cast<unsigned>(std::clamp(cpus / 2, 1, 4));
}

ServerOptions resolved(ServerOptions o) {
  if (o.io_threads == 0) o.io_threads = default_io_threads();
  return o;
}

// An event loop per I/O thread, as nginx has a process per worker: a connection lives on one
// loop, so its handlers need no strand. Loop 0 also runs the acceptor, the signals, the drain,
// and what the Host puts on Server::io_context() (its HTTP service, the isolation reader).
std::vector<std::unique_ptr<net::io_context>> make_loops(unsigned n) {
  std::vector<std::unique_ptr<net::io_context>> loops;
  for (unsigned i = 0; i < n; ++i) loops.push_back(std::make_unique<net::io_context>(1));
  return loops;
}

}  // namespace

struct Server::Impl {
  explicit Impl(ServerOptions opts)
      : options(resolved(std::move(opts))),
        shared(options),
        loops(make_loops(options.io_threads)),
        control(loops[0]->get_executor()),
        acceptor(control),
        signals(control, SIGINT, SIGTERM, SIGHUP),
        accept_timer(control),
        drain_timer(control) {
    for (const auto &loop : loops) {
      shared.loops.push_back(loop->get_executor());
      session_loops.push_back(std::make_unique<SessionLoop>(loop->get_executor()));
    }
    const tcp::endpoint ep(net::ip::make_address(options.host), options.port);
    acceptor.open(ep.protocol());
    acceptor.set_option(net::socket_base::reuse_address(true));
    acceptor.bind(ep);
    acceptor.listen(net::socket_base::max_listen_connections);
    // Started on demand: a stream holds its worker for its whole length, so the pool must be
    // able to reach one thread per open call, yet an idle server keeps only a few.
    pool = std::make_unique<detail::ThreadPool>(std::min(8u, options.workers), std::max(1u, options.workers));
  }

  // Connections go to the loops in turn.
  size_t next_loop() { return accepted++ % loops.size(); }

  void stop_loops() {
    work.clear();
    for (auto &loop : loops) loop->stop();
  }

  void accept() {
    const size_t loop = next_loop();
    acceptor.async_accept(
        loops[loop]->get_executor(),
        [this, loop](boost::system::error_code ec, Session::Socket socket) { on_accept(loop, ec, std::move(socket)); });
  }

  // On loop 0; `socket` belongs to loop `loop`.
  void on_accept(size_t loop, boost::system::error_code ec, Session::Socket socket) {
    if (!acceptor.is_open()) return;
    if (ec && out_of_resources(ec)) return accept_later(ec);
    if (accept_paused) {
      accept_paused = false;
      notice("accepting connections again");
    }
    if (!ec && shared.open.load() >= static_cast<int64_t>(options.max_connections)) {
      boost::system::error_code ignored;
      socket.close(ignored);
    } else if (!ec) {
      // Every response and SSE frame is written whole: let it leave at once, not wait for
      // an ACK (Nagle held each stream's first chunk ~40 ms behind the headers).
      boost::system::error_code ignored;
      socket.set_option(tcp::no_delay(true), ignored);
      auto s = std::make_shared<Session>(std::move(socket), shared, *session_loops[loop]);
      {
        std::lock_guard lock(shared.mu);
        shared.sessions.emplace(s.get(), s);
      }
      s->start();
    }
    accept();
  }

  static bool out_of_resources(const boost::system::error_code &ec) {
    return ec == net::error::no_descriptors || ec == net::error::no_buffer_space || ec == net::error::no_memory ||
           ec.value() == ENFILE;
  }

  // Out of descriptors (or kernel memory), accepting again at once would fail again at once and
  // spin a core while the connection waits in the backlog. Waiting lets calls end and free
  // theirs; the backlog keeps the waiting clients meanwhile.
  void accept_later(const boost::system::error_code &ec) {
    if (!accept_paused) {
      accept_paused = true;
      notice("cannot accept connections: " + ec.message() + " (" + std::to_string(shared.open.load()) +
             " open; --max-connections " + std::to_string(options.max_connections) + "); trying again every 100 ms");
    }
    accept_timer.expires_after(std::chrono::milliseconds(100));
    accept_timer.async_wait([this](boost::system::error_code wait_ec) {
      if (!wait_ec) accept();
    });
  }

  void wait_signal() {
    signals.async_wait([this](boost::system::error_code ec, int sig) {
      if (ec) return;
      if (sig == SIGHUP) {
        if (shared.hooks.reload) post_work(shared.hooks.reload);
        return wait_signal();
      }
      begin_drain();
    });
  }

  void post_work(std::function<void()> job) {
    // After run() the pool is gone and nothing is served; only a late handler (the Host's
    // HTTP loop running for its shutdown) can get here, and its exchange is gone too.
    if (!pool) return;
    busy_workers.fetch_add(1);
    pool->post([this, job = std::move(job)] {
      try {
        job();
      } catch (const std::exception &e) {
        notice(std::string("worker job failed: ") + e.what());
      }
      busy_workers.fetch_sub(1);
    });
  }

  // Plugin calls in flight: on workers, and in plugins' asynchronous form (no thread).
  int64_t calls_running() const {
    return busy_workers.load() + (shared.hooks.async_calls ? static_cast<int64_t>(shared.hooks.async_calls()) : 0);
  }

  void notice(const std::string &m) {
    if (shared.hooks.notice) shared.hooks.notice(m);
  }

  template <class Fn>
  void each_session(Fn fn) {
    std::vector<std::shared_ptr<Session>> live;
    {
      std::lock_guard lock(shared.mu);
      for (auto &[p, w] : shared.sessions)
        if (auto s = w.lock()) live.push_back(std::move(s));
    }
    for (auto &s : live) fn(*s);
  }

  // On an I/O thread.
  void begin_drain() {
    if (shared.draining.exchange(true)) return;
    boost::system::error_code ec;
    acceptor.close(ec);
    accept_timer.cancel();
    signals.cancel(ec);
    notice("draining: no new connections; waiting for requests in flight (up to " +
           std::to_string(options.drain_timeout.count()) + " ms)");
    each_session([](Session &s) { s.drain(); });
    deadline = std::chrono::steady_clock::now() + options.drain_timeout;
    poll_drain();
  }

  void poll_drain() {
    drain_timer.expires_after(std::chrono::milliseconds(20));
    drain_timer.async_wait([this](boost::system::error_code) {
      const auto now = std::chrono::steady_clock::now();
      // Calls the watchdog gave up on are not waited for: their clients have their answer.
      if (shared.open.load() == 0 && calls_running() - shared.abandoned_running.load() <= 0) return stop_loops();
      if (now >= deadline && !forced) {
        forced = true;
        notice("drain deadline passed: cancelling " + std::to_string(shared.open.load()) + " connection(s)");
        each_session([](Session &s) { s.abort(); });
        deadline = now + std::chrono::seconds(5);
      } else if (now >= deadline && forced) {
        return stop_loops();
      }
      poll_drain();
    });
  }

  ServerOptions options;
  // Before the loops: sessions in handlers they still hold use it when they are destroyed.
  SessionShared shared;
  std::vector<std::unique_ptr<net::io_context>> loops;
  std::vector<std::unique_ptr<SessionLoop>> session_loops;  // by loop; destroyed before the loops
  // Keep the loops running while they have no connection; cleared to stop.
  std::vector<net::executor_work_guard<net::io_context::executor_type>> work;
  size_t accepted = 0;  // on loop 0
  // The acceptor, the signals and the drain timer: their handlers (accept, begin_drain,
  // poll_drain) touch the same state, on loop 0.
  net::io_context::executor_type control;
  tcp::acceptor acceptor;
  net::signal_set signals;
  net::steady_timer accept_timer;  // accept_later's wait
  bool accept_paused = false;      // out of descriptors: accepting every 100 ms
  net::steady_timer drain_timer;
  std::chrono::steady_clock::time_point deadline;
  bool forced = false;
  std::atomic<int> busy_workers{0};
  std::unique_ptr<detail::ThreadPool> pool;  // destroyed before the io_context: jobs hold sessions
};

Server::Server(ServerOptions options) : impl_(std::make_unique<Impl>(std::move(options))) {}

Server::~Server() {
  if (impl_ && impl_->pool) impl_->pool.reset();
}

uint16_t Server::port() const { return impl_->acceptor.local_endpoint().port(); }

void Server::post_work(std::function<void()> job) { impl_->post_work(std::move(job)); }

WatchdogCounts Server::watchdog() const {
  const SessionShared &s = impl_->shared;
  WatchdogCounts c;
  c.abandoned_running = s.abandoned_running.load();
  c.call = s.timeouts[Session::kCall].load();
  c.request = s.timeouts[Session::kRequest].load();
  c.stream_idle = s.timeouts[Session::kStreamIdle].load();
  c.stream_duration = s.timeouts[Session::kStreamDuration].load();
  return c;
}

boost::asio::io_context &Server::io_context() { return *impl_->loops[0]; }

void Server::run_loop_while(const std::function<void()> &fn) {
  net::io_context &ioc = *impl_->loops[0];
  ioc.restart();
  auto work = net::make_work_guard(ioc);
  std::thread loop([&ioc] { ioc.run(); });
  fn();
  work.reset();
  ioc.stop();
  loop.join();
}

void Server::stop() {
  net::post(impl_->control, [this] { impl_->begin_drain(); });
}

bool Server::run(ServerHooks hooks) {
  Impl &d = *impl_;
  d.shared.hooks = std::move(hooks);
  for (auto &loop : d.loops) {
    loop->restart();  // run_loop_while may have run (and stopped) loop 0 before
    d.work.push_back(net::make_work_guard(*loop));
  }
  d.accept();
  d.wait_signal();
  std::vector<std::thread> threads;
  for (size_t i = 1; i < d.loops.size(); ++i)
    threads.emplace_back([&loop = *d.loops[i]] {
      ::pthread_setname_np(::pthread_self(), "llmh-io");  // the first I/O thread is the caller's
      loop.run();
    });
  d.loops[0]->run();
  for (auto &t : threads) t.join();
  d.shared.stopped = true;
  // Calls cancelled at the deadline get a short grace period to return from their plugin. An
  // asynchronous one cannot end now (the loop it ends on has stopped): it is a plugin that
  // ignored its cancel, as much as a worker still busy is.
  const auto grace = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (d.calls_running() > 0 && std::chrono::steady_clock::now() < grace)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  if (d.calls_running() > 0) return false;
  d.pool.reset();
  return true;
}

}  // namespace llmhost::proxy
