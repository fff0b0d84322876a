#include "dispatch/model_name.hpp"

#include <string>

#include "llmhost/errors.hpp"

namespace llmhost::detail {

ModelName split_model(std::string_view model) {
  const size_t slash = model.find('/');
  if (slash == std::string_view::npos)
    throw Error(400, "model \"" + std::string(model) + "\" names no provider: use provider/model, e.g. echo/" +
                         std::string(model));
  if (slash == 0) throw Error(400, "model \"" + std::string(model) + "\" has an empty provider part before '/'");
  if (slash + 1 == model.size())
    throw Error(400, "model \"" + std::string(model) + "\" has an empty model part after '/'");
  return {model.substr(0, slash), model.substr(slash + 1)};
}

}  // namespace llmhost::detail
