// The parallax binary end to end (proxy.md "Command line" and "Signals"): check, version and
// help; run with its ready line; graceful drain on SIGTERM; start-up failures and their exit
// codes; and memory that stays bounded while large bodies stream through.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <csignal>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "test/integration/binary_fixture.hpp"
#include "test/integration/proxy_fixture.hpp"
#include "test/support/blackhole_server.hpp"
#include "test/support/gate.hpp"
#include "test/support/http_backend.hpp"
#include "test/support/process.hpp"
#include "test/support/raw_client.hpp"
#include "test/support/socket_stream.hpp"
#include "test/support/temp_dir.hpp"

namespace parallax::test {
namespace {

using namespace std::chrono_literals;
using ::testing::HasSubstr;
using ::testing::Not;

/// The shipped example configurations, sorted.
std::vector<std::string> example_files() {
  std::vector<std::string> out;
  const auto dir = std::filesystem::path(PARALLAX_SOURCE_DIR) / "config" / "examples";
  for (const auto& item : std::filesystem::directory_iterator(dir)) {
    if (item.is_regular_file() && item.path().extension() == ".yaml") {
      out.push_back(item.path().string());
    }
  }
  std::sort(out.begin(), out.end());
  return out;
}

/// Lines of `text` that are not empty.
std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    if (!line.empty()) out.push_back(line);
  }
  return out;
}

/// One `FILE:LINE:COL: key.path: message` error line, split.
struct error_line {
  int line = 0;
  int column = 0;
  std::string key_path;
  std::string message;
};

/// Parses `text` as an error about `file`; nullopt if it does not have that shape.
std::optional<error_line> parse_error_line(const std::string& text, const std::string& file) {
  if (!text.starts_with(file + ":")) return std::nullopt;
  std::size_t pos = file.size() + 1;
  const auto number = [&](int& out) {
    const auto start = pos;
    while (pos < text.size() && std::isdigit(static_cast<unsigned char>(text[pos])) != 0)
      ++pos;
    if (pos == start || pos >= text.size() || text[pos] != ':') return false;
    out = std::stoi(text.substr(start, pos - start));
    ++pos;
    return out > 0;
  };
  error_line e;
  if (!number(e.line) || !number(e.column) || text.compare(pos, 1, " ") != 0) return std::nullopt;
  ++pos;
  const auto colon = text.find(": ", pos);
  if (colon == std::string::npos || colon == pos) return std::nullopt;
  e.key_path = text.substr(pos, colon - pos);
  const bool key_chars = std::all_of(e.key_path.begin(), e.key_path.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '_' || c == '.' || c == '[' ||
           c == ']' || c == '-';
  });
  if (!key_chars) return std::nullopt;
  e.message = text.substr(colon + 2);
  if (e.message.empty()) return std::nullopt;
  return e;
}

/// Closes a file descriptor when it goes out of scope.
struct fd_guard {
  explicit fd_guard(int descriptor) : fd(descriptor) {}
  ~fd_guard() { ::close(fd); }
  int fd;
  fd_guard(const fd_guard&) = delete;
  fd_guard& operator=(const fd_guard&) = delete;
};

/// Peak resident set size (VmHWM) of process `pid` in bytes; 0 if unreadable.
std::uint64_t peak_rss_bytes(int pid) {
  std::ifstream status("/proc/" + std::to_string(pid) + "/status");
  for (std::string line; std::getline(status, line);) {
    if (line.starts_with("VmHWM:")) {
      std::istringstream fields(line.substr(6));
      std::uint64_t kib = 0;
      fields >> kib;
      return kib * 1024;
    }
  }
  return 0;
}

/// Resident set size (VmRSS) of process `pid` in bytes; 0 if unreadable.
std::uint64_t rss_bytes(int pid) {
  std::ifstream status("/proc/" + std::to_string(pid) + "/status");
  for (std::string line; std::getline(status, line);) {
    if (line.starts_with("VmRSS:")) {
      std::istringstream fields(line.substr(6));
      std::uint64_t kib = 0;
      fields >> kib;
      return kib * 1024;
    }
  }
  return 0;
}

