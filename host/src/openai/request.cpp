#include "openai/request.hpp"

#include <simdjson.h>

#include <algorithm>
#include <optional>

#include "json/base64.hpp"
#include "json/locate.hpp"
#include "json/parser.hpp"
#include "json/writer.hpp"
#include "openai/multipart.hpp"

namespace llmhost::openai {
namespace {

using simdjson::dom::array;
using simdjson::dom::element;
using simdjson::dom::object;

// Thrown inside this file only; turned into a RequestError at the API boundary.
struct Bad {
  std::string message;
  std::string param;
};

[[noreturn]] void bad(std::string param, std::string message) { throw Bad{std::move(message), std::move(param)}; }

std::string in_quotes(std::string_view s) { return "\"" + std::string(s) + "\""; }

// Parses `body` and returns its root object, or throws Bad saying where it broke. The object
// lives in this thread's reused parser, or in `own` for a large body.
object parse_object(std::string_view body, std::optional<simdjson::dom::parser> &own) {
  if (body.empty()) bad("", "request body is empty; expected a JSON object");
  element root;
  if (auto err = json::reusable_parser(body.size(), own).parse(body.data(), body.size(), true).get(root)) {
    if (auto where = json::find_syntax_error(body))
      bad("", "malformed JSON at line " + std::to_string(where->line) + ", column " + std::to_string(where->column) +
                  " (byte " + std::to_string(where->offset) + "): " + where->what);
    bad("", std::string("malformed JSON: ") + simdjson::error_message(err));
  }
  object obj;
  if (root.get(obj)) bad("", "request body must be a JSON object");
  return obj;
}

// Where a value sits in the body ("messages[0].content[1].text"), spelled out only when an error
// names it: a request that parses builds no path strings.
class Path {
 public:
  Path(const char *key) : key_(key) {}  // a top-level member
  Path(const Path &parent, const char *key) : parent_(&parent), key_(key) {}
  Path(const Path &parent, size_t index) : parent_(&parent), index_(index) {}

  std::string str() const {
    std::string s = parent_ ? parent_->str() : std::string();
    if (!key_) return s + "[" + std::to_string(index_) + "]";
    if (!s.empty()) s += '.';
    return s += key_;
  }

