#include "loader/plugin.hpp"

#include <dlfcn.h>

#include <boost/dll/shared_library_load_mode.hpp>
#include <cstddef>
#include <system_error>

#include <llmhost/views.hpp>

#include "loader/elf_extent.hpp"
#include "loader/plugin_reaper.hpp"

namespace llmhost::detail {
namespace {

[[noreturn]] void refuse(LoadErrorKind kind, const std::filesystem::path &file, const std::string &cause) {
  throw LoadException(LoadError{kind, file.string(), "plugin " + file.string() + ": " + cause});
}

std::string cstr_or_empty(const char *s) { return s ? std::string(s) : std::string(); }

// The size of the version-1.0 descriptor: anything smaller is not a v1 plugin.
constexpr size_t kMinDescriptorSize = offsetof(llmh_provider, get_extension) + sizeof(void *);

}  // namespace

void validate_descriptor(const llmh_provider *d, const std::filesystem::path &file) {
  if (!d) refuse(LoadErrorKind::kInvalidDescriptor, file, LLMH_ENTRY_SYMBOL " returned NULL");
  if (d->struct_size < offsetof(llmh_provider, abi_minor) + sizeof(uint32_t))
    refuse(LoadErrorKind::kInvalidDescriptor, file,
           "descriptor struct_size " + std::to_string(d->struct_size) + " is too small to hold an ABI version");
  if (d->abi_major != LLMH_ABI_VERSION_MAJOR)
    refuse(LoadErrorKind::kAbiMismatch, file,
           "built for ABI " + std::to_string(d->abi_major) + "." + std::to_string(d->abi_minor) +
               ", this host speaks ABI " + std::to_string(LLMH_ABI_VERSION_MAJOR) + "." +
               std::to_string(LLMH_ABI_VERSION_MINOR) + " (major versions must match)");
  if (d->struct_size < kMinDescriptorSize)
    refuse(LoadErrorKind::kInvalidDescriptor, file,
           "descriptor struct_size " + std::to_string(d->struct_size) + " is smaller than the ABI " +
               std::to_string(LLMH_ABI_VERSION_MAJOR) + ".0 descriptor (" + std::to_string(kMinDescriptorSize) + ")");
  if (!d->name) refuse(LoadErrorKind::kInvalidName, file, "provider name is NULL");
  const std::string_view name = d->name;
  if (name.empty()) refuse(LoadErrorKind::kInvalidName, file, "provider name is empty");
  if (!valid_provider_name(name))
    refuse(LoadErrorKind::kInvalidName, file,
           "provider name \"" + std::string(name.substr(0, 80)) +
               "\" is invalid (use 1-64 characters of a-z, 0-9, '_', '.', '-')");
  if (!d->create) refuse(LoadErrorKind::kInvalidDescriptor, file, "create is NULL");
  struct Cap {
    uint64_t bit;
    const void *fn;
    const char *what;
  };
  const Cap caps[] = {{LLMH_CAP_COMPLETE, reinterpret_cast<const void *>(d->complete), "complete"},
                      {LLMH_CAP_STREAM, reinterpret_cast<const void *>(d->stream), "stream"},
                      {LLMH_CAP_EMBED, reinterpret_cast<const void *>(d->embed), "embed"}};
  for (const Cap &c : caps)
    if ((d->capabilities & c.bit) && !c.fn)
      refuse(LoadErrorKind::kInvalidDescriptor, file,
             std::string("declares the ") + c.what + " capability but its " + c.what + " function is NULL");
}

namespace {

// Boost.DLL reports a failed load as an errno-like code ("Bad file descriptor") and drops the
// dynamic loader's own reason ("invalid ELF header", "undefined symbol: x"); ask dlopen again.
std::string loader_reason(const std::filesystem::path &path, const boost::dll::fs::error_code &ec) {
  if (void *handle = ::dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL)) {
    ::dlclose(handle);
    return ec.message();
  }
  const char *reason = ::dlerror();
  return reason ? reason : ec.message();
}

// The plugin's asynchronous call table, checked like the descriptor; nullptr when it offers none
// or has nothing to make asynchronous.
const llmh_async_provider *async_table(const llmh_provider &d, void *instance, const std::filesystem::path &file) {
  if (!d.get_extension || !(d.capabilities & LLMH_CAP_COMPLETE)) return nullptr;
  const auto *t = static_cast<const llmh_async_provider *>(d.get_extension(instance, LLMH_ASYNC_EXTENSION_ID));
  if (!t) return nullptr;
  if (t->struct_size < offsetof(llmh_async_provider, complete_async) + sizeof(void *))
    refuse(LoadErrorKind::kInvalidDescriptor, file,
           "its " LLMH_ASYNC_EXTENSION_ID " table has struct_size " + std::to_string(t->struct_size) +
               ", too small to hold complete_async");
  if (!t->complete_async)
    refuse(LoadErrorKind::kInvalidDescriptor, file, "its " LLMH_ASYNC_EXTENSION_ID " table has a NULL complete_async");
  if (LLMH_HAS_FIELD(t, llmh_async_provider, stream_async) && t->stream_async && !(d.capabilities & LLMH_CAP_STREAM))
    refuse(LoadErrorKind::kInvalidDescriptor, file,
           "its " LLMH_ASYNC_EXTENSION_ID " table has stream_async but the plugin does not declare LLMH_CAP_STREAM");
  return t;
}

// The plugin's extension table `id`, checked like the descriptor: version 1 of it whole
// (`v1_size` bytes) and its `required` function set; nullptr when the plugin offers none.
template <class Table, class Fn>
const Table *extension_table(const llmh_provider &d, void *instance, const std::filesystem::path &file, const char *id,
                             size_t v1_size, Fn Table::*required, const char *required_name) {
  if (!d.get_extension) return nullptr;
  const auto *t = static_cast<const Table *>(d.get_extension(instance, id));
  if (!t) return nullptr;
  if (t->struct_size < v1_size)
    refuse(LoadErrorKind::kInvalidDescriptor, file,
           std::string("its ") + id + " table has struct_size " + std::to_string(t->struct_size) +
               ", too small for version 1 of it (" + std::to_string(v1_size) + ")");
  if (!(t->*required))
    refuse(LoadErrorKind::kInvalidDescriptor, file, std::string("its ") + id + " table has a NULL " + required_name);
  return t;
}

// The size of version 1 of an extension table: up to and including its `last` member.
#define LLMH_V1_SIZE(type, last) (offsetof(type, last) + sizeof(type::last))

// The capabilities of a plugin's extension tables, as ProviderInfo lists them.
uint64_t extension_capabilities(const Plugin &p) {
  uint64_t caps = 0;
  if (const auto *text = p.text_completion()) caps |= kCompleteText | (text->stream_text ? uint64_t{kStreamText} : 0);
  if (p.rerank()) caps |= kRerank;
  if (const auto *images = p.images()) caps |= kGenerateImages | (images->edit ? uint64_t{kEditImages} : 0);
  return caps;
}

}  // namespace

