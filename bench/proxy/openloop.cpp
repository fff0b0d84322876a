// openloop: a fixed-rate (open-loop) HTTP/1.1 load generator for bench/proxy.
//
//   openloop HOST PORT PATH BODY_FILE RATE SECONDS [WARMUP_S=1] [MAX_CONNS=512]
//
// Request i is due at start + i/RATE, evenly spaced, whether or not earlier ones have been
// answered. A due request goes out on an idle keep-alive connection (a new one is opened while
// fewer than MAX_CONNS exist); when none is free it waits in a queue. Latency runs from the due
// time, so time spent queued in the generator counts (no coordinated omission). Only requests
// due after the warm-up are counted. Prints one JSON line: sent, done, errors (non-200
// answers, broken connections, no answer 2 s after the end), the achieved rate, and latency
// percentiles in microseconds. Single-threaded (epoll + timerfd): pin it to a core.
// Responses must carry Content-Length (every target of the benchmark's non-streaming path does).
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <deque>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace {

int64_t now_ns() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return int64_t{ts.tv_sec} * 1000000000 + ts.tv_nsec;
}

struct Conn {
  int fd = -1;
  bool connected = false;
  bool busy = false;
  int64_t due = 0;  // due time of the request in flight
  size_t sent = 0;  // bytes of the request written
  std::string in;   // response bytes read so far
};

struct Stats {
  std::vector<int64_t> lat_us;
  int64_t sent = 0, done = 0, errors = 0;
};

[[noreturn]] void die(const char *what) {
  std::perror(what);
  std::exit(2);
}

}  // namespace

