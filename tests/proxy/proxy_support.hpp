// Proxy test support: the real `llmhost serve` binary as a child process on a free port, and a
// small blocking HTTP/1.1 client (Boost.Beast) to talk to it.
#pragma once

#include <sys/types.h>

#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "support.hpp"

namespace ptest {

// `llmhost serve --port 0 ARGS...` with `env` added; waits for the "serving on" line.
// stderr (access log, notices) goes to a file readable with err(). SIGTERM + wait on destruction.
class Server {
 public:
  explicit Server(std::vector<std::string> args, std::vector<std::string> env = {});
  ~Server();
  Server(const Server &) = delete;
  Server &operator=(const Server &) = delete;

  uint16_t port() const { return port_; }
  pid_t pid() const { return pid_; }
  std::string err() const;  // everything written to stderr so far
  void signal(int sig) const;
  // Waits for the process to exit (at most `limit`); its exit code, or -1 on timeout.
  int wait(std::chrono::seconds limit = std::chrono::seconds(60));

 private:
  test::TempDir dir_;
  pid_t pid_ = -1;
  uint16_t port_ = 0;
  bool exited_ = false;
};

// Runs `llmhost serve ARGS...` expecting it to fail at start-up; returns exit code and stderr.
test::RunResult serve_fails(std::vector<std::string> args, std::vector<std::string> env = {});

struct Response {
  int status = 0;
  std::map<std::string, std::string> headers;  // names lower-cased
  std::string body;
  bool keep_alive = false;
  std::string header(const std::string &name) const;
};

using Headers = std::vector<std::pair<std::string, std::string>>;

// One client connection (keep-alive across calls).
class Client {
 public:
  explicit Client(uint16_t port);
  Response request(const std::string &method, const std::string &target, const std::string &body = {},
                   const Headers &headers = {});
  Response post(const std::string &target, const std::string &body, const Headers &headers = {}) {
    return request("POST", target, body, headers);
  }
  Response get(const std::string &target, const Headers &headers = {}) { return request("GET", target, {}, headers); }

  // Streaming: send a request, then read the body as it arrives.
  void send(const std::string &method, const std::string &target, const std::string &body, const Headers &headers = {});
  // Reads until the (de-chunked) body contains `needle`; returns the body so far.
  std::string read_until(const std::string &needle);
  Response finish();  // reads the rest of the response
  // Raw bytes in and out, for malformed requests.
  void write_raw(const std::string &bytes);
  std::string read_raw_all();          // until the server closes
  std::string read_raw(size_t bytes);  // exactly that many
  // True when the server closed the connection (read gives EOF or reset).
  bool closed_by_server();
  void close();

 private:
  boost::asio::io_context ioc_;
  boost::asio::ip::tcp::socket socket_;
  boost::beast::flat_buffer buffer_;
  std::optional<boost::beast::http::response_parser<boost::beast::http::string_body>> parser_;
};

// `llmhost serve` with the bundled plugins, `yaml` as its config file and `args` besides, and a
// chat request or a /metrics scrape on a fresh connection in one call each.
struct ConfiguredServer {
  explicit ConfiguredServer(const std::string &yaml, std::vector<std::string> args = {});
  Response chat(const std::string &model, const std::string &extra = {});
  std::string metrics();

  test::TempDir dir;
  std::optional<Server> server;
};

// A chat request body.
std::string chat_body(const std::string &model, const std::string &prompt, const std::string &extra = {});

// The text of an answer, read as JSON: a chat.completion's choices[0].message.content, or a
// stream's choices[0].delta.content joined over its events; "<unreadable: ...>" for a body it
// cannot read that way. Any thread.
std::string answer_text(const std::string &body);

// JSON read field by field, so that a test holds the server to what a client reads, not to the
// member order or number formatting its writer happens to have. Like answer_text, these never
// throw (client threads call them), and give what they cannot read as a marked string
// ("<unreadable: ...>", "<absent: ...>") so that a comparison fails saying why.

// The value at a JSON Pointer (RFC 6901; "" is the whole document): a string unquoted, any other
// value as minified JSON ("7", "true", "null", "{\"a\":1}"); "<absent: POINTER>" when there is none.
std::string json_at(std::string_view json, std::string_view pointer);
// Whether there is a value at `pointer`, whatever it is.
bool json_has(std::string_view json, std::string_view pointer);
// The elements of the array, or the member values of the object, at `pointer`, each as json_at
// gives it; one marked entry when there is no array or object there.
std::vector<std::string> json_items(std::string_view json, std::string_view pointer);
// Those of `jsons` whose value at `pointer` is `value` (as json_at gives it), in order.
std::vector<std::string> where(const std::vector<std::string> &jsons, std::string_view pointer, std::string_view value);

// The data of each event of an SSE body ("data: X\n\n"), "[DONE]" included. What is not such an
// event, as a body cut short, ends the list as one marked entry; a body with no event at all
// gives that entry alone, so events[0] can be checked without a size check first.
std::vector<std::string> sse_events(std::string_view body);
// The data of a stream's first event that carries an "error" member; "<absent: ...>" when none does.
std::string error_event(std::string_view body);
// The lines of `text` (a server's stderr) that are JSON objects: its access-log lines, in order.
std::vector<std::string> log_lines(std::string_view text);

// Polls `fn` every 10 ms until it is true or `limit` passes; returns its last value.
template <class Fn>
bool eventually(Fn fn, std::chrono::seconds limit = std::chrono::seconds(30)) {
  const auto end = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < end) {
    if (fn()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return fn();
}

std::string read_file(const std::filesystem::path &p);
void write_file(const std::filesystem::path &p, const std::string &text);

}  // namespace ptest