TEST(LifecycleTest, CheckAcceptsEveryExampleSilently) {
  const auto files = example_files();
  ASSERT_FALSE(files.empty());
  for (const auto& file : files) {
    SCOPED_TRACE(file);
    child_process check({binary(), "check", "--config", file});
    EXPECT_EQ(run_to_exit(check), 0);
    EXPECT_EQ(check.stderr_text(), "");
  }
}

TEST(LifecycleTest, CheckReportsEveryErrorWithPositionAndExits2) {
  temp_dir dir;
  const auto file = write_file(dir.file("bad.yaml"),
                               "version: 1\n"
                               "listeners: [{ name: public, address: \"127.0.0.1:0\" }]\n"
                               "upstreams:\n"
                               "  live: { endpoints: [\"127.0.0.1:1\"], connect_timeout: 5 }\n"
                               "routes:\n"
                               "  - name: all\n"
                               "    upstream: nowhere\n"
                               "    mirror: { upstream: live, percent: 150 }\n");
  child_process check({binary(), "check", "--config", file});
  EXPECT_EQ(run_to_exit(check), 2);
  const auto lines = lines_of(check.stderr_text());
  std::vector<error_line> errors;
  for (const auto& line : lines) {
    const auto e = parse_error_line(line, file);
    EXPECT_TRUE(e.has_value()) << "not FILE:LINE:COL: key.path: message: " << line;
    if (e) errors.push_back(*e);
  }
  const auto reported = [&](int line, const std::string& key_path) {
    return std::any_of(errors.begin(), errors.end(), [&](const error_line& e) {
      return e.line == line && e.key_path == key_path;
    });
  };
  EXPECT_TRUE(reported(4, "upstreams.live.connect_timeout")) << check.stderr_text();
  EXPECT_TRUE(reported(7, "routes[0].upstream")) << check.stderr_text();
  EXPECT_TRUE(reported(8, "routes[0].mirror.percent")) << check.stderr_text();
  EXPECT_THAT(check.stdout_text(), Not(HasSubstr("ok")));
}

TEST(LifecycleTest, PrintsVersionAndHelp) {
  for (const auto& args : std::vector<std::vector<std::string>>{{"--version"}, {"version"}}) {
    SCOPED_TRACE(args[0]);
    std::vector<std::string> argv{binary()};
    argv.insert(argv.end(), args.begin(), args.end());
    child_process version(argv);
    EXPECT_EQ(run_to_exit(version), 0);
    EXPECT_THAT(version.stdout_text(), HasSubstr("parallax"));
    // The versions of the libraries it links (proxy.md, `parallax version`).
    for (const char* library :
         {"boost 1.81", "OpenSSL 3", "llhttp 8.1", "nghttp2 1.52", "protobuf 3.21", "zlib 1.",
          "brotli 1.", "yaml-cpp 0.7", "spdlog 1.10", "fmt 9.1"}) {
      EXPECT_THAT(version.stdout_text(), HasSubstr(library));
    }
  }
  for (const auto& args :
       std::vector<std::vector<std::string>>{{"--help"}, {"run", "--help"}, {"check", "--help"}}) {
    SCOPED_TRACE(args[0] + " " + args.back());
    std::vector<std::string> argv{binary()};
    argv.insert(argv.end(), args.begin(), args.end());
    child_process help(argv);
    EXPECT_EQ(run_to_exit(help), 0);
    EXPECT_THAT(help.all_output(), HasSubstr("--config"));
  }
}

TEST(LifecycleTest, ExitsWith2OnMissingConfigOrBadUsage) {
  temp_dir dir;
  const auto missing = dir.file("does-not-exist.yaml");
  child_process run({binary(), "run", "--config", missing});
  EXPECT_EQ(run_to_exit(run), 2);
  EXPECT_THAT(run.stderr_text(), HasSubstr(missing));

  for (const auto& args : std::vector<std::vector<std::string>>{
           {"run"}, {"check"}, {"no-such-command"}, {"run", "--config"}}) {
    SCOPED_TRACE(args[0] + " (" + std::to_string(args.size()) + " arguments)");
    std::vector<std::string> argv{binary()};
    argv.insert(argv.end(), args.begin(), args.end());
    child_process usage(argv);
    EXPECT_EQ(run_to_exit(usage), 2);
  }
}

