// `llmhost tokens MODEL TEXT`: counts tokens as the model's tiktoken encoding does. Needs no
// plugin: counting is the host's own (docs/tokens.md).
#pragma once

#include <string>

namespace llmhost::cli {

struct TokensOptions {
  std::string model;
  std::string text;      // "-": read standard input
  std::string encoding;  // empty: the model's
  bool json = false;     // {"model","encoding","tokens","ids"} instead of the bare count
};

// Exit codes as commands.hpp: 0, 1 when the text cannot be counted (not UTF-8), 2 for an
// unknown encoding.
int run_tokens(const TokensOptions &opts);

}  // namespace llmhost::cli
