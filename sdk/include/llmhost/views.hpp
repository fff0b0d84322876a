/*
 * llmhost provider SDK, C++ views over provider.h (C++17 or later): the request a call reads,
 * the response, stream and embeddings it writes, and llmh::Error. Included by provider.hpp,
 * which adds the provider base class and the export macro; include that one.
 *
 * Every view class is a thin, zero-copy wrapper: string_views point into host memory and are
 * valid only until the plugin call that handed them over returns. Copy what you keep.
 */
#ifndef LLMHOST_VIEWS_HPP
#define LLMHOST_VIEWS_HPP

#include <llmhost/images.h>
#include <llmhost/provider.h>
#include <llmhost/rerank.h>
#include <llmhost/json_text.hpp>
#include <llmhost/text.hpp>

#include <cstddef>
#include <cstdint>
#include <exception>
#include <iterator>
#include <locale>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

namespace llmh {

/* ------------------------------------------------------------------------------------------ */
/* Errors                                                                                      */
/* ------------------------------------------------------------------------------------------ */

// Thrown from a handler to fail the call with an HTTP-style status. Owns its message (copied);
// any thread. Never put a secret in the message.
class Error : public std::exception {
 public:
  // Makes an error with `status` (e.g. 400, 429, 503) and a human-readable message.
  Error(int status, std::string message) : status_(status), message_(std::move(message)) {}
  // The HTTP-style status handed to the host.
  int status() const noexcept { return status_; }
  // The message, NUL-terminated; owned by this object.
  const char *what() const noexcept override { return message_.c_str(); }

 private:
  int status_;
  std::string message_;
};

// Makes a string_view of an ABI string view (no copy; same lifetime as the view). Any thread.
// The one rule for reading an llmh_str, on both sides of the ABI: len 0 is empty whatever ptr
// is (a producer may leave ptr dangling or NULL then), and a NULL ptr with len > 0 is not
// trusted: it reads as empty rather than as `len` bytes at address 0.
inline std::string_view sv(llmh_str s) noexcept {
  return s.len && s.ptr ? std::string_view(s.ptr, s.len) : std::string_view();
}

// Makes an ABI string view of a string_view (no copy; same lifetime as `s`). Any thread.
inline llmh_str str(std::string_view s) noexcept {
  llmh_str v;
  v.ptr = s.data();
  v.len = s.size();
  return v;
}

// Makes an llmh_usage with struct_size set; total < 0 means prompt + completion. Any thread.
inline llmh_usage make_usage(int64_t prompt, int64_t completion = 0, int64_t total = -1) noexcept {
  llmh_usage u{};
  u.struct_size = sizeof(llmh_usage);
  u.prompt_tokens = prompt;
  u.completion_tokens = completion;
  u.total_tokens = total < 0 ? prompt + completion : total;
  return u;
}

// Makes an empty llmh_chunk with struct_size set, to fill and pass to Stream::emit. Any thread.
inline llmh_chunk make_chunk() noexcept {
  llmh_chunk c{};
  c.struct_size = sizeof(llmh_chunk);
  return c;
}

/* ------------------------------------------------------------------------------------------ */
/* Request views (zero-copy, valid during the call, on the calling thread)                     */
/* ------------------------------------------------------------------------------------------ */

namespace detail {
// How a Range presents one element: as View(const Raw *), or an ABI string as a string_view.
template <class Raw, class View>
struct Present {
  View operator()(const Raw *p) const noexcept { return View(p); }
};
template <>
struct Present<llmh_str, std::string_view> {
  std::string_view operator()(const llmh_str *p) const noexcept { return sv(*p); }
};

// A read-only range over a C array whose elements are presented as Present<Raw, View> says.
// Borrowed.
template <class Raw, class View>
class Range {
 public:
  // Forward iterator yielding View by value.
  class iterator {
   public:
    using value_type = View;
    using difference_type = std::ptrdiff_t;
    using reference = View;
    using pointer = void;
    using iterator_category = std::forward_iterator_tag;
    explicit iterator(const Raw *p) noexcept : p_(p) {}
    View operator*() const noexcept { return Present<Raw, View>{}(p_); }
    iterator &operator++() noexcept {
      ++p_;
      return *this;
    }
    iterator operator++(int) noexcept {
      iterator t = *this;
      ++p_;
      return t;
    }
    bool operator==(const iterator &o) const noexcept { return p_ == o.p_; }
    bool operator!=(const iterator &o) const noexcept { return p_ != o.p_; }

