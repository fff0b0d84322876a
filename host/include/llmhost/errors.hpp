// Errors of the embeddable API: a failed call (status + message) and a plugin that failed to load.
#pragma once

#include <stdexcept>
#include <string>
#include <string_view>

namespace llmhost {

// A call that failed. `status` is HTTP-style (400, 401, 404, 408, 429, 500, 501, 502, ...);
// the proxy maps it to an OpenAI error response as is. `code`, when set, is the OpenAI error
// code the proxy reports ("plugin_crashed", "provider_unavailable"); empty: one derived from the
// status.
class Error : public std::runtime_error {
 public:
  Error(int status, const std::string &message, std::string code = {})
      : std::runtime_error(message), status_(status), code_(std::move(code)) {}
  int status() const noexcept { return status_; }
  const std::string &code() const noexcept { return code_; }

 private:
  int status_;
  std::string code_;
};

// Why a plugin file was refused.
enum class LoadErrorKind {
  kNotFound,           // the path does not exist or cannot be read
  kNotSharedLibrary,   // the loader could not load it as a shared library
  kMissingEntry,       // the library does not export llmh_provider_entry
  kAbiMismatch,        // the plugin was built for another ABI major version
  kInvalidDescriptor,  // NULL descriptor, struct too small, capability without function, ...
  kInvalidName,        // NULL, empty or malformed provider name
  kCreateFailed,       // the plugin's create() returned an error
  kDuplicateName,      // another file already registered the same provider name
  kUntrusted,          // the file or its folder is world-writable or owned by another user
};

// Stable lower-case name of a kind, e.g. "abi_mismatch" (used in CLI and JSON output).
std::string_view to_string(LoadErrorKind kind) noexcept;

struct LoadError {
  LoadErrorKind kind;
  std::string file;     // the plugin file that was refused
  std::string message;  // says what was wrong, naming the file
};

// Thrown by Host::check() (and only there) when a file is not a valid plugin.
class LoadException : public std::runtime_error {
 public:
  explicit LoadException(LoadError error) : std::runtime_error(error.message), error_(std::move(error)) {}
  const LoadError &error() const noexcept { return error_; }

 private:
  LoadError error_;
};

}  // namespace llmhost
