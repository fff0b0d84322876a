// The C embedding API (llmhost/host.h) through the real libllmhost.so, as an FFI caller uses it:
// only the C functions, the plugins from the build tree. Linked with the shared library alone
// (not the host's static modules), so that what runs is what an embedder gets.
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <doctest/doctest.h>

#include <llmhost/host.h>

#include <cstdlib>
#include <string>
#include <vector>

namespace {

// A host on the build tree's bundled plugins (or on `params` as given).
struct Fixture {
  llmhost_host *host = nullptr;
  llmhost_error err{sizeof(llmhost_error), 0, ""};
  explicit Fixture(llmhost_host_params params = llmhost_host_default_params()) {
    const char *dirs[] = {LLMHOST_BUNDLED_PLUGINS};
    if (params.plugin_dir_count == 0) params.plugin_dirs = dirs, params.plugin_dir_count = 1;
    REQUIRE_MESSAGE(llmhost_host_create(&params, &host, &err) == 0, err.message);
  }
  ~Fixture() { llmhost_host_destroy(host); }
  // The answer of `fn` as a string, released with llmhost_free; the status in `status`.
  template <class Fn>
  std::string text(int &status, Fn &&fn) {
    char *out = nullptr;
    status = fn(&out);
    std::string s = out ? out : "";
    llmhost_free(out);
    return s;
  }
};

std::string chat(const std::string &model, const std::string &content, const std::string &extra = "") {
  return R"({"model": ")" + model + R"(", "messages": [{"role": "user", "content": ")" + content + "\"}]" + extra + "}";
}

}  // namespace