TEST(LifecycleTest, RunAnnouncesBoundPortsProxiesAndStopsOnSigint) {
  temp_dir dir;
  http_backend live(echo_handler("live"));
  running_binary proxy(write_file(dir.file("parallax.yaml"), run_config(dir, live.address())));
  ASSERT_TRUE(proxy.ready()) << proxy.process().all_output();

  auto res = get(proxy.port(), "/through/the/binary");
  ASSERT_TRUE(res.ok()) << res.error;
  EXPECT_EQ(res.status, 200);
  EXPECT_THAT(res.body, HasSubstr("\"backend\":\"live\""));
  EXPECT_EQ(live.last_request().target, "/through/the/binary");
  EXPECT_EQ(get(proxy.admin_port(), "/healthz").status, 200);
  EXPECT_EQ(get(proxy.admin_port(), "/readyz").status, 200);

  ASSERT_TRUE(proxy.process().signal(SIGINT));
  EXPECT_EQ(run_to_exit(proxy.process()), 0);
  const auto lines = lines_of(proxy.process().all_output());
  EXPECT_EQ(std::count_if(lines.begin(), lines.end(),
                          [](const std::string& l) { return l.find("ready:") != l.npos; }),
            1)
      << proxy.process().all_output();
}

TEST(LifecycleTest, PrintsReadyLineEvenWhenLogLevelIsWarn) {
  // Scripts wait for the ready line (proxy.md "Command line"); a quieter log level, as in
  // config/examples/edge.yaml, must not hide it.
  temp_dir dir;
  http_backend live(echo_handler());
  running_binary proxy(write_file(dir.file("parallax.yaml"),
                                  run_config(dir, live.address(), "logging: { level: warn }\n")));
  EXPECT_TRUE(proxy.ready()) << "no ready line; output so far:\n" << proxy.process().all_output();
  ASSERT_TRUE(proxy.process().signal(SIGTERM));
  EXPECT_EQ(run_to_exit(proxy.process()), 0);
}

/// The binary in front of a backend that holds GET /slow until `hold` is released.
struct held_slow_backend {
  temp_dir dir;
  gate hold;
  http_backend live{[this](const received_request& req, backend_connection& c) {
    if (req.target == "/slow") hold.wait();
    c.respond(200, "finished " + req.target);
  }};
  running_binary proxy{write_file(dir.file("parallax.yaml"), run_config(dir, live.address()))};
};

TEST(LifecycleTest, SigtermDrainsInFlightRequestThenExits0) {
  held_slow_backend held;
  auto& [dir, hold, live, proxy] = held;
  ASSERT_TRUE(proxy.ready()) << proxy.process().all_output();

  // An idle keep-alive connection, closed by the proxy as soon as the drain begins.
  raw_client idle;
  ASSERT_TRUE(idle.connect(proxy.port())) << idle.last_error();
  ASSERT_EQ(idle.round_trip(raw_client::request("GET", "/fast")).status, 200);
  // A request in flight, held at the backend.
  raw_client busy;
  ASSERT_TRUE(busy.connect(proxy.port())) << busy.last_error();
  ASSERT_TRUE(busy.send(raw_client::request("GET", "/slow")));
  ASSERT_TRUE(live.wait_for_requests(2, 5s));

  ASSERT_TRUE(proxy.process().signal(SIGTERM));
  ASSERT_TRUE(idle.wait_closed(5s)); // the drain has begun
  idle.close();
  auto ready = get(proxy.admin_port(), "/readyz");
  ASSERT_TRUE(ready.ok()) << ready.error; // the admin stays up while draining
  EXPECT_EQ(ready.status, 503);

  // A new connection is refused, or accepted and closed without reaching the backend.
  raw_client late(5s);
  if (late.connect(proxy.port())) {
    auto res = late.round_trip(raw_client::request("GET", "/late"));
    EXPECT_FALSE(res.ok()) << "a connection made during the drain got status " << res.status;
  }
  EXPECT_EQ(live.requests_seen(), 2u);

  hold.release();
  auto res = busy.read_response();
  ASSERT_TRUE(res.ok()) << res.error;
  EXPECT_EQ(res.status, 200);
  EXPECT_EQ(res.body, "finished /slow");
  EXPECT_EQ(res.header("connection").value_or(""), "close");
  EXPECT_TRUE(busy.wait_closed(5s));
  busy.close();
  EXPECT_EQ(run_to_exit(proxy.process()), 0) << proxy.process().all_output();
}

