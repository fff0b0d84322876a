// Must not compile: the text completion table's complete_text is never NULL, so a class that
// streams text must also complete it.
#include <llmhost/provider.hpp>

class StreamOnly final : public llmh::Provider {
 public:
  using Provider::Provider;
  void stream_text(const llmh::Request &req, llmh::Stream &out) override {
    out.emit_text(req.prompt());
    out.finish("stop");
  }
};

LLMH_PROVIDER(StreamOnly, "stream-only", "1.0.0", "stream_text without complete_text")
