#include "http/body_sink.hpp"

#include <llmhost/views.hpp>

namespace llmhost::detail::http {
namespace {

// Bodies kept in memory are capped; an upstream sending more is treated as broken.
constexpr size_t kMaxBody = size_t{512} << 20;

}  // namespace

void BodySink::begin(llmh_http_line_fn on_line, void *user, TransferResult &out) {
  on_line_ = on_line;
  user_ = user;
  out_ = &out;
  decided_ = lines_ = false;
  pending_.clear();
}

bool BodySink::deliver(std::string_view line) {
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  out_->delivered = true;
  if (on_line_(user_, llmh::str(line)) != 0) {
    out_->consumer_stop = true;
    return false;
  }
  return true;
}

bool BodySink::write(std::string_view in, long status) {
  if (!decided_) {
    lines_ = on_line_ && status >= 200 && status < 300;
    decided_ = true;
  }
  if (!lines_) {
    if (out_->body.size() + in.size() > kMaxBody) return out_->too_large = true, false;
    out_->body.append(in);
    return true;
  }
  while (!in.empty()) {
    const size_t nl = in.find('\n');
    if (nl == std::string_view::npos) {
      if (pending_.size() + in.size() > kMaxBody) return out_->too_large = true, false;
      pending_.append(in);
      break;
    }
    bool go_on;
    if (pending_.empty()) {
      go_on = deliver(in.substr(0, nl));  // the common case: no copy
    } else {
      pending_.append(in.substr(0, nl));
      go_on = deliver(pending_);
      pending_.clear();
    }
    if (!go_on) return false;
    in.remove_prefix(nl + 1);
  }
  return true;
}

void BodySink::end() {
  if (!lines_ || pending_.empty()) return;
  const std::string last = std::move(pending_);
  pending_.clear();
  deliver(last);
}

}  // namespace llmhost::detail::http
