#include "llmhost/errors.hpp"

namespace llmhost {

std::string_view to_string(LoadErrorKind kind) noexcept {
  switch (kind) {
    case LoadErrorKind::kNotFound: return "not_found";
    case LoadErrorKind::kNotSharedLibrary: return "not_shared_library";
    case LoadErrorKind::kMissingEntry: return "missing_entry";
    case LoadErrorKind::kAbiMismatch: return "abi_mismatch";
    case LoadErrorKind::kInvalidDescriptor: return "invalid_descriptor";
    case LoadErrorKind::kInvalidName: return "invalid_name";
    case LoadErrorKind::kCreateFailed: return "create_failed";
    case LoadErrorKind::kDuplicateName: return "duplicate_name";
    case LoadErrorKind::kUntrusted: return "untrusted";
  }
  return "unknown";
}

}  // namespace llmhost
