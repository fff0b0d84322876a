#include "generate_body.hpp"

#include <llmhost/provider.hpp>

#include <map>
#include <optional>

#include "common/json_fields.hpp"
#include "common/openai_chat.hpp"

namespace gemini_plugin {
namespace {

using llmh_plugins::json_text;
using llmh_plugins::string_of;
using simdjson::dom::array;
using simdjson::dom::element;
using simdjson::dom::object;

[[noreturn]] void bad(const std::string &why) { throw llmh::Error(400, "gemini: " + why); }

std::string_view mime_of(std::string_view url) {
  const size_t dot = url.rfind('.');
  const std::string_view ext = dot == std::string_view::npos ? std::string_view() : url.substr(dot + 1);
  if (ext == "png") return "image/png";
  if (ext == "webp") return "image/webp";
  if (ext == "gif") return "image/gif";
  if (ext == "pdf") return "application/pdf";
  return "image/jpeg";
}

std::string image_part(object part) {
  const std::string_view url = llmh_plugins::image_url_of(part);
  if (const auto data = llmh_plugins::data_url(url, "gemini"))
    return R"({"inlineData":{"mimeType":)" + json_text(data->mime) + R"(,"data":)" + json_text(data->data) + "}}";
  if (url.empty()) bad("an image_url part without a url");
  return R"({"fileData":{"mimeType":)" + json_text(mime_of(url)) + R"(,"fileUri":)" + json_text(url) + "}}";
}

void content_parts(element content, std::vector<std::string> &parts) {
  std::string_view s;
  if (!content.get(s)) {
    if (!s.empty()) parts.push_back(R"({"text":)" + json_text(s) + "}");
    return;
  }
  array list;
  if (content.get(list)) return;  // null
  for (element p : list) {
    object part;
    if (p.get(part)) bad("a content part must be an object");
    const std::string_view type = string_of(part, "type");
    if (type == "text") {
      parts.push_back(R"({"text":)" + json_text(string_of(part, "text")) + "}");
    } else if (type == "image_url") {
      parts.push_back(image_part(part));
    } else {
      bad("a content part of type \"" + std::string(type) + "\" is not supported by gemini");
    }
  }
}

}  // namespace

std::string generate_body(simdjson::dom::parser &parser, std::string_view openai_json) {
  if (openai_json.empty()) openai_json = "{}";
  object body;
  if (parser.parse(openai_json.data(), openai_json.size(), true).get(body))
    bad("the request body is not a JSON object");
  // The conversation: the system text apart, the rest as alternating turns of parts.
  struct Conversation {
    simdjson::dom::parser &args_parser;  // tool call arguments, while `parser` holds the body
    std::string system_text;
    std::vector<llmh_plugins::Turn> turns;
    std::map<std::string, std::string, std::less<>> call_names;  // tool call id -> function name

    void system(const std::string &text) { system_text += (system_text.empty() ? "" : "\n\n") + text; }
    void user(std::optional<element> content) {
      std::vector<std::string> parts;
      if (content) content_parts(*content, parts);
      llmh_plugins::add_to_turns(turns, "user", std::move(parts));
    }
    void assistant(std::optional<element> content, const std::vector<object> &calls) {
      std::vector<std::string> parts;
      if (content) content_parts(*content, parts);
      for (object call : calls) {
        const llmh_plugins::ToolCall tool = llmh_plugins::tool_call_of(args_parser, call, "gemini");
        call_names[std::string(tool.id)] = std::string(tool.name);
        parts.push_back(R"({"functionCall":{"name":)" + json_text(tool.name) + R"(,"args":)" + tool.arguments + "}}");
      }
      llmh_plugins::add_to_turns(turns, "model", std::move(parts));
    }
    // Gemini answers a call by its function's name, which only the assistant turn knew.
    void tool(std::string_view id, const std::string &text) {
      const auto name = call_names.find(id);
      if (name == call_names.end())
        bad("the tool message for call \"" + std::string(id) + "\" follows no assistant tool call with that id");
      llmh_plugins::add_to_turns(turns, "user",
                                 {R"({"functionResponse":{"name":)" + json_text(name->second) +
                                  R"(,"response":{"content":)" + json_text(text) + "}}}"});
    }
  };
  simdjson::dom::parser args_parser;
  Conversation c{args_parser, {}, {}, {}};
  llmh_plugins::for_each_message(body, "gemini", c);
  const std::string &system = c.system_text;
  const std::vector<llmh_plugins::Turn> &turns = c.turns;

  std::string out = "{\"contents\":[";
  for (size_t i = 0; i < turns.size(); ++i)
    out += (i ? "," : "") + std::string("{\"role\":\"") + turns[i].role + "\",\"parts\":[" +
           llmh_plugins::join(turns[i].items) + "]}";
  out += "]";
  if (!system.empty()) out += R"(,"systemInstruction":{"parts":[{"text":)" + json_text(system) + "}]}";

  std::vector<std::string> config;
  for (auto [key, value] : body) {
    if (value.is_null()) continue;
    if (key == "temperature") {
      config.push_back("\"temperature\":" + simdjson::minify(value));
    } else if (key == "top_p") {
      config.push_back("\"topP\":" + simdjson::minify(value));
    } else if (key == "top_k") {
      config.push_back("\"topK\":" + simdjson::minify(value));
    } else if (key == "max_tokens" || key == "max_completion_tokens") {
      config.push_back("\"maxOutputTokens\":" + simdjson::minify(value));
    } else if (key == "n") {
      config.push_back("\"candidateCount\":" + simdjson::minify(value));
    } else if (key == "seed") {
      config.push_back("\"seed\":" + simdjson::minify(value));
    } else if (key == "presence_penalty") {
      config.push_back("\"presencePenalty\":" + simdjson::minify(value));
    } else if (key == "frequency_penalty") {
      config.push_back("\"frequencyPenalty\":" + simdjson::minify(value));
    } else if (key == "stop") {
      std::string_view one;
      config.push_back("\"stopSequences\":" + (value.get(one) ? simdjson::minify(value) : "[" + json_text(one) + "]"));
    } else if (key == "response_format") {
      object format;
      const std::string_view type = value.get(format) ? std::string_view() : string_of(format, "type");
      if (type == "json_object" || type == "json_schema") config.push_back(R"("responseMimeType":"application/json")");
      object schema_holder;
      element schema;
      if (type == "json_schema" && !format["json_schema"].get(schema_holder) && !schema_holder["schema"].get(schema))
        config.push_back("\"responseSchema\":" + simdjson::minify(schema));
    } else if (key == "reasoning_effort") {
      std::string_view effort;
      if (!value.get(effort)) {
        const int budget = effort == "low" ? 1024 : effort == "medium" ? 2048 : effort == "high" ? 4096 : 0;
        config.push_back(R"("thinkingConfig":{"includeThoughts":true,"thinkingBudget":)" + std::to_string(budget) +
                         "}");
      }
    } else if (key == "tools") {
      array tools;
      if (value.get(tools)) bad("tools must be an array");
      std::vector<std::string> declarations;
      for (element t : tools) {
        object tool, fn;
        if (t.get(tool) || tool["function"].get(fn)) bad("a tool must be {\"type\":\"function\",\"function\":{...}}");
        std::string d = R"({"name":)" + json_text(string_of(fn, "name"));
        if (std::string_view desc = string_of(fn, "description"); !desc.empty())
          d += R"(,"description":)" + json_text(desc);
        element params;
        if (!fn["parameters"].get(params)) d += ",\"parameters\":" + simdjson::minify(params);
        declarations.push_back(d + "}");
      }
      out += R"(,"tools":[{"functionDeclarations":[)" + llmh_plugins::join(declarations) + "]}]";
    } else if (key == "tool_choice") {
      std::string_view mode;
      object choice, fn;
      if (!value.get(mode)) {
        if (mode != "auto" && mode != "required" && mode != "none")
          bad("tool_choice must be auto, required, none or a function; got \"" + std::string(mode) + "\"");
        out += std::string(R"(,"toolConfig":{"functionCallingConfig":{"mode":")") +
               (mode == "auto"       ? "AUTO"
                : mode == "required" ? "ANY"
                                     : "NONE") +
               "\"}}";
      } else if (!value.get(choice) && !choice["function"].get(fn)) {
        out += R"(,"toolConfig":{"functionCallingConfig":{"mode":"ANY","allowedFunctionNames":[)" +
               json_text(string_of(fn, "name")) + "]}}";
      }
    } else if (key == "safetySettings" || key == "safety_settings") {
      out += ",\"safetySettings\":" + simdjson::minify(value);
    } else if (key == "cachedContent") {
      out += ",\"cachedContent\":" + simdjson::minify(value);
    }
    // Everything else is OpenAI's or the gateway's (stream_options, user, api_key, ...).
  }
  if (!config.empty()) out += ",\"generationConfig\":{" + llmh_plugins::join(config) + "}";
  return out + "}";
}

std::string embed_body(simdjson::dom::parser &parser, std::string_view openai_json, std::string_view model,
                       const std::vector<std::string_view> &inputs) {
  int64_t dimensions = 0;
  object body;
  if (!openai_json.empty() && !parser.parse(openai_json.data(), openai_json.size(), true).get(body) &&
      body["dimensions"].get(dimensions))
    dimensions = 0;
  const std::string name = json_text("models/" + std::string(model));
  std::string out = R"({"requests":[)";
  for (size_t i = 0; i < inputs.size(); ++i) {
    out += (i ? "," : "") + std::string(R"({"model":)") + name + R"(,"content":{"parts":[{"text":)" +
           json_text(inputs[i]) + "}]}";
    if (dimensions > 0) out += ",\"outputDimensionality\":" + std::to_string(dimensions);
    out += "}";
  }
  return out + "]}";
}

}  // namespace gemini_plugin
