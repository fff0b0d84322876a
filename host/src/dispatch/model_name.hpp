// Splits "provider/model": the provider is everything before the first '/', the model keeps
// any later '/' ("a/b/c" -> provider "a", model "b/c").
#pragma once

#include <string_view>

namespace llmhost::detail {

struct ModelName {
  std::string_view provider;
  std::string_view model;
};

// Throws llmhost::Error(400) naming the model when it has no provider part or no model part.
ModelName split_model(std::string_view model);

}  // namespace llmhost::detail
