#include "isolation/channel_watch.hpp"

#include <sys/epoll.h>
#include <unistd.h>

#include <system_error>

namespace llmhost::isolation {

std::shared_ptr<ChannelWatch> ChannelWatch::start(boost::asio::any_io_executor io, int channel,
                                                  std::function<bool()> on_readable) {
  // The loop would set O_NONBLOCK on a descriptor it waits on, and a dup of the channel shares
  // that flag with the blocking, time-limited sends to the worker; an epoll instance does not.
  const int epoll_fd = ::epoll_create1(EPOLL_CLOEXEC);
  if (epoll_fd < 0) throw std::system_error(errno, std::generic_category(), "epoll_create1");
  epoll_event ev{};
  ev.events = EPOLLIN;  // level-triggered: readable again until the channel is drained
  if (::epoll_ctl(epoll_fd, EPOLL_CTL_ADD, channel, &ev) != 0) {
    const int error = errno;
    ::close(epoll_fd);
    throw std::system_error(error, std::generic_category(), "epoll_ctl");
  }
  auto watch = std::make_shared<ChannelWatch>(std::move(io), epoll_fd, std::move(on_readable));
  boost::asio::post(watch->strand_, [watch] { watch->wait(); });
  return watch;
}

ChannelWatch::ChannelWatch(boost::asio::any_io_executor io, int epoll_fd, std::function<bool()> on_readable)
    : strand_(boost::asio::make_strand(io)), epoll_(strand_, epoll_fd), on_readable_(std::move(on_readable)) {}

void ChannelWatch::wait() {
  epoll_.async_wait(boost::asio::posix::descriptor_base::wait_read,
                    [self = shared_from_this()](const boost::system::error_code &ec) {
                      if (ec) return;  // stopped
                      std::unique_lock lock(self->mu_);
                      if (!self->on_readable_) return;
                      if (!self->on_readable_()) {
                        self->on_readable_ = nullptr;
                        return;
                      }
                      lock.unlock();
                      self->wait();
                    });
}

void ChannelWatch::stop() {
  {
    std::lock_guard lock(mu_);
    on_readable_ = nullptr;
  }
  boost::asio::post(strand_, [self = shared_from_this()] {
    boost::system::error_code ec;
    self->epoll_.cancel(ec);
  });
}

}  // namespace llmhost::isolation
