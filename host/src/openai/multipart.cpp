#include "openai/multipart.hpp"

#include <algorithm>
#include <cctype>

namespace llmhost::openai {
namespace {

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
         });
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// The value of parameter `name` in a header value's "; name=value" list (quoted or not).
std::optional<std::string> parameter(std::string_view header, std::string_view name) {
  size_t at = header.find(';');
  while (at != std::string_view::npos) {
    std::string_view rest = trim(header.substr(at + 1));
    const size_t eq = rest.find('=');
    if (eq == std::string_view::npos) return std::nullopt;
    const std::string_view key = trim(rest.substr(0, eq));
    rest = trim(rest.substr(eq + 1));
    std::string value;
    size_t used = 0;
    if (!rest.empty() && rest.front() == '"') {
      size_t i = 1;
      for (; i < rest.size() && rest[i] != '"'; ++i) {
        if (rest[i] == '\\' && i + 1 < rest.size()) ++i;
        value += rest[i];
      }
      if (i == rest.size()) return std::nullopt;  // an unterminated quote
      used = i + 1;
    } else {
      used = std::min(rest.find(';'), rest.size());
      value = std::string(trim(rest.substr(0, used)));
    }
    if (iequals(key, name)) return value;
    const size_t next = rest.find(';', used);
    if (next == std::string_view::npos) return std::nullopt;
    at = static_cast<size_t>(rest.data() + next - header.data());
  }
  return std::nullopt;
}

}  // namespace

std::optional<std::string> form_boundary(std::string_view content_type) {
  const std::string_view type = trim(content_type.substr(0, content_type.find(';')));
  if (!iequals(type, "multipart/form-data")) return std::nullopt;
  std::optional<std::string> b = parameter(content_type, "boundary");
  if (!b || b->empty() || b->size() > 70) return std::nullopt;  // RFC 2046: 1..70 characters
  return b;
}

std::variant<std::vector<FormPart>, std::string> parse_form(std::string_view body, std::string_view boundary) {
  const std::string delimiter = "--" + std::string(boundary);
  std::vector<FormPart> parts;
  // The first delimiter starts the body (a preamble before it is allowed and ignored).
  size_t at = body.rfind(delimiter, 0) == 0 ? 0 : body.find("\r\n" + delimiter);
  if (at == std::string_view::npos) return "no part starts with the boundary given in Content-Type";
  at += at == 0 ? delimiter.size() : delimiter.size() + 2;
  for (;;) {
    if (body.substr(at, 2) == "--") return parts;  // the closing delimiter
    if (body.substr(at, 2) != "\r\n")
      return "part " + std::to_string(parts.size()) + ": the boundary line is malformed";
    at += 2;
    const size_t head_end = body.find("\r\n\r\n", at);
    if (head_end == std::string_view::npos) return "part " + std::to_string(parts.size()) + ": its headers never end";
    FormPart part;
    bool disposition = false;
    for (std::string_view headers = body.substr(at, head_end - at); !headers.empty();) {
      const size_t eol = std::min(headers.find("\r\n"), headers.size());
      const std::string_view line = headers.substr(0, eol);
      headers.remove_prefix(std::min(eol + 2, headers.size()));
      const size_t colon = line.find(':');
      if (colon == std::string_view::npos)
        return "part " + std::to_string(parts.size()) + ": a header line without ':'";
      const std::string_view name = trim(line.substr(0, colon)), value = trim(line.substr(colon + 1));
      if (iequals(name, "Content-Disposition")) {
        if (!iequals(trim(value.substr(0, value.find(';'))), "form-data"))
          return "part " + std::to_string(parts.size()) + ": Content-Disposition is not form-data";
        std::optional<std::string> field = parameter(value, "name");
        if (!field) return "part " + std::to_string(parts.size()) + ": Content-Disposition has no name";
        part.name = std::move(*field);
        part.filename = parameter(value, "filename");
        disposition = true;
      } else if (iequals(name, "Content-Type")) {
        part.content_type = std::string(value);
      }
    }
    if (!disposition) return "part " + std::to_string(parts.size()) + ": no Content-Disposition header";
    at = head_end + 4;
    const size_t end = body.find("\r\n" + delimiter, at);
    if (end == std::string_view::npos)
      return "part " + std::to_string(parts.size()) + " (\"" + part.name +
             "\"): the body ends before its closing boundary";
    part.data = body.substr(at, end - at);
    parts.push_back(std::move(part));
    at = end + 2 + delimiter.size();
  }
}

}  // namespace llmhost::openai
