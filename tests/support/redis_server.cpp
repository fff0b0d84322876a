#include "redis_server.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fcntl.h>

#include <chrono>
#include <fstream>
#include <iterator>
#include <stdexcept>
#include <thread>

namespace test {
namespace {

uint16_t free_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof a;
  if (::bind(fd, reinterpret_cast<sockaddr *>(&a), sizeof a) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr *>(&a), &len) != 0) {
    ::close(fd);
    throw std::runtime_error("no free port");
  }
  ::close(fd);
  return ntohs(a.sin_port);
}

int connect_to(uint16_t port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr *>(&a), sizeof a) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

// Reads RESP replies off one socket.
struct Reader {
  int fd;
  std::string buf;
  size_t at = 0;
  char byte() {
    if (at == buf.size()) {
      char chunk[4096];
      const ssize_t n = ::read(fd, chunk, sizeof chunk);
      if (n <= 0) throw std::runtime_error("redis closed the connection");
      buf.assign(chunk, static_cast<size_t>(n));
      at = 0;
    }
    return buf[at++];
  }
  std::string line() {
    std::string s;
    for (char c = byte(); c != '\r'; c = byte()) s += c;
    byte();  // '\n'
    return s;
  }
  std::string reply() {
    const char type = byte();
    std::string head = line();
    switch (type) {
      case '+':
      case ':': return head;
      case '-': return head;  // "ERR ..." as Redis wrote it
      case '$': {
        const long n = std::stol(head);
        if (n < 0) return "(nil)";
        std::string s;
        for (long i = 0; i < n; ++i) s += byte();
        line();
        return s;
      }
      case '*': {
        const long n = std::stol(head);
        std::string s;
        for (long i = 0; i < n; ++i) s += (i ? "\n" : "") + reply();
        return s;
      }
    }
    throw std::runtime_error(std::string("unexpected RESP type ") + type);
  }
};

std::string read_file(const std::string &path) {
  std::ifstream in(path);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

}  // namespace

RedisServer::RedisServer() {
  port_ = free_port();
  start();
}

RedisServer::~RedisServer() { kill(); }

void RedisServer::start() {
  const std::string log = (dir_.path() / "redis.log").string();
  const int null_fd = ::open("/dev/null", O_WRONLY | O_CLOEXEC);
  pid_ = spawn({"/usr/bin/redis-server", "--port", std::to_string(port_), "--bind", "127.0.0.1", "--save", "",
                "--appendonly", "no", "--dir", dir_.path().string(), "--logfile", log},
               {}, null_fd, null_fd);
  ::close(null_fd);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (std::chrono::steady_clock::now() < deadline) {
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      throw std::runtime_error("redis-server exited at start; its log: " + read_file(log));
    }
    if (const int fd = connect_to(port_); fd >= 0) {
      ::close(fd);
      if (command({"PING"}) == "PONG") return;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  throw std::runtime_error("redis-server did not answer PING within 20 s; its log: " + read_file(log));
}

void RedisServer::kill() {
  if (pid_ < 0) return;
  ::kill(pid_, SIGKILL);
  ::waitpid(pid_, nullptr, 0);
  pid_ = -1;
}

std::string RedisServer::command(const std::vector<std::string> &args) const {
  const int fd = connect_to(port_);
  if (fd < 0) throw std::runtime_error("cannot connect to redis on port " + std::to_string(port_));
  std::string out = "*" + std::to_string(args.size()) + "\r\n";
  for (const std::string &a : args) out += "$" + std::to_string(a.size()) + "\r\n" + a + "\r\n";
  if (::write(fd, out.data(), out.size()) != static_cast<ssize_t>(out.size())) {
    ::close(fd);
    throw std::runtime_error("cannot write to redis");
  }
  Reader r{fd, {}};
  std::string reply;
  try {
    reply = r.reply();
  } catch (...) {
    ::close(fd);
    throw;
  }
  ::close(fd);
  return reply;
}

}  // namespace test
