// llmhost::detail::validate_descriptor on descriptors a hostile or broken plugin could return.
// The descriptor lives in a heap block of exactly the struct_size it claims (capped), so ASan
// reports any read of a field the plugin did not declare. Only LoadException may come out.
// Input: [flags u32][struct_size u32][abi_major u32][abi_minor u32][capabilities u64]
//        [name bytes] '\0' [version bytes] '\0' [description bytes]
#include <algorithm>
#include <cstring>
#include <memory>
#include <string>

#include "fuzz_input.hpp"
#include "llmhost/errors.hpp"
#include "loader/plugin.hpp"

namespace {

int dummy_create(const llmh_host_api *, const llmh_config *, void **, llmh_error *) { return 1; }
void dummy_destroy(void *) {}
int dummy_complete(void *, const llmh_request *, const llmh_response_builder *, llmh_error *) { return 1; }
int dummy_stream(void *, const llmh_request *, const llmh_stream_sink *, llmh_error *) { return 1; }
int dummy_embed(void *, const llmh_request *, const llmh_embedding_builder *, llmh_error *) { return 1; }
const void *dummy_extension(void *, const char *) { return nullptr; }

constexpr size_t kMaxStructSize = 4096;  // a "newer" descriptor may be bigger than ours

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  llmhost_fuzz::Input in(data, size);
  const uint32_t flags = in.u32();
  llmh_provider d{};
  d.struct_size = in.u32();
  if (flags & 1u << 12) d.struct_size = sizeof(llmh_provider);  // help the fuzzer past the size checks
  d.abi_major = (flags & 1u << 13) ? LLMH_ABI_VERSION_MAJOR : in.u32();
  d.abi_minor = in.u32();
  d.capabilities = in.u64();
  const std::string name(in.until('\0')), version(in.until('\0')), description(in.all());
  d.name = (flags & 1u << 0) ? nullptr : name.c_str();
  d.version = (flags & 1u << 1) ? nullptr : version.c_str();
  d.description = (flags & 1u << 2) ? nullptr : description.c_str();
  d.create = (flags & 1u << 3) ? nullptr : dummy_create;
  d.destroy = (flags & 1u << 4) ? nullptr : dummy_destroy;
  d.complete = (flags & 1u << 5) ? nullptr : dummy_complete;
  d.stream = (flags & 1u << 6) ? nullptr : dummy_stream;
  d.embed = (flags & 1u << 7) ? nullptr : dummy_embed;
  d.get_extension = (flags & 1u << 8) ? nullptr : dummy_extension;

  // What the plugin's library really holds: struct_size bytes, no more (a descriptor that
  // claims less than the first field still has that field).
  const size_t held = std::clamp<size_t>(d.struct_size, sizeof(uint32_t), kMaxStructSize);
  std::unique_ptr<unsigned char[]> block(new unsigned char[held]);
  std::memset(block.get(), 0xa5, held);
  std::memcpy(block.get(), &d, std::min(held, sizeof d));
  const auto *desc = (flags & 1u << 9) ? nullptr : reinterpret_cast<const llmh_provider *>(block.get());

  bool accepted = false;
  try {
    llmhost::detail::validate_descriptor(desc, "/plugins/libfuzzed.so");
    accepted = true;
  } catch (const llmhost::LoadException &e) {
    if (std::string_view(e.what()).find("/plugins/libfuzzed.so") == std::string_view::npos)
      llmhost_fuzz::fail("descriptor: the error does not name the file");
  }
  if (accepted) {  // what the loader relies on after validation
    if (!desc || desc->abi_major != LLMH_ABI_VERSION_MAJOR || !desc->create || !desc->name)
      llmhost_fuzz::fail("descriptor: accepted a descriptor the loader cannot use");
    if (!llmhost::detail::valid_provider_name(desc->name)) llmhost_fuzz::fail("descriptor: accepted a bad name");
    if ((desc->capabilities & LLMH_CAP_COMPLETE && !desc->complete) ||
        (desc->capabilities & LLMH_CAP_STREAM && !desc->stream) ||
        (desc->capabilities & LLMH_CAP_EMBED && !desc->embed))
      llmhost_fuzz::fail("descriptor: accepted a capability without its function");
  }
  return 0;
}
