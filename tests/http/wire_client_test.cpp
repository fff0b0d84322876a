// The Asio client (plain http:// upstreams, host/src/http/wire_exchange.hpp) and libcurl side by
// side against the loopback mock: the request an upstream sees, framing an upstream may choose
// (a body that ends at the close, an interim 100, a trickle of single bytes), broken answers,
// kept connections the upstream closed, running out of descriptors, and TLS (SSL_CERT_FILE, an
// untrusted certificate). Each case runs through both
// clients (LLMHOST_HTTP_CLIENT picks one when the service is made).
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <thread>

#include "async_support.hpp"
#include "http_support.hpp"

using namespace test::http;

namespace {

constexpr const char *kClients[] = {"auto", "curl"};

// Sets (or, with NULL, unsets) an environment variable for the services made in its scope, then
// puts back what was there. The services read it when they are made.
class EnvVar {
 public:
  EnvVar(const char *name, const char *value) : name_(name) {
    if (const char *was = std::getenv(name)) was_ = was;
    set(value);
  }
  ~EnvVar() { set(was_ ? was_->c_str() : nullptr); }
  EnvVar(const EnvVar &) = delete;
  EnvVar &operator=(const EnvVar &) = delete;

 private:
  void set(const char *value) {
    if (value) {
      ::setenv(name_, value, 1);
    } else {
      ::unsetenv(name_);
    }
  }
  const char *name_;
  std::optional<std::string> was_;
};

// LLMHOST_HTTP_CLIENT for the services made in its scope.
struct ClientChoice : EnvVar {
  explicit ClientChoice(const char *client) : EnvVar("LLMHOST_HTTP_CLIENT", client) {}
};

// One call through a new service of `client`; its outcome.
Outcome call(const char *client, const std::string &url, Send s = {}, std::vector<std::string> *lines = nullptr,
             std::string *log = nullptr) {
  const ClientChoice choice(client);
  Async async;
  Ticket t;
  t.async = &async;
  send(async.http, t, url, std::move(s));
  REQUIRE(async.wait(1));
  if (lines) *lines = t.lines;
  if (log) *log = async.log();
  return async.outcomes().at(0);
}

// `n` calls through `async`, each started once the previous one is done (so that each finds the
// previous one's connection kept), the i-th with make(i); their outcomes, in order.
std::vector<Outcome> one_after_another(Async &async, size_t n, const std::string &url,
                                       const std::function<Send(size_t)> &make = nullptr) {
  std::vector<Ticket> tickets(n);
  const size_t before = async.outcomes().size();
  for (size_t i = 0; i < n; ++i) {
    tickets[i].async = &async;
    send(async.http, tickets[i], url, make ? make(i) : Send{});
    REQUIRE(async.wait(before + i + 1));
  }
  const std::vector<Outcome> all = async.outcomes();
  return std::vector<Outcome>(all.begin() + static_cast<std::ptrdiff_t>(before), all.end());
}

// While in scope, this process can open no file descriptor (its soft limit is lowered and every
// number under it taken); afterwards, everything is as it was.
class NoDescriptorsLeft {
 public:
  NoDescriptorsLeft() {
    // The last call's sockets (the client's, and the mock's end, in this process too) close on
    // other threads just after it answered: wait for them, or one would free a descriptor
    // after the table was filled.
    size_t open = count_open();
    for (int stable = 0, rounds = 0; stable < 5 && rounds < 200; ++rounds) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
      const size_t now = count_open();
      stable = now == open ? stable + 1 : 0;
      open = now;
    }
    REQUIRE(::getrlimit(RLIMIT_NOFILE, &was_) == 0);
    rlimit low = was_;
    low.rlim_cur = std::min<rlim_t>(was_.rlim_cur, highest_open() + 16);
    REQUIRE(::setrlimit(RLIMIT_NOFILE, &low) == 0);
    for (int fd; (fd = ::dup(0)) >= 0;) taken_.push_back(fd);
    REQUIRE(errno == EMFILE);
  }
  ~NoDescriptorsLeft() {
    for (int fd : taken_) ::close(fd);
    ::setrlimit(RLIMIT_NOFILE, &was_);
  }
  NoDescriptorsLeft(const NoDescriptorsLeft &) = delete;
  NoDescriptorsLeft &operator=(const NoDescriptorsLeft &) = delete;