bool valid_provider_name(std::string_view name) {
  if (name.empty() || name.size() > 64) return false;
  for (char c : name)
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '.' || c == '-')) return false;
  return true;
}

std::shared_ptr<Plugin> Plugin::load(const std::filesystem::path &file, const std::filesystem::path &load_path,
                                     std::shared_ptr<const HostServices> services) {
  std::error_code fs_ec;
  if (!std::filesystem::is_regular_file(load_path, fs_ec)) refuse(LoadErrorKind::kNotFound, file, "no such file");

  if (const auto needed = elf_extent(load_path); needed && *needed > std::filesystem::file_size(load_path))
    refuse(LoadErrorKind::kNotSharedLibrary, file,
           "truncated: " + std::to_string(std::filesystem::file_size(load_path)) +
               " bytes where its ELF headers need " + std::to_string(*needed) + " (still being written?)");

  std::shared_ptr<Plugin> p(new Plugin(), &delete_plugin);
  p->services_ = std::move(services);
  // RTLD_LOCAL: two builds of one provider (or two plugins embedding one library) must never
  // bind to each other's symbols. RTLD_NOW: a missing symbol fails here, not mid-call.
  boost::dll::fs::error_code ec;
  p->library_.load(load_path, boost::dll::load_mode::rtld_local | boost::dll::load_mode::rtld_now, ec);
  if (ec)
    refuse(LoadErrorKind::kNotSharedLibrary, file, "not a loadable shared library: " + loader_reason(load_path, ec));
  if (!p->library_.has(LLMH_ENTRY_SYMBOL))
    refuse(LoadErrorKind::kMissingEntry, file, "does not export the entry symbol " LLMH_ENTRY_SYMBOL);
  auto entry = p->library_.get<const llmh_provider *()>(LLMH_ENTRY_SYMBOL);
  const llmh_provider *d = entry();
  validate_descriptor(d, file);
  p->desc_ = d;

  ProviderInfo &info = p->info_;
  info.name = d->name;
  info.version = cstr_or_empty(d->version);
  info.description = cstr_or_empty(d->description);
  info.abi_major = d->abi_major;
  info.abi_minor = d->abi_minor;
  info.file = file.string();
  info.capabilities = d->capabilities & (LLMH_CAP_COMPLETE | LLMH_CAP_STREAM | LLMH_CAP_EMBED);
  if (d->models)
    for (const char *const *m = d->models; *m; ++m) info.models.emplace_back(*m);

  p->api_.struct_size = sizeof(llmh_host_api);
  p->api_.abi_major = LLMH_ABI_VERSION_MAJOR;
  p->api_.abi_minor = LLMH_ABI_VERSION_MINOR;
  p->api_.host_data = p.get();
  p->api_.log = &Plugin::host_log;
  p->api_.get_extension = &Plugin::host_extension;

  const std::string config_json = p->services_->config_for ? p->services_->config_for(info.name) : "{}";
  llmh_config config{sizeof(llmh_config), {config_json.data(), config_json.size()}};
  llmh_error err{};
  err.struct_size = sizeof err;
  void *instance = nullptr;
  if (d->create(&p->api_, &config, &instance, &err) != 0) {
    err.message[LLMH_ERROR_MESSAGE_MAX - 1] = '\0';
    refuse(LoadErrorKind::kCreateFailed, file,
           "create failed" + (err.status ? " with status " + std::to_string(err.status) : std::string()) +
               (err.message[0] ? std::string(": ") + err.message : std::string(" without a message")));
  }
  p->instance_ = instance;
  p->created_ = true;
  p->async_ = async_table(*d, instance, file);
  info.async_complete = p->async_ != nullptr;
  info.async_stream = p->async_stream() != nullptr;
  p->take_extensions(file);
  info.capabilities |= extension_capabilities(*p);
  return p;
}

