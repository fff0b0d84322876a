#include "loader/elf_extent.hpp"

#include <elf.h>

#include <algorithm>
#include <cstring>
#include <fstream>
#include <vector>

namespace llmhost::detail {

std::optional<uint64_t> elf_extent(const std::filesystem::path &file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) throw std::filesystem::filesystem_error("cannot open", file, std::make_error_code(std::errc::io_error));
  Elf64_Ehdr eh{};
  if (!in.read(reinterpret_cast<char *>(&eh), sizeof eh)) return std::nullopt;  // shorter than a header
  if (std::memcmp(eh.e_ident, ELFMAG, SELFMAG) != 0 || eh.e_ident[EI_CLASS] != ELFCLASS64 ||
      eh.e_phentsize != sizeof(Elf64_Phdr))
    return std::nullopt;
  uint64_t extent = sizeof eh;
  extent = std::max<uint64_t>(extent, eh.e_phoff + uint64_t{eh.e_phnum} * eh.e_phentsize);
  if (eh.e_shnum) extent = std::max<uint64_t>(extent, eh.e_shoff + uint64_t{eh.e_shnum} * eh.e_shentsize);
  std::vector<Elf64_Phdr> ph(eh.e_phnum);
  in.seekg(static_cast<std::streamoff>(eh.e_phoff));
  if (!in.read(reinterpret_cast<char *>(ph.data()), static_cast<std::streamsize>(ph.size() * sizeof(Elf64_Phdr))))
    return extent;  // the program headers themselves are cut off
  for (const Elf64_Phdr &p : ph)
    if (p.p_type == PT_LOAD) extent = std::max<uint64_t>(extent, p.p_offset + p.p_filesz);
  return extent;
}

}  // namespace llmhost::detail
