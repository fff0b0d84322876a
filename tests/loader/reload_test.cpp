// Hot reload through real files and real builds: two builds of the "swap" provider answer "v1"
// and "v2", landed on a plugin folder in every way an operator does it (support/plugin_swaps).
#include <doctest/doctest.h>

#include <atomic>
#include <condition_variable>
#include <fstream>
#include <future>
#include <iterator>
#include <set>
#include <thread>

#include "plugin_swaps.hpp"
#include "support.hpp"

using namespace std::chrono_literals;
using Kind = llmhost::ReloadEvent::Kind;
using test::Swap;
namespace fs = std::filesystem;

namespace {

// A watching Host over one scratch plugin folder (reached through a link, which a folder swap
// re-points), recording every reload event.
struct Watched {
  test::SwapFolder folder;
  test::TempDir cache_parent;
  std::mutex mu;
  std::condition_variable cv;
  std::vector<llmhost::ReloadEvent> events;
  std::function<void(const llmhost::ReloadEvent &)> on_event;  // also told, under `mu`
  std::unique_ptr<llmhost::Host> host;

  explicit Watched(bool watch = true, std::chrono::milliseconds removal_grace = 2s) {
    llmhost::HostOptions o = test::options_for({folder.dir()});
    o.watch = watch;
    o.removal_grace = removal_grace;
    o.cache_dir = cache_dir();
    o.on_reload = [this](const llmhost::ReloadEvent &e) {
      std::lock_guard lock(mu);
      events.push_back(e);
      if (on_event) on_event(e);
      cv.notify_all();
    };
    host = std::make_unique<llmhost::Host>(std::move(o));
  }
  fs::path cache_dir() const { return cache_parent.path() / "cache"; }
  fs::path file(const std::string &name) const { return folder.file(name); }

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
  // Waits for the first event of `kind` after the first `after` events; returns it.
  llmhost::ReloadEvent wait_for(Kind kind, size_t after) {
    std::unique_lock lock(mu);
    size_t seen = after;
    const bool came = cv.wait_for(lock, 10s, [&] {
      for (; seen < events.size(); ++seen)
        if (events[seen].kind == kind) return true;
      return false;
    });
    REQUIRE_MESSAGE(came, "no " << llmhost::to_string(kind) << " event came");
    return events[seen];
  }
  std::string answer(const std::string &model = "swap/m") { return host->complete(test::chat(model, "hi")).content; }
};

fs::path v1() { return test::test_plugin("libswap_v1.so"); }
fs::path v2() { return test::test_plugin("libswap_v2.so"); }

void copy_over(const fs::path &from, const fs::path &to) {
  fs::copy_file(from, to, fs::copy_options::overwrite_existing);
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

TEST_CASE("a new file is loaded, a replaced one swapped, a removed one unregistered after its grace") {
  Watched w(true, 300ms);
  CHECK(w.host->providers().empty());

  copy_over(v1(), w.file("libswap.so"));
  auto e = w.wait_events(1);
  CHECK(e.kind == Kind::kLoaded);
  CHECK(e.name == "swap");
  CHECK(e.new_version == "1.0.0");
  CHECK(w.answer() == "v1");

  for (const Swap swap : test::kEverySwap) {
    CAPTURE(test::to_string(swap));
    const size_t before = w.event_count();
    const bool to_v2 = w.answer() == "v1";
    w.folder.land(swap, to_v2 ? v2() : v1(), "libswap.so");
    e = w.wait_for(Kind::kReplaced, before);
    CHECK(e.old_version == (to_v2 ? "1.0.0" : "2.0.0"));
    CHECK(e.new_version == (to_v2 ? "2.0.0" : "1.0.0"));
    CHECK(w.answer() == (to_v2 ? "v2" : "v1"));
    CHECK(w.host->providers().size() == 1);
  }

  // Told while the removal timer waits on it: the provider is certainly still registered.
  std::string answered_when_gone;
  w.on_event = [&](const llmhost::ReloadEvent &ev) {
    if (ev.kind == Kind::kGone) answered_when_gone = w.answer();
  };
  const size_t before = w.event_count();
  fs::remove(w.file("libswap.so"));
  e = w.wait_events(before + 1);
  CHECK(e.kind == Kind::kGone);
  CHECK(e.name == "swap");
  CHECK(e.message == "the file is gone; the provider keeps serving for 0.3 s unless a build of it arrives");
  e = w.wait_events(before + 2);
  CHECK(e.kind == Kind::kRemoved);
  CHECK(e.name == "swap");
  CHECK(w.host->providers().empty());
  CHECK(test::error_of([&] { w.answer(); }).status() == 404);
  {
    std::lock_guard lock(w.mu);
    CHECK(answered_when_gone == "v1");  // the 6th swap landed v1
  }
  const llmhost::ReloadStats stats = w.host->reload_stats();
  CHECK(stats.loaded == 1);
  CHECK(stats.replaced == 6);
  CHECK(stats.removed == 1);
  CHECK(stats.failed == 0);
}

TEST_CASE("a file renamed away and back, or renamed to another plugin file, keeps its provider serving") {
  Watched w(true, 300ms);
  copy_over(v1(), w.file("libswap.so"));
  w.wait_events(1);

  SUBCASE("renamed away and back") {
    w.folder.rename_away_and_back("libswap.so", 100ms);
    CHECK(w.wait_events(2).kind == Kind::kGone);
    w.host->reload();                 // a rescan during the grace changes nothing
    std::this_thread::sleep_for(1s);  // past the grace: no removal may follow
    CHECK(w.event_count() == 2);
    CHECK(w.answer() == "v1");
    CHECK(w.host->providers().at(0).file == w.file("libswap.so").string());
  }
  SUBCASE("renamed to another plugin file: that file's build takes the provider over") {
    fs::rename(w.file("libswap.so"), w.file("libswap-1.so"));
    const auto e = w.wait_for(Kind::kReplaced, 1);
    CHECK(e.file == w.file("libswap-1.so").string());
    CHECK(e.old_version == "1.0.0");
    CHECK(w.answer() == "v1");
    CHECK(w.host->providers().at(0).file == w.file("libswap-1.so").string());
    std::this_thread::sleep_for(1s);  // past the grace
    CHECK(w.host->reload_stats().removed == 0);
    CHECK(w.host->load_errors().empty());
  }
}

TEST_CASE("hidden files and files without the plugin suffix are never loaded") {
  Watched w;
  copy_over(v1(), w.file(".libswap.so"));
  copy_over(v1(), w.file("libswap.so.part"));
  copy_over(v1(), w.file("libswap"));
  copy_over(v2(), w.file("libswap.so"));  // the one plugin: its event comes after the others'
  const auto e = w.wait_events(1);
  CHECK(e.kind == Kind::kLoaded);
  CHECK(e.file == w.file("libswap.so").string());
  w.host->reload();  // the folder scan ignores them too
  CHECK(w.event_count() == 1);
  CHECK(w.host->load_errors().empty());
  CHECK(w.answer() == "v2");
}

TEST_CASE("a folder swapped behind its link reloads only the builds that changed") {
  Watched w;
  copy_over(v1(), w.file("libswap.so"));
  copy_over(test::test_plugin("libdup_a.so"), w.file("libdup.so"));
  w.wait_events(2);
  w.folder.land(Swap::kFolderSwap, v2(), "libswap.so");  // libdup.so is copied across unchanged
  const auto e = w.wait_for(Kind::kReplaced, 2);
  CHECK(e.file == w.file("libswap.so").string());
  CHECK(w.answer() == "v2");
  CHECK(w.answer("dup/m") == "dup_a");
  CHECK(w.event_count() == 3);            // nothing for libdup.so, rescanned before libswap.so: the same bytes
  copy_over(v1(), w.file("libswap.so"));  // the new folder is watched
  CHECK(w.wait_for(Kind::kReplaced, 3).new_version == "1.0.0");
}

TEST_CASE("a link inside the folder re-pointed, as Kubernetes volumes do (..data), reloads the files through it") {
  Watched w;
  const fs::path d = w.folder.dir();
  fs::create_directory(d / "..v1");
  copy_over(v1(), d / "..v1" / "libswap.so");
  fs::create_directory_symlink("..v1", d / "..data");
  fs::create_symlink("..data/libswap.so", d / "libswap.so");
  CHECK(w.wait_events(1).kind == Kind::kLoaded);
  CHECK(w.answer() == "v1");

  fs::create_directory(d / "..v2");
  copy_over(v2(), d / "..v2" / "libswap.so");
  fs::create_directory_symlink("..v2", d / "..data_tmp");
  fs::rename(d / "..data_tmp", d / "..data");
  fs::remove_all(d / "..v1");
  CHECK(w.wait_for(Kind::kReplaced, 1).new_version == "2.0.0");
  CHECK(w.answer() == "v2");
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

TEST_CASE("a build that arrives by reload is trust-checked: world-writable, it is refused and the old one serves") {
  Watched w;
  copy_over(v1(), w.file("libswap.so"));
  w.wait_events(1);
  // Written world-writable, then closed: what the watcher reports is a file anyone could change.
  const fs::path incoming = w.folder.dir() / "libswap.so";
  {
    std::ofstream out(incoming, std::ios::binary | std::ios::trunc);
    std::ifstream in(v2(), std::ios::binary);
    out << in.rdbuf();
    out.flush();
    fs::permissions(incoming, fs::perms::others_write, fs::perm_options::add);
  }
  const auto e = w.wait_for(Kind::kFailed, 1);
  CHECK(e.message.find("world-writable") != std::string::npos);
  CHECK(e.old_version == "1.0.0");
  CHECK(w.answer() == "v1");
  const auto errors = w.host->load_errors();
  REQUIRE(errors.size() == 1);
  CHECK(errors[0].kind == llmhost::LoadErrorKind::kUntrusted);
}

TEST_CASE("reload() rescans on demand without a watcher") {
  Watched w(/*watch=*/false, 100ms);
  {
    // A watching Host on the same folder: once it has loaded the file, a watcher would have.
    llmhost::HostOptions o = test::options_for({w.folder.dir()});
    o.watch = true;
    std::promise<void> seen;
    std::atomic<bool> told{false};
    o.on_reload = [&](const llmhost::ReloadEvent &) {
      if (!told.exchange(true)) seen.set_value();
    };
    llmhost::Host watching(std::move(o));
    copy_over(v1(), w.file("libswap.so"));
    REQUIRE(seen.get_future().wait_for(10s) == std::future_status::ready);
  }
  CHECK(w.event_count() == 0);  // nobody watching here
  CHECK(w.host->providers().empty());
  w.host->reload();
  CHECK(w.answer() == "v1");
  w.host->reload();  // nothing changed: nothing happens
  CHECK(w.event_count() == 1);
  copy_over(v2(), w.file("libswap.so"));
  w.host->reload();
  CHECK(w.answer() == "v2");
  fs::remove(w.file("libswap.so"));
  w.host->reload();
  CHECK(w.wait_events(3).kind == Kind::kGone);
  CHECK(w.wait_events(4).kind == Kind::kRemoved);  // the grace ends with no watcher too
  CHECK(w.host->providers().empty());
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

TEST_CASE("stress: 200 swaps, every way, under 8 threads of calls and streams: zero failures, no leftovers") {
  // The default grace: "rm + cp" runs two processes between the removal and the new file, and
  // on a loaded machine (a fresh clone's suite beside a TSan run) that once took over 500 ms.
  constexpr auto kGrace = 2s;
  Watched w(true, kGrace);
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
          MESSAGE("call failed: " << std::string(e.what()));
        }
        ++calls;
      }
    });
  // A failed REQUIRE below leaves through here: stop and join the callers, so that it is
  // reported rather than ending the process with std::terminate.
  const auto stop_callers = [&] {
    done = true;
    for (auto &t : callers)
      if (t.joinable()) t.join();
  };
  struct AtExit {
    const decltype(stop_callers) &fn;
    ~AtExit() { fn(); }
  } at_exit{stop_callers};

