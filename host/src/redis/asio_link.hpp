// Drives a hiredis asynchronous connection from an Asio strand: hiredis says when it wants to
// read or write (its ev hooks) and the link waits for the socket to be ready, then lets hiredis
// do the I/O. hiredis ships adapters for libevent, libuv and others, but none for Asio.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/strand.hpp>

struct redisAsyncContext;

namespace llmhost::redis {

using Strand = boost::asio::strand<boost::asio::io_context::executor_type>;

// Hooks `ac` (just connected with redisAsyncConnect, not yet attached) to `strand`. Every call
// into hiredis for `ac` must then run on that strand. The link lives until hiredis frees the
// context (its cleanup hook), and the socket stays hiredis's to close. Returns false when hiredis
// refuses the hooks (the context already has some).
bool attach(redisAsyncContext *ac, const Strand &strand);

}  // namespace llmhost::redis
