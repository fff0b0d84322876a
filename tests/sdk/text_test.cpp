// The SDK's shared text helpers (sdk/include/llmhost/text.hpp): URL redaction, JSON string
// quoting and find_any, which the host and the plugins both use, so one rule holds on both sides.
#include <doctest/doctest.h>
#include <llmhost/text.hpp>

#include <string>
#include <string_view>

TEST_CASE("find_any answers as std::string_view::find_first_of does, from any position") {
  const std::string_view set = "\r\n:";
  for (const std::string_view s : {"", "abc", "a:b", "\n", "line\r\nnext", "x\ny:z", "::", "no end"})
    for (size_t from = 0; from <= s.size() + 1; ++from) {
      CAPTURE(s);
      CAPTURE(from);
      CHECK(llmh::find_any(s, set, from) == s.find_first_of(set, from));
    }
  CHECK(llmh::find_any("abc", "") == std::string_view::npos);
  CHECK(llmh::find_any(std::string_view("a\0b", 3), std::string_view("\0", 1)) == 1);  // any byte, NUL too
}

TEST_CASE("redact_url drops userinfo, query and fragment") {
  CHECK(llmh::redact_url("https://api.example.com/v1/chat?key=k#frag") == "https://api.example.com/v1/chat");
  CHECK(llmh::redact_url("http://user:pw@127.0.0.1:8080/v1?key=k") == "http://127.0.0.1:8080/v1");
  CHECK(llmh::redact_url("https://user:pw@host?key=k") == "https://host");
  CHECK(llmh::redact_url("https://host") == "https://host");
  CHECK(llmh::redact_url("/v1/embeddings?key=k") == "/v1/embeddings");
  CHECK(llmh::redact_url("") == "");
}

TEST_CASE("redact_url: a password holding '@' is cut at the last '@' of the authority, none of it shown") {
  // Cut at the first '@', this showed "https://ss@host/path": the end of the password.
  CHECK(llmh::redact_url("https://user:p@ss@host/path?key=k") == "https://host/path");
  CHECK(llmh::redact_url("https://user:p@s@s@host:443") == "https://host:443");
  CHECK(llmh::split_url("https://user:p@ss@host/path").authority == "host");
}

TEST_CASE("redact_url: an '@' after the authority is path, not userinfo, and stays") {
  CHECK(llmh::redact_url("https://host/models/m@v2/chat?key=k") == "https://host/models/m@v2/chat");
  CHECK(llmh::redact_url("https://user:pw@host/a@b") == "https://host/a@b");
  CHECK(llmh::redact_url("https://host?q=a@b/c") == "https://host");
  CHECK(llmh::split_url("https://host/a@b").authority == "host");
}

TEST_CASE("redact_url: without a scheme, userinfo before the first '/' is dropped all the same") {
  CHECK(llmh::redact_url("user:pw@host:8080/v1?key=k") == "host:8080/v1");
  CHECK(llmh::redact_url("user:p@ss@host/v1") == "host/v1");
  CHECK(llmh::redact_url("host/a@b") == "host/a@b");
  CHECK(llmh::split_url("user:pw@host/v1").authority.empty());
}

TEST_CASE("split_url's one pass gives the parts the rules above define, over every mix of the URL's parts") {
  // The rules, one at a time: the authority ends at the first '/', '?' or '#'; its userinfo at
  // its last '@'; the query and fragment go; with a scheme, the path starts at the first '/'.
  auto reference = [](std::string_view url) {
    llmh::UrlParts p;
    std::string_view rest = url;
    if (const size_t e = url.find("://"); e != std::string_view::npos) {
      p.scheme = url.substr(0, e);
      rest = url.substr(e + 3);
    }
    if (const size_t at = rest.substr(0, rest.find_first_of("/?#")).rfind('@'); at != std::string_view::npos)
      rest.remove_prefix(at + 1);
    rest = rest.substr(0, rest.find_first_of("?#"));
    if (p.scheme.empty()) {
      p.path = rest;
      return p;
    }
    const size_t slash = rest.find('/');
    p.authority = rest.substr(0, slash);
    if (slash != std::string_view::npos) p.path = rest.substr(slash);
    return p;
  };
  int checked = 0;
  for (const char *scheme : {"", "https://", "http:/"})
    for (const char *user : {"", "u:p@", "u:p@s@", "@"})
      for (const char *host : {"", "h", "h:8080"})
        for (const char *path : {"", "/", "/a@b", "/a/b@"})
          for (const char *tail : {"", "?k=a@b/c", "#f/x@y", "?", "#"}) {
            const std::string url = std::string(scheme) + user + host + path + tail;
            CAPTURE(url);
            const llmh::UrlParts got = llmh::split_url(url), want = reference(url);
            CHECK(got.scheme == want.scheme);
            CHECK(got.authority == want.authority);
            CHECK(got.path == want.path);
            ++checked;
          }
  CHECK(checked == 3 * 4 * 3 * 4 * 5);
}

TEST_CASE("append_json_string escapes quotes, backslashes and control bytes, and nothing else") {
  std::string out = "x";
  llmh::append_json_string(out, std::string("a\"b\\c\nd\re\tf\bg\fh\x01i") + '\0' + "j \xc3\xa9 /");
  CHECK(out == "x\"a\\\"b\\\\c\\nd\\re\\tf\\bg\\fh\\u0001i\\u0000j \xc3\xa9 /\"");
  // Long runs go 8 bytes at a time; an escape at every offset of a block is still found.
  for (size_t at = 0; at < 20; ++at) {
    std::string s(20, 'a');
    s[at] = '"';
    std::string q;
    llmh::append_json_string(q, s);
    CHECK(q == "\"" + s.substr(0, at) + "\\\"" + s.substr(at + 1) + "\"");
  }
  std::string empty;
  llmh::append_json_string(empty, "");
  CHECK(empty == "\"\"");
  // Appended after what the string holds, with nothing to escape and with escapes side by side.
  std::string plain = "[";
  llmh::append_json_string(plain, "nothing to escape, longer than a block");
  CHECK(plain == "[\"nothing to escape, longer than a block\"");
  std::string adjacent = "[";
  llmh::append_json_string(adjacent, "\"\"a\\");
  CHECK(adjacent == "[\"\\\"\\\"a\\\\\"");
}

TEST_CASE(
    "decode_json_string undoes append_json_string, decodes \\u escapes to UTF-8, and refuses what is not a literal") {
  std::string out;
  for (const std::string &original : {std::string("plain"), std::string("tab\tquote\"back\\slash\nline"),
                                      std::string("\x01\x1f ctl"), std::string("caf\xc3\xa9"), std::string()}) {
    std::string quoted;
    llmh::append_json_string(quoted, original);
    REQUIRE(llmh::decode_json_string(quoted, out));
    CHECK(out == original);
  }
  REQUIRE(llmh::decode_json_string(R"("\u00e9\u20ac\ud83d\ude00\/")", out));
  CHECK(out == "\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80/");
  for (const char *bad : {"plain", R"("open)", R"("bad \x escape")", R"("\u12")", R"("\ud83d alone")",
                          R"("\ude00 low first")", "\"raw \n newline\"", R"("ends in \")", R"("in"side")"}) {
    CAPTURE(bad);
    CHECK_FALSE(llmh::decode_json_string(bad, out));
  }
}
