// Must not compile: with stream_async, a blocking complete would run on the host's I/O thread.
#include <llmhost/provider.hpp>

class Half final : public llmh::Provider {
 public:
  using Provider::Provider;
  void complete(const llmh::Request &, llmh::Response &out) override { out.content("x"); }
  void stream_async(llmh::AsyncStream &&call) override { call.finish(); }
};

LLMH_PROVIDER(Half, "half", "1.0.0", "a blocking complete beside stream_async")
