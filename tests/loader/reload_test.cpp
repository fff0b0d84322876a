// Hot reload through real files and real builds: two builds of the "swap" provider answer "v1"
// and "v2"; files are replaced by writing in place, by copying over and by renaming over.
#include <doctest/doctest.h>

#include <atomic>
#include <condition_variable>
#include <fstream>
#include <iterator>
#include <set>
#include <thread>

#include "support.hpp"

using namespace std::chrono_literals;
using Kind = llmhost::ReloadEvent::Kind;
namespace fs = std::filesystem;

namespace {

// A watching Host over one scratch folder, recording every reload event.
struct Watched {
  test::TempDir dir;
  test::TempDir cache_parent;
  std::mutex mu;
  std::condition_variable cv;
  std::vector<llmhost::ReloadEvent> events;
  std::unique_ptr<llmhost::Host> host;

  explicit Watched(bool watch = true) {
    llmhost::HostOptions o = test::options_for({dir.path()});
    o.watch = watch;
    o.cache_dir = cache_dir();
    o.on_reload = [this](const llmhost::ReloadEvent &e) {
      std::lock_guard lock(mu);
      events.push_back(e);
      cv.notify_all();
    };
    host = std::make_unique<llmhost::Host>(std::move(o));
  }
  fs::path cache_dir() const { return cache_parent.path() / "cache"; }
  fs::path file(const std::string &name) const { return dir.path() / name; }

  size_t event_count() {
    std::lock_guard lock(mu);
    return events.size();
  }
  // Waits until `n` events in all were seen; returns the last one.
  llmhost::ReloadEvent wait_events(size_t n) {
    std::unique_lock lock(mu);
    REQUIRE_MESSAGE(cv.wait_for(lock, 10s, [&] { return events.size() >= n; }), "no reload event came");
    return events[n - 1];
  }
  std::string answer(const std::string &model = "swap/m") { return host->complete(test::chat(model, "hi")).content; }
};

fs::path v1() { return test::test_plugin("libswap_v1.so"); }
fs::path v2() { return test::test_plugin("libswap_v2.so"); }

std::string slurp(const fs::path &p) {
  std::ifstream in(p, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

// The three ways a build lands on a plugin file.
void write_in_place(const fs::path &from, const fs::path &to) {
  const std::string bytes = slurp(from);
  std::ofstream out(to, std::ios::binary | std::ios::trunc);
  // Two writes with a pause between: a half-written file must never be loaded.
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size() / 2)).flush();
  std::this_thread::sleep_for(2ms);
  out.write(bytes.data() + bytes.size() / 2, static_cast<std::streamsize>(bytes.size() - bytes.size() / 2));
}
void copy_over(const fs::path &from, const fs::path &to) {
  fs::copy_file(from, to, fs::copy_options::overwrite_existing);
}
void rename_over(const fs::path &from, const fs::path &to) {
  const fs::path tmp = to.parent_path() / (".incoming-" + to.filename().string() + ".part");
  fs::copy_file(from, tmp, fs::copy_options::overwrite_existing);
  fs::rename(tmp, to);
}

// Distinct mapped files whose name contains `part`.
std::set<std::string> mapped(const std::string &part) {
  std::ifstream maps("/proc/self/maps");
  std::set<std::string> files;
  for (std::string line; std::getline(maps, line);) {
    const size_t slash = line.find('/');
    if (slash != std::string::npos && line.find(part, slash) != std::string::npos) files.insert(line.substr(slash));
  }
  return files;
}

// Worker processes (isolated plugins) loading a copy from folder `cache`.
size_t workers_of(const std::string &cache) {
  size_t n = 0;
  for (const auto &proc : fs::directory_iterator("/proc")) {
    std::ifstream in(proc.path() / "cmdline", std::ios::binary);
    const std::string cmdline((std::istreambuf_iterator<char>(in)), {});
    if (cmdline.find("__worker") != std::string::npos && cmdline.find(cache) != std::string::npos) ++n;
  }
  return n;
}

size_t files_in(const fs::path &dir) { return std::distance(fs::directory_iterator(dir), fs::directory_iterator()); }

}  // namespace

TEST_CASE("a new file is loaded, a replaced one swapped, a removed one unregistered") {
  Watched w;
  CHECK(w.host->providers().empty());

  copy_over(v1(), w.file("libswap.so"));
  auto e = w.wait_events(1);
  CHECK(e.kind == Kind::kLoaded);
  CHECK(e.name == "swap");
  CHECK(e.new_version == "1.0.0");
  CHECK(w.answer() == "v1");

  SUBCASE("written in place") { write_in_place(v2(), w.file("libswap.so")); }
  SUBCASE("copied over") { copy_over(v2(), w.file("libswap.so")); }
  SUBCASE("renamed over") { rename_over(v2(), w.file("libswap.so")); }
  e = w.wait_events(2);
  CHECK(e.kind == Kind::kReplaced);
  CHECK(e.old_version == "1.0.0");
  CHECK(e.new_version == "2.0.0");
  CHECK(w.answer() == "v2");
  CHECK(w.host->providers().size() == 1);

  fs::remove(w.file("libswap.so"));
  e = w.wait_events(3);
  CHECK(e.kind == Kind::kRemoved);
  CHECK(e.name == "swap");
  CHECK(w.host->providers().empty());
  try {
    w.answer();
    FAIL("removed provider still answered");
  } catch (const llmhost::Error &err) {
    CHECK(err.status() == 404);
  }
  CHECK(w.host->reload_stats().loaded == 1);
  CHECK(w.host->reload_stats().replaced == 1);
  CHECK(w.host->reload_stats().removed == 1);
}