TEST_CASE("a C caller completes, streams, embeds and lists through libllmhost") {
  Fixture f;
  char *char_sink = nullptr;  // stays NULL after a failure
  int status = -1;
  const std::string answer = f.text(
      status, [&](char **out) { return llmhost_complete(f.host, chat("echo/any", "hello C").c_str(), out, &f.err); });
  REQUIRE_MESSAGE(status == 0, f.err.message);
  CHECK(answer.find(R"("object":"chat.completion")") != std::string::npos);
  CHECK(answer.find(R"("content":"hello C")") != std::string::npos);
  CHECK(f.err.status == 0);

  std::vector<std::string> chunks;
  const auto collect = [](void *user, const char *json, size_t len) {
    static_cast<std::vector<std::string> *>(user)->emplace_back(json, len);
    return 0;
  };
  REQUIRE(llmhost_stream(f.host, chat("echo/any", "one two three").c_str(), collect, &chunks, &f.err) == 0);
  REQUIRE(chunks.size() == 4);  // a chunk per word, then the finish
  CHECK(chunks[0].find(R"("delta":{"role":"assistant","content":"one"})") != std::string::npos);
  CHECK(chunks[3].find(R"("finish_reason":"stop")") != std::string::npos);

  SUBCASE("a callback that returns non-zero stops the stream, and that is no error") {
    std::vector<std::string> first;
    const auto stop = [](void *user, const char *json, size_t len) {
      static_cast<std::vector<std::string> *>(user)->emplace_back(json, len);
      return 1;
    };
    CHECK(llmhost_stream(f.host, chat("echo/any", "one two three").c_str(), stop, &first, &f.err) == 0);
    CHECK(first.size() == 1);
  }
  SUBCASE("embeddings") {
    const std::string list = f.text(status, [&](char **out) {
      return llmhost_embed(f.host, R"({"model": "echo/any", "input": ["a", "b c"]})", out, &f.err);
    });
    REQUIRE_MESSAGE(status == 0, f.err.message);
    CHECK(list.find(R"("object":"list")") != std::string::npos);
    CHECK(list.find(R"("index":1)") != std::string::npos);
  }
  SUBCASE("text completions, whole and streamed") {
    const std::string text = f.text(status, [&](char **out) {
      return llmhost_complete_text(f.host, R"({"model": "echo/any", "prompt": ["a b", "c"]})", out, &f.err);
    });
    REQUIRE_MESSAGE(status == 0, f.err.message);
    CHECK(text.find(R"("object":"text_completion")") != std::string::npos);
    CHECK(text.find(R"({"text":"c","index":1,"logprobs":null,"finish_reason":"stop"})") != std::string::npos);
    std::vector<std::string> pieces;
    REQUIRE(llmhost_stream_text(f.host, R"({"model": "echo/any", "prompt": "x y"})", collect, &pieces, &f.err) == 0);
    REQUIRE(pieces.size() == 3);  // a chunk per word, then the finish
    CHECK(pieces[1].find(R"("choices":[{"text":" y","index":0)") != std::string::npos);
    CHECK(llmhost_complete_text(f.host, R"({"model": "echo/any"})", &char_sink, &f.err) == 400);
    CHECK(std::string(f.err.message).find("prompt") != std::string::npos);
  }
  SUBCASE("rerank") {
    const std::string ranked = f.text(status, [&](char **out) {
      return llmhost_rerank(f.host, R"({"model": "echo/any", "query": "b", "documents": ["a", "b"], "top_n": 1})", out,
                            &f.err);
    });
    REQUIRE_MESSAGE(status == 0, f.err.message);
    CHECK(ranked.find(R"("results":[{"index":1,"relevance_score":1}])") != std::string::npos);
    CHECK(llmhost_rerank(f.host, R"({"model": "echo/any", "query": "b", "documents": []})", &char_sink, &f.err) == 400);
  }
  SUBCASE("images") {
    const std::string images = f.text(status, [&](char **out) {
      return llmhost_generate_images(
          f.host, R"({"model": "echo/any", "prompt": "a fox", "n": 2, "response_format": "b64_json"})", out, &f.err);
    });
    REQUIRE_MESSAGE(status == 0, f.err.message);
    CHECK(images.find(R"("data":[{"b64_json":"iVBORw0KGgo)") != std::string::npos);  // a PNG's first bytes
    CHECK(images.find(R"("revised_prompt":"a fox"},{"b64_json":)") != std::string::npos);
    CHECK(llmhost_generate_images(f.host, R"({"model": "echo/any", "prompt": "x", "n": 0})", &char_sink, &f.err) ==
          400);
    // An edit takes the images as base64; echo's answer then depends on their bytes.
    const std::string edited = f.text(status, [&](char **out) {
      return llmhost_edit_images(
          f.host,
          R"({"model": "echo/any", "prompt": "a fox", "image": ["iVBORw0KGgo="], "response_format": "b64_json"})", out,
          &f.err);
    });
    REQUIRE_MESSAGE(status == 0, f.err.message);
    CHECK(edited.find(R"("data":[{"b64_json":"iVBORw0KGgo)") != std::string::npos);
    CHECK(edited.substr(edited.find("b64_json"), 200) != images.substr(images.find("b64_json"), 200));
    CHECK(llmhost_edit_images(f.host, R"({"model": "echo/any", "prompt": "x", "image": "not base64!"})", &char_sink,
                              &f.err) == 400);
    CHECK(std::string(f.err.message).find("image") != std::string::npos);
  }
  SUBCASE("providers and reload") {
    const std::string json = f.text(status, [&](char **out) { return llmhost_providers(f.host, out, &f.err); });
    REQUIRE(status == 0);
    CHECK(json.find(R"({"name":"echo","version":"1.0.0")") != std::string::npos);
    CHECK(json.find(R"("capabilities":["complete","stream","embed","complete_text","stream_text","rerank",)"
                    R"("generate_images","edit_images"])") != std::string::npos);
    CHECK(json.find(R"("load_errors":[])") != std::string::npos);
    CHECK(llmhost_reload(f.host, &f.err) == 0);
  }
}

TEST_CASE("a C caller gets a status and a message saying what was wrong, and the host serves on") {
  Fixture f;
  int status = 0;
  char *out = reinterpret_cast<char *>(&status);  // must come back NULL after a failure

  CHECK(llmhost_complete(f.host, chat("nosuch/x", "hi").c_str(), &out, &f.err) == 404);
  CHECK(out == nullptr);
  CHECK(f.err.status == 404);
  CHECK(std::string(f.err.message).find("\"nosuch\" is not loaded") != std::string::npos);

  CHECK(llmhost_complete(f.host, R"({"model": "echo/any", "messages": [)", &out, &f.err) == 400);
  CHECK(std::string(f.err.message).find("JSON") != std::string::npos);
  CHECK(llmhost_complete(f.host, R"({"model": "echo/any", "messages": [{"role": 7}]})", &out, &f.err) == 400);
  CHECK(std::string(f.err.message).find("messages[0].role") != std::string::npos);
  CHECK(llmhost_complete(f.host, chat("echo/any", "x", R"(, "mock_error_status": 429)").c_str(), &out, &f.err) == 429);
  CHECK(llmhost_complete(nullptr, "{}", &out, &f.err) == 400);
  CHECK(std::string(f.err.message) == "host is NULL");
  CHECK(llmhost_stream(f.host, chat("echo/any", "x").c_str(), nullptr, nullptr, &f.err) == 400);
  CHECK(llmhost_complete(f.host, chat("echo/any", "x").c_str(), &out, nullptr) == 0);  // err may be NULL
  llmhost_free(out);

  SUBCASE("bad parameters") {
    llmhost_host *host = reinterpret_cast<llmhost_host *>(&status);
    llmhost_host_params params = llmhost_host_default_params();
    params.isolation = "sideways";
    CHECK(llmhost_host_create(&params, &host, &f.err) == 400);
    CHECK(host == nullptr);
    CHECK(std::string(f.err.message).find(R"(isolation "sideways")") != std::string::npos);
    params = llmhost_host_default_params();
    params.struct_size = 4;
    CHECK(llmhost_host_create(&params, &host, &f.err) == 400);
    CHECK(std::string(f.err.message).find("struct_size is 4") != std::string::npos);
  }
}

TEST_CASE("with process isolation, the C API finds the llmhost worker beside the library") {
  llmhost_host_params params = llmhost_host_default_params();
  params.isolation = "process";
  Fixture f(params);
  int status = -1;
  const std::string answer = f.text(
      status, [&](char **out) { return llmhost_complete(f.host, chat("echo/any", "isolated").c_str(), out, &f.err); });
  REQUIRE_MESSAGE(status == 0, f.err.message);
  CHECK(answer.find(R"("content":"isolated")") != std::string::npos);
}
