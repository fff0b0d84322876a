#include "proxy_support.hpp"

#include <simdjson.h>

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <doctest/doctest.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>

#include <cstring>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>
#include <variant>

namespace ptest {

namespace net = boost::asio;
namespace http = boost::beast::http;
using tcp = net::ip::tcp;

std::string read_file(const std::filesystem::path &p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// `llmhost serve` with the plugins where $LLMHOST_TEST_ISOLATION puts them (support.hpp).
std::vector<std::string> serve_argv(const std::vector<std::string> &args) {
  std::vector<std::string> argv = {test::cli().string()};
  if (test::isolated()) argv.insert(argv.end(), {"--isolation", "process"});
  argv.insert(argv.end(), {"serve", "--port", "0"});
  argv.insert(argv.end(), args.begin(), args.end());
  return argv;
}

void write_file(const std::filesystem::path &p, const std::string &text) {
  std::ofstream out(p, std::ios::binary);
  out << text;
}

Server::Server(std::vector<std::string> args, std::vector<std::string> env) {
  const std::vector<std::string> argv = serve_argv(args);
  int out_pipe[2];
  if (::pipe2(out_pipe, O_CLOEXEC) != 0) throw std::runtime_error("pipe failed");
  const int err_fd = ::open((dir_.path() / "stderr").c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  pid_ = test::spawn(argv, env, out_pipe[1], err_fd);
  ::close(out_pipe[1]);
  ::close(err_fd);
  // The first stdout line says where it listens.
  std::string line;
  char c;
  while (::read(out_pipe[0], &c, 1) == 1 && c != '\n') line += c;
  ::close(out_pipe[0]);
  const auto at = line.find("serving on http://");
  if (at == std::string::npos) {
    wait(std::chrono::seconds(10));
    throw std::runtime_error("llmhost serve did not start: stdout \"" + line + "\", stderr: " + err());
  }
  const auto colon = line.find(':', at + 18);
  port_ = static_cast<uint16_t>(std::stoi(line.substr(colon + 1)));
}

Server::~Server() {
  if (exited_) return;
  signal(SIGTERM);
  const int code = wait(std::chrono::seconds(30));
  if (code < 0) {
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
  }
  // A clean drain exits 0; anything else (a hang, a crash, a sanitizer report) fails the test.
  CHECK_MESSAGE(code == 0, "llmhost serve exited with " << code << "; stderr:\n" << err());
}

std::string Server::err() const { return read_file(dir_.path() / "stderr"); }

void Server::signal(int sig) const {
  if (!exited_) ::kill(pid_, sig);
}

int Server::wait(std::chrono::seconds limit) {
  const auto end = std::chrono::steady_clock::now() + limit;
  for (;;) {
    int status = 0;
    const pid_t r = ::waitpid(pid_, &status, WNOHANG);
    if (r == pid_) {
      exited_ = true;
      return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    }
    if (std::chrono::steady_clock::now() >= end) return -1;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
}

test::RunResult serve_fails(std::vector<std::string> args, std::vector<std::string> env) {
  return test::run(serve_argv(args), env);
}

std::string Response::header(const std::string &name) const {
  auto it = headers.find(name);
  return it == headers.end() ? std::string() : it->second;
}

Client::Client(uint16_t port) : socket_(ioc_) {
  socket_.connect(tcp::endpoint(net::ip::make_address("127.0.0.1"), port));
}

void Client::send(const std::string &method, const std::string &target, const std::string &body,
                  const Headers &headers) {
  http::request<http::string_body> req(http::string_to_verb(method), target, 11);
  req.set(http::field::host, "127.0.0.1");
  if (method == "POST") req.set(http::field::content_type, "application/json");
  for (const auto &[k, v] : headers) req.set(k, v);
  req.body() = body;
  req.prepare_payload();
  http::write(socket_, req);
  parser_.emplace();
  parser_->body_limit(1ull << 30);
}

std::string Client::read_until(const std::string &needle) {
  while (parser_->get().body().find(needle) == std::string::npos && !parser_->is_done())
    http::read_some(socket_, buffer_, *parser_);
  return parser_->get().body();
}

Response Client::finish() {
  http::read(socket_, buffer_, *parser_);
  auto msg = parser_->release();
  Response r;
  r.status = static_cast<int>(msg.result_int());
  for (const auto &f : msg) {
    std::string name(f.name_string());
    for (char &ch : name) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    r.headers[name] = std::string(f.value());
  }
  r.keep_alive = msg.keep_alive();
  r.body = std::move(msg.body());
  return r;
}

Response Client::request(const std::string &method, const std::string &target, const std::string &body,
                         const Headers &headers) {
  send(method, target, body, headers);
  return finish();
}

void Client::write_raw(const std::string &bytes) { net::write(socket_, net::buffer(bytes)); }

std::string Client::read_raw_all() {
  std::string out;
  char buf[4096];
  boost::system::error_code ec;
  for (;;) {
    const size_t n = socket_.read_some(net::buffer(buf), ec);
    out.append(buf, n);
    if (ec) return out;
  }
}

std::string Client::read_raw(size_t bytes) {
  std::string out(bytes, '\0');
  net::read(socket_, net::buffer(out));
  return out;
}

bool Client::closed_by_server() {
  char c;
  boost::system::error_code ec;
  socket_.read_some(net::buffer(&c, 1), ec);
  return ec == net::error::eof || ec == net::error::connection_reset;
}

void Client::close() {
  boost::system::error_code ec;
  socket_.shutdown(tcp::socket::shutdown_both, ec);
  socket_.close(ec);
}

std::string chat_body(const std::string &model, const std::string &prompt, const std::string &extra) {
  std::string body = "{\"model\":\"" + model + "\",\"messages\":[{\"role\":\"user\",\"content\":\"" + prompt + "\"}]";
  if (!extra.empty()) body += "," + extra;
  return body + "}";
}

}  // namespace ptest

namespace ptest {

std::string answer_text(const std::string &body) {
  simdjson::dom::parser parser;
  std::string text;
  const auto content_of = [&](std::string_view json, const char *member) {
    simdjson::dom::element doc;
    if (parser.parse(json).get(doc)) return false;
    simdjson::dom::array choices;
    if (doc["choices"].get(choices) || choices.size() == 0) return true;  // a usage or error event
    std::string_view part;
    if (!choices.at(0)[member]["content"].get(part)) text += part;
    return true;
  };
  // What cannot be read comes back as itself, marked, so that a comparison fails saying why;
  // never an exception: client threads call this.
  const auto unreadable = [&](std::string_view what) { return "<unreadable: " + std::string(what) + ">"; };
  if (body.rfind("data: ", 0) != 0) return content_of(body, "message") ? text : unreadable(body);
  for (size_t at = 0; at < body.size();) {
    const size_t end = body.find("\n\n", at);
    if (end == std::string::npos || body.compare(at, 6, "data: ") != 0) return unreadable(body.substr(at));
    const std::string_view data(body.data() + at + 6, end - at - 6);
    if (data != "[DONE]" && !content_of(data, "delta")) return unreadable(data);
    at = end + 2;
  }
  return text;
}

namespace {

std::string marked(std::string_view mark, std::string_view what) {
  return "<" + std::string(mark) + ": " + std::string(what) + ">";
}

// A value as json_at gives it: a string unquoted, anything else minified.
std::string text_of(simdjson::dom::element e) {
  std::string_view s;
  return e.get(s) ? simdjson::minify(e) : std::string(s);
}

// The value at `pointer`, or the marked string saying why there is none. `parser` holds the
// document the element points into.
std::variant<simdjson::dom::element, std::string> value_at(simdjson::dom::parser &parser, std::string_view json,
                                                           std::string_view pointer) {
  simdjson::dom::element doc, at;
  if (parser.parse(json.data(), json.size()).get(doc)) return marked("unreadable", json);
  if (doc.at_pointer(pointer).get(at)) return marked("absent", pointer);
  return at;
}

}  // namespace

std::string json_at(std::string_view json, std::string_view pointer) {
  simdjson::dom::parser parser;
  auto at = value_at(parser, json, pointer);
  if (auto *why = std::get_if<std::string>(&at)) return std::move(*why);
  return text_of(std::get<simdjson::dom::element>(at));
}

bool json_has(std::string_view json, std::string_view pointer) {
  simdjson::dom::parser parser;
  return std::holds_alternative<simdjson::dom::element>(value_at(parser, json, pointer));
}

std::vector<std::string> json_items(std::string_view json, std::string_view pointer) {
  simdjson::dom::parser parser;
  auto at = value_at(parser, json, pointer);
  if (auto *why = std::get_if<std::string>(&at)) return {std::move(*why)};
  const simdjson::dom::element e = std::get<simdjson::dom::element>(at);
  std::vector<std::string> items;
  simdjson::dom::array array;
  simdjson::dom::object object;
  if (!e.get(array)) {
    for (simdjson::dom::element item : array) items.push_back(text_of(item));
  } else if (!e.get(object)) {
    for (simdjson::dom::key_value_pair member : object) items.push_back(text_of(member.value));
  } else {
    items.push_back(marked("not an array or object", text_of(e)));
  }
  return items;
}

std::vector<std::string> where(const std::vector<std::string> &jsons, std::string_view pointer,
                               std::string_view value) {
  std::vector<std::string> out;
  for (const std::string &json : jsons)
    if (json_at(json, pointer) == value) out.push_back(json);
  return out;
}

std::vector<std::string> sse_events(std::string_view body) {
  std::vector<std::string> events;
  size_t at = 0;
  while (at < body.size() && body.compare(at, 6, "data: ") == 0) {
    const size_t end = body.find("\n\n", at);
    if (end == std::string_view::npos) break;
    events.emplace_back(body.substr(at + 6, end - at - 6));
    at = end + 2;
  }
  if (at < body.size() || events.empty())
    events.push_back(marked("unreadable", body.empty() ? "an empty body" : body.substr(at)));
  return events;
}

std::string error_event(std::string_view body) {
  for (const std::string &event : sse_events(body))
    if (json_has(event, "/error")) return event;
  return marked("absent", "no event with an error in " + std::string(body));
}

std::vector<std::string> log_lines(std::string_view text) {
  std::vector<std::string> lines;
  simdjson::dom::parser parser;
  size_t at = 0;
  while (at < text.size()) {
    const size_t end = std::min(text.find('\n', at), text.size());
    const std::string_view line = text.substr(at, end - at);
    simdjson::dom::object object;
    if (!parser.parse(line.data(), line.size()).get(object)) lines.emplace_back(line);
    at = end + 1;
  }
  return lines;
}

ConfiguredServer::ConfiguredServer(const std::string &yaml, std::vector<std::string> args) {
  write_file(dir.path() / "config.yaml", yaml);
  args.insert(args.end(),
              {"--plugins", test::bundled_plugins().string(), "--config", (dir.path() / "config.yaml").string()});
  server.emplace(std::move(args));
}

Response ConfiguredServer::chat(const std::string &model, const std::string &extra) {
  return Client(server->port()).post("/v1/chat/completions", chat_body(model, "hi", extra));
}

std::string ConfiguredServer::metrics() { return Client(server->port()).get("/metrics").body; }

}  // namespace ptest
