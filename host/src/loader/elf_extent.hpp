// How long an ELF file must be for its headers to hold: dlopen maps each segment as its header
// says, and touching a page past the end of a shorter file is SIGBUS for the whole host. A
// plugin caught half-written (copied while a build or `cp` was still writing it) is refused
// this way instead.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>

namespace llmhost::detail {

// The bytes `file`'s ELF header, program headers and section headers say it spans, or nullopt
// when it is not a 64-bit ELF file this check can read (dlopen then says why). Throws
// std::filesystem::filesystem_error when it cannot be read.
std::optional<uint64_t> elf_extent(const std::filesystem::path &file);

}  // namespace llmhost::detail
