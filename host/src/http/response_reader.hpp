// Parses one HTTP/1.1 response as its bytes arrive, for the Asio client (wire_exchange.hpp): the
// status and headers go to a TransferResult, the body to a BodySink as views into the read
// buffer (Beast's basic_parser does the framing: Content-Length, chunked, or up to the close).
// No copy and no allocation per body piece. One per response; the connection keeps it in place.
#pragma once

#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/basic_parser.hpp>

#include <optional>

#include "http/body_sink.hpp"
#include "http/transfer_result.hpp"

namespace llmhost::detail::http {

class ResponseReader final : public boost::beast::http::basic_parser<false> {
 public:
  // The answer to a request whose method was HEAD (`head_request`) has no body whatever its
  // headers say. `out` and `body` must outlive the reader.
  ResponseReader(TransferResult &out, BodySink &body, bool head_request);

  enum class Parsed {
    kNeedMore,   // the answer is not complete yet: read more
    kDone,       // a complete final answer
    kStopped,    // the body sink said stop (on_line returned non-zero, or the body is too large)
    kMalformed,  // not HTTP, or not the HTTP it claims to be: `ec` says how
  };

  // Feeds what `buffer` holds to `reader`, consuming what it parsed. An interim 1xx answer (not
  // 101) is passed over: `reader` is made anew for the answer that follows it. Thread of the
  // connection.
  static Parsed feed(std::optional<ResponseReader> &reader, boost::beast::flat_buffer &buffer,
                     boost::beast::error_code &ec);
  // The connection was closed after what feed() saw: kDone when that ends the answer (a body
  // that runs to the close), else kMalformed. Not for a reader that got no byte at all
  // (got_some(): that is no answer, not a malformed one).
  Parsed closed(boost::beast::error_code &ec);

 private:
  using error_code = boost::beast::error_code;
  using string_view = boost::beast::string_view;

  void on_request_impl(boost::beast::http::verb, string_view, string_view, int, error_code &ec) override;
  void on_response_impl(int code, string_view reason, int version, error_code &ec) override;
  void on_field_impl(boost::beast::http::field, string_view name, string_view value, error_code &ec) override;
  void on_header_impl(error_code &) override {}
  void on_body_init_impl(const boost::optional<std::uint64_t> &, error_code &) override {}
  std::size_t on_body_impl(string_view data, error_code &ec) override;
  void on_chunk_header_impl(std::uint64_t, string_view, error_code &) override {}
  std::size_t on_chunk_body_impl(std::uint64_t, string_view data, error_code &ec) override;
  void on_finish_impl(error_code &) override {}

  TransferResult &out_;
  BodySink &body_;
  const bool head_request_;
  bool stopped_ = false;
};

}  // namespace llmhost::detail::http
