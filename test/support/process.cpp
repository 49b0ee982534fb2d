// GCC 12 reports a false -Wmaybe-uninitialized inside libstdc++'s regex compiler at -O1 with
// sanitizers (the asan preset); this file is where the support library builds std::regex
// objects, so the warning is silenced for this file only.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif

#include "test/support/process.hpp"

#include <fcntl.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <stdexcept>
#include <system_error>

extern char** environ;

namespace parallax::test {
namespace {

using clock = std::chrono::steady_clock;

// argv[0] itself if it names a path, else the first executable of that name in $PATH.
std::string resolve_program(const std::string& name) {
  if (name.find('/') != std::string::npos) return name;
  const char* path = std::getenv("PATH");
  std::string_view dirs = path != nullptr ? path : "/usr/local/bin:/usr/bin:/bin";
  while (!dirs.empty()) {
    const auto colon = dirs.find(':');
    std::string candidate(dirs.substr(0, colon));
    if (candidate.empty()) candidate = ".";
    candidate += '/';
    candidate += name;
    if (::access(candidate.c_str(), X_OK) == 0) return candidate;
    if (colon == std::string_view::npos) break;
    dirs.remove_prefix(colon + 1);
  }
  return name;
}

void close_fd(int& fd) {
  if (fd >= 0) ::close(fd);
  fd = -1;
}

void make_pipe(int fds[2]) {
  if (::pipe2(fds, O_CLOEXEC) != 0)
    throw std::system_error(errno, std::generic_category(), "pipe2");
}

} // namespace

child_process::child_process(std::vector<std::string> argv,
                             std::vector<std::pair<std::string, std::string>> extra_env) {
  if (argv.empty()) throw std::invalid_argument("child_process needs a program");
  // Everything the child needs is built before fork(): between fork and exec only
  // async-signal-safe calls are allowed, since other threads may hold the malloc lock.
  const std::string program = resolve_program(argv[0]);
  std::vector<std::string> env;
  for (char** entry = environ; entry != nullptr && *entry != nullptr; ++entry) {
    const std::string_view text(*entry);
    const auto name = text.substr(0, text.find('='));
    const bool overridden = std::any_of(extra_env.begin(), extra_env.end(),
                                        [&](const auto& pair) { return pair.first == name; });
    if (!overridden) env.emplace_back(text);
  }
  for (const auto& [name, value] : extra_env) {
    std::string entry = name;
    entry.append("=").append(value);
    env.push_back(std::move(entry));
  }
  std::vector<char*> argv_pointers;
  argv_pointers.reserve(argv.size() + 1);
  for (auto& arg : argv)
    argv_pointers.push_back(arg.data());
  argv_pointers.push_back(nullptr);
  std::vector<char*> env_pointers;
  env_pointers.reserve(env.size() + 1);
  for (auto& entry : env)
    env_pointers.push_back(entry.data());
  env_pointers.push_back(nullptr);

  int out[2] = {-1, -1};
  int err[2] = {-1, -1};
  int exec_error[2] = {-1, -1};
  auto close_all = [&] {
    for (int* fd : {&out[0], &out[1], &err[0], &err[1], &exec_error[0], &exec_error[1]})
      close_fd(*fd);
  };
  int dev_null = -1;
  try {
    make_pipe(out);
    make_pipe(err);
    make_pipe(exec_error);
    dev_null = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
    if (dev_null < 0) throw std::system_error(errno, std::generic_category(), "/dev/null");
    stop_fd_ = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (stop_fd_ < 0) throw std::system_error(errno, std::generic_category(), "eventfd");
  } catch (...) {
    close_all();
    close_fd(dev_null);
    close_fd(stop_fd_);
    throw;
  }

  const pid_t parent = ::getpid();
  pid_ = ::fork();
  if (pid_ < 0) {
    const int saved = errno;
    close_all();
    close_fd(dev_null);
    close_fd(stop_fd_);
    throw std::system_error(saved, std::generic_category(), "fork");
  }
  if (pid_ == 0) {
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != parent) ::_exit(127);
    ::dup2(dev_null, STDIN_FILENO);
    ::dup2(out[1], STDOUT_FILENO);
    ::dup2(err[1], STDERR_FILENO);
    // The test process ignores SIGPIPE and may block signals in threads; the child must not
    // inherit either.
    struct sigaction default_action {};
    default_action.sa_handler = SIG_DFL;
    ::sigaction(SIGPIPE, &default_action, nullptr);
    sigset_t none;
    ::sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    ::execve(program.c_str(), argv_pointers.data(), env_pointers.data());
    const int code = errno;
    [[maybe_unused]] const auto written = ::write(exec_error[1], &code, sizeof code);
    ::_exit(127);
  }

