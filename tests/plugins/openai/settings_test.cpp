// The openai plugin's target (plugins/openai/settings.cpp) without a host: the URL its error
// messages show, which follows the SDK's redaction rule.
#include <doctest/doctest.h>
#include <llmhost/provider.hpp>

#include <string>
#include <string_view>

#include "settings.hpp"

namespace {

// The shown_url of a chat call to `api_base`.
std::string shown(std::string_view api_base) {
  llmh_request r{};
  r.struct_size = sizeof r;
  r.api_base = llmh::str(api_base);
  return openai_plugin::Settings("{}").target(llmh::Request(&r), "/chat/completions").shown_url;
}

}  // namespace

TEST_CASE("shown_url hides userinfo, query and fragment") {
  CHECK(shown("http://user:pw@127.0.0.1:8080/v1") == "http://127.0.0.1:8080/v1/chat/completions");
  // The endpoint is appended to the whole base, so it lands in the query, and goes with it.
  CHECK(shown("http://127.0.0.1:8080/v1?key=k#f") == "http://127.0.0.1:8080/v1");
  CHECK(shown("https://api.example.com/v1/") == "https://api.example.com/v1/chat/completions");
}

TEST_CASE("shown_url: a password holding '@' is hidden whole (it showed \"ss@host\" before)") {
  CHECK(shown("https://user:p@ss@host/v1") == "https://host/v1/chat/completions");
}

TEST_CASE("shown_url: an '@' in the path is kept, and userinfo without a scheme is still hidden") {
  CHECK(shown("https://host/models/m@v2") == "https://host/models/m@v2/chat/completions");
  CHECK(shown("user:pw@host:8080/v1") == "host:8080/v1/chat/completions");
}
