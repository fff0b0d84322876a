#include "support.hpp"

#include "dispatch/abi_call.hpp"
#include "dispatch/request_body.hpp"

#include <fcntl.h>
#include <poll.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cstring>
#include <stdexcept>

extern char **environ;

namespace test {

TempDir::TempDir() {
  static std::atomic<int> counter{0};
  path_ = fs::temp_directory_path() /
          ("llmhost-test-" + std::to_string(::getpid()) + "-" + std::to_string(counter.fetch_add(1)));
  fs::remove_all(path_);
  fs::create_directories(path_);
}

TempDir::~TempDir() {
  std::error_code ec;
  fs::remove_all(path_, ec);
}

fs::path TempDir::add(const fs::path &file, const std::string &as) const {
  const fs::path to = path_ / (as.empty() ? file.filename().string() : as);
  fs::copy_file(file, to, fs::copy_options::overwrite_existing);
  return to;
}

bool isolated() {
  const char *mode = std::getenv("LLMHOST_TEST_ISOLATION");
  llmhost::Isolation i = llmhost::Isolation::kInProcess;
  if (mode && !llmhost::parse_isolation(mode, i)) FAIL("LLMHOST_TEST_ISOLATION must be process or in_process");
  return i == llmhost::Isolation::kProcess;
}

llmhost::HostOptions options_for(std::vector<fs::path> dirs) {
  llmhost::HostOptions o;
  o.plugin_dirs = std::move(dirs);
  o.log = [](int, std::string_view, std::string_view) {};  // tests assert on load_errors()
  if (isolated()) {
    o.isolation.mode = llmhost::Isolation::kProcess;
    o.workers.executable = cli();
  }
  return o;
}

llmhost::Request chat(const std::string &model, const std::string &prompt, const std::string &extra_json) {
  llmhost::Request r;
  r.model = model;
  r.messages.push_back({"user", prompt, {}, {}, {}});
  r.extra_json = extra_json;
  return r;
}

pid_t spawn(const std::vector<std::string> &argv, const std::vector<std::string> &env, int out_fd, int err_fd) {
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, out_fd, 1);
  posix_spawn_file_actions_adddup2(&actions, err_fd, 2);
  std::vector<std::string> env_strings;
  for (char **e = environ; *e; ++e) env_strings.emplace_back(*e);
  for (const std::string &e : env) env_strings.push_back(e);
  std::vector<char *> envp, args;
  for (auto &e : env_strings) envp.push_back(e.data());
  envp.push_back(nullptr);
  std::vector<std::string> argv_copy = argv;
  for (auto &a : argv_copy) args.push_back(a.data());
  args.push_back(nullptr);
  pid_t pid;
  const int rc = posix_spawn(&pid, args[0], &actions, nullptr, args.data(), envp.data());
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) throw std::runtime_error("posix_spawn " + argv[0] + ": " + std::strerror(rc));
  return pid;
}

RunResult run(const std::vector<std::string> &argv, const std::vector<std::string> &env) {
  int out_pipe[2], err_pipe[2];
  if (::pipe2(out_pipe, O_CLOEXEC) != 0 || ::pipe2(err_pipe, O_CLOEXEC) != 0) throw std::runtime_error("pipe failed");
  pid_t pid;
  try {
    pid = spawn(argv, env, out_pipe[1], err_pipe[1]);
  } catch (...) {
    for (int fd : {out_pipe[0], out_pipe[1], err_pipe[0], err_pipe[1]}) ::close(fd);
    throw;
  }
  ::close(out_pipe[1]);
  ::close(err_pipe[1]);
  RunResult result;
  pollfd fds[2] = {{out_pipe[0], POLLIN, 0}, {err_pipe[0], POLLIN, 0}};
  std::string *sinks[2] = {&result.out, &result.err};
  int open_fds = 2;
  while (open_fds > 0) {
    if (::poll(fds, 2, -1) < 0) {
      if (errno == EINTR) continue;
      break;
    }
    for (int i = 0; i < 2; ++i) {
      if (fds[i].fd < 0 || !(fds[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
      char buf[4096];
      const ssize_t n = ::read(fds[i].fd, buf, sizeof buf);
      if (n > 0) {
        sinks[i]->append(buf, static_cast<size_t>(n));
      } else {
        ::close(fds[i].fd);
        fds[i].fd = -1;
        --open_fds;
      }
    }
  }
  int status = 0;
  ::waitpid(pid, &status, 0);
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return result;
}

std::string call_payload(llmhost::isolation::CallKind kind, std::string_view model, const llmhost::Request &request) {
  std::string storage, payload;
  const llmhost::detail::Body body = llmhost::detail::request_body(request, storage);
  const llmhost::detail::CRequest c(request, model, body, true);
  llmhost::isolation::encode_call(payload, kind, *c.get(), body.checked);
  return payload;
}

}  // namespace test
