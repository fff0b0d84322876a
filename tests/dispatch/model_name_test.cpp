// Routing "provider/model" through a real Host: model names, resolving once, pinned targets.
#include <doctest/doctest.h>

#include "dispatch/model_name.hpp"
#include "support.hpp"

#include <future>

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
  const std::string msg = test::error_of([&] { host.complete(test::chat("nosuch/x", "hi")); }).what();
  CHECK(msg.find("\"nosuch\" is not loaded") != std::string::npos);
  CHECK(msg.find("cecho, echo") != std::string::npos);  // lists what is loaded
}

TEST_CASE("the plugin sees the model with the provider prefix stripped") {
  llmhost::Host host(test::options_for({test::bundled_plugins()}));
  // echo reports the stripped model it was asked for; the host reports the full one.
  auto r = host.complete(test::chat("echo/org/model", "hi"));
  CHECK(r.provider == "echo");
  CHECK(r.model == "echo/org/model");
}

TEST_CASE("a model is resolved once: the Target names the provider and the model it sees") {
  llmhost::Host host(test::options_for({test::bundled_plugins()}));
  const llmhost::Target t = host.resolve("echo/org/model");
  REQUIRE(t);
  CHECK(t.provider() == "echo");
  CHECK(t.model() == "org/model");
  // The call on the target never reads request.model for routing: a name no provider has still
  // reaches echo, and is what the response reports.
  auto r = host.complete(t, test::chat("unrouted-name", "hi there"));
  CHECK(r.provider == "echo");
  CHECK(r.content == "hi there");
  CHECK(r.model == "unrouted-name");
  CHECK(test::error_of([&] { host.resolve("noslash"); }).status() == 400);
  CHECK(test::error_of([&] { host.resolve("nosuch/x"); }).status() == 404);
  CHECK(test::error_of([&] { host.complete(llmhost::Target{}, test::chat("echo/x", "hi")); }).status() == 400);
}

TEST_CASE("a Target pins its build: calls on it run there after the file is replaced") {
  test::TempDir dir;
  dir.add(test::test_plugin("libswap_v1.so"), "libswap.so");
  llmhost::Host host(test::options_for({dir.path()}));
  const llmhost::Target old_build = host.resolve("swap/m");
  dir.add(test::test_plugin("libswap_v2.so"), "libswap.so");
  host.reload();
  CHECK(host.complete(test::chat("swap/m", "hi")).content == "v2");
  CHECK(host.complete(old_build, test::chat("swap/m", "hi")).content == "v1");
  // The callback form keeps the pin too.
  std::promise<llmhost::CompleteResult> done;
  host.complete(old_build, test::chat("swap/m", "hi"),
                [&](llmhost::CompleteResult r) { done.set_value(std::move(r)); });
  auto result = done.get_future().get();
  REQUIRE(std::holds_alternative<llmhost::Response>(result));
  CHECK(std::get<llmhost::Response>(result).content == "v1");
}
