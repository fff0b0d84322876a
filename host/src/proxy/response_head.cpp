#include "proxy/response_head.hpp"

#include <ostream>  // before Beast: boost/core/detail/string_view.hpp needs it complete

#include <boost/beast/http/status.hpp>

#include <charconv>

namespace llmhost::proxy {

namespace {
void append_number(std::string &out, uint64_t n) {
  char digits[20];
  const auto end = std::to_chars(digits, digits + sizeof digits, n).ptr;
  out.append(digits, static_cast<size_t>(end - digits));
}
}  // namespace

void begin_response_head(std::string &out, int status, unsigned version, std::string_view content_type) {
  out.clear();
  out += version == 10 ? "HTTP/1.0 " : "HTTP/1.1 ";
  append_number(out, static_cast<uint64_t>(status));
  out += ' ';
  const auto reason = boost::beast::http::obsolete_reason(static_cast<boost::beast::http::status>(status));
  out.append(reason.data(), reason.size());
  out += "\r\nServer: llmhost\r\n";
  add_response_field(out, "Content-Type", content_type);
}

void add_response_field(std::string &out, std::string_view name, std::string_view value) {
  out += name;
  out += ": ";
  out += value;
  out += "\r\n";
}

void end_response_head(std::string &out, unsigned version, bool keep_alive, std::optional<uint64_t> content_length) {
  if (version >= 11 && !keep_alive) out += "Connection: close\r\n";
  if (version < 11 && keep_alive) out += "Connection: keep-alive\r\n";
  if (content_length) {
    out += "Content-Length: ";
    append_number(out, *content_length);
    out += "\r\n\r\n";
  } else {
    out += "Transfer-Encoding: chunked\r\n\r\n";
  }
}

}  // namespace llmhost::proxy
