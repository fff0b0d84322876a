#include "proxy/request_reader.hpp"

#include <boost/asio/error.hpp>
#include <boost/beast/core/string.hpp>

#include <utility>

namespace llmhost::proxy {

namespace http = boost::beast::http;

void RequestReader::on_request_impl(http::verb, string_view method, string_view target, int version, error_code &) {
  method_.assign(method.data(), method.size());
  target_.assign(target.data(), target.size());
  version_ = static_cast<unsigned>(version);
}

void RequestReader::on_response_impl(int, string_view, int, error_code &ec) {
  ec = boost::asio::error::invalid_argument;  // a request parser never sees a status line
}

void RequestReader::on_field_impl(http::field name, string_view, string_view value, error_code &) {
  ++field_count_;
  switch (name) {
    case http::field::authorization:
      if (!std::exchange(has_authorization_, true)) authorization_.assign(value.data(), value.size());
      break;
    case http::field::content_type:
      if (!std::exchange(has_content_type_, true)) content_type_.assign(value.data(), value.size());
      break;
    case http::field::expect:
      if (!std::exchange(has_expect_, true)) expects_continue_ = boost::beast::iequals(value, "100-continue");
      break;
    default: break;
  }
}

void RequestReader::on_body_init_impl(const boost::optional<std::uint64_t> &content_length, error_code &) {
  // basic_parser has refused a length over the body limit before this.
  if (content_length) body_.reserve(static_cast<std::size_t>(*content_length));
}

std::size_t RequestReader::on_body_impl(string_view data, error_code &) {
  body_.append(data.data(), data.size());
  return data.size();
}

}  // namespace llmhost::proxy