 private:
  static size_t count_open() {
    size_t n = 0;
    for ([[maybe_unused]] const auto &e : std::filesystem::directory_iterator("/proc/self/fd")) ++n;
    return n;
  }
  static rlim_t highest_open() {
    rlim_t most = 0;
    for (const auto &e : std::filesystem::directory_iterator("/proc/self/fd"))
      most = std::max<rlim_t>(most, std::stoul(e.path().filename().string()));
    return most;
  }
  rlimit was_{};
  std::vector<int> taken_;
};

// A mock answering every request with the same raw bytes, then closing the connection.
MockServer raw_server(std::string bytes) {
  return MockServer([bytes](const HttpRequest &, Conn &c) {
    c.send(bytes);
    c.close_after();
  });
}

}  // namespace

TEST_CASE("either client: the upstream sees the same request line, headers and body") {
  MockServer server([](const HttpRequest &, Conn &c) { c.respond(200, "{}"); });
  const std::string url = "http://127.0.0.1:" + std::to_string(server.port()) + "/v1/x?q=1&key=k";
  for (const std::string client : kClients) {
    CAPTURE(client);
    Send post{"POST", R"({"a":1})", {{"Authorization", "Bearer sk-1"}, {"Content-Type", "application/json"}}};
    post.headers.emplace_back("X-Empty", "");
    CHECK(call(client.c_str(), url, post).status == 200);
    CHECK(call(client.c_str(), "http://127.0.0.1:" + std::to_string(server.port())).status == 200);  // no path
  }
  const std::vector<HttpRequest> seen = server.requests();
  REQUIRE(seen.size() == 4);
  const HttpRequest &post = seen[0], &get = seen[1];
  CHECK(post.method == "POST");
  CHECK(post.target == "/v1/x?q=1&key=k");
  CHECK(post.body == R"({"a":1})");
  CHECK(post.header("host") == "127.0.0.1:" + std::to_string(server.port()));
  CHECK(post.header("authorization") == "Bearer sk-1");
  CHECK(post.header("content-type") == "application/json");
  CHECK(post.header("content-length") == "7");
  CHECK(post.header("user-agent") == "llmhost/0.1");
  CHECK(post.headers.count("x-empty") == 1);
  CHECK(post.header("x-empty").empty());
  CHECK(post.headers.count("expect") == 0);  // no 100-continue round trip
  CHECK(get.method == "GET");
  CHECK(get.target == "/");
  CHECK(get.headers.count("content-length") == 0);
  // curl's requests, seen[2] and seen[3], are the same in every part.
  for (size_t i = 0; i < 2; ++i) {
    CAPTURE(i);
    CHECK(seen[i + 2].method == seen[i].method);
    CHECK(seen[i + 2].target == seen[i].target);
    CHECK(seen[i + 2].headers == seen[i].headers);
    CHECK(seen[i + 2].body == seen[i].body);
  }
}

