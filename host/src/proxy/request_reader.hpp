// Parses one HTTP/1.1 request for a Session: Beast's basic_parser does the syntax and the
// framing (Content-Length, chunked, the limits); this keeps what the proxy reads of the header
// (the method, the target, Authorization, Content-Type, Expect, how many fields there are) and
// the body. Beast's request_parser would keep every field in a list of nodes, one allocation
// each, that no exchange reads. One per request; thread of the connection.
#pragma once

#include <boost/beast/http/basic_parser.hpp>

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace llmhost::proxy {

class RequestReader final : public boost::beast::http::basic_parser<true> {
 public:
  // Empty until the request line is parsed.
  std::string_view method() const { return method_; }
  std::string_view target() const { return target_; }
  unsigned version() const { return version_; }  // 11 for HTTP/1.1
  // The first field of each name, as sent; empty when there is none.
  std::string_view authorization() const { return authorization_; }
  std::string_view content_type() const { return content_type_; }
  bool expects_continue() const { return expects_continue_; }  // Expect: 100-continue
  std::size_t field_count() const { return field_count_; }
  // The body, moved out: the reader is done with it.
  std::string take_body() { return std::move(body_); }

 private:
  using error_code = boost::beast::error_code;
  using string_view = boost::beast::string_view;

  void on_request_impl(boost::beast::http::verb, string_view method, string_view target, int version,
                       error_code &) override;
  void on_response_impl(int, string_view, int, error_code &ec) override;
  void on_field_impl(boost::beast::http::field name, string_view, string_view value, error_code &) override;
  void on_header_impl(error_code &) override {}
  void on_body_init_impl(const boost::optional<std::uint64_t> &content_length, error_code &) override;
  std::size_t on_body_impl(string_view data, error_code &) override;
  void on_chunk_header_impl(std::uint64_t, string_view, error_code &) override {}
  std::size_t on_chunk_body_impl(std::uint64_t, string_view data, error_code &ec) override {
    return on_body_impl(data, ec);
  }
  void on_finish_impl(error_code &) override {}

  std::string method_, target_, authorization_, content_type_, body_;
  unsigned version_ = 11;
  bool has_authorization_ = false, has_content_type_ = false, has_expect_ = false, expects_continue_ = false;
  std::size_t field_count_ = 0;
};

}  // namespace llmhost::proxy
