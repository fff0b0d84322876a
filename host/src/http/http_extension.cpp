#include "http/http_extension.hpp"

#include <strings.h>
#include <memory>

#include <llmhost/views.hpp>

#include "http/http_service.hpp"

namespace llmhost::detail::http {
namespace {

// The table and the service it calls, kept together so that the table's host_data is valid
// for exactly as long as the table.
struct Extension {
  Extension(LogFn log, int min_level, boost::asio::any_io_executor loop, unsigned loop_threads)
      : service(std::move(log), min_level, std::move(loop), loop_threads) {}
  HttpService service;
  llmh_http_api table{};
};

// True when `request` is readable up to the last field of ABI 1.0 (`user`).
bool request_readable(const llmh_http_request *request) {
  return request->struct_size >= offsetof(llmh_http_request, user) + sizeof(void *);
}

// Every entry point is noexcept: nothing may unwind into a plugin.

int perform(const llmh_http_api *self, const llmh_http_request *request, llmh_http_response **out,
            llmh_error *err) noexcept {
  llmh_error scratch{};
  scratch.struct_size = sizeof scratch;
  if (!err) err = &scratch;
  if (out) *out = nullptr;
  if (!self || !request || !out) return llmh_error_set(err, 400, "HTTP perform: NULL argument");
  if (!request_readable(request))
    return llmh_error_set(err, 400, "HTTP perform: llmh_http_request.struct_size is too small");
  auto *ext = static_cast<Extension *>(self->host_data);
  std::unique_ptr<llmh_http_response> response = ext->service.perform(*request, *err);
  if (!response) return 1;
  *out = response.release();
  return 0;
}

int32_t status(const llmh_http_response *r) noexcept { return r ? static_cast<int32_t>(r->status) : 0; }

llmh_str body(const llmh_http_response *r) noexcept {
  if (!r) return llmh_str{nullptr, 0};
  return llmh::str(r->body);
}

llmh_str header(const llmh_http_response *r, llmh_str name) noexcept {
  if (!r || (!name.ptr && name.len)) return llmh_str{nullptr, 0};
  const std::string *value = find_header(r->headers, llmh::sv(name));
  if (!value) return llmh_str{nullptr, 0};
  return llmh::str(*value);
}

void release(llmh_http_response *r) noexcept { delete r; }

// With no `done` there is nobody to tell anything, so nothing is started.
void perform_async(const llmh_http_api *self, const llmh_http_request *request, llmh_http_done_fn done) noexcept {
  if (!self || !done) return;
  auto *ext = static_cast<Extension *>(self->host_data);
  if (!request) return ext->service.reject_async(nullptr, done, 400, "HTTP perform_async: NULL request");
  // `user` is the last field checked, so it is only read once the struct is known to hold it.
  if (!request_readable(request))
    return ext->service.reject_async(nullptr, done, 400,
                                     "HTTP perform_async: llmh_http_request.struct_size is too small");
  ext->service.perform_async(*request, done);
}

}  // namespace

ExtensionLookup make_extension_lookup(LogFn log, int min_level, boost::asio::any_io_executor http_loop,
                                      unsigned loop_threads) {
  auto ext = std::make_shared<Extension>(std::move(log), min_level, std::move(http_loop), loop_threads);
  ext->table.struct_size = sizeof(llmh_http_api);
  ext->table.host_data = ext.get();
  ext->table.perform = &perform;
  ext->table.status = &status;
  ext->table.body = &body;
  ext->table.header = &header;
  ext->table.release = &release;
  ext->table.perform_async = &perform_async;
  return [ext](std::string_view id) -> const void * { return id == LLMH_HTTP_EXTENSION_ID ? &ext->table : nullptr; };
}

}  // namespace llmhost::detail::http
