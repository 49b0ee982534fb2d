// `parallax report` inputs end to end (reports.md "inputs and the gate", docs/report.md): a
// running parallax's admin /report as http://HOST:PORT, its summary file and its discrepancy
// log, alone and mixed; the page it serves at /report.html.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <boost/json/parse.hpp>

#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "test/integration/binary_fixture.hpp"
#include "test/support/http_backend.hpp"
#include "test/support/temp_dir.hpp"

namespace parallax::test {
namespace {

namespace json = boost::json;
using ::testing::HasSubstr;
using namespace std::chrono_literals;

// A backend answering JSON for /users/N and /items/N; the shadow renames the user.
http_backend json_backend(std::string name) {
  return http_backend([name](const received_request& req, backend_connection& c) {
    const bool user = req.target.starts_with("/users/");
    const std::string body = user ? R"({"name":")" + name + R"("})" : R"({"sku":"a1"})";
    c.respond(200, body, {{"Content-Type", "application/json"}});
  });
}

// `parallax report ARGS...` to its end: exit code, standard output, standard error.
struct report_run {
  int code;
  std::string out;
  std::string err;
};

report_run report(std::vector<std::string> args) {
  std::vector<std::string> argv{binary(), "report"};
  argv.insert(argv.end(), args.begin(), args.end());
  child_process p(argv);
  const int code = run_to_exit(p);
  return {code, p.stdout_text(), p.stderr_text()};
}

// The admin's summary, once it shows `n` compared exchanges (comparisons are asynchronous:
// there is no event to await from outside, so it is polled, with a deadline).
json::object await_compared(std::uint16_t admin, std::int64_t n) {
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  json::object last;
  while (std::chrono::steady_clock::now() < deadline) {
    const auto res = get(admin, "/report");
    if (res.status == 200) {
      last = json::parse(res.body).as_object();
      if (last.at("totals").at("compared").to_number<std::int64_t>() >= n) return last;
    }
    std::this_thread::sleep_for(20ms);
  }
  ADD_FAILURE() << "the report never showed " << n << " compared exchanges";
  return last;
}

TEST(ReportInputsTest, ARunningParallaxItsSummaryFileAndItsLogAreInputs) {
  const temp_dir dir("parallax-report-inputs");
  auto live = json_backend("Ann");
  auto shadow = json_backend("ann");
  const auto summary_path = dir.file("summary.json");
  const auto log_path = dir.file("d.jsonl");
  const auto config = config_head() + "  live: { endpoints: [\"" + live.address() +
                      "\"] }\n  preview: { endpoints: [\"" + shadow.address() +
                      "\"] }\nroutes:\n  - name: api\n    upstream: live\n"
                      "    mirror: { upstream: preview, percent: 100 }\n"
                      "reports:\n  discrepancies: { path: \"" +
                      log_path + "\" }\n  summary: { path: \"" + summary_path +
                      "\", interval: 1h }\n";
  running_binary proxy(write_file(dir.file("parallax.yaml"), config));
  ASSERT_TRUE(proxy.ready()) << proxy.process().all_output();
  for (int i = 1; i <= 5; ++i) {
    ASSERT_EQ(get(proxy.port(), "/users/" + std::to_string(i)).status, 200);
    ASSERT_EQ(get(proxy.port(), "/items/" + std::to_string(i)).status, 200);
  }
  (void)await_compared(proxy.admin_port(), 10);
  const auto admin = "http://127.0.0.1:" + std::to_string(proxy.admin_port());

  // http://HOST:PORT: the proxy's totals come along, and its routes.
  auto r = report({"--format", "json", admin});
  ASSERT_EQ(r.code, 0) << r.err;
  auto s = json::parse(r.out).as_object();
  EXPECT_EQ(s.at("totals").at("exchanges"), json::value(10));
  EXPECT_EQ(s.at("totals").at("compared"), json::value(10));
  EXPECT_EQ(s.at("totals").at("differ"), json::value(5));
  EXPECT_EQ(s.at("routes").at(0).at("shadow_upstream"), json::value("preview"));
  EXPECT_EQ(s.at("routes").at(0).at("percent"), json::value(100.0));
  const auto& users = s.at("endpoints").at(0).as_object();
  EXPECT_EQ(users.at("endpoint"), json::value("GET /users/{id}"));
  const auto& example = users.at("differences").at(0).at("examples").at(0);
  EXPECT_EQ(example.at("live"), json::value("Ann"));
  EXPECT_EQ(example.at("shadow"), json::value("ann"));
  EXPECT_EQ(users.at("differences").at(0).at("examples").as_array().size(), 3u);

  // The page the admin serves is the page the report command writes.
  const auto page = get(proxy.admin_port(), "/report.html");
  EXPECT_EQ(page.status, 200);
  EXPECT_THAT(page.body, HasSubstr("<td class=\"shadow\"><code>&quot;ann&quot;</code></td>"));
  r = report({"--format", "html", admin});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("<td class=\"shadow\"><code>&quot;ann&quot;</code></td>"));
  EXPECT_THAT(r.out, HasSubstr("<td>preview</td><td class=\"n\">100%</td>"));

  // A URL that does not answer a summary, and one nothing listens at: errors naming them.
  r = report({admin + "/healthz"});
  EXPECT_EQ(r.code, 2);
  EXPECT_THAT(r.err, HasSubstr(admin + "/healthz: invalid summary"));
  r = report({admin + "/no-such-page"});
  EXPECT_EQ(r.code, 2);
  EXPECT_THAT(r.err, HasSubstr(admin + "/no-such-page: GET answered HTTP/1.1 404"));
  std::string closed;
  {
    http_backend gone;
    closed = "http://127.0.0.1:" + std::to_string(gone.port());
  }
  r = report({closed});
  EXPECT_EQ(r.code, 2);
  EXPECT_THAT(r.err, HasSubstr(closed + "/report: GET failed: "));

  // After the exit: the summary file alone, then mixed with the log (they simply add).
  ASSERT_TRUE(proxy.process().signal(SIGTERM));
  ASSERT_EQ(run_to_exit(proxy.process()), 0);
  r = report({"--format", "json", summary_path});
  ASSERT_EQ(r.code, 0) << r.err;
  s = json::parse(r.out).as_object();
  EXPECT_EQ(s.at("totals").at("exchanges"), json::value(10));
  EXPECT_EQ(s.at("totals").at("compared"), json::value(10));
  r = report({"--format", "json", log_path, summary_path});
  ASSERT_EQ(r.code, 0) << r.err;
  s = json::parse(r.out).as_object();
  EXPECT_EQ(s.at("totals").at("compared"), json::value(15)); // 5 records + 10: counted twice
  EXPECT_TRUE(s.at("totals").at("exchanges").is_null());
  EXPECT_THAT(std::string(s.at("note").as_string()), HasSubstr("1 of 2 inputs"));
}

} // namespace
} // namespace parallax::test