// limits.drain_delay: on SIGTERM /readyz turns 503 at once, but the listener keeps accepting
// and serving (keep-alive connections too) until the delay is over; then the drain proper.
TEST(LifecycleTest, DrainDelayKeepsServingWhileNotReady) {
  temp_dir dir;
  http_backend live([](const received_request& req, backend_connection& c) {
    c.respond(200, "served " + req.target);
  });
  running_binary proxy(write_file(
      dir.file("parallax.yaml"), run_config(dir, live.address(), "limits: { drain_delay: 3s }\n")));
  ASSERT_TRUE(proxy.ready()) << proxy.process().all_output();
  raw_client kept;
  ASSERT_TRUE(kept.connect(proxy.port())) << kept.last_error();
  ASSERT_EQ(kept.round_trip(raw_client::request("GET", "/before")).status, 200);

  ASSERT_TRUE(proxy.process().signal(SIGTERM));
  int ready = 200;
  const auto give_up = std::chrono::steady_clock::now() + 5s;
  while (ready != 503 && std::chrono::steady_clock::now() < give_up) {
    auto r = get(proxy.admin_port(), "/readyz");
    ASSERT_TRUE(r.ok()) << r.error;
    ready = r.status;
  }
  ASSERT_EQ(ready, 503) << "/readyz never turned 503 after SIGTERM";

  // Not ready, still serving: the open connection stays keep-alive, a new one is served.
  auto again = kept.round_trip(raw_client::request("GET", "/during"));
  ASSERT_TRUE(again.ok()) << again.error;
  EXPECT_EQ(again.body, "served /during");
  EXPECT_NE(again.header("connection").value_or(""), "close");
  raw_client fresh;
  ASSERT_TRUE(fresh.connect(proxy.port())) << fresh.last_error();
  auto res = fresh.round_trip(raw_client::request("GET", "/new"));
  ASSERT_TRUE(res.ok()) << res.error;
  EXPECT_EQ(res.body, "served /new");

  // Then the drain: idle connections are closed and the process exits 0.
  EXPECT_TRUE(kept.wait_closed(10s));
  EXPECT_EQ(run_to_exit(proxy.process()), 0) << proxy.process().all_output();
}

TEST(LifecycleTest, DrainTimeoutClosesStuckRequestAndExits0) {
  temp_dir dir;
  gate never; // released only when the test ends
  http_backend live([&](const received_request&, backend_connection& c) {
    never.wait();
    c.respond(200, "too late");
  });
  running_binary proxy(
      write_file(dir.file("parallax.yaml"),
                 run_config(dir, live.address(), "limits: { drain_timeout: 200ms }\n")));
  ASSERT_TRUE(proxy.ready()) << proxy.process().all_output();
  raw_client stuck;
  ASSERT_TRUE(stuck.connect(proxy.port())) << stuck.last_error();
  ASSERT_TRUE(stuck.send(raw_client::request("GET", "/stuck")));
  ASSERT_TRUE(live.wait_for_requests(1, 5s));

  const auto signalled = std::chrono::steady_clock::now();
  ASSERT_TRUE(proxy.process().signal(SIGTERM));
  EXPECT_EQ(proxy.process().wait_exit(exit_bound), 0);
  // drain_timeout plus the bounded wait for force-closed connections, with slack.
  EXPECT_LT(std::chrono::steady_clock::now() - signalled, 5s);
  auto res = stuck.read_response();
  EXPECT_FALSE(res.ok()) << "got status " << res.status;
  EXPECT_TRUE(stuck.wait_closed(5s));
  never.release();
}

