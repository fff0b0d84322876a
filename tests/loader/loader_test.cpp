// The loader through real plugin files: every refusal names the file and the cause, and a bad
// file never stops the others from loading.
#include <doctest/doctest.h>

#include <unistd.h>

#include <fstream>

#include "llmhost/provider.h"

#include "support.hpp"

using llmhost::LoadErrorKind;
using test::TempDir;

namespace {

llmhost::LoadError check_fails(const std::string &file) {
  try {
    llmhost::Host::check(test::test_plugin(file));
  } catch (const llmhost::LoadException &e) {
    CHECK(e.error().message.find(file) != std::string::npos);  // names the file
    return e.error();
  }
  FAIL("check() accepted " << file);
  return {};
}

bool contains(const std::string &s, const std::string &part) { return s.find(part) != std::string::npos; }

}  // namespace

TEST_CASE("check accepts the bundled plugins and describes them") {
  const auto echo = llmhost::Host::check(test::bundled_plugins() / "libecho.so");
  CHECK(echo.name == "echo");
  CHECK(echo.abi_major == LLMH_ABI_VERSION_MAJOR);
  // The descriptor's calls, and those of the extension tables it offers.
  CHECK(echo.capabilities ==
        (llmhost::kComplete | llmhost::kStream | llmhost::kEmbed | llmhost::kCompleteText | llmhost::kStreamText |
         llmhost::kRerank | llmhost::kGenerateImages | llmhost::kEditImages));
  const auto cecho = llmhost::Host::check(test::bundled_plugins() / "libcecho.so");
  CHECK(cecho.name == "cecho");
  CHECK((cecho.capabilities & llmhost::kEmbed) == 0);
  CHECK((cecho.capabilities & (llmhost::kCompleteText | llmhost::kRerank)) == 0);  // a C plugin without the extensions
}

TEST_CASE("each broken plugin is refused with a typed error naming the cause") {
  SUBCASE("not a shared library") {
    auto e = check_fails("not_a_library.so");
    CHECK(e.kind == LoadErrorKind::kNotSharedLibrary);
    CHECK(contains(e.message, "not a loadable shared library"));
  }
  SUBCASE("no entry symbol") {
    auto e = check_fails("libno_entry.so");
    CHECK(e.kind == LoadErrorKind::kMissingEntry);
    CHECK(contains(e.message, "llmh_provider_entry"));
  }
  SUBCASE("another ABI major version") {
    auto e = check_fails("libwrong_abi.so");
    CHECK(e.kind == LoadErrorKind::kAbiMismatch);
    CHECK(contains(e.message, "ABI 99."));                                              // the plugin's version
    CHECK(contains(e.message, "ABI " + std::to_string(LLMH_ABI_VERSION_MAJOR) + "."));  // and ours
  }
  SUBCASE("empty name") {
    auto e = check_fails("libempty_name.so");
    CHECK(e.kind == LoadErrorKind::kInvalidName);
    CHECK(contains(e.message, "empty"));
  }
  SUBCASE("an async call table without its function") {
    auto e = check_fails("libbad_async.so");
    CHECK(e.kind == LoadErrorKind::kInvalidDescriptor);
    CHECK(contains(e.message, "llmhost.async.v1 table has a NULL complete_async"));
  }
  SUBCASE("an asynchronous stream without the stream capability") {
    auto e = check_fails("libbad_async_stream.so");
    CHECK(e.kind == LoadErrorKind::kInvalidDescriptor);
    CHECK(contains(e.message, "stream_async but the plugin does not declare LLMH_CAP_STREAM"));
  }
  SUBCASE("NULL name") {
    auto e = check_fails("libnull_name.so");
    CHECK(e.kind == LoadErrorKind::kInvalidName);
    CHECK(contains(e.message, "NULL"));
  }
  SUBCASE("malformed name") {
    auto e = check_fails("libbad_name.so");
    CHECK(e.kind == LoadErrorKind::kInvalidName);
    CHECK(contains(e.message, "Bad Name!"));
  }
  SUBCASE("create fails") {
    auto e = check_fails("libcreate_fails.so");
    CHECK(e.kind == LoadErrorKind::kCreateFailed);
    CHECK(contains(e.message, "503"));
    CHECK(contains(e.message, "backend not configured"));
  }
  SUBCASE("missing file") {
    auto e = check_fails("no_such_plugin.so");
    CHECK(e.kind == LoadErrorKind::kNotFound);
  }
}

TEST_CASE("a plugin file cut short, as one caught mid-write, is refused as truncated; the host lives on") {
  // dlopen would map the missing tail and fault (SIGBUS) on touching it: the whole host gone.
  TempDir dir;
  std::string bytes;
  {
    std::ifstream in(test::test_plugin("libswap_v1.so"), std::ios::binary);
    bytes.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  }
  for (const size_t keep : {bytes.size() / 2, bytes.size() - 1, size_t{100}}) {
    CAPTURE(keep);
    const auto cut = dir.path() / ("libcut" + std::to_string(keep) + ".so");
    std::ofstream(cut, std::ios::binary).write(bytes.data(), static_cast<std::streamsize>(keep));
    try {
      llmhost::Host::check(cut);
      FAIL("check() accepted a file cut to " << keep << " bytes");
    } catch (const llmhost::LoadException &e) {
      CHECK(e.error().kind == llmhost::LoadErrorKind::kNotSharedLibrary);
      CHECK(contains(e.error().message, cut.string()));
      CHECK(contains(e.error().message, "truncated: " + std::to_string(keep) + " bytes where its ELF headers need "));
    }
  }
  CHECK(llmhost::Host::check(test::test_plugin("libswap_v1.so")).name == "swap");  // the whole file loads
}