 private:
  const Path *parent_ = nullptr;
  const char *key_ = nullptr;  // null: an array element
  size_t index_ = 0;
};

[[noreturn]] void bad_at(const Path &at, std::string_view what) {
  const std::string where = at.str();
  bad(where, in_quotes(where) + " " + std::string(what));
}

std::string get_string(element v, const Path &at) {
  std::string_view s;
  if (v.get(s)) bad_at(at, "must be a string");
  return std::string(s);
}

double get_number(element v, const Path &at) {
  double d;
  if (v.get(d)) bad_at(at, "must be a number");
  return d;
}

int64_t get_integer(element v, const Path &at) {
  int64_t i;
  if (v.get(i)) bad_at(at, "must be an integer");
  return i;
}

bool get_bool(element v, const Path &at) {
  bool b;
  if (v.get(b)) bad_at(at, "must be true or false");
  return b;
}

// Message content: a string, null, or an array of parts whose text parts are concatenated
// (image and audio parts stay in the body for the plugin).
std::string get_content(element v, const Path &at) {
  if (v.is_null()) return {};
  std::string_view s;
  if (!v.get(s)) return std::string(s);
  array parts;
  if (v.get(parts)) bad_at(at, "must be a string, an array of content parts or null");
  std::string text;
  size_t i = 0;
  for (element part : parts) {
    const Path where(at, i++);
    object p;
    if (part.get(p)) bad_at(where, "must be an object");
    std::string_view type;
    if (p["type"].get(type)) bad_at(Path(where, "type"), "is required and must be a string");
    if (type != "text") continue;
    element t;
    if (p["text"].get(t)) bad_at(Path(where, "text"), "is required for a text part");
    text += get_string(t, Path(where, "text"));
  }
  return text;
}

std::vector<ToolCall> get_tool_calls(element v, const Path &at) {
  array calls;
  if (v.get(calls)) bad_at(at, "must be an array");
  std::vector<ToolCall> out;
  out.reserve(calls.size());
  for (element c : calls) {
    const Path where(at, out.size());
    object o;
    if (c.get(o)) bad_at(where, "must be an object");
    ToolCall t;
    for (auto [key, val] : o) {
      if (key == "id")
        t.id = get_string(val, Path(where, "id"));
      else if (key == "type")
        t.type = get_string(val, Path(where, "type"));
      else if (key == "function") {
        const Path function(where, "function");
        object f;
        if (val.get(f)) bad_at(function, "must be an object");
        for (auto [fk, fv] : f) {
          if (fk == "name")
            t.name = get_string(fv, Path(function, "name"));
          else if (fk == "arguments")
            t.arguments = get_string(fv, Path(function, "arguments"));
        }
      }
    }
    out.push_back(std::move(t));
  }
  return out;
}

std::vector<Message> get_messages(element v) {
  const Path messages("messages");
  array items;
  if (v.get(items)) bad_at(messages, "must be an array of message objects");
  std::vector<Message> out;
  out.reserve(items.size());
  for (element item : items) {
    const Path where(messages, out.size());
    object o;
    if (item.get(o)) bad_at(where, "must be an object");
    Message m;
    bool has_role = false;
    for (auto [key, val] : o) {
      if (key == "role")
        m.role = get_string(val, Path(where, "role")), has_role = true;
      else if (key == "content")
        m.content = get_content(val, Path(where, "content"));
      else if (key == "name")
        m.name = get_string(val, Path(where, "name"));
      else if (key == "tool_call_id")
        m.tool_call_id = get_string(val, Path(where, "tool_call_id"));
      else if (key == "tool_calls" && !val.is_null())
        m.tool_calls = get_tool_calls(val, Path(where, "tool_calls"));
    }
    if (!has_role) bad(where.str() + ".role", in_quotes(where.str()) + " is missing the required field \"role\"");
    out.push_back(std::move(m));
  }
  if (out.empty()) bad("messages", "\"messages\" must not be empty");
  return out;
}

std::vector<std::string> get_stop(element v) {
  std::string_view s;
  if (!v.get(s)) return {std::string(s)};
  if (v.is_null()) return {};
  array items;
  if (v.get(items)) bad("stop", "\"stop\" must be a string or an array of strings");
  const Path stop("stop");
  std::vector<std::string> out;
  for (element e : items) out.push_back(get_string(e, Path(stop, out.size())));
  return out;
}

// The common parameters; returns false when `key` is none of them.
bool read_param(Params &p, std::string_view key, element v) {
  if (v.is_null())
    return key == "temperature" || key == "top_p" || key == "max_tokens" || key == "n" || key == "seed" ||
           key == "stop" || key == "user" || key == "presence_penalty" || key == "frequency_penalty" ||
           key == "max_completion_tokens";
  if (key == "temperature")
    p.temperature = get_number(v, "temperature");
  else if (key == "top_p")
    p.top_p = get_number(v, "top_p");
  else if (key == "presence_penalty")
    p.presence_penalty = get_number(v, "presence_penalty");
  else if (key == "frequency_penalty")
    p.frequency_penalty = get_number(v, "frequency_penalty");
  else if (key == "max_tokens")
    p.max_tokens = get_integer(v, "max_tokens");
  else if (key == "max_completion_tokens") {
    const int64_t n = get_integer(v, "max_completion_tokens");
    if (!p.max_tokens) p.max_tokens = n;
  } else if (key == "n")
    p.n = get_integer(v, "n");
  else if (key == "seed")
    p.seed = get_integer(v, "seed");
  else if (key == "stop")
    p.stop = get_stop(v);
  else if (key == "user")
    p.user = get_string(v, "user");
  else
    return false;
  return true;
}

// `stream` and `stream_options.include_usage`; returns false when `key` is neither.
bool read_stream_option(bool &stream, bool &include_usage, std::string_view key, element v) {
  if (key == "stream") {
    stream = !v.is_null() && get_bool(v, "stream");
  } else if (key == "stream_options") {
    if (v.is_null()) return true;
    object so;
    if (v.get(so)) bad("stream_options", "\"stream_options\" must be an object");
    element iu;
    if (!so["include_usage"].get(iu) && !iu.is_null()) include_usage = get_bool(iu, "stream_options.include_usage");
  } else {
    return false;
  }
  return true;
}

// Texts given as one string or an array of strings (embeddings' input, completions' prompt):
// one or more; token arrays are refused.
std::vector<std::string> get_texts(object body, const char *key) {
  element v;
  if (body[key].get(v)) bad(key, "missing required field " + in_quotes(key));
  std::vector<std::string> out;
  std::string_view s;
  array items;
  if (!v.get(s)) {
    out.emplace_back(s);
  } else if (!v.get(items)) {
    const Path at(key);
    for (element e : items) {
      if (!e.is_string())
        bad(key, in_quotes(key) + " must be a string or an array of strings (token arrays are not supported)");
      out.push_back(get_string(e, Path(at, out.size())));
    }
    if (out.empty()) bad(key, in_quotes(key) + " must not be empty");
  } else {
    bad(key, in_quotes(key) + " must be a string or an array of strings");
  }
  return out;
}

std::string get_model(object body) {
  element v;
  if (body["model"].get(v)) bad("model", "missing required field \"model\"");
  std::string model = get_string(v, "model");
  if (model.empty()) bad("model", "\"model\" must not be empty");
  return model;
}

ChatRequest chat(std::string_view body) {
  std::optional<simdjson::dom::parser> own;
  object obj = parse_object(body, own);
  ChatRequest out;
  Request &r = out.request;
  r.model = get_model(obj);
  bool has_messages = false;
  for (auto [key, val] : obj) {
    if (key == "messages")
      r.messages = get_messages(val), has_messages = true;
    else if (!read_stream_option(out.stream, out.include_usage, key, val))
      read_param(r.params, key, val);
  }
  if (!has_messages) bad("messages", "missing required field \"messages\"");
  r.body_json.assign(body);
  r.body_json_checked = true;  // parsed above: the plugin is handed its members, no second parse
  return out;
}

EmbeddingsRequest embeddings(std::string_view body) {
  std::optional<simdjson::dom::parser> own;
  object obj = parse_object(body, own);
  EmbeddingsRequest out;
  Request &r = out.request;
  r.model = get_model(obj);
  r.input = get_texts(obj, "input");
  element fmt;
  if (!obj["encoding_format"].get(fmt) && !fmt.is_null()) {
    const std::string f = get_string(fmt, "encoding_format");
    if (f != "float" && f != "base64") bad("encoding_format", "\"encoding_format\" must be \"float\" or \"base64\"");
    out.base64 = f == "base64";
  }
  element user;
  if (!obj["user"].get(user) && !user.is_null()) r.params.user = get_string(user, "user");
  r.body_json.assign(body);
  r.body_json_checked = true;  // parsed above: the plugin is handed its members, no second parse
  return out;
}

TextCompletionRequest text_completion(std::string_view body) {
  std::optional<simdjson::dom::parser> own;
  object obj = parse_object(body, own);
  TextCompletionRequest out;
  Request &r = out.request;
  r.model = get_model(obj);
  r.input = get_texts(obj, "prompt");
  for (auto [key, val] : obj)
    if (!read_stream_option(out.stream, out.include_usage, key, val)) read_param(r.params, key, val);
  r.body_json.assign(body);
  r.body_json_checked = true;
  return out;
}

RerankRequestParse rerank(std::string_view body) {
  std::optional<simdjson::dom::parser> own;
  object obj = parse_object(body, own);
  RerankRequestParse out;
  Request &r = out.rerank.request;
  r.model = get_model(obj);
  element v;
  if (obj["query"].get(v)) bad("query", "missing required field \"query\"");
  out.rerank.query = get_string(v, "query");
  if (out.rerank.query.empty()) bad("query", "\"query\" must not be empty");
  array documents;
  if (obj["documents"].get(v)) bad("documents", "missing required field \"documents\"");
  if (v.get(documents)) bad("documents", "\"documents\" must be an array of strings or {\"text\"} objects");
  const Path at("documents");
  for (element d : documents) {
    const Path where(at, r.input.size());
    std::string_view text;
    object o;
    if (d.get(text) && (d.get(o) || o["text"].get(text)))
      bad_at(where, "must be a string or an object with a \"text\" string");
    r.input.emplace_back(text);
  }
  if (r.input.empty()) bad("documents", "\"documents\" must not be empty");
  if (!obj["top_n"].get(v) && !v.is_null()) {
    const int64_t n = get_integer(v, "top_n");
    if (n < 1) bad("top_n", "\"top_n\" must be at least 1");
    if (static_cast<uint64_t>(n) > r.input.size())
      bad("top_n", "\"top_n\" is " + std::to_string(n) + ", more than the number of documents (" +
                       std::to_string(r.input.size()) + ")");
    out.rerank.top_n = static_cast<size_t>(n);
  }
  if (!obj["return_documents"].get(v) && !v.is_null()) out.return_documents = get_bool(v, "return_documents");
  r.body_json.assign(body);
  r.body_json_checked = true;
  return out;
}

// The options of an images request, read from one member; false when `key` is none of them.
// Shared by the JSON body of a generation and the form fields of an edit.
bool read_image_option(ImageRequest &r, std::string_view key, element v) {
  if (v.is_null()) return key == "n" || key == "size" || key == "quality" || key == "style" || key == "response_format";
  if (key == "n") {
    r.n = get_integer(v, "n");
    if (r.n < 1 || r.n > 10) bad("n", "\"n\" must be 1..10");
  } else if (key == "size") {
    r.size = get_string(v, "size");
  } else if (key == "quality") {
    r.quality = get_string(v, "quality");
  } else if (key == "style") {
    r.style = get_string(v, "style");
  } else if (key == "response_format") {
    r.response_format = get_string(v, "response_format");
    if (r.response_format != "url" && r.response_format != "b64_json")
      bad("response_format", "\"response_format\" must be \"url\" or \"b64_json\"");
  } else {
    return false;
  }
  return true;
}

ImageRequest image(std::string_view body) {
  std::optional<simdjson::dom::parser> own;
  object obj = parse_object(body, own);
  ImageRequest out;
  Request &r = out.request;
  r.model = get_model(obj);
  element v;
  if (obj["prompt"].get(v)) bad("prompt", "missing required field \"prompt\"");
  out.prompt = get_string(v, "prompt");
  if (out.prompt.empty()) bad("prompt", "\"prompt\" must not be empty");
  for (auto [key, val] : obj)
    if (!read_image_option(out, key, val) && key == "user" && !val.is_null()) r.params.user = get_string(val, "user");
  r.body_json.assign(body);
  r.body_json_checked = true;
  return out;
}

ImageRequest image_edit(std::string_view content_type, std::string_view body) {
  const std::optional<std::string> boundary = form_boundary(content_type);
  if (!boundary)
    bad("", content_type.empty()
                ? std::string("an image edit is sent as multipart/form-data (with a boundary in its Content-Type)")
                : "an image edit is sent as multipart/form-data with a boundary; Content-Type is \"" +
                      std::string(content_type.substr(0, 200)) + "\"");
  auto parsed = parse_form(body, *boundary);
  if (auto *why = std::get_if<std::string>(&parsed)) bad("", "malformed multipart/form-data body: " + *why);
  std::vector<ImageFile> images;
  std::optional<ImageFile> mask;
  std::string fields;  // the text fields as one JSON object, read below as a generation's body
  json::Writer w(fields);
  w.begin_object();
  for (const FormPart &part : std::get<std::vector<FormPart>>(parsed)) {
    const bool is_image = part.name == "image" || part.name == "image[]";
    if (is_image || part.name == "mask") {
      ImageFile f{part.filename.value_or(""), part.content_type, std::string(part.data)};
      if (f.data.empty()) bad(part.name, "\"" + part.name + "\" is an empty file");
      if (is_image) {
        images.push_back(std::move(f));
      } else {
        if (mask) bad("mask", "\"mask\" is given twice");
        mask = std::move(f);
      }
      continue;
    }
    if (part.filename) bad(part.name, "\"" + part.name + "\" is a file; only \"image\" and \"mask\" are");
    const bool number = part.name == "n" && !part.data.empty() &&
                        std::all_of(part.data.begin(), part.data.end(), [](char c) { return c >= '0' && c <= '9'; });
    w.key(part.name);
    if (number && part.data.size() < 10)
      w.raw(part.data);
    else
      w.value(part.data);
  }
  w.end_object();
  if (!simdjson::validate_utf8(fields.data(), fields.size())) bad("", "a text field is not valid UTF-8");
  ImageRequest out = image(fields);
  if (images.empty()) bad("image", "missing required file \"image\"");
  out.images = std::move(images);
  out.mask = std::move(mask);
  return out;
}

// The file whose base64 text is `v`.
ImageFile base64_file(element v, const Path &at) {
  std::optional<std::string> bytes = json::decode_base64(get_string(v, at));
  if (!bytes) bad_at(at, "is not base64");
  if (bytes->empty()) bad_at(at, "is an empty file");
  return ImageFile{{}, {}, std::move(*bytes)};
}

ImageRequest image_edit_json(std::string_view body) {
  ImageRequest out = image(body);
  std::optional<simdjson::dom::parser> own;
  object obj = parse_object(body, own);
  element v;
  if (obj["image"].get(v)) bad("image", "missing required field \"image\"");
  array items;
  if (v.get(items)) {
    out.images.push_back(base64_file(v, "image"));
  } else {
    const Path at("image");
    for (element e : items) out.images.push_back(base64_file(e, Path(at, out.images.size())));
    if (out.images.empty()) bad("image", "\"image\" must not be empty");
  }
  if (!obj["mask"].get(v) && !v.is_null()) out.mask = base64_file(v, "mask");
  return out;
}

}  // namespace

namespace {
// `read()`'s request, or the refusal it threw.
template <class Read>
auto refusing(Read read) -> std::variant<decltype(read()), RequestError> {
  try {
    return read();
  } catch (Bad &b) {
    return RequestError{std::move(b.message), std::move(b.param)};
  }
}
}  // namespace

ChatParse parse_chat_request(std::string_view body) {
  return refusing([&] { return chat(body); });
}
EmbeddingsParse parse_embeddings_request(std::string_view body) {
  return refusing([&] { return embeddings(body); });
}
TextCompletionParse parse_text_completion_request(std::string_view body) {
  return refusing([&] { return text_completion(body); });
}
std::variant<RerankRequestParse, RequestError> parse_rerank_request(std::string_view body) {
  return refusing([&] { return rerank(body); });
}
ImageParse parse_image_request(std::string_view body) {
  return refusing([&] { return image(body); });
}
ImageParse parse_image_edit_request(std::string_view content_type, std::string_view body) {
  return refusing([&] { return image_edit(content_type, body); });
}
ImageParse parse_image_edit_json(std::string_view body) {
  return refusing([&] { return image_edit_json(body); });
}

}  // namespace llmhost::openai