// What an operator does: `docker stop` twice, a harness that stops what it already signalled.
// Further SIGTERMs while draining and while exiting neither cut the drain short nor turn the
// clean exit into death by signal.
TEST(LifecycleTest, RepeatedSigtermsWhileDrainingAndExitingStillExit0) {
  held_slow_backend held;
  auto& [dir, hold, live, proxy] = held;
  ASSERT_TRUE(proxy.ready()) << proxy.process().all_output();
  raw_client busy;
  ASSERT_TRUE(busy.connect(proxy.port())) << busy.last_error();
  ASSERT_TRUE(busy.send(raw_client::request("GET", "/slow")));
  ASSERT_TRUE(live.wait_for_requests(1, 5s));

  ASSERT_TRUE(proxy.process().signal(SIGTERM));
  ASSERT_TRUE(proxy.process().wait_for_line("draining", 5s)) << proxy.process().all_output();
  for (int i = 0; i < 20; ++i)
    ASSERT_TRUE(proxy.process().signal(SIGTERM)); // still draining: the request is held
  hold.release();
  auto res = busy.read_response();
  ASSERT_TRUE(res.ok()) << res.error;
  EXPECT_EQ(res.body, "finished /slow");
  busy.close(); // or the drain's lingering close waits for it
  // Then a signal every millisecond until the process is gone (bounded by the loop's count).
  for (int i = 0; i < 10'000 && proxy.process().signal(SIGTERM); ++i)
    std::this_thread::sleep_for(1ms);
  EXPECT_EQ(run_to_exit(proxy.process()), 0) << proxy.process().all_output();
}

TEST(LifecycleTest, ExitsWith1WhenAnAddressIsInUse) {
  temp_dir dir;
  std::uint16_t taken_port = 0;
  const fd_guard taken{listen_loopback(16, taken_port)};
  const std::string taken_address = "127.0.0.1:" + std::to_string(taken_port);
  http_backend live(echo_handler());
  const std::string base = run_config(dir, live.address());
  struct bind_case {
    const char* name;
    std::string yaml;
  };
  const auto replace = [](std::string yaml, const std::string& from, const std::string& to) {
    yaml.replace(yaml.find(from), from.size(), to);
    return yaml;
  };
  const bind_case cases[] = {
      {"listener", replace(base, "name: public, address: \"127.0.0.1:0\"",
                           "name: public, address: \"" + taken_address + "\"")},
      {"admin", replace(base, "admin: { address: \"127.0.0.1:0\" }",
                        "admin: { address: \"" + taken_address + "\" }")},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    child_process run({binary(), "run", "--config", write_file(dir.file("taken.yaml"), c.yaml)});
    EXPECT_EQ(run_to_exit(run), 1);
    EXPECT_THAT(run.all_output(), HasSubstr(taken_address));
    EXPECT_THAT(run.all_output(), Not(HasSubstr("ready:")));
  }
}

TEST(LifecycleTest, ExitsWith1WhenTlsCertificateIsMissing) {
  temp_dir dir;
  const auto missing_cert = dir.file("missing-cert.pem");
  const auto missing_key = dir.file("missing-key.pem");
  const auto file =
      write_file(dir.file("tls.yaml"), "version: 1\n"
                                       "listeners:\n"
                                       "  - name: public\n"
                                       "    address: \"127.0.0.1:0\"\n"
                                       "    tls: { cert: \"" +
                                           missing_cert + "\", key: \"" + missing_key +
                                           "\" }\n"
                                           "admin: { address: \"127.0.0.1:0\" }\n"
                                           "workers: 1\n"
                                           "upstreams: { live: { endpoints: [\"127.0.0.1:1\"] } }\n"
                                           "routes: [{ name: all, upstream: live }]\n"
                                           "reports: { discrepancies: { path: \"" +
                                           dir.file("d.jsonl") + "\" } }\n");
  child_process run({binary(), "run", "--config", file});
  EXPECT_EQ(run_to_exit(run), 1);
  EXPECT_THAT(run.all_output(), HasSubstr(missing_cert));
}

TEST(LifecycleTest, KeepsMemoryBoundedWhileStreaming256MiBBothWays) {
#if defined(__SANITIZE_ADDRESS__)
  GTEST_SKIP() << "AddressSanitizer's shadow memory and quarantine distort the peak RSS";
#endif
  constexpr std::uint64_t size = 256ull << 20;
  constexpr std::uint64_t limit = 64ull << 20;
  temp_dir dir;
  http_backend live(
      [](const received_request& req, backend_connection& c) {
        if (req.method == "POST") {
          c.respond(200,
                    std::to_string(req.body_size) + (req.body_matches_pattern ? " ok" : " bad"));
        } else {
          c.stream_body(200, size);
        }
      },
      [] {
        backend_options o;
        o.max_stored_body = 0;
        return o;
      }());
  running_binary proxy(write_file(dir.file("parallax.yaml"), run_config(dir, live.address())));
  ASSERT_TRUE(proxy.ready()) << proxy.process().all_output();
  raw_client client;
  ASSERT_TRUE(client.connect(proxy.port())) << client.last_error();

  ASSERT_TRUE(client.send(raw_client::request("GET", "/download")));
  auto down = client.read_response_discard_body();
  ASSERT_TRUE(down.ok()) << down.error;
  EXPECT_EQ(down.status, 200);
  EXPECT_EQ(down.body_size, size);
  EXPECT_TRUE(down.body_matches_pattern);

  // Upload: pattern bytes in 1 MiB pieces. The piece at offset `off` is the pattern started at
  // off % 26, so every piece is a view into one precomputed buffer.
  ASSERT_TRUE(client.send(
      "POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: " + std::to_string(size) + "\r\n\r\n"));
  constexpr std::size_t piece_size = 1 << 20;
  const std::string pattern = pattern_bytes(0, piece_size + 26);
  for (std::uint64_t off = 0; off < size; off += piece_size) {
    ASSERT_TRUE(client.send(std::string_view(pattern).substr(off % 26, piece_size)));
  }
  auto up = client.read_response();
  ASSERT_TRUE(up.ok()) << up.error;
  EXPECT_EQ(up.body, std::to_string(size) + " ok");

  const auto peak = peak_rss_bytes(proxy.process().pid());
  ASSERT_GT(peak, 0u) << "cannot read VmHWM of pid " << proxy.process().pid();
  RecordProperty("peak_rss_bytes", std::to_string(peak));
  EXPECT_LT(peak, limit) << "peak RSS " << (peak >> 20) << " MiB after streaming " << (size >> 20)
                         << " MiB each way";
  ASSERT_TRUE(proxy.process().signal(SIGTERM));
  EXPECT_EQ(run_to_exit(proxy.process()), 0);
}

} // namespace
} // namespace parallax::test

