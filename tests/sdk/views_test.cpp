// sdk/include/llmhost/views.hpp: llmh::sv and llmh::str, the one conversion between llmh_str
// and std::string_view, used by the plugins and by the host alike; and the Request helpers
// providers read with (the last user message, the system prompt, the body's keys by name).
#include <doctest/doctest.h>
#include <llmhost/http.h>
#include <llmhost/views.hpp>

#include <string>
#include <string_view>
#include <vector>

TEST_CASE("llmh::sv: len 0 is empty whatever ptr is; a NULL ptr with len > 0 is not trusted") {
  static const char kText[] = "abc";
  CHECK(llmh::sv(llmh_str{kText, 3}) == "abc");
  CHECK(llmh::sv(llmh_str{kText, 0}).empty());
  CHECK(llmh::sv(llmh_str{nullptr, 0}).empty());
  const std::string_view untrusted = llmh::sv(llmh_str{nullptr, 5});
  CHECK(untrusted.empty());
  CHECK(untrusted.data() == nullptr);
}

TEST_CASE("llmh::str views the same bytes, and sv reads them back") {
  const std::string s = "hello";
  const llmh_str v = llmh::str(s);
  CHECK(v.ptr == s.data());
  CHECK(v.len == 5);
  CHECK(llmh::sv(v) == "hello");
  CHECK(llmh::str(std::string_view()).len == 0);
}

namespace {

llmh_message message(const char *role, const char *content) {
  llmh_message m{};
  m.struct_size = sizeof m;
  m.role = llmh_str_c(role);
  m.content = llmh_str_c(content);
  return m;
}

// A request over `messages` and `body`, with the body's members listed (as a 1.3 host does)
// or not (an older host, or a body it did not check).
struct Call {
  Call(std::vector<llmh_message> ms, std::string b, bool listed) : messages(std::move(ms)), body(std::move(b)) {
    r.struct_size = sizeof r;
    r.messages = messages.data();
    r.message_count = messages.size();
    r.body_json = llmh::str(body);
    if (listed) {
      llmh::JsonMembers walk(body);
      std::string_view key, value;
      while (walk.next(key, value)) members.push_back({llmh::str(key), llmh::str(value)});
      r.body_members = members.data();
      r.body_member_count = members.size();
    }
  }
  std::vector<llmh_message> messages;
  std::string body;
  std::vector<llmh_json_member> members;
  llmh_request r{};
};

}  // namespace

TEST_CASE("Request helpers: the last user message and the system prompt") {
  const Call c({message("system", "Be brief."), message("user", "first"), message("developer", "No lists."),
                message("user", "second"), message("assistant", "answer")},
               "{}", false);
  const llmh::Request req(&c.r);
  REQUIRE(req.last_user_message());
  CHECK(req.last_user_message()->content() == "second");
  CHECK(req.last_user_content() == "second");
  CHECK(req.system_prompt() == "Be brief.\n\nNo lists.");
  const Call none({message("assistant", "hi")}, "{}", false);
  CHECK_FALSE(llmh::Request(&none.r).last_user_message());
  CHECK(llmh::Request(&none.r).last_user_content().empty());
  CHECK(llmh::Request(&none.r).system_prompt().empty());
}

TEST_CASE("Request helpers: the body's extra keys by name, typed, from the listed members or a walk of the text") {
  const std::string body =
      R"({"model":"p/m","tag":"caf\u00e9 \"quoted\" \ud83d\ude00","ratio":1.5e1,"deep":true,"off":false,)"
      R"("gone":null,"opts":{"a":[1,2]},"count":"7"})";
  for (const bool listed : {true, false}) {
    CAPTURE(listed);
    const Call c({}, body, listed);
    const llmh::Request req(&c.r);
    CHECK(req.body_string("tag") == std::string("caf\xc3\xa9 \"quoted\" \xf0\x9f\x98\x80"));
    CHECK(req.body_number("ratio") == 15.0);
    CHECK(req.body_bool("deep") == true);
    CHECK(req.body_bool("off") == false);
    CHECK(req.body_value("opts") == std::string_view(R"({"a":[1,2]})"));
    CHECK_FALSE(req.body_string("gone"));  // null: as if absent
    CHECK(req.body_value("gone") == std::string_view("null"));
    CHECK_FALSE(req.body_value("missing"));
    CHECK_FALSE(req.body_number("missing"));
    // The wrong type is the caller's mistake, answered as one.
    try {
      (void)req.body_number("count");
      FAIL("a string read as a number");
    } catch (const llmh::Error &e) {
      CHECK(e.status() == 400);
      CHECK(std::string(e.what()) == "request: \"count\" must be a number");
    }
    CHECK_THROWS_AS((void)req.body_bool("ratio"), llmh::Error);
    CHECK_THROWS_AS((void)req.body_string("opts"), llmh::Error);
  }
}

TEST_CASE("the C initialisers: struct_size is the header's sizeof, every other field zero") {
  const llmh_chunk chunk = llmh_chunk_init();
  CHECK(chunk.struct_size == sizeof(llmh_chunk));
  CHECK(chunk.content.len == 0);
  CHECK(chunk.tool_calls == nullptr);
  CHECK(chunk.usage == nullptr);
  CHECK(chunk.upstream_members == nullptr);
  const llmh_usage usage = llmh_usage_init();
  CHECK(usage.struct_size == sizeof(llmh_usage));
  CHECK(usage.total_tokens == 0);
  const llmh_error err = llmh_error_init();
  CHECK(err.struct_size == sizeof(llmh_error));
  CHECK(err.status == 0);
  CHECK(err.message[0] == '\0');
  const llmh_http_request r = llmh_http_request_init();
  CHECK(r.struct_size == sizeof(llmh_http_request));
  CHECK(r.url.len == 0);
  CHECK(!r.on_line);
  CHECK(llmh_tool_call_init().struct_size == sizeof(llmh_tool_call));
  CHECK(llmh_tool_call_delta_init().struct_size == sizeof(llmh_tool_call_delta));
  CHECK(llmh_upstream_members_init().struct_size == sizeof(llmh_upstream_members));
}
