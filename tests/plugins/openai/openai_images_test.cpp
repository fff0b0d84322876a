// Images (llmhost/images.h) through the openai provider, the real Host and the real HTTP service,
// against a scripted upstream on loopback: a generation POSTs the caller's JSON to
// /v1/images/generations; an edit POSTs multipart/form-data to /v1/images/edits with the image
// files; each answer comes back in the format the caller asked for.
#include "http_support.hpp"
#include "openai/multipart.hpp"

using namespace test::http;

namespace {

llmhost::ImageRequest images_to(const MockServer &server, const std::string &prompt) {
  llmhost::ImageRequest r;
  r.request.model = "openai/gpt-image-1";
  r.request.api_base = server.base_url();
  r.request.api_key = "sk-test-secret-123";
  r.prompt = prompt;
  return r;
}

}  // namespace

TEST_CASE("image generation: the caller's JSON to /v1/images/generations; url and b64_json answers kept") {
  MockServer server([](const HttpRequest &, Conn &c) {
    c.respond(200,
              R"({"created":1,"data":[{"url":"https://img.example/1.png","revised_prompt":"a fox, red"},)"
              R"({"b64_json":"iVBORw0KGgo="}],"usage":{"input_tokens":7,"output_tokens":100,"total_tokens":107}})");
  });
  llmhost::Host host(host_options());
  llmhost::ImageRequest r = images_to(server, "a fox");
  r.request.extra_json = R"({"prompt":"a fox","n":2,"size":"256x256","background":"transparent"})";
  r.n = 2;
  const llmhost::ImageResponse a = host.generate_images(r);
  REQUIRE(a.data.size() == 2);
  CHECK(a.data[0].url == "https://img.example/1.png");
  CHECK(a.data[0].revised_prompt == "a fox, red");
  CHECK(a.data[1].url == "data:image/png;base64,iVBORw0KGgo=");  // base64 asked as a URL: a data: URL
  CHECK(a.usage.prompt_tokens == 7);
  CHECK(a.usage.completion_tokens == 100);
  CHECK(a.provider == "openai");

  const auto seen = server.requests();
  REQUIRE(seen.size() == 1);
  CHECK(seen[0].target == "/v1/images/generations");
  CHECK(seen[0].header("authorization") == "Bearer sk-test-secret-123");
  simdjson::dom::parser p;
  simdjson::dom::element body = p.parse(seen[0].body);
  CHECK(std::string_view(body["model"]) == "gpt-image-1");
  CHECK(std::string_view(body["background"]) == "transparent");
  CHECK(body["n"].get_int64().value() == 2);

  r.response_format = "b64_json";  // a URL cannot be handed over as base64: 502, saying so
  const auto e = error_of([&] { host.generate_images(r); });
  CHECK(e.status() == 502);
  CHECK(std::string(e.what()).find("as a URL where the caller asked for b64_json") != std::string::npos);
}

TEST_CASE("image edit: multipart/form-data to /v1/images/edits with the images, the mask and the fields") {
  MockServer server([](const HttpRequest &, Conn &c) { c.respond(200, R"({"data":[{"b64_json":"AAEC"}]})"); });
  llmhost::Host host(host_options());
  llmhost::ImageRequest r = images_to(server, "bluer");
  r.request.extra_json = R"({"prompt":"bluer","n":1,"size":"512x512"})";
  r.response_format = "b64_json";
  r.images = {{"one.png", "image/png", std::string("\x89PNG\r\n\x1a\n\0one", 12)}, {"two.png", "", "two"}};
  r.mask = llmhost::ImageFile{"mask.png", "image/png", "mask-bytes"};
  const llmhost::ImageResponse a = host.edit_images(r);
  REQUIRE(a.data.size() == 1);
  CHECK(a.data[0].b64_json == "AAEC");

  const auto seen = server.requests();
  REQUIRE(seen.size() == 1);
  CHECK(seen[0].target == "/v1/images/edits");
  const auto boundary = llmhost::openai::form_boundary(seen[0].header("content-type"));
  REQUIRE(boundary);
  auto parsed = llmhost::openai::parse_form(seen[0].body, *boundary);
  REQUIRE(std::holds_alternative<std::vector<llmhost::openai::FormPart>>(parsed));
  std::map<std::string, std::vector<std::string>> parts;
  for (const auto &part : std::get<std::vector<llmhost::openai::FormPart>>(parsed))
    parts[part.name].emplace_back(part.data);
  CHECK(parts["model"] == std::vector<std::string>{"gpt-image-1"});
  CHECK(parts["prompt"] == std::vector<std::string>{"bluer"});
  CHECK(parts["n"] == std::vector<std::string>{"1"});
  CHECK(parts["size"] == std::vector<std::string>{"512x512"});
  CHECK(parts["image[]"] == std::vector<std::string>{std::string("\x89PNG\r\n\x1a\n\0one", 12), "two"});
  CHECK(parts["mask"] == std::vector<std::string>{"mask-bytes"});
}
