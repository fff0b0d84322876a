// Routing "provider/model" through a real Host.
#include <doctest/doctest.h>

#include "dispatch/model_name.hpp"
#include "support.hpp"

using llmhost::detail::split_model;

namespace {
int status_of(llmhost::Host &host, const std::string &model) {
  try {
    host.complete(test::chat(model, "hi"));
  } catch (const llmhost::Error &e) {
    return e.status();
  }
  return 200;
}
}  // namespace

TEST_CASE("the provider is everything before the first slash; the model keeps later slashes") {
  CHECK(split_model("a/b/c").provider == "a");
  CHECK(split_model("a/b/c").model == "b/c");
  CHECK(split_model("echo/x").model == "x");
  CHECK_THROWS_AS(split_model("noslash"), llmhost::Error);
  CHECK_THROWS_AS(split_model("/x"), llmhost::Error);
  CHECK_THROWS_AS(split_model("echo/"), llmhost::Error);
}

TEST_CASE("routing errors through the Host") {
  llmhost::Host host(test::options_for({test::bundled_plugins()}));
  CHECK(status_of(host, "echo/org/model-name") == 200);
  CHECK(status_of(host, "noslash") == 400);
  CHECK(status_of(host, "nosuch/x") == 404);
  try {
    host.complete(test::chat("nosuch/x", "hi"));
  } catch (const llmhost::Error &e) {
    const std::string msg = e.what();
    CHECK(msg.find("\"nosuch\" is not loaded") != std::string::npos);
    CHECK(msg.find("cecho, echo") != std::string::npos);  // lists what is loaded
  }
}

TEST_CASE("the plugin sees the model with the provider prefix stripped") {
  llmhost::Host host(test::options_for({test::bundled_plugins()}));
  // echo reports the stripped model it was asked for; the host reports the full one.
  auto r = host.complete(test::chat("echo/org/model", "hi"));
  CHECK(r.provider == "echo");
  CHECK(r.model == "echo/org/model");
}
