// Plugin folder trust, checked the way ssh and sudo check their files: the host runs whatever
// code sits in its plugin folders, so a plugin file or its folder that someone else could
// write is refused unless the operator explicitly allows it (for development).
#pragma once

#include <filesystem>

namespace llmhost::detail {

// Throws LoadException(kUntrusted) naming the path and the permission when `file` or its
// folder is world-writable, or owned by a user other than this process's effective user or
// root. A missing file is left for the loader to report.
void require_trusted(const std::filesystem::path &file);

}  // namespace llmhost::detail
