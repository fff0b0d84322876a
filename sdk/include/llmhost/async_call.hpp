/*
 * llmhost provider SDK, the C++ face of the asynchronous call form (llmhost/async.h): one call
 * in flight, held by a handle that ends it exactly once. Included by provider.hpp, whose
 * llmh::Provider::complete_async and stream_async receive these handles; include that one.
 *
 * OWNERSHIP. The host lends a call's request, its builder or sink, and its `done` until the
 * call is finished. A handle holds that loan: while it is live, request(), response() or
 * stream() may be used; finish() or fail() returns the loan, after which the handle is empty
 * and none of the views it gave out may be touched again. A handle is move-only. Dropping a
 * live handle (destroying it without finish or fail) ends the call with a 500 naming the
 * mistake, so no caller ever waits for a call that nobody will finish.
 *
 * THREADS. A handle may be moved to and used from any thread, by one thread at a time (the
 * builder and the sink accept one call at a time). Finish from a thread the plugin joins in its
 * destructor, or from a callback of the host (the HTTP service's), never from a detached
 * thread: finishing may release the host's last reference to the plugin's build.
 */
#ifndef LLMHOST_ASYNC_CALL_HPP
#define LLMHOST_ASYNC_CALL_HPP

#include <llmhost/async.h>
#include <llmhost/views.hpp>

#include <cstddef>
#include <exception>
#include <string_view>
#include <utility>

namespace llmh {

namespace detail {

// Maps the exception being handled to `err` and returns 1. Call only inside a catch block.
inline int fail_current(llmh_error *err) noexcept {
  llmh_error scratch{};
  if (!err) err = &scratch;
  try {
    throw;
  } catch (const Error &e) {
    return llmh_error_set(err, static_cast<int32_t>(e.status()), e.what());
  } catch (const std::exception &e) {
    return llmh_error_set(err, 500, e.what());
  } catch (...) {
    return llmh_error_set(err, 500, "unknown exception");
  }
}

// What both handles share: the request and the `done` on loan, and ending the call once.
class AsyncCall {
 public:
  AsyncCall(const AsyncCall &) = delete;
  AsyncCall &operator=(const AsyncCall &) = delete;

  // The call's request; valid while the handle is live.
  const Request &request() const noexcept { return request_; }
  // True until finish() or fail() ended the call (false too for a moved-from handle).
  bool live() const noexcept { return done_ != nullptr; }

  // Ends the call successfully: the answer is what the builder or sink was given. No-op on an
  // empty handle.
  void finish() noexcept { end(nullptr); }
  // Ends the call with `status` and `message` (copied; never a secret). No-op on an empty
  // handle.
  void fail(int status, std::string_view message) noexcept {
    if (!done_) return;
    llmh_error err = error_with(status);
    const std::size_t n = message.size() < LLMH_ERROR_MESSAGE_MAX ? message.size() : LLMH_ERROR_MESSAGE_MAX - 1;
    message.copy(err.message, n);
    err.message[n] = '\0';
    end(&err);
  }
  void fail(const Error &e) noexcept { fail(e.status(), e.what()); }
  // Ends the call with the exception being handled, mapped as a blocking call's would be
  // (llmh::Error keeps its status; any other exception is 500). Call only inside a catch
  // block. No-op on an empty handle.
  void fail_current() noexcept {
    if (!done_) return;
    llmh_error err = error_with(500);
    detail::fail_current(&err);
    end(&err);
  }

 protected:
  AsyncCall(const llmh_request *request, const llmh_call_done *done) noexcept : request_(request), done_(done) {}
  AsyncCall(AsyncCall &&other) noexcept : request_(other.request_), done_(std::exchange(other.done_, nullptr)) {}
  AsyncCall &operator=(AsyncCall &&other) noexcept {
    if (this != &other) {
      drop();
      request_ = other.request_;
      done_ = std::exchange(other.done_, nullptr);
    }
    return *this;
  }
  ~AsyncCall() { drop(); }

 private:
  static llmh_error error_with(int status) noexcept {
    llmh_error err{};
    err.struct_size = sizeof err;
    err.status = status;
    return err;
  }
  // A live handle destroyed or overwritten: the plugin lost the call. Ending it here is what
  // keeps its caller from waiting forever.
  void drop() noexcept {
    if (done_)
      fail(500,
           "the provider dropped an asynchronous call without finishing it (an llmh::AsyncCompletion or "
           "llmh::AsyncStream destroyed while live)");
  }
  void end(const llmh_error *err) noexcept {
    if (const llmh_call_done *done = std::exchange(done_, nullptr)) done->finish(done, err);
  }

  Request request_;
  const llmh_call_done *done_;
};

}  // namespace detail

// One chat completion in flight (llmh_async_provider.complete_async): write the answer through
// response(), then finish(), or fail(). See the ownership and thread rules above.
class AsyncCompletion : public detail::AsyncCall {
 public:
  // Made by the SDK's glue from what the host lent; a provider receives it, never makes one.
  AsyncCompletion(const llmh_request *request, const llmh_response_builder *out, const llmh_call_done *done) noexcept
      : AsyncCall(request, done), response_(out) {}
  AsyncCompletion(AsyncCompletion &&) noexcept = default;
  AsyncCompletion &operator=(AsyncCompletion &&) noexcept = default;

  // The answer's builder; valid while the handle is live.
  const Response &response() const noexcept { return response_; }
  // True once the caller gave up or the deadline passed: fail or finish promptly.
  bool cancelled() const noexcept { return response_.cancelled(); }

 private:
  Response response_;
};

// One stream in flight (llmh_async_provider.stream_async): emit chunks through stream(), in
// order, then finish(), or fail(). See the ownership and thread rules above.
class AsyncStream : public detail::AsyncCall {
 public:
  // Made by the SDK's glue from what the host lent; a provider receives it, never makes one.
  AsyncStream(const llmh_request *request, const llmh_stream_sink *sink, const llmh_call_done *done) noexcept
      : AsyncCall(request, done), stream_(sink) {}
  AsyncStream(AsyncStream &&) noexcept = default;
  AsyncStream &operator=(AsyncStream &&) noexcept = default;

  // The chunks' sink; valid while the handle is live. Its emit returns false once the consumer
  // is gone: finish then (the host reports no error for a stream its consumer stopped).
  Stream &stream() noexcept { return stream_; }
  // True once the consumer is gone or has cancelled: finish promptly.
  bool cancelled() const noexcept { return stream_.cancelled(); }

 private:
  Stream stream_;
};

}  // namespace llmh

#endif /* LLMHOST_ASYNC_CALL_HPP */
