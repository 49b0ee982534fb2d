// Regression tests for what config_loader_fuzz (test/fuzz) found in the YAML loader.

#include "config/loader.hpp"

#include <gtest/gtest.h>

#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <csignal>
#include <string>

namespace parallax::config {
namespace {

#if defined(__SANITIZE_ADDRESS__)
constexpr bool under_asan = true;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
constexpr bool under_asan = true;
#else
constexpr bool under_asan = false;
#endif
#else
constexpr bool under_asan = false;
#endif

/// Loads `yaml` in a child process limited to `seconds` (and, without ASan, whose shadow
/// memory an address-space limit would break, to 1 GiB) and returns the child's wait status:
/// exit 0 when the load returned errors that all carry a position, 1 when not, 2 when it threw
/// (out of memory), SIGALRM when it ran out of time. The bug these tests guard against
/// allocates without end, so it must not run in the test process.
int load_in_child(const std::string& yaml, unsigned seconds) {
  const pid_t pid = fork();
  if (pid == 0) {
    alarm(seconds);
    if (!under_asan) {
      const rlimit limit{rlim_t{1} << 30, rlim_t{1} << 30};
      setrlimit(RLIMIT_AS, &limit);
    }
    try { // nothing may unwind into the test framework's copy in this process
      const auto result = load_string(yaml, "test.yaml");
      bool positioned = !result.ok() && !result.errors.empty();
      for (const auto& e : result.errors)
        positioned = positioned && e.line >= 1 && e.column >= 1;
      _exit(positioned ? 0 : 1);
    } catch (...) {
      _exit(2); // std::bad_alloc at the address-space limit
    }
  }
  int status = 0;
  waitpid(pid, &status, 0);
  return status;
}

// config_loader_fuzz: a file holding only "," made yaml-cpp 0.7's LoadAll loop for ever,
// allocating a null document per turn (yaml-cpp issue #1040, fixed upstream by PR #1319 after
// 0.7): `parallax check` and a reload hung and ate the machine's memory.
TEST(LoaderFuzzRegressionTest, StrayFlowIndicatorIsAnErrorNotAnEndlessLoop) {
  for (const std::string yaml : {",", "\n,\n", "version: 1\n---\n,"}) {
    const int status = load_in_child(yaml, 10);
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0)
        << "\"" << yaml << "\": "
        << (WIFSIGNALED(status) ? "killed by signal " + std::to_string(WTERMSIG(status))
                                : "exit " + std::to_string(WEXITSTATUS(status)));
  }
}

} // namespace
} // namespace parallax::config