  close_fd(out[1]);
  close_fd(err[1]);
  close_fd(exec_error[1]);
  close_fd(dev_null);
  // Returns 0 bytes once exec succeeded (the pipe is close-on-exec), or the child's errno.
  int exec_errno = 0;
  ssize_t got;
  do {
    got = ::read(exec_error[0], &exec_errno, sizeof exec_errno);
  } while (got < 0 && errno == EINTR);
  close_fd(exec_error[0]);
  if (got == static_cast<ssize_t>(sizeof exec_errno)) {
    reap(true);
    close_fd(out[0]);
    close_fd(err[0]);
    close_fd(stop_fd_);
    throw std::system_error(exec_errno, std::generic_category(), "exec " + program);
  }
  stdout_fd_ = out[0];
  stderr_fd_ = err[0];
  pidfd_ = static_cast<int>(::syscall(SYS_pidfd_open, pid_, 0));
  reader_ = std::thread([this] { read_output(); });
}

child_process::~child_process() {
  if (!reap(false)) {
    ::kill(pid_, SIGKILL);
    reap(true);
  }
  {
    // The pipes reach EOF when the child is gone, unless it left descendants holding them;
    // bound the wait for the reader to drain, then tell it to stop.
    std::unique_lock lock(mutex_);
    output_changed_.wait_for(lock, std::chrono::seconds(2), [&] { return output_closed_; });
  }
  const std::uint64_t one = 1;
  [[maybe_unused]] const auto written = ::write(stop_fd_, &one, sizeof one);
  if (reader_.joinable()) reader_.join();
  close_fd(stdout_fd_);
  close_fd(stderr_fd_);
  close_fd(stop_fd_);
  close_fd(pidfd_);
}

void child_process::read_output() {
  pollfd fds[3] = {{stdout_fd_, POLLIN, 0}, {stderr_fd_, POLLIN, 0}, {stop_fd_, POLLIN, 0}};
  std::string partial[2];
  const output_stream streams[2] = {output_stream::stdout_stream, output_stream::stderr_stream};
  int open_pipes = 2;
  char buffer[16 * 1024];
  while (open_pipes > 0) {
    if (::poll(fds, 3, -1) < 0) {
      if (errno == EINTR) continue;
      break;
    }
    if (fds[2].revents != 0) break;
    for (int i = 0; i < 2; ++i) {
      if (fds[i].fd < 0 || fds[i].revents == 0) continue;
      const ssize_t n = ::read(fds[i].fd, buffer, sizeof buffer);
      if (n > 0) {
        append(streams[i], std::string_view(buffer, static_cast<std::size_t>(n)), partial[i]);
      } else if (n == 0 || (errno != EINTR && errno != EAGAIN)) {
        fds[i].fd = -1; // poll() skips negative descriptors
        --open_pipes;
      }
    }
  }
  std::lock_guard lock(mutex_);
  for (int i = 0; i < 2; ++i) {
    if (!partial[i].empty()) lines_.push_back({streams[i], std::move(partial[i]), false});
  }
  output_closed_ = true;
  output_changed_.notify_all();
}

void child_process::append(output_stream stream, std::string_view data, std::string& partial) {
  std::lock_guard lock(mutex_);
  all_.append(data);
  (stream == output_stream::stdout_stream ? stdout_ : stderr_).append(data);
  partial.append(data);
  std::size_t start = 0;
  for (auto end = partial.find('\n'); end != std::string::npos; end = partial.find('\n', start)) {
    std::string text = partial.substr(start, end - start);
    if (!text.empty() && text.back() == '\r') text.pop_back();
    lines_.push_back({stream, std::move(text), false});
    start = end + 1;
  }
  partial.erase(0, start);
  output_changed_.notify_all();
}

