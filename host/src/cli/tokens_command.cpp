#include "cli/tokens_command.hpp"

#include <iostream>
#include <iterator>
#include <stdexcept>

#include "cli/commands.hpp"
#include "json/writer.hpp"
#include "tokens/encoding.hpp"
#include "tokens/model_encoding.hpp"

namespace llmhost::cli {

int run_tokens(const TokensOptions &opts) {
  using detail::tokens::Encoding;
  const std::string_view name =
      opts.encoding.empty() ? detail::tokens::encoding_for_model(opts.model) : std::string_view(opts.encoding);
  const Encoding *encoding = Encoding::find(name);
  if (!encoding) {
    std::string known;
    for (std::string_view n : Encoding::names()) known += (known.empty() ? "" : ", ") + std::string(n);
    std::cerr << "llmhost: unknown encoding \"" << name << "\"; known: " << known << '\n';
    return kUsage;
  }
  std::string stdin_text;
  if (opts.text == "-") stdin_text.assign(std::istreambuf_iterator<char>(std::cin), std::istreambuf_iterator<char>());
  const std::string &text = opts.text == "-" ? stdin_text : opts.text;
  try {
    if (!opts.json) {
      std::cout << encoding->count(text) << '\n';
      return kOk;
    }
    const std::vector<uint32_t> ids = encoding->encode(text);
    std::string out;
    json::Writer w(out);
    w.begin_object().key("model").value(opts.model).key("encoding").value(encoding->name());
    w.key("tokens").value(static_cast<int64_t>(ids.size())).key("ids").begin_array();
    for (uint32_t id : ids) w.value(id);
    w.end_array().end_object();
    std::cout << out << '\n';
    return kOk;
  } catch (const std::invalid_argument &e) {
    std::cerr << "llmhost: " << (opts.text == "-" ? "standard input" : "TEXT") << ": " << e.what() << '\n';
    return kCallFailed;
  }
}

}  // namespace llmhost::cli
