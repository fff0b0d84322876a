// The llmhost CLI as a user runs it: real binary, real bundled plugins, output and exit codes.
#include <doctest/doctest.h>

#include <simdjson.h>
#include <fstream>
#include <iterator>

#include <algorithm>

#include "support.hpp"

namespace {

test::RunResult llmhost_cli(std::vector<std::string> args, std::vector<std::string> env = {}) {
  args.insert(args.begin(), test::cli().string());
  return test::run(args, env);
}

bool contains(const std::string &s, const std::string &part) { return s.find(part) != std::string::npos; }

}  // namespace

TEST_CASE("providers lists the bundled plugins with no flag at all") {
  auto r = llmhost_cli({"providers"});
  CHECK(r.exit_code == 0);
  CHECK(contains(r.out, "echo"));
  CHECK(contains(r.out, "cecho"));
  CHECK(!contains(r.out, "load errors"));

  auto j = llmhost_cli({"providers", "--json"});
  simdjson::dom::parser p;
  simdjson::dom::element doc;
  REQUIRE(!p.parse(j.out).get(doc));
  std::vector<std::string_view> names;
  for (auto p : doc["providers"].get_array()) {
    names.push_back(std::string_view(p["name"]));
    // openai's completions and streams have the asynchronous call form; echo is blocking only.
    const size_t async = p["async"].get_array().size();
    if (names.back() == "openai") CHECK(async == 2);
    if (names.back() == "echo") CHECK(async == 0);
  }
  CHECK(std::find(names.begin(), names.end(), "echo") != names.end());
  CHECK(std::find(names.begin(), names.end(), "cecho") != names.end());
  CHECK(doc["errors"].get_array().size() == 0);
  CHECK(contains(r.out, "complete(async),stream(async),embed"));  // openai in the table
}

TEST_CASE("providers --plugins shows load errors of a broken folder") {
  auto r = llmhost_cli({"--plugins", test::test_plugin("").string(), "providers"});
  CHECK(r.exit_code == 0);
  CHECK(contains(r.out, "load errors"));
  CHECK(contains(r.out, "abi_mismatch"));
  CHECK(contains(r.out, "thrower"));
}

TEST_CASE("complete prints the reply; --json prints a chat.completion") {
  auto r = llmhost_cli({"complete", "echo/any", "Hello world"});
  CHECK(r.exit_code == 0);
  CHECK(r.out == "Hello world\n");

  auto j = llmhost_cli({"complete", "echo/any", "Hello world", "--system", "sys", "--json"});
  REQUIRE(j.exit_code == 0);
  simdjson::dom::parser p;
  simdjson::dom::element doc;
  REQUIRE(!p.parse(j.out).get(doc));
  CHECK(std::string_view(doc["object"]) == "chat.completion");
  CHECK(std::string_view(doc["choices"].at(0)["message"]["content"]) == "Hello world");
  CHECK(int64_t(doc["usage"]["prompt_tokens"]) == 3);
  CHECK(std::string_view(doc["id"]).starts_with("chatcmpl-"));
}

TEST_CASE("complete --text and stream --text make a text completion of the prompt") {
  auto r = llmhost_cli({"complete", "echo/any", "Once upon", "--text"});
  CHECK(r.exit_code == 0);
  CHECK(r.out == "Once upon\n");
  auto j = llmhost_cli({"complete", "echo/any", "Once upon", "--text", "--json"});
  REQUIRE(j.exit_code == 0);
  simdjson::dom::parser p;
  simdjson::dom::element doc;
  REQUIRE(!p.parse(j.out).get(doc));
  CHECK(std::string_view(doc["object"]) == "text_completion");
  CHECK(std::string_view(doc["choices"].at(0)["text"]) == "Once upon");
  CHECK(std::string_view(doc["id"]).starts_with("cmpl-"));
  auto s = llmhost_cli({"stream", "echo/any", "a b", "--text"});
  CHECK(s.exit_code == 0);
  CHECK(s.out == "a b\n");
  auto none = llmhost_cli({"complete", "cecho/any", "x", "--text"});  // cecho has no text completions
  CHECK(none.exit_code == 1);
  CHECK(contains(none.err, "error 501"));
  CHECK(llmhost_cli({"complete", "echo/any", "x", "--text", "--system", "s"}).exit_code == 2);
}

