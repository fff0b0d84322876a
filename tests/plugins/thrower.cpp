// thrower: every call throws, to prove provider.hpp turns exceptions into ABI errors.
//   complete: std::runtime_error("boom from thrower")   -> 500 "boom from thrower"
//   stream:   one chunk "partial", then llmh::Error(429, "slow down") -> 429 "slow down"
//   embed:    throws an int (not a std::exception)      -> 500 "unknown exception"
#include <llmhost/provider.hpp>

#include <stdexcept>

namespace {

class Thrower final : public llmh::Provider {
public:
  using Provider::Provider;

  void complete(const llmh::Request &, llmh::Response &) override {
    throw std::runtime_error("boom from thrower");
  }

  void stream(const llmh::Request &, llmh::Stream &out) override {
    out.emit_text("partial");
    throw llmh::Error(429, "slow down");
  }

  void embed(const llmh::Request &, llmh::Embeddings &) override { throw 42; }
};

}  // namespace

LLMH_PROVIDER(Thrower, "thrower", "1.0.0", "throws from every call",
              LLMH_CAP_COMPLETE | LLMH_CAP_STREAM | LLMH_CAP_EMBED)
