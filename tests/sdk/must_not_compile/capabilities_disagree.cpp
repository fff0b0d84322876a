// Must not compile: LLMH_PROVIDER declares a stream the class does not implement.
#include <llmhost/provider.hpp>

class ClaimsAStream final : public llmh::Provider {
 public:
  using Provider::Provider;
  void complete(const llmh::Request &, llmh::Response &out) override { out.content("x"); }
};

LLMH_PROVIDER(ClaimsAStream, "claims", "1.0.0", "declares a call it lacks", LLMH_CAP_COMPLETE | LLMH_CAP_STREAM)
