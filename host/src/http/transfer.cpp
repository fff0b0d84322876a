#include "http/transfer.hpp"

#include <sys/socket.h>

#include <cerrno>
#include <cstring>
#include <string>

namespace llmhost::detail::http {
namespace {

// How long the wait loop sleeps at most before polling the cancel hook again.
constexpr int kPollMs = 50;

Failure failure_of(CURLcode code) {
  switch (code) {
    case CURLE_OK: return Failure::kNone;
    case CURLE_COULDNT_CONNECT:
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_RESOLVE_PROXY: return Failure::kConnect;
    case CURLE_OPERATION_TIMEDOUT: return Failure::kTimeout;
    default: return Failure::kBroken;
  }
}

}  // namespace

size_t Attempt::on_body(char *data, size_t size, size_t count, void *self) {
  Attempt &st = *static_cast<Attempt *>(self);
  const size_t n = size * count;
  long status = 0;  // looked up once per body, not per piece
  if (!st.body_.decided()) curl_easy_getinfo(st.easy_, CURLINFO_RESPONSE_CODE, &status);
  // 0 makes curl abort the transfer with CURLE_WRITE_ERROR.
  return st.body_.write(std::string_view(data, n), status) ? n : 0;
}

size_t Attempt::on_header(char *data, size_t size, size_t count, void *self) {
  Attempt &st = *static_cast<Attempt *>(self);
  const size_t n = size * count;
  std::string_view line(data, n);
  while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) line.remove_suffix(1);
  if (line.starts_with("HTTP/")) {
    st.out_.headers.clear();  // a new response (after a 1xx): only the final one counts
  } else if (const size_t colon = line.find(':'); colon != std::string_view::npos && colon > 0) {
    std::string_view value = line.substr(colon + 1);
    while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) value.remove_prefix(1);
    st.out_.headers.emplace_back(std::string(line.substr(0, colon)), std::string(value));
  }
  return n;
}

// The handle is not reset between transfers (curl_easy_reset would also drop the options
// curl_pool.cpp sets once, and costs a round of frees and defaults per call), so every option a
// transfer uses is set on every transfer: nothing of the previous call may leak.
void Attempt::begin(CURL *e, const TransferSpec &spec) {
  easy_ = e;
  out_ = TransferResult{};
  out_.headers.reserve(16);  // a typical response's, in one allocation rather than five
  body_.begin(spec.on_line, spec.user, out_);

  curl_easy_setopt(e, CURLOPT_URL, spec.url);
  curl_easy_setopt(e, CURLOPT_HTTPHEADER, spec.headers);
  curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(spec.connect_timeout.count()));
  curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, static_cast<long>(spec.timeout.count()));
  const bool get = spec.method == "GET";
  if (get) {
    curl_easy_setopt(e, CURLOPT_HTTPGET, 1L);  // also undoes a previous call's POST
  } else {
    // Implies POST. Never NULL: a NULL POSTFIELDS makes curl read the body from its read
    // callback (stdin).
    curl_easy_setopt(e, CURLOPT_POSTFIELDS, spec.body.empty() ? "" : spec.body.data());
    curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(spec.body.size()));
  }
  // curl copies the string; NULL restores the method the options above imply.
  const bool custom = !get && spec.method != "POST";
  curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, custom ? std::string(spec.method).c_str() : nullptr);
  curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, &Attempt::on_body);
  curl_easy_setopt(e, CURLOPT_WRITEDATA, this);
  curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, &Attempt::on_header);
  curl_easy_setopt(e, CURLOPT_HEADERDATA, this);
  curl_easy_setopt(e, CURLOPT_OPENSOCKETFUNCTION, &Attempt::open_socket);
  curl_easy_setopt(e, CURLOPT_OPENSOCKETDATA, this);
  error_[0] = '\0';
  socket_errno_ = 0;
  curl_easy_setopt(e, CURLOPT_ERRORBUFFER, error_);
}

// curl's own opener, plus close-on-exec (a process a plugin starts must not hold an upstream
// connection open) and the errno of a failure.
curl_socket_t Attempt::open_socket(void *self, curlsocktype, curl_sockaddr *address) {
  const curl_socket_t fd = ::socket(address->family, address->socktype | SOCK_CLOEXEC, address->protocol);
  if (fd == CURL_SOCKET_BAD) static_cast<Attempt *>(self)->socket_errno_ = errno;
  return fd;
}

TransferResult &Attempt::finish(CURLcode code) {
  out_.failure = failure_of(code);
  if (code != CURLE_OK) out_.cause = error_[0] ? error_ : curl_easy_strerror(code);
  if (code == CURLE_COULDNT_CONNECT && socket_errno_)
    out_.cause = std::string("could not open a socket: ") + std::strerror(socket_errno_);
  curl_easy_setopt(easy_, CURLOPT_ERRORBUFFER, nullptr);  // the handle may outlive this attempt
  curl_easy_getinfo(easy_, CURLINFO_RESPONSE_CODE, &out_.status);
  if (code == CURLE_OK && !out_.cancelled) body_.end();
  return out_;
}

TransferResult run_transfer(const CurlSlot &slot, const TransferSpec &spec) {
  Attempt attempt;
  attempt.begin(slot.easy, spec);

  // The multi interface, not curl_easy_perform: it lets us wake every kPollMs to honour the
  // cancel hook even while the upstream sends nothing.
  curl_multi_add_handle(slot.multi, slot.easy);
  CURLcode code = CURLE_OK;
  bool finished = false;
  for (;;) {
    int running = 0;
    if (curl_multi_perform(slot.multi, &running) != CURLM_OK) {
      code = CURLE_FAILED_INIT;
      break;
    }
    if (running == 0) {
      finished = true;
      break;
    }
    if (spec.cancelled && spec.cancelled(spec.user) != 0) {
      attempt.mark_cancelled();
      break;
    }
    curl_multi_poll(slot.multi, nullptr, 0, kPollMs, nullptr);
  }
  if (finished) {
    int queued = 0;
    while (CURLMsg *msg = curl_multi_info_read(slot.multi, &queued))
      if (msg->msg == CURLMSG_DONE && msg->easy_handle == slot.easy) code = msg->data.result;
  }
  // Removing an unfinished transfer makes curl close its connection rather than reuse it.
  curl_multi_remove_handle(slot.multi, slot.easy);
  return std::move(attempt.finish(code));
}

}  // namespace llmhost::detail::http
