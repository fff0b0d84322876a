// One connection to Redis for serve's shared limits: Lua scripts loaded once per connection and
// run by their SHA, on a strand of serve's I/O loop, so that no thread ever blocks on Redis.
// When Redis is unreachable, or a reply is later than redis_timeout, the client says so once,
// answers every call with "down" at once (its callers then count in process: fail open), and
// reconnects in the background until Redis answers again.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <boost/asio/io_context.hpp>

#include "config/config.hpp"

namespace llmhost::redis {

class Client {
 public:
  using Notice = std::function<void(const std::string &)>;  // warnings and recoveries, one line each
  // The integers a script returned; nullopt when Redis is down, late, or answered an error.
  using Done = std::function<void(std::optional<std::vector<int64_t>>)>;

  // Starts connecting at once. `scripts` are loaded on every (re)connection; eval() names them
  // by index. `notice` may be called from any I/O thread.
  Client(boost::asio::io_context &ioc, config::RedisSettings settings, std::vector<std::string> scripts, Notice notice);
  // Closes the connection; pending calls get nullopt. Call it once the io_context runs no
  // handler of this client any more (serve: after its loop stopped).
  ~Client();
  Client(const Client &) = delete;
  Client &operator=(const Client &) = delete;

  // Whether the connection is up and its scripts loaded. Any thread.
  bool up() const;

  // Runs script `script` with `keys` and `args`. `done` runs exactly once, on the client's
  // strand: it must not block, and should post anything long elsewhere. Any thread.
  void eval(size_t script, std::vector<std::string> keys, std::vector<std::string> args, Done done);

 private:
  struct State;
  std::shared_ptr<State> state_;
};

}  // namespace llmhost::redis
