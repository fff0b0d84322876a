// Images across the C ABI (llmhost/images.h): an ImageRequest laid out as llmh_image_request, the
// images a plugin hands over in whatever form it has them, and the answer in the form the
// caller asked for.
#pragma once

#include <stop_token>
#include <string>
#include <string_view>
#include <vector>

#include "llmhost/images.h"
#include "llmhost/types.hpp"
#include "loader/plugin.hpp"

namespace llmhost::detail {

// `r` as C views around `common` (its llmh_request, laid out by CRequest). Owns only the array
// of files; the strings stay in `r`, which must outlive it.
class CImageRequest {
 public:
  CImageRequest(const ImageRequest &r, const llmh_request *common);
  CImageRequest(const CImageRequest &) = delete;
  CImageRequest &operator=(const CImageRequest &) = delete;
  const llmh_image_request *get() const { return &req_; }

 private:
  llmh_image_request req_{};
  std::vector<llmh_image_file> files_;
  llmh_image_file mask_{};
};

// An image as the plugin handed it over: exactly one of url, b64_json and data is set.
struct PluginImage {
  std::string url, b64_json, data, revised_prompt;
};
struct PluginImages {
  std::string model;
  std::vector<PluginImage> images;
  Usage usage;
};

// The plugin's images for `req`: its edit (`edit`) or its generate. 501 when it has none, 502
// when it hands over an image with none or several of url, b64_json and data, or no image.
PluginImages call_images(const Plugin &plugin, const llmh_image_request &req, std::stop_token cancel, bool edit);

// For an isolated plugin's stand-in (abi_call.hpp's tag_error).
void tag_error(const llmh_image_builder &builder, const char *code);

// The answer as the caller asked, `response_format` "url" (bytes and base64 become a data: URL)
// or "b64_json" (502 naming `provider` for an image handed over only as a URL).
ImageResponse images_answer(PluginImages images, std::string_view response_format, const std::string &provider);

}  // namespace llmhost::detail
