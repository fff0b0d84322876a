#include "http/http_service.hpp"

#include <chrono>
#include <cstdlib>
#include <string>
#include <thread>

#include "http/async_client.hpp"
#include "http/event_loop.hpp"
#include "http/http_call.hpp"
#include "http/transfer.hpp"

namespace llmhost::detail::http {
namespace {

// Sleeps `delay` in short steps so that a cancel is honoured; false when cancelled.
bool wait(Millis delay, const TransferSpec &spec) {
  const auto until = Clock::now() + delay;
  while (Clock::now() < until) {
    if (spec.cancelled && spec.cancelled(spec.user) != 0) return false;
    std::this_thread::sleep_for(std::min<Clock::duration>(Millis(50), until - Clock::now()));
  }
  return true;
}

bool set(const char *variable) {
  const char *value = std::getenv(variable);
  return value && *value;
}

WireRoutes wire_routes(const LogFn &log) {
  if (const char *choice = std::getenv("LLMHOST_HTTP_CLIENT"); choice && *choice) {
    const std::string_view c = choice;
    if (c == "curl") return WireRoutes{false, false};
    if (c != "auto")
      log(LLMH_LOG_WARN, "http",
          "LLMHOST_HTTP_CLIENT=\"" + std::string(c).substr(0, 32) + "\" is neither \"auto\" nor \"curl\": using auto");
  }
  const bool all = set("all_proxy") || set("ALL_PROXY");
  // curl reads no HTTP_PROXY in capitals (a CGI program's request could set it: "httpoxy").
  return WireRoutes{!all && !set("http_proxy"), !all && !set("https_proxy") && !set("HTTPS_PROXY")};
}

}  // namespace

HttpService::HttpService(LogFn log, int min_level, boost::asio::any_io_executor loop, unsigned loop_threads)
    : routes_(wire_routes(log)),
      policy_(std::move(log), min_level),
      loop_(std::move(loop)),
      loop_threads_(loop_threads) {}

HttpService::~HttpService() {
  // The client's handlers use the pool and the policy, and run on the loop: end them first.
  if (async_) async_->shutdown();
  async_.reset();
  own_loop_.reset();
}

std::unique_ptr<llmh_http_response> HttpService::perform(const llmh_http_request &request, llmh_error &err) noexcept {
  try {
    return perform_or_throw(request, err);
  } catch (const std::exception &e) {
    llmh_error_set(&err, 500, (std::string("HTTP service failure: ") + e.what()).c_str());
  } catch (...) {
    llmh_error_set(&err, 500, "HTTP service failure");
  }
  return nullptr;
}

std::unique_ptr<llmh_http_response> HttpService::perform_or_throw(const llmh_http_request &r, llmh_error &err) {
  HttpCall call;
  if (!call.prepare(r, /*own_body=*/false, err)) return nullptr;
  for (uint32_t attempt = 0;; ++attempt) {
    if (!call.next_attempt(err)) return nullptr;
    const auto started = Clock::now();
    TransferResult t;
    {
      CurlPool::Lease lease = pool_.acquire();
      t = run_transfer(lease.slot(), call.spec());
    }
    const Verdict v = policy_.judge(call, attempt, t, started, err);
    if (v.kind == Verdict::kAnswer) return make_response(std::move(t));
    if (v.kind == Verdict::kFail) return nullptr;
    if (!wait(v.delay, call.spec())) {
      call.fail_cancelled(err);
      return nullptr;
    }
  }
}

AsyncClient &HttpService::async_client() {
  std::call_once(async_once_, [this] {
    boost::asio::any_io_executor executor;
    if (loop_) {
      executor = loop_threads_ == 1 ? loop_ : boost::asio::make_strand(loop_);
    } else {
      own_loop_ = std::make_unique<EventLoop>();
      executor = own_loop_->executor();  // one thread: no strand needed
    }
    async_ = std::make_unique<AsyncClient>(executor, pool_, policy_, routes_);
  });
  return *async_;
}

void HttpService::perform_async(const llmh_http_request &request, llmh_http_done_fn done) noexcept {
  try {
    async_client().start(request, done);
  } catch (const std::exception &e) {
    reject_async(request.user, done, 500, (std::string("HTTP service failure: ") + e.what()).c_str());
  } catch (...) {
    reject_async(request.user, done, 500, "HTTP service failure");
  }
}

void HttpService::reject_async(void *user, llmh_http_done_fn done, int32_t status, const char *message) noexcept {
  try {
    async_client().reject(user, done, status, message);
  } catch (...) {
    // Out of memory, or no event loop at all: nothing can reach the loop. Answering here breaks
    // "never from inside perform_async", but a `done` that never comes would hang the call.
    llmh_error err{};
    err.struct_size = sizeof err;
    llmh_error_set(&err, status, message);
    done(user, nullptr, &err);
  }
}

}  // namespace llmhost::detail::http
