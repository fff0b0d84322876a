// The bundled plugins' pool of per-call scratch objects (plugins/common/pool.hpp).
#include <doctest/doctest.h>

#include <atomic>
#include <cstddef>
#include <thread>
#include <vector>

#include "common/pool.hpp"

namespace {

struct Scratch {
  static inline std::atomic<int> alive{0};
  std::size_t bytes = 0;
  bool in_use = false;
  Scratch() { ++alive; }
  ~Scratch() { --alive; }
  std::size_t retained_bytes() const noexcept { return bytes; }
};
using Pool = llmh_plugins::Pool<Scratch>;

}  // namespace

TEST_CASE("a returned object is reused, one in use is not handed out twice") {
  Pool pool;
  Scratch *first = nullptr;
  {
    const Pool::Lease a = pool.take();
    const Pool::Lease b = pool.take();
    CHECK(&*a != &*b);
    first = &*a;
  }
  CHECK(Scratch::alive == 2);  // both kept
  const Pool::Lease again = pool.take();
  CHECK((&*again == first || Scratch::alive == 2));
}

TEST_CASE("objects holding more than the pool's memory budget are freed, not kept") {
  {
    Pool pool;
    {
      const Pool::Lease huge = pool.take();
      huge->bytes = std::size_t(64) << 20;
    }
    CHECK(Scratch::alive == 0);
    {
      const Pool::Lease small = pool.take();
      small->bytes = 1000;
    }
    CHECK(Scratch::alive == 1);
    {
      const Pool::Lease reused = pool.take();  // the kept one: its bytes leave the budget
      reused->bytes = 2000;
    }
    CHECK(Scratch::alive == 1);
  }
  CHECK(Scratch::alive == 0);  // the pool frees what it kept
}

TEST_CASE("concurrent takers never share an object") {
  Pool pool;
  std::atomic<int> shared{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t)
    threads.emplace_back([&] {
      for (int i = 0; i < 2000; ++i) {
        const Pool::Lease s = pool.take();
        if (s->in_use) ++shared;
        s->in_use = true;
        std::this_thread::yield();
        s->in_use = false;
      }
    });
  for (auto &t : threads) t.join();
  CHECK(shared == 0);
  CHECK(Scratch::alive <= 8);
}