   private:
    const Raw *p_;
  };
  Range(const Raw *data, std::size_t size) noexcept : data_(size ? data : nullptr), size_(data ? size : 0) {}
  iterator begin() const noexcept { return iterator(data_); }
  iterator end() const noexcept { return iterator(data_ + size_); }
  std::size_t size() const noexcept { return size_; }
  bool empty() const noexcept { return size_ == 0; }
  View operator[](std::size_t i) const noexcept { return Present<Raw, View>{}(data_ + i); }  // unchecked
  View back() const noexcept { return Present<Raw, View>{}(data_ + size_ - 1); }             // unchecked

 private:
  const Raw *data_;
  std::size_t size_;
};

}  // namespace detail

// A range of string_views over an llmh_str array (stop sequences, embedding inputs). Borrowed.
using Strings = detail::Range<llmh_str, std::string_view>;

// One tool call of a message. Borrowed view; valid during the call, on the calling thread.
class ToolCall {
 public:
  explicit ToolCall(const llmh_tool_call *c) noexcept : c_(c) {}
  std::string_view id() const noexcept { return sv(c_->id); }                // e.g. "call_abc"
  std::string_view type() const noexcept { return sv(c_->type); }            // "function"
  std::string_view name() const noexcept { return sv(c_->name); }            // function name
  std::string_view arguments() const noexcept { return sv(c_->arguments); }  // JSON text
  const llmh_tool_call &raw() const noexcept { return *c_; }                 // the C struct

 private:
  const llmh_tool_call *c_;
};

// One chat message. Borrowed view; valid during the call, on the calling thread.
class Message {
 public:
  explicit Message(const llmh_message *m) noexcept : m_(m) {}
  std::string_view role() const noexcept { return sv(m_->role); }                  // "user", ...
  std::string_view content() const noexcept { return sv(m_->content); }            // the text
  std::string_view name() const noexcept { return sv(m_->name); }                  // or empty
  std::string_view tool_call_id() const noexcept { return sv(m_->tool_call_id); }  // or empty
  // The assistant's tool calls (empty range when none).
  detail::Range<llmh_tool_call, ToolCall> tool_calls() const noexcept { return {m_->tool_calls, m_->tool_call_count}; }
  const llmh_message &raw() const noexcept { return *m_; }  // the C struct

 private:
  const llmh_message *m_;
};

// The decoded common parameters; each accessor is empty when the caller did not set it.
// Borrowed view; valid during the call, on the calling thread.
class Params {
 public:
  explicit Params(const llmh_params *p) noexcept : p_(p) {}
  // True when every LLMH_PARAM_* bit in `bits` is set.
  bool has(uint64_t bits) const noexcept { return p_ && (p_->present & bits) == bits; }
  std::optional<double> temperature() const noexcept { return get(LLMH_PARAM_TEMPERATURE, &llmh_params::temperature); }
  std::optional<double> top_p() const noexcept { return get(LLMH_PARAM_TOP_P, &llmh_params::top_p); }
  std::optional<double> presence_penalty() const noexcept {
    return get(LLMH_PARAM_PRESENCE_PENALTY, &llmh_params::presence_penalty);
  }
  std::optional<double> frequency_penalty() const noexcept {
    return get(LLMH_PARAM_FREQUENCY_PENALTY, &llmh_params::frequency_penalty);
  }
  std::optional<int64_t> max_tokens() const noexcept { return get(LLMH_PARAM_MAX_TOKENS, &llmh_params::max_tokens); }
  std::optional<int64_t> n() const noexcept { return get(LLMH_PARAM_N, &llmh_params::n); }
  std::optional<int64_t> seed() const noexcept { return get(LLMH_PARAM_SEED, &llmh_params::seed); }
  // Stop sequences (empty range when not set).
  Strings stop() const noexcept {
    return has(LLMH_PARAM_STOP) ? Strings(p_->stop, p_->stop_count) : Strings(nullptr, 0);
  }
  std::optional<std::string_view> user() const noexcept {
    if (!has(LLMH_PARAM_USER)) return std::nullopt;
    return sv(p_->user);
  }
  const llmh_params *raw() const noexcept { return p_; }  // the C struct (never NULL from host)