TEST_CASE("either client: kept connections the upstream closed while idle are replaced, unseen by the caller") {
  // Keep-alive by HTTP/1.1's default, then closed by the upstream once the answer is out.
  MockServer server = raw_server("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
  const std::string url = server.base_url() + "/x";
  for (const std::string client : kClients) {
    CAPTURE(client);
    const ClientChoice choice(client.c_str());
    const int accepted = server.accepted();
    Async async;
    for (const Outcome &o : one_after_another(async, 5, url)) {
      CAPTURE(o.message);
      CAPTURE(o.status);
      CHECK_FALSE(o.failed);
      CHECK(o.body == "ok");
    }
    CHECK(server.accepted() - accepted == 5);
    CHECK(async.log().find("attempt 2") == std::string::npos);  // no retry was spent on it
    CHECK(async.log().find("failed") == std::string::npos);
  }
}

TEST_CASE("either client: a body that ends when the upstream closes arrives whole, and as lines") {
  MockServer server = raw_server("HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n\r\ndata: a\n\ndata: b");
  for (const std::string client : kClients) {
    CAPTURE(client);
    const Outcome whole = call(client.c_str(), server.base_url());
    CHECK(whole.status == 200);
    CHECK(whole.body == "data: a\n\ndata: b");
    std::vector<std::string> lines;
    Send s;
    s.lines = true;
    const Outcome streamed = call(client.c_str(), server.base_url(), s, &lines);
    CHECK(streamed.status == 200);
    CHECK(lines == std::vector<std::string>{"data: a", "", "data: b"});
  }
}

TEST_CASE("either client: an interim 100 Continue is passed over for the answer after it") {
  MockServer server = raw_server(
      "HTTP/1.1 100 Continue\r\nX-Reply: interim\r\n\r\n"
      "HTTP/1.1 201 Created\r\nX-Reply: final\r\nContent-Length: 4\r\n\r\ndone");
  for (const std::string client : kClients) {
    CAPTURE(client);
    const Outcome o = call(client.c_str(), server.base_url());
    CHECK(o.status == 201);
    CHECK(o.body == "done");
    CHECK(o.reply_header == "final");
  }
}

TEST_CASE("either client: an answer that trickles in one byte at a time is framed and split the same") {
  MockServer server([](const HttpRequest &, Conn &c) {
    const std::string answer =
        "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n"
        "b\r\ndata: one\n\n\r\n"
        "d\r\ndata: two\r\n\r\n\r\n"
        "0\r\n\r\n";
    for (char ch : answer) c.send(std::string_view(&ch, 1));
  });
  for (const std::string client : kClients) {
    CAPTURE(client);
    std::vector<std::string> lines;
    Send s;
    s.lines = true;
    CHECK(call(client.c_str(), server.base_url(), s, &lines).status == 200);
    CHECK(lines == std::vector<std::string>{"data: one", "", "data: two", ""});
  }
}

TEST_CASE("either client: a malformed answer is 502 naming the call, and the next call is served") {
  std::atomic<int> n{0};
  MockServer server([&](const HttpRequest &, Conn &c) {
    if (n++ % 2 == 0) {
      c.send("HTTP/1.1 200 OK\r\nContent-Length: twelve\r\n\r\n");
      c.close_after();
    } else {
      c.respond(200, "fine");
    }
  });
  for (const std::string client : kClients) {
    CAPTURE(client);
    const Outcome bad = call(client.c_str(), server.base_url() + "/chat?key=secret");
    CHECK(bad.failed);
    CHECK(bad.status == 502);
    CHECK(bad.message.find("GET http://127.0.0.1:" + std::to_string(server.port()) + "/v1/chat failed: ") == 0);
    CHECK(bad.message.find("secret") == std::string::npos);
    const Outcome good = call(client.c_str(), server.base_url() + "/chat");
    CHECK(good.body == "fine");
  }
}

TEST_CASE("either client: out of file descriptors, a call fails saying so, and the next call is served") {
  // Every answer closes its connection, so that each call opens a socket of its own.
  MockServer server([](const HttpRequest &, Conn &c) {
    c.respond(200, "fine", {"Connection: close"});
    c.close_after();
  });
  for (const std::string client : kClients) {
    CAPTURE(client);
    const ClientChoice choice(client.c_str());
    Async async;
    Ticket warm, starved, fed;
    warm.async = starved.async = fed.async = &async;
    // The first call sets up what lasts (the service's loop, the resolver, the known address);
    // only the connection is new for the next.
    send(async.http, warm, server.base_url() + "/chat");
    REQUIRE(async.wait(1));
    {
      const NoDescriptorsLeft none;
      send(async.http, starved, server.base_url() + "/chat");
      REQUIRE(async.wait(2));
    }
    const Outcome bad = async.outcomes().at(1);
    CHECK(bad.failed);
    CHECK(bad.message.find("Too many open files") != std::string::npos);
    send(async.http, fed, server.base_url() + "/chat");
    REQUIRE(async.wait(3));
    CHECK(async.outcomes().at(2).body == "fine");
  }
}

TEST_CASE("LLMHOST_HTTP_CLIENT with an unknown value is logged, and calls still work") {
  MockServer server([](const HttpRequest &, Conn &c) { c.respond(200, "ok"); });
  std::string log;
  CHECK(call("libcurl", server.base_url(), {}, nullptr, &log).body == "ok");
  CHECK(log.find(R"(LLMHOST_HTTP_CLIENT="libcurl" is neither "auto" nor "curl": using auto)") != std::string::npos);
}

TEST_CASE("either client over https: answers, lines and kept connections, verified against SSL_CERT_FILE") {
  MockServer server(
      [](const HttpRequest &r, Conn &c) {
        if (r.target == "/v1/stream") {
          c.begin_chunked();
          c.chunk("data: one\n\n");
          c.chunk("data: [DONE]\n\n");
          c.end_chunked();
        } else {
          c.respond(200, "secure:" + r.body);
        }
      },
      Transport::kTls);
  const EnvVar ca("SSL_CERT_FILE", MockServer::tls_ca_file().c_str());
  for (const std::string client : kClients) {
    CAPTURE(client);
    const ClientChoice choice(client.c_str());
    const int accepted = server.accepted();
    Async async;
    const std::vector<Outcome> answers = one_after_another(async, 3, server.base_url() + "/chat", [](size_t i) {
      return Send{"POST", "n" + std::to_string(i)};
    });
    for (size_t i = 0; i < answers.size(); ++i) CHECK(answers[i].body == "secure:n" + std::to_string(i));
    CHECK(server.accepted() - accepted == 1);  // one TLS connection, kept
    Ticket streamed;
    streamed.async = &async;
    Send s;
    s.lines = true;
    send(async.http, streamed, server.base_url() + "/stream", s);
    REQUIRE(async.wait(4));
    CHECK(streamed.lines == std::vector<std::string>{"data: one", "", "data: [DONE]", ""});
  }
}

TEST_CASE("either client over https: a new connection to the same upstream resumes its TLS session") {
  // Every answer closes its connection, so that each call makes a new one and its handshake.
  MockServer server(
      [](const HttpRequest &, Conn &c) {
        c.respond(200, "fine", {"Connection: close"});
        c.close_after();
      },
      Transport::kTls);
  const EnvVar ca("SSL_CERT_FILE", MockServer::tls_ca_file().c_str());
  for (const std::string client : kClients) {
    CAPTURE(client);
    const ClientChoice choice(client.c_str());
    const int accepted = server.accepted(), resumed = server.tls_resumed();
    Async async;
    const std::vector<Outcome> answers = one_after_another(async, 3, server.base_url() + "/chat");
    for (const Outcome &a : answers) CHECK(a.body == "fine");
    CHECK(server.accepted() - accepted == 3);
    CHECK(server.tls_resumed() - resumed == 2);  // the first handshake in full, then resumed
  }
}

TEST_CASE("either client over https: a certificate nobody trusts is 502 naming TLS, and nothing is sent") {
  MockServer server([](const HttpRequest &, Conn &c) { c.respond(200, "should not be read"); }, Transport::kTls);
  // The system store, which does not hold the mock's self-signed certificate.
  const EnvVar ca("SSL_CERT_FILE", nullptr);
  for (const std::string client : kClients) {
    CAPTURE(client);
    const Outcome o = call(client.c_str(), server.base_url() + "/chat");
    CHECK(o.failed);
    CHECK(o.status == 502);
    CHECK(o.message.find("certificate") != std::string::npos);
  }
  CHECK(server.request_count() == 0);
}