namespace parallax::test {
namespace {

TEST(LifecycleTest, TheDebugLineOfAnErrorParallaxAnswersRedactsTheQuery) {
  // A 413 is answered by parallax itself (send_failure): its debug line names the target, with
  // secret query parameters redacted as in the access log and the reports.
  temp_dir dir;
  http_backend live(echo_handler());
  running_binary proxy(
      write_file(dir.file("parallax.yaml"),
                 run_config(dir, live.address(),
                            "logging: { level: debug }\nlimits: { max_request_body_bytes: 8 }\n")));
  ASSERT_TRUE(proxy.ready()) << proxy.process().all_output();
  raw_client client;
  ASSERT_TRUE(client.connect(proxy.port()));
  auto res = client.round_trip(raw_client::request(
      "POST", "/orders?token=planted-query-secret&lang=en", {}, "a body longer than eight bytes"));
  ASSERT_EQ(res.status, 413);
  const auto line = proxy.process().wait_for_line(": 413 (", std::chrono::seconds(10));
  ASSERT_TRUE(line) << proxy.process().all_output();
  EXPECT_NE(line->find("/orders?token=[redacted]&lang=en"), std::string::npos) << *line;
  ASSERT_TRUE(proxy.process().signal(SIGTERM));
  EXPECT_EQ(run_to_exit(proxy.process()), 0);
  const auto output = proxy.process().all_output();
  EXPECT_EQ(output.find("planted-query-secret"), std::string::npos) << output;
}

TEST(LifecycleTest, JsonAccessLogRedactsSecretsAndIsOneObjectPerLine) {
  temp_dir dir;
  http_backend live(echo_handler());
  running_binary proxy(
      write_file(dir.file("parallax.yaml"),
                 run_config(dir, live.address(), "logging: { format: json, access_log: true }\n")));
  ASSERT_TRUE(proxy.ready()) << proxy.process().all_output();
  raw_client client;
  ASSERT_TRUE(client.connect(proxy.port()));
  auto res =
      client.round_trip(raw_client::request("GET", "/orders?token=planted-query-secret&lang=en",
                                            {{"Authorization", "Bearer planted-header-secret"}}));
  ASSERT_EQ(res.status, 200);
  const auto line = proxy.process().wait_for_line("access ", std::chrono::seconds(10));
  ASSERT_TRUE(line) << proxy.process().all_output();
  EXPECT_NE(line->find("token=[redacted]&lang=en"), std::string::npos) << *line;
  ASSERT_TRUE(proxy.process().signal(SIGTERM));
  EXPECT_EQ(run_to_exit(proxy.process()), 0);
  const auto output = proxy.process().all_output();
  EXPECT_EQ(output.find("planted-query-secret"), std::string::npos) << output;
  EXPECT_EQ(output.find("planted-header-secret"), std::string::npos) << output;
  // Every log line is one JSON object with the documented fields.
  std::istringstream lines(proxy.process().stderr_text());
  std::size_t count = 0;
  for (std::string l; std::getline(lines, l);) {
    if (l.empty()) continue;
    ++count;
    EXPECT_TRUE(l.starts_with("{\"time\":\"")) << l;
    EXPECT_TRUE(l.ends_with("}")) << l;
    EXPECT_NE(l.find("\"msg\":\""), std::string::npos) << l;
  }
  EXPECT_GE(count, 3u); // ready, access, drain...
}

} // namespace
} // namespace parallax::test