TEST_CASE("a new build declaring another name: the old name goes, the new one comes") {
  Watched w;
  copy_over(v1(), w.file("libx.so"));
  w.wait_events(1);
  copy_over(test::test_plugin("libdup_a.so"), w.file("libx.so"));
  CHECK(w.wait_events(2).kind == Kind::kReplaced);
  const auto providers = w.host->providers();
  REQUIRE(providers.size() == 1);
  CHECK(providers[0].name == "dup");
  CHECK(w.answer("dup/m") == "dup_a");
}

TEST_CASE("a broken build dropped over a working one: the working one keeps answering") {
  Watched w;
  copy_over(v1(), w.file("libswap.so"));
  w.wait_events(1);
  for (const char *broken : {"not_a_library.so", "libwrong_abi.so", "libcreate_fails.so"}) {
    const size_t before = w.event_count();
    copy_over(test::test_plugin(broken), w.file("libswap.so"));
    const auto e = w.wait_events(before + 1);
    CHECK_MESSAGE(e.kind == Kind::kFailed, broken);
    CHECK(e.old_version == "1.0.0");  // still serving
    CHECK(w.answer() == "v1");
    const auto errors = w.host->load_errors();
    REQUIRE(errors.size() == 1);  // the latest failure for the file, not a pile
    CHECK(errors[0].file == w.file("libswap.so").string());
  }
  CHECK(w.host->reload_stats().failed == 3);
  copy_over(v2(), w.file("libswap.so"));  // a good build clears the error
  CHECK(w.wait_events(w.event_count() + 1).kind == Kind::kReplaced);
  CHECK(w.answer() == "v2");
  CHECK(w.host->load_errors().empty());
}

TEST_CASE("reload() rescans on demand without a watcher") {
  Watched w(/*watch=*/false);
  copy_over(v1(), w.file("libswap.so"));
  std::this_thread::sleep_for(50ms);
  CHECK(w.event_count() == 0);  // nobody watching
  w.host->reload();
  CHECK(w.answer() == "v1");
  w.host->reload();  // nothing changed: nothing happens
  CHECK(w.event_count() == 1);
  copy_over(v2(), w.file("libswap.so"));
  w.host->reload();
  CHECK(w.answer() == "v2");
  fs::remove(w.file("libswap.so"));
  w.host->reload();
  CHECK(w.host->providers().empty());
  CHECK(w.event_count() == 3);
}

TEST_CASE("a stream in flight finishes on the build it started on") {
  Watched w;
  copy_over(v1(), w.file("libswap.so"));
  w.wait_events(1);
  std::string streamed;
  w.host->stream(test::chat("swap/m", "hi"), [&](const llmhost::Chunk &c) {
    if (streamed.empty() && !c.content.empty()) {
      copy_over(v2(), w.file("libswap.so"));  // swap while this stream is open
      w.wait_events(2);
    }
    streamed.append(c.content);
    return true;
  });
  CHECK(streamed == "v1");
  CHECK(w.answer() == "v2");
}

TEST_CASE("stress: 200 swaps under 8 threads of calls and streams, zero failures, no leftovers") {
  Watched w;
  copy_over(v1(), w.file("libswap.so"));
  w.wait_events(1);

  std::atomic<bool> done{false};
  std::atomic<int> calls{0}, failures{0}, mixed{0};
  std::vector<std::thread> callers;
  for (int t = 0; t < 8; ++t)
    callers.emplace_back([&, t] {
      while (!done) {
        try {
          std::string got;
          if (t % 2) {
            got = w.answer();
          } else {
            w.host->stream(test::chat("swap/m", "hi"), [&](const llmhost::Chunk &c) {
              got.append(c.content);
              return true;
            });
          }
          if (got != "v1" && got != "v2") ++mixed;
        } catch (const std::exception &e) {
          ++failures;
          MESSAGE("call failed: " << e.what());
        }
        ++calls;
      }
    });

  void (*const writers[])(const fs::path &, const fs::path &) = {write_in_place, copy_over, rename_over};
  for (int i = 0; i < 200; ++i) {
    const size_t before = w.event_count();
    writers[i % 3](i % 2 ? v1() : v2(), w.file("libswap.so"));
    const auto e = w.wait_events(before + 1);
    REQUIRE_MESSAGE(e.kind == Kind::kReplaced, "swap " << i << ": " << e.message);
  }
  done = true;
  for (auto &t : callers) t.join();

  CHECK(failures == 0);
  CHECK(mixed == 0);
  CHECK(calls > 200);
  CHECK(w.host->reload_stats().replaced == 200);
  CHECK(w.host->reload_stats().failed == 0);
  CHECK(w.answer() == "v1");  // the 200th write was v1
  if (test::isolated()) {
    // Every old generation's worker has exited: one runs, and the one file left in the cache
    // folder is its copy to restart from. Nothing of the plugin is mapped here.
    CHECK(mapped(w.cache_dir().string()).empty());
    CHECK(w.host->workers().size() == 1);
    CHECK(workers_of(w.cache_dir().string()) == 1);
    CHECK(files_in(w.cache_dir()) == 1);
  } else {
    // Every old generation was unloaded: one copy of the library is mapped, and the cache
    // folder holds no files (copies are unlinked once mapped).
    CHECK(mapped(w.cache_dir().string()).size() == 1);
    CHECK(fs::is_empty(w.cache_dir()));
  }
}

TEST_CASE("the cache folder is removed with the Host") {
  fs::path cache;
  {
    Watched w(false);
    cache = w.cache_dir();
    CHECK(fs::exists(cache));
  }
  CHECK(!fs::exists(cache));
}