 private:
  template <class T>
  std::optional<T> get(uint64_t bit, T llmh_params::*field) const noexcept {
    if (!has(bit)) return std::nullopt;
    return p_->*field;
  }
  const llmh_params *p_;
};

// One top-level member of the request body, as written (ABI 1.3). Borrowed view.
class JsonMember {
 public:
  explicit JsonMember(const llmh_json_member *m) noexcept : m_(m) {}
  std::string_view key() const noexcept { return sv(m_->key); }      // quotes included
  std::string_view value() const noexcept { return sv(m_->value); }  // JSON text
  // Whether the key is `name` (compared as written, without the quotes).
  bool is(std::string_view name) const noexcept { return JsonMembers::named(key(), name); }

 private:
  const llmh_json_member *m_;
};

// One call's request. Borrowed view; valid during the call, on the calling thread.
class Request {
 public:
  explicit Request(const llmh_request *r) noexcept : r_(r) {}
  std::string_view model() const noexcept { return sv(r_->model); }  // prefix stripped
  // Chat messages in order (empty for embed).
  detail::Range<llmh_message, Message> messages() const noexcept { return {r_->messages, r_->message_count}; }
  Params params() const noexcept { return Params(r_->params); }                     // sampling params
  Strings inputs() const noexcept { return Strings(r_->inputs, r_->input_count); }  // embed, text
  // A text completion's prompt (llmhost/text_completion.h): the one input; empty for others.
  std::string_view prompt() const noexcept { return r_->input_count == 1 ? sv(r_->inputs[0]) : std::string_view(); }
  std::string_view api_key() const noexcept { return sv(r_->api_key); }    // a secret: never log it
  std::string_view api_base() const noexcept { return sv(r_->api_base); }  // or empty
  double timeout_s() const noexcept { return r_->timeout_s; }              // 0 = default
  uint32_t num_retries() const noexcept { return r_->num_retries; }        // allowed retries
  // The full original request body, a JSON object ("{}" when none).
  std::string_view body_json() const noexcept {
    std::string_view b = sv(r_->body_json);
    return b.empty() ? std::string_view("{}") : b;
  }
  // Whether the host checked body_json and lists its members (ABI 1.3 hosts, usually): then
  // body_members() is the whole body and it needs no parse.
  bool has_body_members() const noexcept {
    return LLMH_HAS_FIELD(r_, llmh_request, body_member_count) && r_->body_members;
  }
  // The body's top-level members in order; empty when !has_body_members().
  detail::Range<llmh_json_member, JsonMember> body_members() const noexcept {
    if (!has_body_members()) return {nullptr, 0};
    return {r_->body_members, r_->body_member_count};
  }
  const llmh_request &raw() const noexcept { return *r_; }  // the C struct

  // Helpers for what providers most often read. Calling thread, during the call.

  // The last message whose role is "user"; none when there is none.
  std::optional<Message> last_user_message() const noexcept {
    for (std::size_t i = r_->message_count; i-- > 0;)
      if (sv(r_->messages[i].role) == "user") return Message(&r_->messages[i]);
    return std::nullopt;
  }
  // Its content; empty when there is none.
  std::string_view last_user_content() const noexcept {
    const std::optional<Message> m = last_user_message();
    return m ? m->content() : std::string_view();
  }
  // The system prompt, for APIs that take it apart from the messages (Anthropic's `system`,
  // Gemini's `systemInstruction`): the content of every "system" and "developer" message, in
  // order, joined by a blank line; empty when there is none. A copy.
  std::string system_prompt() const {
    std::string out;
    for (Message m : messages()) {
      if (m.role() != "system" && m.role() != "developer") continue;
      if (!out.empty()) out += "\n\n";
      out += m.content();
    }
    return out;
  }

