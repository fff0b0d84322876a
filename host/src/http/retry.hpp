// When and how long to wait before retrying an upstream request.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string_view>

namespace llmhost::detail::http {

using Millis = std::chrono::milliseconds;

// Statuses worth another attempt: rate limited or a transient server/gateway failure.
bool retryable_status(long status);

// The wait the upstream asked for: `retry-after-ms` (milliseconds, OpenAI's) wins over
// `Retry-After` (delta-seconds or an HTTP date). Pass empty views for absent headers.
// std::nullopt when neither is usable. Any thread.
std::optional<Millis> requested_delay(std::string_view retry_after, std::string_view retry_after_ms);

// Exponential backoff with jitter for retry number `attempt` (0 = first retry): about 0.5 s,
// 1 s, 2 s, ... capped at 8 s, each scaled by a random factor in [0.5, 1.0] so that clients
// that failed together do not come back together. `random01` is a uniform value in [0, 1).
Millis backoff_delay(uint32_t attempt, double random01);

}  // namespace llmhost::detail::http
