// The Asio parts the HTTP event loop uses, included in one place. Under TSan g++ 12 warns that
// Asio's fenced blocks use std::atomic_thread_fence (-Wtsan); host/CMakeLists.txt gives the
// proxy -Wno-tsan for it, and this keeps llmhost_core's flags as they are.
#pragma once

#if defined(__SANITIZE_THREAD__) && defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wtsan"
#define LLMHOST_HTTP_ASIO_TSAN_PRAGMA 1
#endif

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>

#ifdef LLMHOST_HTTP_ASIO_TSAN_PRAGMA
#pragma GCC diagnostic pop
#undef LLMHOST_HTTP_ASIO_TSAN_PRAGMA
#endif
