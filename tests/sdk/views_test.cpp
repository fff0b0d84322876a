// llmh::sv and llmh::str (sdk/include/llmhost/views.hpp): the one conversion between llmh_str
// and std::string_view, used by the plugins and by the host alike.
#include <doctest/doctest.h>
#include <llmhost/views.hpp>

#include <string>
#include <string_view>

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
