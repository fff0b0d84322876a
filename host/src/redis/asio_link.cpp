#include "redis/asio_link.hpp"

#include <hiredis/async.h>

#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/post.hpp>
#include <memory>

namespace llmhost::redis {
namespace {

namespace net = boost::asio;

// Owned by the waits it has outstanding and by hiredis (through ev.data, released by cleanup);
// a wait that completes after cleanup finds `ac` null and does nothing.
struct Link : std::enable_shared_from_this<Link> {
  Link(redisAsyncContext *c, const Strand &s) : ac(c), socket(s, c->c.fd) {}

  redisAsyncContext *ac;
  net::posix::stream_descriptor socket;
  bool want_read = false, want_write = false;
  bool reading = false, writing = false;  // a wait is outstanding
  bool flushing = false;                  // a write is posted
  std::shared_ptr<Link> self;             // hiredis's reference

  void wait(net::posix::stream_descriptor::wait_type type) {
    const bool read = type == net::posix::stream_descriptor::wait_read;
    bool &outstanding = read ? reading : writing;
    if (outstanding) return;
    outstanding = true;
    socket.async_wait(type, [link = shared_from_this(), type, read](boost::system::error_code ec) {
      (read ? link->reading : link->writing) = false;
      if (ec || !link->ac) return;
      if (read ? !link->want_read : !link->want_write) return;
      // Either call may end in cleanup(), which clears ac; both keep wanting until told not to.
      if (read) {
        redisAsyncHandleRead(link->ac);
      } else {
        redisAsyncHandleWrite(link->ac);
      }
      if (link->ac && (read ? link->want_read : link->want_write)) link->wait(type);
    });
  }

  static Link &of(void *data) { return *static_cast<Link *>(data); }
  static void add_read(void *data) {
    Link &l = of(data);
    l.want_read = true;
    l.wait(net::posix::stream_descriptor::wait_read);
  }
  static void del_read(void *data) { of(data).want_read = false; }
  // A connected socket can almost always take a command at once: write it on the strand's next
  // turn (commands queued until then go in one write), and wait for writability only when the
  // socket is full. Before the connection is made, writability is what says it is.
  static void add_write(void *data) {
    Link &l = of(data);
    l.want_write = true;
    if (!(l.ac->c.flags & REDIS_CONNECTED)) return l.wait(net::posix::stream_descriptor::wait_write);
    if (l.flushing) return;
    l.flushing = true;
    net::post(l.socket.get_executor(), [link = l.shared_from_this()] {
      link->flushing = false;
      if (!link->ac || !link->want_write) return;
      redisAsyncHandleWrite(link->ac);
      if (link->ac && link->want_write) link->wait(net::posix::stream_descriptor::wait_write);
    });
  }
  static void del_write(void *data) { of(data).want_write = false; }
  static void cleanup(void *data) {
    Link &l = of(data);
    l.ac = nullptr;
    l.want_read = l.want_write = false;
    boost::system::error_code ignored;
    l.socket.cancel(ignored);
    l.socket.release();  // hiredis closes the descriptor
    l.self.reset();      // may destroy l: last
  }
};

}  // namespace

bool attach(redisAsyncContext *ac, const Strand &strand) {
  if (ac->ev.data) return false;
  auto link = std::make_shared<Link>(ac, strand);
  link->self = link;
  ac->ev.data = link.get();
  ac->ev.addRead = Link::add_read;
  ac->ev.delRead = Link::del_read;
  ac->ev.addWrite = Link::add_write;
  ac->ev.delWrite = Link::del_write;
  ac->ev.cleanup = Link::cleanup;
  return true;
}

}  // namespace llmhost::redis
