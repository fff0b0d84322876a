// llmhost: the command-line front end. Parses arguments (CLI11) and hands each subcommand to
// its run_* function in commands.cpp.
#include <CLI/CLI.hpp>
#include <iostream>

#include "cli/commands.hpp"
#include "cli/serve.hpp"
#include "cli/tokens_command.hpp"
#include "isolation/worker.hpp"

namespace {

void add_call_options(CLI::App *cmd, llmhost::cli::CallOptions &o) {
  cmd->add_option("MODEL", o.model, "provider/model, e.g. echo/any")->required();
  cmd->add_option("--param", o.params, "extra request key KEY=VALUE (VALUE parsed as JSON when valid); repeatable");
  cmd->add_option("--api-key", o.api_key, "API key handed to the provider");
  cmd->add_option("--api-base", o.api_base, "base URL handed to the provider");
  cmd->add_option("--timeout", o.timeout_s, "call timeout in seconds");
  cmd->add_flag("--json", o.json, "print OpenAI JSON objects");
}

}  // namespace

int main(int argc, char **argv) {
  using namespace llmhost::cli;
  CLI::App app{"llmhost: a native LLM gateway whose providers are plugins"};
  app.require_subcommand(1);
  std::vector<std::string> plugin_dirs;
  app.add_option("--plugins", plugin_dirs,
                 "plugin folder (repeatable; default: $LLMHOST_PLUGIN_DIR or the bundled plugins)");
  bool allow_untrusted = false;
  app.add_flag("--allow-untrusted-plugins", allow_untrusted,
               "load plugin files or folders that are world-writable or owned by another user (development only)");
  std::optional<llmhost::Isolation> isolation;
  app.add_option_function<std::string>(
         "--isolation",
         [&isolation](const std::string &name) {
           llmhost::Isolation i;
           if (!llmhost::parse_isolation(name, i))
             throw CLI::ValidationError("--isolation", "must be process or in_process");
           isolation = i;
         },
         "where plugins run: in_process (default) or process, each in a worker process of its own (docs/isolation.md)")
      ->type_name("process|in_process");

  bool providers_json = false;
  auto *providers = app.add_subcommand("providers", "list loaded providers and load errors");
  providers->add_flag("--json", providers_json, "print JSON");

  CallOptions complete_opts, stream_opts, embed_opts;
  std::string complete_prompt, stream_prompt;
  std::vector<std::string> embed_texts;
  auto *complete = app.add_subcommand("complete", "one chat completion; prints the reply");
  add_call_options(complete, complete_opts);
  complete->add_option("PROMPT", complete_prompt, "the user message")->required();
  complete->add_option("--system", complete_opts.system, "a system message sent first");
  complete->add_flag("--text", complete_opts.text, "a text completion of PROMPT (OpenAI's /v1/completions), not a chat")
      ->excludes("--system");
  auto *stream = app.add_subcommand("stream", "a streamed chat completion; prints text as it arrives");
  add_call_options(stream, stream_opts);
  stream->add_option("PROMPT", stream_prompt, "the user message")->required();
  stream->add_option("--system", stream_opts.system, "a system message sent first");
  stream->add_flag("--text", stream_opts.text, "a streamed text completion of PROMPT, not a chat")
      ->excludes("--system");
  auto *embed = app.add_subcommand("embed", "embeddings for one or more texts");
  add_call_options(embed, embed_opts);
  embed->add_option("TEXT", embed_texts, "texts to embed")->required();
  CallOptions rerank_opts;
  std::string rerank_query;
  std::vector<std::string> rerank_documents;
  std::optional<size_t> rerank_top_n;
  auto *rerank = app.add_subcommand("rerank", "scores documents against a query; prints the best first");
  add_call_options(rerank, rerank_opts);
  rerank->add_option("QUERY", rerank_query, "what the documents are ranked against")->required();
  rerank->add_option("DOCUMENT", rerank_documents, "the documents")->required();
  rerank->add_option("--top-n", rerank_top_n, "print only the N best");
  CallOptions image_opts;
  ImageOptions image_what;
  auto *image = app.add_subcommand("image", "generates (or edits) images and writes them to files");
  add_call_options(image, image_opts);
  image->add_option("PROMPT", image_what.prompt, "what to draw, or how to change the --edit images")->required();
  image->add_option("--out", image_what.out, "the file to write (more images: FILE-2.png, ...); needed without --json");
  image->add_option("-n", image_what.n, "how many images (1..10)");
  image->add_option("--size", image_what.size, "e.g. 1024x1024");
  image->add_option("--edit", image_what.edit, "an image file to change (repeatable): an edit, not a generation");

  TokensOptions tokens_opts;
  auto *tokens = app.add_subcommand("tokens", "count tokens as the model's tiktoken encoding does (no plugin needed)");
  tokens->add_option("MODEL", tokens_opts.model, "the model whose encoding counts, e.g. gpt-4o")->required();
  tokens->add_option("TEXT", tokens_opts.text, "the text, or - to read standard input")->required();
  tokens->add_option("--encoding", tokens_opts.encoding, "count with this encoding instead: o200k_base, cl100k_base");
  tokens->add_flag("--json", tokens_opts.json, "print the encoding, the count and the token ids as JSON");

  std::string check_file;
  auto *check = app.add_subcommand("check", "load one plugin file and print its descriptor or the error");
  check->add_option("FILE", check_file, "the plugin file")->required();

  ServeOptions serve_opts;
  auto *serve = app.add_subcommand("serve", "an OpenAI-compatible HTTP proxy over the plugins (see docs/proxy.md)");
  add_serve_options(serve, serve_opts);
  serve->fallthrough();  // `llmhost serve --plugins DIR` as the issue spells it

  // Internal: an isolated plugin's worker process, started by the host (docs/isolation.md).
  llmhost::isolation::WorkerOptions worker_opts;
  std::string worker_file;
  auto *worker = app.add_subcommand("__worker", "")->group("");
  worker->add_option("--fd", worker_opts.fd, "the channel to the host")->required();
  worker->add_option("--max-memory-mb", worker_opts.max_memory_mb, "the plugin's address space cap");
  worker->add_option("--shown-as", worker_opts.shown_as, "the plugin file its errors name");
  worker->add_option("--default-encoding", worker_opts.default_encoding,
                     "llmhost.tokens.v1's encoding for unknown models");
  worker->add_option("FILE", worker_file, "the plugin file")->required();

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp &e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp &e) {
    return app.exit(e);
  } catch (const CLI::ParseError &e) {
    app.exit(e);
    return kUsage;
  }

  if (worker->parsed()) {
    worker_opts.file = worker_file;
    return llmhost::isolation::run_worker(worker_opts);
  }
  if (check->parsed()) return run_check(check_file, allow_untrusted);
  if (tokens->parsed()) return run_tokens(tokens_opts);
  if (serve->parsed()) {
    serve_opts.plugin_dirs = plugin_dirs;
    serve_opts.allow_untrusted_plugins = allow_untrusted;
    serve_opts.isolation = isolation;
    return run_serve(serve_opts);
  }

  llmhost::HostOptions options;
  for (const auto &d : plugin_dirs) options.plugin_dirs.emplace_back(d);
  options.allow_untrusted_plugins = allow_untrusted;
  if (isolation) options.isolation.mode = *isolation;
  llmhost::Host host(std::move(options));
  try {
    if (providers->parsed()) return run_providers(host, providers_json);
    if (complete->parsed()) return run_complete(host, complete_opts, complete_prompt);
    if (stream->parsed()) return run_stream(host, stream_opts, stream_prompt);
    if (embed->parsed()) return run_embed(host, embed_opts, embed_texts);
    if (rerank->parsed()) return run_rerank(host, rerank_opts, rerank_query, rerank_documents, rerank_top_n);
    if (image->parsed()) return run_image(host, image_opts, image_what);
  } catch (const UsageError &e) {
    std::cerr << "llmhost: " << e.what() << '\n';
    return kUsage;
  }
  return kUsage;
}