template <class Matcher>
std::optional<std::string>
child_process::wait_for(Matcher matches, std::chrono::milliseconds timeout, output_stream from) {
  const auto deadline = clock::now() + timeout;
  std::unique_lock lock(mutex_);
  std::size_t i = first_unreturned_;
  for (;;) {
    for (; i < lines_.size(); ++i) {
      output_line& candidate = lines_[i];
      if (candidate.returned || (from != output_stream::both && candidate.stream != from) ||
          !matches(candidate.text)) {
        continue;
      }
      candidate.returned = true;
      while (first_unreturned_ < lines_.size() && lines_[first_unreturned_].returned) {
        ++first_unreturned_;
      }
      return candidate.text;
    }
    if (output_closed_) return std::nullopt;
    if (output_changed_.wait_until(lock, deadline) == std::cv_status::timeout &&
        i == lines_.size()) {
      return std::nullopt;
    }
  }
}

std::optional<std::string> child_process::wait_for_line(std::string_view text,
                                                        std::chrono::milliseconds timeout,
                                                        output_stream from) {
  return wait_for([&](const std::string& line) { return line.find(text) != std::string::npos; },
                  timeout, from);
}

std::optional<std::string> child_process::wait_for_line(const std::regex& pattern,
                                                        std::chrono::milliseconds timeout,
                                                        output_stream from) {
  return wait_for([&](const std::string& line) { return std::regex_search(line, pattern); },
                  timeout, from);
}

std::optional<std::vector<std::string>>
child_process::wait_for_match(const std::regex& pattern, std::chrono::milliseconds timeout,
                              output_stream from) {
  std::vector<std::string> groups;
  const auto found = wait_for(
      [&](const std::string& line) {
        std::smatch match;
        if (!std::regex_search(line, match, pattern)) return false;
        groups.clear();
        for (const auto& group : match)
          groups.push_back(group.str());
        return true;
      },
      timeout, from);
  if (!found) return std::nullopt;
  return groups;
}

std::optional<std::string> child_process::wait_for_regex(std::string_view pattern,
                                                         std::chrono::milliseconds timeout,
                                                         output_stream from) {
  return wait_for_line(std::regex(pattern.begin(), pattern.end()), timeout, from);
}

std::optional<std::vector<std::string>>
child_process::wait_for_match(std::string_view pattern, std::chrono::milliseconds timeout,
                              output_stream from) {
  return wait_for_match(std::regex(pattern.begin(), pattern.end()), timeout, from);
}

bool child_process::reap(bool block) {
  if (exited_) return true;
  int status = 0;
  for (;;) {
    const pid_t got = ::waitpid(pid_, &status, block ? 0 : WNOHANG);
    if (got == pid_) {
      exited_ = true;
      if (WIFEXITED(status)) {
        exit_code_ = WEXITSTATUS(status);
      } else if (WIFSIGNALED(status)) {
        exit_code_ = 128 + WTERMSIG(status);
      }
      return true;
    }
    if (got == 0) return false;
    if (errno == EINTR) continue;
    exited_ = true; // ECHILD: not ours to wait for any more
    return true;
  }
}

bool child_process::signal(int signal_number) {
  if (reap(false)) return false;
  return ::kill(pid_, signal_number) == 0;
}

bool child_process::running() {
  return !reap(false);
}

int child_process::wait_exit(std::chrono::milliseconds timeout) {
  if (reap(false)) return exit_code_;
  const auto deadline = clock::now() + timeout;
  for (;;) {
    const auto left = deadline - clock::now();
    if (left <= clock::duration::zero()) break;
    const int left_ms = static_cast<int>(
        std::min<long long>(std::chrono::ceil<std::chrono::milliseconds>(left).count(), 60'000));
    if (pidfd_ >= 0) {
      // The pidfd becomes readable when the child exits: no polling of waitpid needed.
      pollfd ready{pidfd_, POLLIN, 0};
      const int rc = ::poll(&ready, 1, left_ms);
      if (rc > 0) {
        reap(true);
        return exit_code_;
      }
      if (rc < 0 && errno != EINTR) pidfd_ = -1; // fall back below
    } else {
      // Kernels without pidfd_open: check every few milliseconds.
      if (reap(false)) return exit_code_;
      ::poll(nullptr, 0, std::min(left_ms, 5));
    }
  }
  if (reap(false)) return exit_code_;
  ::kill(pid_, SIGKILL);
  reap(true);
  return -1;
}

std::string child_process::all_output() const {
  std::lock_guard lock(mutex_);
  return all_;
}

std::string child_process::stdout_text() const {
  std::lock_guard lock(mutex_);
  return stdout_;
}

std::string child_process::stderr_text() const {
  std::lock_guard lock(mutex_);
  return stderr_;
}

} // namespace parallax::test