TEST_CASE("rerank prints index, score and document, best first; --json the rerank answer") {
  auto r = llmhost_cli({"rerank", "echo/any", "red apple", "green pear", "red apple pie", "red car", "--top-n", "2"});
  CHECK(r.exit_code == 0);
  CHECK(r.out == "1 1.0000 red apple pie\n2 0.5000 red car\n");
  auto j = llmhost_cli({"rerank", "echo/any", "pear", "green pear", "red car", "--json"});
  REQUIRE(j.exit_code == 0);
  simdjson::dom::parser p;
  simdjson::dom::element doc;
  REQUIRE(!p.parse(j.out).get(doc));
  CHECK(int64_t(doc["results"].at(0)["index"]) == 0);
  CHECK(std::string_view(doc["results"].at(0)["document"]["text"]) == "green pear");
  auto over = llmhost_cli({"rerank", "echo/any", "q", "a", "--top-n", "2"});
  CHECK(over.exit_code == 1);
  CHECK(contains(over.err, "error 400"));
  CHECK(contains(over.err, "top_n 2 is outside 1..1"));
}

namespace {
std::string file_bytes(const std::string &path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}
}  // namespace

TEST_CASE("image writes the PNG files it gets, and prints their paths") {
  test::TempDir dir;
  const std::string out = (dir.path() / "fox.png").string();
  auto r = llmhost_cli({"image", "echo/any", "a red fox", "--out", out, "-n", "2"});
  REQUIRE(r.exit_code == 0);
  const std::string second = (dir.path() / "fox-2.png").string();
  CHECK(r.out == out + "\n" + second + "\n");
  const std::string png = file_bytes(out);
  CHECK(png.substr(0, 8) == "\x89PNG\r\n\x1a\n");
  CHECK(png.substr(12, 4) == "IHDR");
  CHECK(png != file_bytes(second));  // each image its own pixels
  auto again = llmhost_cli({"image", "echo/any", "a red fox", "--out", (dir.path() / "again.png").string()});
  CHECK(again.exit_code == 0);
  CHECK(file_bytes((dir.path() / "again.png").string()) == png);          // deterministic
  CHECK(llmhost_cli({"image", "echo/any", "a red fox"}).exit_code == 2);  // no --out
  // --edit sends the file to change: echo's pixels then depend on its bytes too.
  const std::string edited = (dir.path() / "edited.png").string();
  REQUIRE(llmhost_cli({"image", "echo/any", "a red fox", "--edit", out, "--out", edited}).exit_code == 0);
  CHECK(file_bytes(edited).substr(0, 8) == "\x89PNG\r\n\x1a\n");
  CHECK(file_bytes(edited) != png);
  CHECK(llmhost_cli({"image", "echo/any", "x", "--edit", "/nonexistent.png", "--out", edited}).exit_code == 2);
  auto none = llmhost_cli({"image", "cecho/any", "x", "--out", out});
  CHECK(none.exit_code == 1);
  CHECK(contains(none.err, "error 501"));
}

TEST_CASE("stream prints text built from chunks; --json prints one chunk object per line") {
  auto r = llmhost_cli({"stream", "echo/any", "a b c"});
  CHECK(r.exit_code == 0);
  CHECK(r.out == "a b c\n");

  auto j = llmhost_cli({"stream", "echo/any", "a b c", "--json"});
  REQUIRE(j.exit_code == 0);
  simdjson::dom::parser p;
  std::string text;
  int lines = 0;
  size_t start = 0;
  for (size_t nl; (nl = j.out.find('\n', start)) != std::string::npos; start = nl + 1) {
    simdjson::dom::element doc;
    REQUIRE(!p.parse(j.out.substr(start, nl - start)).get(doc));
    CHECK(std::string_view(doc["object"]) == "chat.completion.chunk");
    simdjson::dom::array choices = doc["choices"];
    if (choices.size()) {
      std::string_view piece;
      if (!choices.at(0)["delta"]["content"].get(piece)) text += piece;
    }
    ++lines;
  }
  CHECK(text == "a b c");
  CHECK(lines == 4);  // three words, then finish_reason + usage
}

