// A real redis-server (Debian's package) for tests, on a free loopback port, with nothing
// saved to disk. It can be killed and started again on the same port, to test an outage.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <vector>

#include "support.hpp"

namespace test {

class RedisServer {
 public:
  RedisServer();  // started, and answering PING
  ~RedisServer();
  RedisServer(const RedisServer &) = delete;
  RedisServer &operator=(const RedisServer &) = delete;

  uint16_t port() const { return port_; }
  // SIGKILL, as a crash or a network cut looks to its clients; then start() on the same port.
  void kill();
  void start();

  // Runs one command over a fresh connection; the reply as text: a status or bulk string as
  // is, an integer in decimal, an error as "ERR ...", an array as its elements joined by '\n'.
  std::string command(const std::vector<std::string> &args) const;

 private:
  TempDir dir_;
  uint16_t port_ = 0;
  pid_t pid_ = -1;
};

}  // namespace test
