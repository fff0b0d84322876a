#include "transfer.hpp"

#include <strings.h>

namespace llmhost::detail::http {
namespace {

// Bodies kept in memory are capped; an upstream sending more is treated as broken.
constexpr size_t kMaxBody = size_t{512} << 20;
// How long the wait loop sleeps at most before polling the cancel hook again.
constexpr int kPollMs = 50;

struct State {
  const TransferSpec *spec;
  CURL *easy;
  TransferResult *out;
  bool decided = false;  // whether this body goes to on_line is decided at its first byte
  bool lines = false;
  std::string pending;  // an incomplete line
};

bool deliver(State &st, std::string_view line) {
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  st.out->delivered = true;
  if (st.spec->on_line(st.spec->user, llmh_str{line.data(), line.size()}) != 0) {
    st.out->consumer_stop = true;
    return false;
  }
  return true;
}

size_t on_body(char *data, size_t size, size_t count, void *user) {
  State &st = *static_cast<State *>(user);
  const size_t n = size * count;
  if (!st.decided) {
    long status = 0;
    curl_easy_getinfo(st.easy, CURLINFO_RESPONSE_CODE, &status);
    st.lines = st.spec->on_line && status >= 200 && status < 300;
    st.decided = true;
  }
  if (!st.lines) {
    if (st.out->body.size() + n > kMaxBody) return st.out->too_large = true, 0;
    st.out->body.append(data, n);
    return n;
  }
  std::string_view in(data, n);
  while (!in.empty()) {
    const size_t nl = in.find('\n');
    if (nl == std::string_view::npos) {
      if (st.pending.size() + in.size() > kMaxBody) return st.out->too_large = true, 0;
      st.pending.append(in);
      break;
    }
    bool go_on;
    if (st.pending.empty()) {
      go_on = deliver(st, in.substr(0, nl));  // the common case: no copy
    } else {
      st.pending.append(in.substr(0, nl));
      go_on = deliver(st, st.pending);
      st.pending.clear();
    }
    if (!go_on) return 0;  // curl aborts the transfer with CURLE_WRITE_ERROR
    in.remove_prefix(nl + 1);
  }
  return n;
}

size_t on_header(char *data, size_t size, size_t count, void *user) {
  State &st = *static_cast<State *>(user);
  const size_t n = size * count;
  std::string_view line(data, n);
  while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) line.remove_suffix(1);
  if (line.starts_with("HTTP/")) {
    st.out->headers.clear();  // a new response (after a 1xx): only the final one counts
  } else if (const size_t colon = line.find(':'); colon != std::string_view::npos && colon > 0) {
    std::string_view value = line.substr(colon + 1);
    while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) value.remove_prefix(1);
    st.out->headers.emplace_back(std::string(line.substr(0, colon)), std::string(value));
  }
  return n;
}

// The slot's handle is not reset between transfers (curl_easy_reset would also drop the
// options curl_pool.cpp sets once, and costs a round of frees and defaults per call), so every
// option a transfer uses is set on every transfer: nothing of the previous call may leak.
void configure(CURL *e, const TransferSpec &spec, State &st) {
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
  curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, &on_body);
  curl_easy_setopt(e, CURLOPT_WRITEDATA, &st);
  curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, &on_header);
  curl_easy_setopt(e, CURLOPT_HEADERDATA, &st);
}

}  // namespace

TransferResult run_transfer(const CurlSlot &slot, const TransferSpec &spec) {
  TransferResult out;
  out.headers.reserve(16);  // a typical response's, in one allocation rather than five
  State st{&spec, slot.easy, &out, false, false, {}};
  configure(slot.easy, spec, st);

  // The multi interface, not curl_easy_perform: it lets us wake every kPollMs to honour the
  // cancel hook even while the upstream sends nothing.
  curl_multi_add_handle(slot.multi, slot.easy);
  out.code = CURLE_OK;
  bool finished = false;
  for (;;) {
    int running = 0;
    if (curl_multi_perform(slot.multi, &running) != CURLM_OK) {
      out.code = CURLE_FAILED_INIT;
      break;
    }
    if (running == 0) {
      finished = true;
      break;
    }
    if (spec.cancelled && spec.cancelled(spec.user) != 0) {
      out.cancelled = true;
      break;
    }
    curl_multi_poll(slot.multi, nullptr, 0, kPollMs, nullptr);
  }
  if (finished) {
    int queued = 0;
    while (CURLMsg *msg = curl_multi_info_read(slot.multi, &queued))
      if (msg->msg == CURLMSG_DONE && msg->easy_handle == slot.easy) out.code = msg->data.result;
  }
  curl_easy_getinfo(slot.easy, CURLINFO_RESPONSE_CODE, &out.status);
  // Removing an unfinished transfer makes curl close its connection rather than reuse it.
  curl_multi_remove_handle(slot.multi, slot.easy);

  if (out.code == CURLE_OK && !out.cancelled && st.lines && !st.pending.empty()) {
    // The last line had no terminator; it is still a line.
    const std::string last = std::move(st.pending);
    deliver(st, last);
  }
  return out;
}

const std::string *find_header(const Headers &headers, std::string_view name) {
  for (const auto &[key, value] : headers)
    if (key.size() == name.size() && strncasecmp(key.data(), name.data(), name.size()) == 0) return &value;
  return nullptr;
}

}  // namespace llmhost::detail::http
