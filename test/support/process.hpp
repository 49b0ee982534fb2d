#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <mutex>
#include <optional>
#include <regex>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

namespace parallax::test {

// Which of a child's output pipes to search.
enum class output_stream { stdout_stream, stderr_stream, both };

// A child process (fork + exec) whose stdout and stderr are captured through pipes by a reader
// thread, so tests can wait for a log line as soon as it is written. stdin is /dev/null. The
// child gets SIGKILL if the thread that started it dies, and from the destructor if still
// running. Output accessors are thread-safe; signal/wait_exit belong to the owning thread.
class child_process {
public:
  // Starts argv[0] (searched in PATH if it has no '/') with the current environment plus
  // `extra_env` (which overrides). Throws std::system_error if it cannot be executed.
  explicit child_process(std::vector<std::string> argv,
                         std::vector<std::pair<std::string, std::string>> extra_env = {});
  // Kills (SIGKILL) and reaps the child if it is still running, then stops the reader.
  ~child_process();
  child_process(const child_process&) = delete;
  child_process& operator=(const child_process&) = delete;

  // The child's process id.
  int pid() const { return pid_; }

  // Waits for the earliest output line containing `text` that no earlier wait returned, and
  // returns it; nullopt on timeout or once the child closed its output without printing one.
  // (Each returned line is used up, so repeated waits find successive occurrences; order across
  // stdout and stderr is only the order the reader happened to receive them.)
  std::optional<std::string> wait_for_line(std::string_view text, std::chrono::milliseconds timeout,
                                           output_stream from = output_stream::both);
  // Same, for a line in which the ECMAScript regex `pattern` matches (std::regex_search).
  // Prefer these string forms in tests: building a std::regex in a test file trips a false
  // GCC 12 -Wmaybe-uninitialized under the asan preset's -O1, which -Werror makes fatal.
  std::optional<std::string> wait_for_regex(std::string_view pattern,
                                            std::chrono::milliseconds timeout,
                                            output_stream from = output_stream::both);
  // Same as wait_for_regex, but returns the match: [0] the whole match, then each group.
  std::optional<std::vector<std::string>> wait_for_match(std::string_view pattern,
                                                         std::chrono::milliseconds timeout,
                                                         output_stream from = output_stream::both);
  // wait_for_regex with a prebuilt std::regex.
  std::optional<std::string> wait_for_line(const std::regex& pattern,
                                           std::chrono::milliseconds timeout,
                                           output_stream from = output_stream::both);
  // wait_for_match with a prebuilt std::regex.
  std::optional<std::vector<std::string>> wait_for_match(const std::regex& pattern,
                                                         std::chrono::milliseconds timeout,
                                                         output_stream from = output_stream::both);

  // Sends `signal_number` to the child; false if it already exited or kill() failed.
  bool signal(int signal_number);
  // Waits for the child to exit: its exit code, 128 + N if killed by signal N, or -1 if it was
  // still running after `timeout` (it is then killed with SIGKILL and reaped).
  int wait_exit(std::chrono::milliseconds timeout);
  // True while the child has not exited.
  bool running();

  // stdout and stderr interleaved in the order the reader received them.
  std::string all_output() const;
  // Everything written to stdout so far.
  std::string stdout_text() const;
  // Everything written to stderr so far.
  std::string stderr_text() const;

private:
  struct output_line {
    output_stream stream;
    std::string text;
    bool returned = false; // already handed out by a wait
  };
  template <class Matcher>
  std::optional<std::string> wait_for(Matcher matches, std::chrono::milliseconds timeout,
                                      output_stream from);
  void read_output();
  void append(output_stream stream, std::string_view data, std::string& partial);
  bool reap(bool block);

  int pid_ = -1;
  int pidfd_ = -1;
  int stdout_fd_ = -1;
  int stderr_fd_ = -1;
  int stop_fd_ = -1;
  bool exited_ = false;
  int exit_code_ = -1;
  std::thread reader_;

  mutable std::mutex mutex_;
  std::condition_variable output_changed_;
  std::vector<output_line> lines_;
  std::size_t first_unreturned_ = 0; // lines before it were all returned by waits
  std::string all_;
  std::string stdout_;
  std::string stderr_;
  bool output_closed_ = false;
};

} // namespace parallax::test
