#include "http/response_reader.hpp"

#include <boost/asio/error.hpp>
#include <boost/beast/http/error.hpp>

namespace llmhost::detail::http {
namespace {

// curl's limit for one header line is 100 KiB; the whole header may be a little more.
constexpr std::uint32_t kHeaderLimit = 256 * 1024;

}  // namespace

ResponseReader::ResponseReader(TransferResult &out, BodySink &body, bool head_request)
    : out_(out), body_(body), head_request_(head_request) {
  header_limit(kHeaderLimit);
  body_limit(boost::none);  // BodySink caps what is kept; a stream's lines may add up to more
  eager(true);              // parse the body in the same put() as the header that precedes it
  skip(head_request);
}

ResponseReader::Parsed ResponseReader::feed(std::optional<ResponseReader> &reader, boost::beast::flat_buffer &buffer,
                                            boost::beast::error_code &ec) {
  while (buffer.size() > 0) {
    const size_t used = reader->put(buffer.data(), ec);
    buffer.consume(used);
    if (ec == boost::beast::http::error::need_more) {
      ec = {};
      return Parsed::kNeedMore;
    }
    if (ec) return reader->stopped_ ? Parsed::kStopped : Parsed::kMalformed;
    if (reader->is_done()) {
      const long status = reader->out_.status;
      if (status < 100 || status >= 200 || status == 101) return Parsed::kDone;
      reader.emplace(reader->out_, reader->body_, reader->head_request_);  // past the interim
      continue;
    }
    if (used == 0) return Parsed::kNeedMore;
  }
  return Parsed::kNeedMore;
}

ResponseReader::Parsed ResponseReader::closed(boost::beast::error_code &ec) {
  put_eof(ec);
  return !ec && is_done() ? Parsed::kDone : Parsed::kMalformed;
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