TEST_CASE("embed --json prints the embeddings list") {
  auto r = llmhost_cli({"embed", "echo/e", "one", "two", "--json"});
  REQUIRE(r.exit_code == 0);
  simdjson::dom::parser p;
  simdjson::dom::element doc;
  REQUIRE(!p.parse(r.out).get(doc));
  CHECK(std::string_view(doc["object"]) == "list");
  CHECK(doc["data"].get_array().size() == 2);
  CHECK(int64_t(doc["data"].at(1)["index"]) == 1);
  CHECK(doc["data"].at(0)["embedding"].get_array().size() == 8);
}

TEST_CASE("--param values parse as JSON when valid, else as strings") {
  CHECK(llmhost_cli({"complete", "echo/x", "hi", "--param", "mock_response=plain text"}).out == "plain text\n");
  CHECK(llmhost_cli({"complete", "echo/x", "hi", "--param", R"(mock_response="quoted")"}).out == "quoted\n");
  auto bad = llmhost_cli({"complete", "echo/x", "hi", "--param", "novalue"});
  CHECK(bad.exit_code == 2);
  CHECK(contains(bad.err, "KEY=VALUE"));
  auto typed = llmhost_cli({"complete", "echo/x", "hi", "--param", "temperature=hot"});
  CHECK(typed.exit_code == 2);
  CHECK(contains(typed.err, "temperature"));
}

TEST_CASE("exit codes: a failed call is 1 with status on stderr; usage errors are 2") {
  auto e = llmhost_cli({"complete", "echo/x", "hi", "--param", "mock_error_status=429"});
  CHECK(e.exit_code == 1);
  CHECK(contains(e.err, "429"));

  auto missing = llmhost_cli({"complete", "nosuch/x", "hi"});
  CHECK(missing.exit_code == 1);
  CHECK(contains(missing.err, "\"nosuch\" is not loaded"));
  CHECK(contains(missing.err, "cecho, echo"));

  CHECK(llmhost_cli({"complete"}).exit_code == 2);
  CHECK(llmhost_cli({"frobnicate"}).exit_code == 2);
}

TEST_CASE("check: exit 0 only for a valid plugin; otherwise names the cause") {
  auto ok = llmhost_cli({"check", (test::bundled_plugins() / "libecho.so").string()});
  CHECK(ok.exit_code == 0);
  CHECK(contains(ok.out, "echo"));
  const std::pair<const char *, const char *> cases[] = {{"not_a_library.so", "not_shared_library"},
                                                         {"libno_entry.so", "missing_entry"},
                                                         {"libwrong_abi.so", "abi_mismatch"},
                                                         {"libempty_name.so", "invalid_name"},
                                                         {"libcreate_fails.so", "create_failed"}};
  for (auto [file, cause] : cases) {
    auto r = llmhost_cli({"check", test::test_plugin(file).string()});
    CHECK_MESSAGE(r.exit_code == 1, file);
    CHECK_MESSAGE(contains(r.err, cause), file << ": " << r.err);
    CHECK_MESSAGE(contains(r.err, file), file);
  }
}

TEST_CASE("LLMHOST_PLUGIN_DIR replaces the default folder") {
  auto r = llmhost_cli({"providers"}, {"LLMHOST_PLUGIN_DIR=" + test::test_plugin("").string()});
  CHECK(contains(r.out, "thrower"));
  CHECK(!contains(r.out, "cecho "));
}
