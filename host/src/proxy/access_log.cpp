#include "proxy/access_log.hpp"

#include <ctime>

#include "json/writer.hpp"

namespace llmhost::proxy {
namespace {

std::string iso_time(std::chrono::system_clock::time_point t) {
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
  const std::time_t secs = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[40];
  const size_t n = std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
  std::snprintf(buf + n, sizeof buf - n, ".%03dZ", static_cast<int>(ms % 1000));
  return buf;
}

}  // namespace

std::string access_log_line(const Record &r) {
  std::string out;
  json::Writer w(out);
  w.begin_object()
      .member("time", iso_time(r.start))
      .member("method", r.method)
      .member("path", r.path)
      .member("route", r.route)
      .member("model", r.model)
      .member("provider", r.provider)
      .member("status", r.status)
      .member("stream", r.stream)
      .member("latency_ms", std::chrono::duration<double, std::milli>(r.latency).count())
      .member("bytes_in", static_cast<int64_t>(r.bytes_in))
      .member("bytes_out", static_cast<int64_t>(r.bytes_out));
  if (r.usage)
    w.member("prompt_tokens", r.usage->prompt_tokens)
        .member("completion_tokens", r.usage->completion_tokens)
        .member("usage", r.usage->estimated ? "estimated" : "reported");
  w.end_object();
  return out;
}

void AccessLog::write(const Record &r) {
  std::string line = access_log_line(r);
  line += '\n';
  std::lock_guard lock(mu_);
  std::fwrite(line.data(), 1, line.size(), out_);
  std::fflush(out_);
}

}  // namespace llmhost::proxy
