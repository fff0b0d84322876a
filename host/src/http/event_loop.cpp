#include "http/event_loop.hpp"

#include <pthread.h>

namespace llmhost::detail::http {

EventLoop::EventLoop() : work_(ioc_.get_executor()) {
  thread_ = std::thread([this] {
    pthread_setname_np(pthread_self(), "llmh-http");  // what ps/top/gdb show for it
    // A handler that throws must not end the loop every other request depends on; the HTTP
    // code catches its own, so this is for the unforeseen.
    for (;;) {
      try {
        ioc_.run();
        return;
      } catch (...) {}
    }
  });
}

EventLoop::~EventLoop() {
  work_.reset();
  thread_.join();
}

}  // namespace llmhost::detail::http