int main(int argc, char **argv) {
  if (argc < 7) {
    std::fprintf(stderr, "usage: openloop HOST PORT PATH BODY_FILE RATE SECONDS [WARMUP_S=1] [MAX_CONNS=512]\n");
    return 2;
  }
  const char *host = argv[1];
  const int port = std::atoi(argv[2]);
  const std::string path = argv[3];
  std::ifstream bf(argv[4], std::ios::binary);
  if (!bf) die(argv[4]);
  std::stringstream bs;
  bs << bf.rdbuf();
  const std::string body = bs.str();
  const double rate = std::atof(argv[5]);
  const double seconds = std::atof(argv[6]);
  const double warmup = argc > 7 ? std::atof(argv[7]) : 1.0;
  const size_t max_conns = argc > 8 ? static_cast<size_t>(std::atoi(argv[8])) : 512;
  if (rate <= 0 || seconds <= 0) return 2;

  const std::string request = "POST " + path + " HTTP/1.1\r\nHost: " + host + ":" + std::to_string(port) +
                              "\r\nContent-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) +
                              "\r\n\r\n" + body;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  if (inet_pton(AF_INET, host, &addr.sin_addr) != 1) die("inet_pton");

  const int ep = epoll_create1(0);
  const int tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK);
  epoll_event tev{};
  tev.events = EPOLLIN;
  tev.data.u64 = UINT64_MAX;
  epoll_ctl(ep, EPOLL_CTL_ADD, tfd, &tev);

  std::vector<Conn> conns;
  conns.reserve(max_conns);
  std::vector<size_t> idle;   // connected, not busy
  std::deque<int64_t> queue;  // due times of requests waiting for a connection
  Stats st;
  const int64_t period = static_cast<int64_t>(1e9 / rate);
  const int64_t start = now_ns() + 1000000;
  const int64_t measure_from = start + static_cast<int64_t>(warmup * 1e9);
  const int64_t stop_at = measure_from + static_cast<int64_t>(seconds * 1e9);
  const int64_t give_up_at = stop_at + 2000000000;
  int64_t next_due = start;
  size_t connecting = 0;
  size_t live = 0;  // connections open or opening

  auto open_conn = [&]() {  // into a dead slot when there is one, else a new slot
    const int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    if (fd < 0) die("socket");
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (connect(fd, reinterpret_cast<sockaddr *>(&addr), sizeof addr) != 0 && errno != EINPROGRESS) die("connect");
    auto dead = std::find_if(conns.begin(), conns.end(), [](const Conn &c) { return c.fd == -2; });
    size_t slot = static_cast<size_t>(dead - conns.begin());
    if (dead == conns.end()) conns.emplace_back();
    conns[slot] = Conn{fd, false, false, 0, 0, {}};
    epoll_event ev{};
    ev.events = EPOLLIN | EPOLLOUT | EPOLLET;
    ev.data.u64 = slot;
    epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
    ++connecting;
  };
  auto try_write = [&](size_t i) {
    Conn &c = conns[i];
    while (c.sent < request.size()) {
      const ssize_t n = ::send(c.fd, request.data() + c.sent, request.size() - c.sent, MSG_NOSIGNAL);
      if (n < 0) return errno == EAGAIN;
      c.sent += static_cast<size_t>(n);
    }
    return true;
  };
  auto record = [&](int64_t due, bool ok) {
    if (due < measure_from || due >= stop_at) return;
    if (ok) {
      ++st.done;
      st.lat_us.push_back((now_ns() - due) / 1000);
    } else {
      ++st.errors;
    }
  };
  auto fail = [&](size_t i) {  // the connection broke: its request is an error; reopen later
    Conn &c = conns[i];
    if (c.busy) record(c.due, false);
    if (!c.connected) --connecting;
    epoll_ctl(ep, EPOLL_CTL_DEL, c.fd, nullptr);
    close(c.fd);
    --live;
    c = Conn{};
    c.fd = -2;  // a dead slot; reused below
  };
  auto dispatch = [&]() {
    while (!queue.empty() && !idle.empty()) {
      const size_t i = idle.back();
      idle.pop_back();
      Conn &c = conns[i];
      c.busy = true;
      c.due = queue.front();
      queue.pop_front();
      c.sent = 0;
      c.in.clear();
      ++st.sent;
      if (!try_write(i)) fail(i);
    }
    while (live < max_conns && connecting < queue.size()) {
      open_conn();
      ++live;
    }
  };
  int64_t armed_at = -1;
  auto arm = [&](int64_t at) {  // one timerfd_settime per new due time, not per loop
    if (at == armed_at) return;
    armed_at = at;
    itimerspec its{};
    its.it_value.tv_sec = at / 1000000000;
    its.it_value.tv_nsec = at % 1000000000;
    timerfd_settime(tfd, TFD_TIMER_ABSTIME, &its, nullptr);
  };
  // Parses a complete response in c.in; returns its length, 0 when incomplete, -1 when broken.
  auto complete_len = [](const std::string &in, int &status) -> ssize_t {
    const size_t hdr = in.find("\r\n\r\n");
    if (hdr == std::string::npos) return 0;
    if (in.size() < 12 || in.compare(0, 5, "HTTP/") != 0) return -1;
    status = std::atoi(in.c_str() + 9);
    size_t pos = 0;
    ssize_t length = -1;
    while ((pos = in.find("\r\n", pos)) != std::string::npos && pos < hdr) {
      pos += 2;
      if (strncasecmp(in.c_str() + pos, "content-length:", 15) == 0) length = std::atol(in.c_str() + pos + 15);
    }
    if (length < 0) return -1;
    const size_t total = hdr + 4 + static_cast<size_t>(length);
    return in.size() >= total ? static_cast<ssize_t>(total) : 0;
  };

  arm(next_due);
  std::vector<epoll_event> events(1024);
  char buf[65536];
  for (;;) {
    const int64_t now = now_ns();
    while (next_due <= now && next_due < stop_at) {
      queue.push_back(next_due);
      next_due += period;
    }
    dispatch();
    bool busy = !queue.empty();
    for (const Conn &c : conns) busy = busy || c.busy;
    if (now >= stop_at && !busy) break;
    if (now >= give_up_at) break;
    arm(next_due < stop_at ? next_due : give_up_at);
    const int n = epoll_wait(ep, events.data(), static_cast<int>(events.size()), 100);
    for (int k = 0; k < n; ++k) {
      if (events[k].data.u64 == UINT64_MAX) {
        uint64_t x;
        while (read(tfd, &x, sizeof x) > 0) {}
        armed_at = -1;  // fired: the next due time needs arming again
        continue;
      }
      const size_t i = events[k].data.u64;
      Conn &c = conns[i];
      if (c.fd < 0) continue;
      if (!c.connected && (events[k].events & (EPOLLOUT | EPOLLERR | EPOLLHUP))) {
        int err = 0;
        socklen_t len = sizeof err;
        getsockopt(c.fd, SOL_SOCKET, SO_ERROR, &err, &len);
        if (err != 0) {
          fail(i);
          continue;
        }
        c.connected = true;
        --connecting;
        idle.push_back(i);
        continue;
      }
      if (c.busy && c.sent < request.size() && (events[k].events & EPOLLOUT) && !try_write(i)) {
        fail(i);
        continue;
      }
      if (events[k].events & (EPOLLIN | EPOLLHUP | EPOLLERR)) {
        bool broken = false;
        for (;;) {
          const ssize_t r = ::recv(c.fd, buf, sizeof buf, 0);
          if (r > 0) {
            c.in.append(buf, static_cast<size_t>(r));
            continue;
          }
          if (r == 0 || errno != EAGAIN) broken = true;
          break;
        }
        if (c.busy) {
          int status = 0;
          const ssize_t len = complete_len(c.in, status);
          if (len > 0) {
            record(c.due, status == 200);
            c.busy = false;
            c.in.erase(0, static_cast<size_t>(len));
            if (!broken) idle.push_back(i);
          } else if (len < 0) {
            broken = true;
          }
        }
        if (broken) {
          // Remove it from the idle list if it was there.
          idle.erase(std::remove(idle.begin(), idle.end(), i), idle.end());
          fail(i);
        }
      }
    }
  }
  // Whatever is still queued or in flight past the give-up time is an error.
  for (int64_t due : queue) record(due, false);
  for (size_t i = 0; i < conns.size(); ++i)
    if (conns[i].fd >= 0 && conns[i].busy) record(conns[i].due, false);

  std::sort(st.lat_us.begin(), st.lat_us.end());
  auto pct = [&](double p) -> int64_t {
    if (st.lat_us.empty()) return -1;
    size_t k = static_cast<size_t>(p / 100.0 * static_cast<double>(st.lat_us.size()) + 0.999999);
    k = std::clamp<size_t>(k, 1, st.lat_us.size());
    return st.lat_us[k - 1];
  };
  std::printf("{\"rate\":%.1f,\"seconds\":%.2f,\"done\":%" PRId64 ",\"errors\":%" PRId64
              ",\"achieved\":%.1f,\"p50\":%" PRId64 ",\"p90\":%" PRId64 ",\"p99\":%" PRId64 ",\"max\":%" PRId64
              ",\"conns\":%zu}\n",
              rate, seconds, st.done, st.errors, static_cast<double>(st.done) / seconds, pct(50), pct(90), pct(99),
              st.lat_us.empty() ? -1 : st.lat_us.back(), conns.size());
  return 0;
}