  // A top-level member of the body by name (a key written with escapes is not found): its
  // JSON text, a view into the body; none when the body has no such member.
  std::optional<std::string_view> body_value(std::string_view name) const noexcept {
    if (has_body_members()) {
      for (JsonMember m : body_members())
        if (m.is(name)) return m.value();
      return std::nullopt;
    }
    const std::string_view v = JsonMembers::find(body_json(), name);  // never empty when present
    return v.empty() ? std::nullopt : std::optional<std::string_view>(v);
  }
  // The same, typed: none when absent or null; throws llmh::Error 400 naming the key when it
  // holds another type, so that a caller's mistake is answered as one.
  std::optional<std::string> body_string(std::string_view name) const {
    const std::optional<std::string_view> v = present(name);
    if (!v) return std::nullopt;
    std::string out;
    if (!decode_json_string(*v, out)) wrong_type(name, "a string");
    return out;
  }
  std::optional<double> body_number(std::string_view name) const {
    const std::optional<std::string_view> v = present(name);
    if (!v) return std::nullopt;
    std::istringstream in{std::string(*v)};
    in.imbue(std::locale::classic());  // JSON's '.', whatever locale the process runs in
    double d = 0;
    if (v->front() == '"' || !(in >> d) || in.peek() != std::char_traits<char>::eof()) wrong_type(name, "a number");
    return d;
  }
  std::optional<bool> body_bool(std::string_view name) const {
    const std::optional<std::string_view> v = present(name);
    if (!v) return std::nullopt;
    if (*v != "true" && *v != "false") wrong_type(name, "true or false");
    return *v == "true";
  }

 private:
  std::optional<std::string_view> present(std::string_view name) const noexcept {
    const std::optional<std::string_view> v = body_value(name);
    return v && *v != "null" ? v : std::nullopt;
  }
  [[noreturn]] static void wrong_type(std::string_view name, const char *what) {
    throw Error(400, "request: \"" + std::string(name) + "\" must be " + what);
  }

  const llmh_request *r_;
};

/* ------------------------------------------------------------------------------------------ */
/* Result writers (borrowed from the host; use only on the calling thread, during the call)    */
/* ------------------------------------------------------------------------------------------ */

// Writes the answer of `complete`. Every function copies what it is given. Calling thread only.
class Response {
 public:
  explicit Response(const llmh_response_builder *b) noexcept : b_(b) {}
  // Appends the reply text (the builder only appends; use once for a one-shot reply).
  void content(std::string_view text) const noexcept { append_content(text); }
  // Appends text to the reply.
  void append_content(std::string_view text) const noexcept { b_->append_content(b_, str(text)); }
  // Appends reasoning text.
  void append_reasoning(std::string_view text) const noexcept { b_->append_reasoning(b_, str(text)); }
  // Adds one tool call (copied by the host).
  void add_tool_call(std::string_view id, std::string_view name, std::string_view arguments,
                     std::string_view type = "function") const noexcept {
    llmh_tool_call c{};
    c.struct_size = sizeof(llmh_tool_call);
    c.id = str(id);
    c.type = str(type);
    c.name = str(name);
    c.arguments = str(arguments);
    b_->add_tool_call(b_, &c);
  }
  // Sets finish_reason ("stop", "length", "tool_calls", "content_filter").
  void finish_reason(std::string_view reason) const noexcept { b_->set_finish_reason(b_, str(reason)); }
  // Sets token usage; total < 0 means prompt + completion.
  void usage(int64_t prompt, int64_t completion, int64_t total = -1) const noexcept {
    llmh_usage u = make_usage(prompt, completion, total);
    b_->set_usage(b_, &u);
  }
  // Sets the model name reported to the caller.
  void model(std::string_view name) const noexcept { b_->set_model(b_, str(name)); }
  // Hands over the upstream's raw response JSON, for embedders that want all of it.
  void raw_json(std::string_view json) const noexcept { b_->set_raw_json(b_, str(json)); }
  // Sets the upstream's members to pass through: three JSON object texts (or empty), for the
  // top level, choices[0] and its message (llmh_upstream_members). Returns false on a host
  // older than ABI 1.3, which passes through what it finds in raw_json instead.
  bool upstream_members(std::string_view top, std::string_view choice, std::string_view message) const noexcept {
    if (!LLMH_HAS_FIELD(b_, llmh_response_builder, set_upstream_members)) return false;
    llmh_upstream_members m{};
    m.struct_size = sizeof m;
    m.top = str(top);
    m.choice = str(choice);
    m.message = str(message);
    b_->set_upstream_members(b_, &m);
    return true;
  }
  // True once the caller has given up: stop work and return (or throw) promptly.
  bool cancelled() const noexcept { return b_->cancelled(b_) != 0; }
  const llmh_response_builder *raw() const noexcept { return b_; }  // the C builder

