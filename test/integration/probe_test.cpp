// `parallax probe URL` (proxy.md "Command line"): the container health check without curl. Exit
// 0 on a 2xx answer, 1 on anything else, with one line saying what it saw.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <csignal>
#include <string>

#include "test/integration/binary_fixture.hpp"
#include "test/support/blackhole_server.hpp"
#include "test/support/http_backend.hpp"
#include "test/support/temp_dir.hpp"

namespace parallax::test {
namespace {

using ::testing::HasSubstr;

// Runs `parallax probe ARGS...` to its end; returns the exit code and the output.
std::pair<int, std::string> probe(const std::vector<std::string>& args) {
  std::vector<std::string> argv{binary(), "probe"};
  argv.insert(argv.end(), args.begin(), args.end());
  child_process p(argv);
  const int code = run_to_exit(p);
  return {code, p.all_output()};
}

TEST(ProbeTest, ExitsZeroOnlyFor2xxAndSaysWhatItSaw) {
  http_backend live;
  const temp_dir dir("parallax-probe");
  running_binary proxy(write_file(dir.file("parallax.yaml"), run_config(dir, live.address())));
  ASSERT_TRUE(proxy.ready()) << proxy.process().all_output();
  const auto admin = "http://127.0.0.1:" + std::to_string(proxy.admin_port());

  auto [code, out] = probe({admin + "/readyz"});
  EXPECT_EQ(code, 0) << out;
  EXPECT_THAT(out, HasSubstr("HTTP/1.1 200"));
  std::tie(code, out) = probe({admin + "/healthz"});
  EXPECT_EQ(code, 0) << out;
  std::tie(code, out) = probe({admin + "/no-such-path"});
  EXPECT_EQ(code, 1) << out;
  EXPECT_THAT(out, HasSubstr("404"));

  // Nothing listening, nothing answering, not a URL: 1, with the reason.
  ASSERT_TRUE(proxy.process().signal(SIGTERM));
  ASSERT_EQ(run_to_exit(proxy.process()), 0);
  std::tie(code, out) = probe({admin + "/readyz"});
  EXPECT_EQ(code, 1) << out;
  EXPECT_THAT(out, HasSubstr("refused"));
  blackhole_server silent;
  std::tie(code, out) =
      probe({"http://127.0.0.1:" + std::to_string(silent.port()) + "/readyz", "--timeout", "0.3"});
  EXPECT_EQ(code, 1) << out;
  EXPECT_THAT(out, HasSubstr("no answer within 300 ms"));
  std::tie(code, out) = probe({"ftp://127.0.0.1/readyz"});
  EXPECT_EQ(code, 1) << out;
  EXPECT_THAT(out, HasSubstr("not an http://HOST:PORT/PATH URL"));
}

} // namespace
} // namespace parallax::test
