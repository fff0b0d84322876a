// The bridge from C++ calls to the C ABI: lays a Request out as llmh_* views, hands the plugin
// host-implemented builders and sinks, and turns the plugin's results and errors into C++.
#pragma once

#include <stop_token>
#include <string>
#include <string_view>
#include <vector>

#include "llmhost/host.hpp"
#include "llmhost/provider.h"
#include "plugin.hpp"

namespace llmhost::detail {

// A Request as C views. Owns only the arrays of views; the strings stay in the Request and
// `body`, which must outlive it.
class CRequest {
 public:
  CRequest(const Request &request, std::string_view model, std::string_view body);
  CRequest(const CRequest &) = delete;
  CRequest &operator=(const CRequest &) = delete;
  const llmh_request *get() const { return &req_; }

 private:
  llmh_request req_{};
  llmh_params params_{};
  std::vector<llmh_message> messages_;
  std::vector<llmh_tool_call> tool_calls_;  // all messages' calls, back to back
  std::vector<llmh_str> stops_;
  std::vector<llmh_str> inputs_;
};

Response call_complete(const Plugin &plugin, const llmh_request &req, std::stop_token cancel);
void call_stream(const Plugin &plugin, const llmh_request &req, const ChunkCallback &on_chunk,
                 std::stop_token cancel);
EmbeddingResponse call_embed(const Plugin &plugin, const llmh_request &req, std::stop_token cancel);

}  // namespace llmhost::detail