 private:
  const llmh_response_builder *b_;
};

// Sends the chunks of `stream`. Not thread-safe: use only on the thread running the call. Once
// an emit reports that the consumer is gone, every later emit is a no-op returning false.
class Stream {
 public:
  explicit Stream(const llmh_stream_sink *s) noexcept : s_(s) {}
  // Emits a filled chunk (struct_size is set for you when 0). Returns false: stop and return.
  bool emit(const llmh_chunk &chunk) noexcept {
    if (stopped_) return false;
    if (chunk.struct_size == 0) {
      llmh_chunk c = chunk;
      c.struct_size = sizeof(llmh_chunk);
      stopped_ = s_->emit(s_, &c) != 0;
    } else {
      stopped_ = s_->emit(s_, &chunk) != 0;
    }
    return !stopped_;
  }
  // Emits a text delta. Returns false when the consumer is gone: stop and return.
  bool emit_text(std::string_view text) noexcept {
    llmh_chunk c = make_chunk();
    c.content = str(text);
    return emit(c);
  }
  // Emits a reasoning-text delta. Returns false when the consumer is gone.
  bool emit_reasoning(std::string_view text) noexcept {
    llmh_chunk c = make_chunk();
    c.reasoning = str(text);
    return emit(c);
  }
  // Emits one tool-call fragment. Returns false when the consumer is gone.
  bool emit_tool_call(uint32_t index, std::string_view id, std::string_view name, std::string_view arguments) noexcept {
    llmh_tool_call_delta d{};
    d.struct_size = sizeof(llmh_tool_call_delta);
    d.index = index;
    d.id = str(id);
    d.name = str(name);
    d.arguments = str(arguments);
    llmh_chunk c = make_chunk();
    c.tool_calls = &d;
    c.tool_call_count = 1;
    return emit(c);
  }
  // Emits the final chunk: finish_reason and, if given, usage. Returns false when gone.
  bool finish(std::string_view reason = "stop", std::optional<llmh_usage> usage = std::nullopt) noexcept {
    llmh_chunk c = make_chunk();
    c.finish_reason = str(reason);
    if (usage) {
      if (usage->struct_size == 0) usage->struct_size = sizeof(llmh_usage);
      c.usage = &*usage;
    }
    return emit(c);
  }
  // True once the consumer is gone or has cancelled (checks the sink; cheap).
  bool cancelled() const noexcept { return stopped_ || s_->cancelled(s_) != 0; }
  const llmh_stream_sink *raw() const noexcept { return s_; }  // the C sink

 private:
  const llmh_stream_sink *s_;
  bool stopped_ = false;
};

// Writes the vectors of `embed`. Every function copies what it is given. Calling thread only.
class Embeddings {
 public:
  explicit Embeddings(const llmh_embedding_builder *b) noexcept : b_(b) {}
  // Sets the vector of input `index` (0-based, < the request's input count).
  void set(std::size_t index, const float *values, std::size_t dimensions) const noexcept {
    b_->set_embedding(b_, index, values, dimensions);
  }
  // Sets the vector of input `index` from a vector.
  void set(std::size_t index, const std::vector<float> &values) const noexcept {
    b_->set_embedding(b_, index, values.data(), values.size());
  }
  // Sets token usage (prompt tokens; total < 0 means prompt).
  void usage(int64_t prompt, int64_t total = -1) const noexcept {
    llmh_usage u = make_usage(prompt, 0, total);
    b_->set_usage(b_, &u);
  }
  // Sets the model name reported to the caller.
  void model(std::string_view name) const noexcept { b_->set_model(b_, str(name)); }
  // True once the caller has given up: stop work and return promptly.
  bool cancelled() const noexcept { return b_->cancelled(b_) != 0; }
  const llmh_embedding_builder *raw() const noexcept { return b_; }  // the C builder

 private:
  const llmh_embedding_builder *b_;
};

// A rerank call (llmhost/rerank.h): its query, its documents and how many results are wanted,
// beside the common request (model, key, base URL, body). Views into host memory, valid until
// the call returns.
class RerankRequest {
 public:
  explicit RerankRequest(const llmh_rerank_request *r) noexcept : r_(r), common_(r->common) {}
  const Request &common() const noexcept { return common_; }
  std::string_view query() const noexcept { return sv(r_->query); }
  Strings documents() const noexcept { return common_.inputs(); }
  std::uint64_t top_n() const noexcept { return r_->top_n; }
  const llmh_rerank_request &raw() const noexcept { return *r_; }  // the C struct

