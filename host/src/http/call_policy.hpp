// What follows one attempt of a call: hand the answer over, retry after a wait, or fail with a
// status. The one place that decides it, for the blocking path (http_service.cpp) and the
// event-loop path (async_client.cpp) alike; it also logs every attempt, without secrets.
#pragma once

#include <functional>
#include <initializer_list>
#include <mutex>
#include <random>
#include <string_view>

#include "http/http_call.hpp"
#include "http/transfer_result.hpp"

namespace llmhost::detail::http {

using LogFn = std::function<void(int level, std::string_view provider, std::string_view message)>;

struct Verdict {
  enum Kind { kAnswer, kRetry, kFail };
  Kind kind = kAnswer;
  Millis delay{0};  // kRetry: wait this long, then call.next_attempt()
};

class CallPolicy {
 public:
  // Attempts are logged through `log`; lines below `min_level` are not even formatted, so pass
  // the level below which `log` drops lines.
  CallPolicy(LogFn log, int min_level);

  // Judges attempt number `attempt` (0 = first) of `call`, begun at `started`, that ended with
  // `t`: kFail fills `err`; kAnswer means `t` is the answer. Any thread, concurrently.
  Verdict judge(const HttpCall &call, uint32_t attempt, const TransferResult &t, Clock::time_point started,
                llmh_error &err);

 private:
  double random01();
  // Logs "METHOD redacted-url (attempt N)" followed by `outcome`, when `level` is logged.
  void log_attempt(int level, const HttpCall &call, uint32_t attempt, std::initializer_list<std::string_view> outcome);

  LogFn log_;
  int min_level_;
  std::mutex rng_mu_;
  std::minstd_rand rng_;
};

}  // namespace llmhost::detail::http