TEST_CASE("a folder with broken plugins still loads every good one") {
  TempDir dir;
  for (const char *f :
       {"not_a_library.so", "libno_entry.so", "libwrong_abi.so", "libempty_name.so", "libcreate_fails.so"})
    dir.add(test::test_plugin(f));
  dir.add(test::bundled_plugins() / "libecho.so");
  dir.add(test::bundled_plugins() / "libcecho.so");
  std::ofstream(dir.path() / "README.txt") << "not a plugin, and not named like one\n";

  llmhost::Host host(test::options_for({dir.path()}));
  const auto providers = host.providers();
  REQUIRE(providers.size() == 2);
  CHECK(providers[0].name == "cecho");
  CHECK(providers[1].name == "echo");
  CHECK(host.load_errors().size() == 5);  // README.txt is not a plugin file: no error for it
  CHECK(host.complete(test::chat("echo/x", "still here")).content == "still here");
}

TEST_CASE("a duplicate provider name: the first file in path order serves, the second is refused") {
  TempDir dir;
  dir.add(test::test_plugin("libdup_a.so"));
  dir.add(test::test_plugin("libdup_b.so"));
  llmhost::Host host(test::options_for({dir.path()}));
  REQUIRE(host.providers().size() == 1);
  CHECK(host.providers()[0].file == (dir.path() / "libdup_a.so").string());
  const auto errors = host.load_errors();
  REQUIRE(errors.size() == 1);
  CHECK(errors[0].kind == LoadErrorKind::kDuplicateName);
  CHECK(contains(errors[0].message, "libdup_a.so"));  // names both files
  CHECK(contains(errors[0].message, "libdup_b.so"));
  CHECK(host.complete(test::chat("dup/m", "hi")).content == "dup_a");
}

TEST_CASE("a missing plugin folder is reported, not fatal") {
  TempDir dir;
  llmhost::Host host(test::options_for({dir.path() / "nope", test::bundled_plugins()}));
  CHECK(host.complete(test::chat("echo/x", "served")).content == "served");
  REQUIRE(host.load_errors().size() == 1);
  CHECK(host.load_errors()[0].kind == LoadErrorKind::kNotFound);
  CHECK(contains(host.load_errors()[0].message, "nope"));
}

TEST_CASE("a plugin with its own thread is destroyed and unloaded cleanly") {
  TempDir dir;
  dir.add(test::test_plugin("libthreaded.so"));
  auto mapped = [&] {
    std::ifstream maps("/proc/self/maps");
    std::string line;
    int n = 0;
    while (std::getline(maps, line)) n += contains(line, "libthreaded.so");  // a private copy's mapping
    return n;
  };
  {
    llmhost::Host host(test::options_for({dir.path()}));
    CHECK(host.complete(test::chat("threaded/m", "hi")).content == "threaded");
    CHECK(mapped() > 0);
  }
  CHECK(mapped() == 0);  // destroy joined its thread and dlclose really unmapped it
}

TEST_CASE("plugin trust: world-writable or foreign-owned files and folders are refused") {
  namespace fs = std::filesystem;
  TempDir dir;
  const auto echo = dir.add(test::bundled_plugins() / "libecho.so");
  auto only_error = [&](bool allow) {
    llmhost::HostOptions o = test::options_for({dir.path()});
    o.allow_untrusted_plugins = allow;
    llmhost::Host host(o);
    const auto errors = host.load_errors();
    if (allow) CHECK(host.providers().size() == 1);
    return errors.empty() ? llmhost::LoadError{} : errors[0];
  };

  SUBCASE("a world-writable file") {
    fs::permissions(echo, fs::perms::others_write, fs::perm_options::add);
    const auto e = only_error(false);
    CHECK(e.kind == LoadErrorKind::kUntrusted);
    CHECK(contains(e.message, "file " + echo.string()));
    CHECK(contains(e.message, "world-writable"));
    CHECK_THROWS_AS(llmhost::Host::check(echo), llmhost::LoadException);
    CHECK(llmhost::Host::check(echo, /*allow_untrusted=*/true).name == "echo");
    CHECK(only_error(true).message.empty());
  }
  SUBCASE("a world-writable folder") {
    fs::permissions(dir.path(), fs::perms::others_write, fs::perm_options::add);
    const auto e = only_error(false);
    CHECK(e.kind == LoadErrorKind::kUntrusted);
    CHECK(contains(e.message, "folder " + dir.path().string()));
    CHECK(only_error(true).message.empty());
  }
  SUBCASE("a file owned by another user") {
    if (::geteuid() != 0) {
      MESSAGE("not root: cannot chown a file to another user; skipped");
      return;
    }
    REQUIRE(::chown(echo.c_str(), 65534, 65534) == 0);
    const auto e = only_error(false);
    CHECK(e.kind == LoadErrorKind::kUntrusted);
    CHECK(contains(e.message, "owned by uid 65534"));
    CHECK(only_error(true).message.empty());
  }
}