 private:
  const llmh_rerank_request *r_;
  Request common_;
};

// Where a rerank call writes its scores. The host sorts them and keeps the top_n best.
class Ranking {
 public:
  explicit Ranking(const llmh_rerank_builder *b) noexcept : b_(b) {}
  // The relevance of document `index` (0-based), higher meaning more relevant; once per document.
  void score(std::size_t index, double relevance) const noexcept { b_->add_result(b_, index, relevance); }
  // Sets token usage (prompt tokens; total < 0 means prompt).
  void usage(int64_t prompt, int64_t total = -1) const noexcept {
    llmh_usage u = make_usage(prompt, 0, total);
    b_->set_usage(b_, &u);
  }
  // Sets the model name reported to the caller.
  void model(std::string_view name) const noexcept { b_->set_model(b_, str(name)); }
  // True once the caller has given up: stop work and return promptly.
  bool cancelled() const noexcept { return b_->cancelled(b_) != 0; }
  const llmh_rerank_builder *raw() const noexcept { return b_; }  // the C builder

 private:
  const llmh_rerank_builder *b_;
};

// One file of an image edit (an image or the mask). Borrowed view; valid during the call.
class ImageFile {
 public:
  explicit ImageFile(const llmh_image_file *f) noexcept : f_(f) {}
  std::string_view filename() const noexcept { return sv(f_->filename); }          // may be empty
  std::string_view content_type() const noexcept { return sv(f_->content_type); }  // may be empty
  std::string_view data() const noexcept { return sv(f_->data); }                  // the bytes

 private:
  const llmh_image_file *f_;
};

// An images call (llmhost/images.h): the prompt and options, and for an edit its files, beside
// the common request (model, key, base URL, body). Views into host memory, valid until the call
// returns.
class ImageRequest {
 public:
  explicit ImageRequest(const llmh_image_request *r) noexcept : r_(r), common_(r->common) {}
  const Request &common() const noexcept { return common_; }
  std::string_view prompt() const noexcept { return sv(r_->prompt); }
  std::int64_t n() const noexcept { return r_->n; }
  std::string_view size() const noexcept { return sv(r_->size); }                        // empty when not given
  std::string_view quality() const noexcept { return sv(r_->quality); }                  // empty when not given
  std::string_view style() const noexcept { return sv(r_->style); }                      // empty when not given
  std::string_view response_format() const noexcept { return sv(r_->response_format); }  // "url" or "b64_json"
  // An edit's images (empty for a generation) and its mask.
  detail::Range<llmh_image_file, ImageFile> images() const noexcept { return {r_->images, r_->image_count}; }
  std::optional<ImageFile> mask() const noexcept {
    return r_->mask ? std::optional<ImageFile>(ImageFile(r_->mask)) : std::nullopt;
  }
  const llmh_image_request &raw() const noexcept { return *r_; }  // the C struct

 private:
  const llmh_image_request *r_;
  Request common_;
};

// Where an images call writes its answer: each image as the provider has it (the host answers
// in the format the caller asked for).
class Images {
 public:
  explicit Images(const llmh_image_builder *b) noexcept : b_(b) {}
  // An image the caller can fetch at `url`.
  void add_url(std::string_view url, std::string_view revised_prompt = {}) const noexcept {
    add(str(url), {}, {}, revised_prompt);
  }
  // An image file given as base64 text.
  void add_b64(std::string_view b64_json, std::string_view revised_prompt = {}) const noexcept {
    add({}, str(b64_json), {}, revised_prompt);
  }
  // An image file given as its bytes (PNG, JPEG, WebP).
  void add_data(std::string_view bytes, std::string_view revised_prompt = {}) const noexcept {
    add({}, {}, str(bytes), revised_prompt);
  }
  // Sets token usage, for models that report it.
  void usage(int64_t prompt, int64_t completion = 0, int64_t total = -1) const noexcept {
    llmh_usage u = make_usage(prompt, completion, total);
    b_->set_usage(b_, &u);
  }
  void model(std::string_view name) const noexcept { b_->set_model(b_, str(name)); }
  bool cancelled() const noexcept { return b_->cancelled(b_) != 0; }
  const llmh_image_builder *raw() const noexcept { return b_; }  // the C builder

 private:
  void add(llmh_str url, llmh_str b64, llmh_str data, std::string_view revised_prompt) const noexcept {
    const llmh_image image{sizeof(llmh_image), url, b64, data, str(revised_prompt)};
    b_->add_image(b_, &image);
  }
  const llmh_image_builder *b_;
};

}  // namespace llmh

#endif /* LLMHOST_VIEWS_HPP */
