#include "dispatch/image_call.hpp"

#include <llmhost/views.hpp>

#include "dispatch/abi_call.hpp"
#include "json/base64.hpp"

namespace llmhost::detail {
namespace {

using llmh::str;
using llmh::sv;

llmh_image_file file_of(const ImageFile &f) { return {str(f.filename), str(f.content_type), str(f.data)}; }

struct ImagesState {
  PluginImages *out;
  const CallControl *control;
  const char *bad = nullptr;  // what the plugin got wrong, if it did
};

ImagesState &state(const llmh_image_builder *b) { return *static_cast<ImagesState *>(b->host_data); }

void add_image(const llmh_image_builder *b, const llmh_image *image) {
  ImagesState &st = state(b);
  if (st.bad) return;
  if (!image || !LLMH_HAS_FIELD(image, llmh_image, revised_prompt)) {
    st.bad = "an image whose struct is too small (or NULL)";
    return;
  }
  const int forms = (image->url.len ? 1 : 0) + (image->b64_json.len ? 1 : 0) + (image->data.len ? 1 : 0);
  if (forms != 1) {
    st.bad = forms ? "an image with more than one of url, b64_json and data" : "an image with no url, b64_json or data";
    return;
  }
  st.out->images.push_back({std::string(sv(image->url)), std::string(sv(image->b64_json)), std::string(sv(image->data)),
                            std::string(sv(image->revised_prompt))});
}

const llmh_image_builder kImageBuilderTemplate = {
    sizeof(llmh_image_builder),
    nullptr,
    &add_image,
    [](const llmh_image_builder *b, const llmh_usage *u) { state(b).out->usage = usage_of(u); },
    [](const llmh_image_builder *b, llmh_str m) { state(b).out->model = sv(m); },
    [](const llmh_image_builder *b) -> int { return state(b).control->cancelled() ? 1 : 0; },
};

// The type of an image file by its first bytes; PNG when it is none of those known.
std::string_view image_type(std::string_view bytes) {
  if (bytes.substr(0, 3) == "\xff\xd8\xff") return "image/jpeg";
  if (bytes.substr(0, 4) == "RIFF" && bytes.substr(8, 4) == "WEBP") return "image/webp";
  if (bytes.substr(0, 4) == "GIF8") return "image/gif";
  return "image/png";
}

}  // namespace

CImageRequest::CImageRequest(const ImageRequest &r, const llmh_request *common) {
  for (const ImageFile &f : r.images) files_.push_back(file_of(f));
  req_.struct_size = sizeof req_;
  req_.common = common;
  req_.prompt = str(r.prompt);
  req_.n = r.n;
  req_.size = str(r.size);
  req_.quality = str(r.quality);
  req_.style = str(r.style);
  req_.response_format = str(r.response_format);
  req_.images = files_.empty() ? nullptr : files_.data();
  req_.image_count = files_.size();
  if (r.mask) {
    mask_ = file_of(*r.mask);
    req_.mask = &mask_;
  }
}

PluginImages call_images(const Plugin &plugin, const llmh_image_request &req, std::stop_token cancel, bool edit) {
  const char *name = edit ? "edit_images" : "generate_images";
  require(plugin, edit ? kEditImages : kGenerateImages, name);
  const llmh_images_provider &table = *plugin.images();
  PluginImages out;
  const CallControl control(std::move(cancel), req.common->timeout_s);
  ImagesState st{&out, &control};
  llmh_image_builder builder = kImageBuilderTemplate;
  builder.host_data = &st;
  llmh_error err = fresh_error();
  if ((edit ? table.edit : table.generate)(plugin.instance(), &req, &builder, &err) != 0)
    throw call_failure(plugin, err, control, *req.common, name);
  if (st.bad) throw Error(502, "provider " + plugin.name() + " handed over " + st.bad);
  if (out.images.empty()) throw Error(502, "provider " + plugin.name() + " returned no image");
  return out;
}

void tag_error(const llmh_image_builder &builder, const char *code) { state(&builder).control->error_code = code; }

ImageResponse images_answer(PluginImages images, std::string_view response_format, const std::string &provider) {
  ImageResponse answer;
  answer.model = std::move(images.model);
  answer.provider = provider;
  answer.usage = images.usage;
  const bool want_url = response_format != "b64_json";
  for (PluginImage &p : images.images) {
    Image &image = answer.data.emplace_back();
    image.revised_prompt = std::move(p.revised_prompt);
    if (!p.url.empty()) {
      if (!want_url)
        throw Error(502, "provider " + provider +
                             " returned an image as a URL where the caller asked for b64_json; it must hand over the "
                             "image itself");
      image.url = std::move(p.url);
      continue;
    }
    std::string &b64 = want_url ? image.url : image.b64_json;
    if (want_url) {
      // The first 12 bytes tell the type: 16 base64 characters.
      const std::optional<std::string> bytes =
          p.data.empty() ? json::decode_base64(std::string_view(p.b64_json).substr(0, 16)) : std::nullopt;
      b64 = "data:" + std::string(image_type(p.data.empty() ? std::string_view(bytes ? *bytes : "") : p.data)) +
            ";base64,";
    }
    if (!p.b64_json.empty())
      b64 += p.b64_json;
    else
      json::append_base64(b64, p.data);
  }
  return answer;
}

}  // namespace llmhost::detail
