// An image edit's multipart/form-data body (/v1/images/edits), as a client sends it: any bytes
// under any Content-Type must end in a request or a refusal that says why, never in a crash or a
// read out of bounds. A form it accepts must hold a prompt and at least one non-empty image, and
// every part the generic parser returns must lie inside the body. Input: [mode byte][body]; the
// mode picks the Content-Type (the usual boundary, a quoted one, a wrong type).
#include <string>

#include "fuzz_input.hpp"
#include "openai/multipart.hpp"
#include "openai/request.hpp"

namespace {

using llmhost_fuzz::fail;

constexpr const char *kContentTypes[] = {
    "multipart/form-data; boundary=b0und",
    "multipart/form-data; charset=utf-8; boundary=\"b0 und\"",
    "Multipart/Form-Data;boundary=b0und",
    "application/json",
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  llmhost_fuzz::Input in(data, size);
  const std::string_view content_type = kContentTypes[in.byte() % 4];
  const std::string_view body = in.all();

  if (const auto boundary = llmhost::openai::form_boundary(content_type)) {
    auto parts = llmhost::openai::parse_form(body, *boundary);
    if (auto *list = std::get_if<std::vector<llmhost::openai::FormPart>>(&parts)) {
      for (const auto &p : *list)
        if (p.data.data() < body.data() || p.data.data() + p.data.size() > body.data() + body.size())
          fail("multipart: a part outside the body");
    } else if (std::get<std::string>(parts).empty()) {
      fail("multipart: a refusal without a reason");
    }
  }
  auto parsed = llmhost::openai::parse_image_edit_request(content_type, body);
  if (auto *e = std::get_if<llmhost::openai::RequestError>(&parsed)) {
    if (e->message.empty()) fail("multipart: a refusal without a message");
    return 0;
  }
  const llmhost::ImageRequest &r = std::get<llmhost::ImageRequest>(parsed);
  if (r.prompt.empty() || r.images.empty() || r.request.model.empty()) fail("multipart: accepted an incomplete edit");
  for (const auto &f : r.images)
    if (f.data.empty()) fail("multipart: accepted an empty image");
  if (r.n < 1 || r.n > 10) fail("multipart: accepted n out of range");
  return 0;
}