  const size_t kinds = std::size(test::kEverySwap);
  for (size_t i = 0; i < 200; ++i) {
    const Swap swap = test::kEverySwap[i % kinds];
    CAPTURE(i);
    CAPTURE(test::to_string(swap));
    const size_t before = w.event_count();
    w.folder.land(swap, i % 2 ? v1() : v2(), "libswap.so");
    const auto e = w.wait_for(Kind::kReplaced, before);
    REQUIRE(e.new_version == (i % 2 ? "1.0.0" : "2.0.0"));
    if (i % kinds == kinds - 1) w.folder.rename_away_and_back("libswap.so", 20ms);
  }
  std::this_thread::sleep_for(kGrace + 500ms);  // the last grace ends: nothing may have been removed
  stop_callers();

  CHECK(failures == 0);
  CHECK(mixed == 0);
  CHECK(calls > 200);
  const llmhost::ReloadStats stats = w.host->reload_stats();
  {
    std::lock_guard lock(w.mu);
    for (const auto &e : w.events)
      if (e.kind == Kind::kFailed) MESSAGE("a load failed: " << e.message);
  }
  CHECK(stats.replaced == 200);
  // A copy can still catch a writer that began after the watcher's last look and that paused
  // (write in place pauses midway) long enough to look settled: a load that fails harmlessly,
  // the old build serving until the close brings the whole one. Rare; named above when it is.
  WARN(stats.failed == 0);
  CHECK(stats.removed == 0);
  MESSAGE("calls: " << calls.load() << ", files gone for a moment: " << stats.gone);
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
