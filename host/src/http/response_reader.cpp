#include "http/response_reader.hpp"

#include <boost/asio/error.hpp>

namespace llmhost::detail::http {
namespace {

// curl's limit for one header line is 100 KiB; the whole header may be a little more.
constexpr std::uint32_t kHeaderLimit = 256 * 1024;

}  // namespace

ResponseReader::ResponseReader(TransferResult &out, BodySink &body, bool head_request) : out_(out), body_(body) {
  header_limit(kHeaderLimit);
  body_limit(boost::none);  // BodySink caps what is kept; a stream's lines may add up to more
  eager(true);              // parse the body in the same put() as the header that precedes it
  skip(head_request);
}

void ResponseReader::on_request_impl(boost::beast::http::verb, string_view, string_view, int, error_code &ec) {
  ec = boost::asio::error::invalid_argument;  // a response parser never sees a request line
}

void ResponseReader::on_response_impl(int code, string_view, int, error_code &) {
  out_.status = code;
  out_.headers.clear();  // after a 1xx: only the final answer's headers count
}

void ResponseReader::on_field_impl(boost::beast::http::field, string_view name, string_view value, error_code &) {
  out_.headers.emplace_back(std::string(name), std::string(value));
}

std::size_t ResponseReader::on_body_impl(string_view data, error_code &ec) {
  if (body_.write(std::string_view(data.data(), data.size()), out_.status)) return data.size();
  stopped_ = true;
  ec = boost::asio::error::operation_aborted;
  return 0;
}

std::size_t ResponseReader::on_chunk_body_impl(std::uint64_t, string_view data, error_code &ec) {
  return on_body_impl(data, ec);
}

}  // namespace llmhost::detail::http
