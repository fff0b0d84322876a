#include "tokens/pretokenizer.hpp"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include <stdexcept>
#include <string>

namespace llmhost::detail::tokens {
namespace {

std::string pcre2_message(int code) {
  PCRE2_UCHAR buffer[256];
  return pcre2_get_error_message(code, buffer, sizeof buffer) < 0 ? "error " + std::to_string(code)
                                                                  : reinterpret_cast<const char *>(buffer);
}

// The JIT's default 32 KiB stack is too small for some long runs (a page of one repeated
// punctuation mark); each thread gets one of up to 1 MiB, created on first use.
struct ThreadMatchContext {
  pcre2_match_context *context = pcre2_match_context_create(nullptr);
  pcre2_jit_stack *stack = pcre2_jit_stack_create(32 * 1024, 1024 * 1024, nullptr);
  ThreadMatchContext() { pcre2_jit_stack_assign(context, nullptr, stack); }
  ~ThreadMatchContext() {
    pcre2_jit_stack_free(stack);
    pcre2_match_context_free(context);
  }
};

}  // namespace

struct Pretokenizer::Compiled {
  pcre2_code *code = nullptr;
  bool jit = false;
  ~Compiled() { pcre2_code_free(code); }
};

Pretokenizer::Pretokenizer(std::string_view pattern, std::optional<PiecePattern> ascii)
    : compiled_(std::make_unique<Compiled>()), ascii_(ascii) {
  int error = 0;
  PCRE2_SIZE at = 0;
  compiled_->code = pcre2_compile(reinterpret_cast<PCRE2_SPTR>(pattern.data()), pattern.size(), PCRE2_UTF | PCRE2_UCP,
                                  &error, &at, nullptr);
  if (!compiled_->code)
    throw std::runtime_error("pre-tokenizer pattern does not compile at offset " + std::to_string(at) + ": " +
                             pcre2_message(error));
  // Without JIT (a platform PCRE2 lacks it for) matching is slower but the same.
  compiled_->jit = pcre2_jit_compile(compiled_->code, PCRE2_JIT_COMPLETE) == 0;
}

Pretokenizer::~Pretokenizer() = default;

void Pretokenizer::split(std::string_view text, std::vector<std::string_view> &pieces) const {
  thread_local ThreadMatchContext thread_context;
  struct MatchData {
    pcre2_match_data *data;
    ~MatchData() { pcre2_match_data_free(data); }
  } md{pcre2_match_data_create_from_pattern(compiled_->code, nullptr)};
  const auto *subject = reinterpret_cast<PCRE2_SPTR>(text.data());
  // The first PCRE2 match checks that the text from there on is UTF-8; the later ones need not.
  // Whatever the ASCII path took before it is ASCII.
  uint32_t options = 0;
  for (size_t at = 0; at < text.size();) {
    if (ascii_)
      if (const size_t n = ascii_piece(*ascii_, text, at)) {
        pieces.emplace_back(text.data() + at, n);
        at += n;
        continue;
      }
    // pcre2_jit_match skips pcre2_match's checks of its arguments, a third of a short match;
    // the first match still goes through pcre2_match, which checks the text is UTF-8.
    const int rc =
        compiled_->jit && options
            ? pcre2_jit_match(compiled_->code, subject, text.size(), at, options, md.data, thread_context.context)
            : pcre2_match(compiled_->code, subject, text.size(), at, options, md.data, thread_context.context);
    if (rc == PCRE2_ERROR_NOMATCH) break;
    if (rc <= PCRE2_ERROR_UTF8_ERR1 && rc >= PCRE2_ERROR_UTF8_ERR21)
      throw std::invalid_argument("the text is not valid UTF-8 at byte " +
                                  std::to_string(pcre2_get_startchar(md.data)) + ": " + pcre2_message(rc));
    // The ASCII path stopped at a byte that continues a character no lead byte began: what
    // PCRE2 reports had it checked from the start.
    if (rc == PCRE2_ERROR_BADUTFOFFSET)
      throw std::invalid_argument("the text is not valid UTF-8 at byte " + std::to_string(at) + ": " +
                                  pcre2_message(PCRE2_ERROR_UTF8_ERR20));
    if (rc < 0) throw std::runtime_error("pre-tokenizer: " + pcre2_message(rc));
    options = PCRE2_NO_UTF_CHECK;
    const PCRE2_SIZE *span = pcre2_get_ovector_pointer(md.data);
    if (span[1] == span[0]) {  // no tiktoken pattern matches empty; never loop on one that does
      do ++at;
      while (at < text.size() && (static_cast<unsigned char>(text[at]) & 0xC0) == 0x80);
      continue;
    }
    pieces.emplace_back(text.data() + span[0], span[1] - span[0]);
    at = span[1];
  }
}

}  // namespace llmhost::detail::tokens
