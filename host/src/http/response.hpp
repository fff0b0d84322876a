// The response handed to plugins; opaque to them (declared in http.h), read through the
// table's status/body/header functions (http_extension.cpp).
#pragma once

#include <memory>
#include <string>

#include "http/transfer_result.hpp"

struct llmh_http_response {
  long status = 0;
  llmhost::detail::http::Headers headers;
  std::string body;
};

namespace llmhost::detail::http {

// The answer an attempt got, as the response a plugin receives. Any thread.
inline std::unique_ptr<llmh_http_response> make_response(TransferResult &&t) {
  auto response = std::make_unique<llmh_http_response>();
  response->status = t.status;
  response->headers = std::move(t.headers);
  response->body = std::move(t.body);
  return response;
}

}  // namespace llmhost::detail::http