namespace parallax::test {
namespace {

const char* const sample_log_line =
    R"({"schema":"parallax.discrepancy/v1","time":"2026-11-26T03:21:01.123Z",)"
    R"("id":"01JDXK2Q6F7A3X9T5W1M0N8B4C","route":"api","endpoint":"GET /api/users/{id}",)"
    R"("outcome":"differ","request":{"method":"GET","target":"/api/users/42","headers":{},)"
    R"("body_bytes":0},"live":{"status":200,"latency_ms":1.84,"body_bytes":61,)"
    R"("body_sha256":"aa"},"shadow":{"status":500,"latency_ms":2.31,"body_bytes":58,)"
    R"("body_sha256":"bb","error":null},"differences":[{"kind":"status","live":200,)"
    R"("shadow":500}],"noise_suppressed":0})";

TEST(LifecycleTest, ReportAggregatesLogsAsTextAndJson) {
  temp_dir dir;
  const auto log = write_file(dir.file("d.jsonl"), std::string(sample_log_line) + "\n");
  child_process text({binary(), "report", log});
  EXPECT_EQ(run_to_exit(text), 0) << text.all_output();
  EXPECT_NE(text.stdout_text().find("GET /api/users/{id}"), std::string::npos)
      << text.stdout_text();
  const auto out = dir.file("summary.json");
  child_process json({binary(), "report", "--format", "json", "--out", out, log});
  EXPECT_EQ(run_to_exit(json), 0) << json.all_output();
  std::ifstream in(out);
  const std::string body((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_NE(body.find("\"parallax.summary/v1\""), std::string::npos) << body;
}

TEST(LifecycleTest, ReportNamesFileAndLineOfBadInputAndExits2) {
  temp_dir dir;
  const auto good = write_file(dir.file("good.jsonl"), std::string(sample_log_line) + "\n");
  const auto bad = write_file(dir.file("bad.jsonl"),
                              std::string(sample_log_line) +
                                  "\n{\"schema\":\"parallax.discrepancy/v1\", not json\n");
  child_process report({binary(), "report", good, bad});
  EXPECT_EQ(run_to_exit(report), 2);
  EXPECT_NE(report.stderr_text().find(bad + ":2:"), std::string::npos) << report.all_output();
  child_process format({binary(), "report", "--format", "pdf", good});
  EXPECT_EQ(run_to_exit(format), 2);
}

TEST(LifecycleTest, BlackHoleShadowAtFullMirroringKeepsLiveServedAndMemoryFlat) {
  temp_dir dir;
  http_backend live(echo_handler());
  blackhole_server hole(blackhole_mode::accept_and_ignore);
  const auto summary_path = dir.file("summary.json");
  const auto config = "version: 1\n"
                      "listeners: [{ name: public, address: \"127.0.0.1:0\" }]\n"
                      "admin: { address: \"127.0.0.1:0\" }\n"
                      "workers: 1\n"
                      "upstreams:\n"
                      "  live: { endpoints: [\"" +
                      live.address() +
                      "\"] }\n"
                      "  preview: { endpoints: [\"" +
                      hole.address() +
                      "\"], request_timeout: 60s }\n"
                      "routes:\n"
                      "  - name: api\n"
                      "    upstream: live\n"
                      "    mirror: { upstream: preview, percent: 100, max_inflight: 64 }\n"
                      "reports:\n"
                      "  discrepancies: { path: \"" +
                      dir.file("d.jsonl") +
                      "\" }\n"
                      "  summary: { path: \"" +
                      summary_path + "\", interval: 1h }\n";
  running_binary proxy(write_file(dir.file("parallax.yaml"), config));
  ASSERT_TRUE(proxy.ready()) << proxy.process().all_output();
  raw_client client;
  ASSERT_TRUE(client.connect(proxy.port())) << client.last_error();
  const auto batch = [&](int n) {
    for (int i = 0; i < n; ++i) {
      auto res = client.round_trip(raw_client::request("GET", "/item/" + std::to_string(i)));
      ASSERT_EQ(res.status, 200) << res.error;
    }
  };
  batch(1000);
  const auto rss_first = rss_bytes(proxy.process().pid());
  batch(3000);
  const auto rss_last = rss_bytes(proxy.process().pid());
  ASSERT_GT(rss_first, 0u);
  RecordProperty("rss_after_1000", std::to_string(rss_first));
  RecordProperty("rss_after_4000", std::to_string(rss_last));
#if !defined(__SANITIZE_ADDRESS__)
  // Flat: the 3000 requests after the first 1000 add (almost) nothing.
  EXPECT_LT(rss_last, rss_first + (4ull << 20)) << rss_first << " -> " << rss_last;
  EXPECT_LT(rss_last, 64ull << 20);
#endif
  const auto metrics = admin_get(proxy.admin_port(), "/metrics").body;
  EXPECT_THAT(metrics, HasSubstr("parallax_mirror_inflight{route=\"api\"} 64\n"));
  EXPECT_THAT(
      metrics,
      HasSubstr("parallax_mirror_skipped_total{route=\"api\",reason=\"saturated\"} 3936\n"));
  // SIGTERM: the drain does not wait for the stuck shadows; the summary is written at exit.
  ASSERT_TRUE(proxy.process().signal(SIGTERM));
  EXPECT_EQ(run_to_exit(proxy.process()), 0);
  std::ifstream in(summary_path);
  const std::string summary((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_THAT(summary, HasSubstr("\"parallax.summary/v1\""));
  EXPECT_THAT(summary, HasSubstr("\"exchanges\": 4000"));
}

} // namespace
} // namespace parallax::test