std::shared_ptr<Plugin> Plugin::host_implemented(const std::filesystem::path &file, const llmh_provider *descriptor,
                                                 void *instance, ProviderInfo info,
                                                 std::shared_ptr<const PluginWorker> worker,
                                                 std::shared_ptr<void> owner,
                                                 std::shared_ptr<const HostServices> services) {
  std::shared_ptr<Plugin> p(new Plugin(), &delete_plugin);
  p->owner_ = std::move(owner);
  p->services_ = std::move(services);
  validate_descriptor(descriptor, file);
  p->desc_ = descriptor;
  p->instance_ = instance;
  p->created_ = true;
  p->info_ = std::move(info);
  p->worker_ = std::move(worker);
  p->async_ = async_table(*descriptor, instance, file);
  p->take_extensions(file);
  return p;
}

void Plugin::take_extensions(const std::filesystem::path &file) {
  text_ = extension_table(*desc_, instance_, file, LLMH_TEXT_COMPLETION_EXTENSION_ID,
                          LLMH_V1_SIZE(llmh_text_completion_provider, stream_text),
                          &llmh_text_completion_provider::complete_text, "complete_text");
  rerank_ = extension_table(*desc_, instance_, file, LLMH_RERANK_EXTENSION_ID,
                            LLMH_V1_SIZE(llmh_rerank_provider, rerank), &llmh_rerank_provider::rerank, "rerank");
  images_ = extension_table(*desc_, instance_, file, LLMH_IMAGES_EXTENSION_ID, LLMH_V1_SIZE(llmh_images_provider, edit),
                            &llmh_images_provider::generate, "generate");
}

Plugin::~Plugin() {
  if (created_ && desc_->destroy) desc_->destroy(instance_);
  // library_ unloads (dlclose) and owner_ goes when they are destroyed, after the instance.
}

void Plugin::host_log(const llmh_host_api *api, llmh_log_level level, llmh_str message) {
  auto *self = static_cast<const Plugin *>(api->host_data);
  if (self->services_ && self->services_->log)
    self->services_->log(static_cast<int>(level), self->info_.name, llmh::sv(message));
}

const void *Plugin::host_extension(const llmh_host_api *api, const char *id) {
  auto *self = static_cast<const Plugin *>(api->host_data);
  if (!id || !self->services_ || !self->services_->extension) return nullptr;
  return self->services_->extension(id);
}

}  // namespace llmhost::detail
