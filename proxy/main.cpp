// parallax command line (proxy.md "Command line"): wiring only.

#include <CLI/CLI.hpp>

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/version.hpp>

#include <brotli/decode.h>
#include <google/protobuf/stubs/common.h>
#include <llhttp.h>
#include <nghttp2/nghttp2.h>
#include <openssl/opensslv.h>
#include <spdlog/spdlog.h>
#include <zlib.h>

#include <signal.h>
#include <csignal>
#include <fstream>
#include <iostream>

#include "config/loader.hpp"
#include "demo/demo.hpp"
#include "mirror/engine.hpp"
#include "mirror/report/aggregate.hpp"
#include "mirror/report/format.hpp"
#include "mirror/report/gate.hpp"
#include "proxy/server/config_watch.hpp"
#include "proxy/server/logging.hpp"
#include "proxy/server/probe.hpp"
#include "proxy/server/server.hpp"
#include "proxy/version.hpp"

namespace {

using namespace parallax;

constexpr int exit_ok = 0;
constexpr int exit_runtime = 1;
constexpr int exit_config = 2;

// Prints every error of a config file; returns the config or nullptr. With `content`, that is
// the file's text (already read), else the file is read.
std::shared_ptr<const config::config> load_or_report(const std::string& path,
                                                     const std::string* content = nullptr) {
  auto result = content != nullptr ? config::load_string(*content, path) : config::load_file(path);
  for (const auto& e : result.errors)
    std::cerr << e.text() << '\n';
  return result.cfg;
}

int cmd_check(const std::string& path) {
  auto cfg = load_or_report(path);
  if (!cfg) return exit_config;
  std::cout << path << ": ok\n";
  return exit_ok;
}

int cmd_run(const std::string& path, bool watch) {
  // With --watch the text the configuration is loaded from is the watch's starting point, so a
  // change made at any moment after this read is seen.
  std::string initial;
  const bool read = watch && proxy::server::read_whole_file(path, initial);
  auto cfg = load_or_report(path, read ? &initial : nullptr);
  if (!cfg) return exit_config;
  proxy::server::configure_logging(cfg->logging);
  // Signal handlers go in before anything is announced: a SIGTERM sent as soon as the ready
  // line appears must drain, not kill.
  boost::asio::io_context signals_io(1);
  boost::asio::signal_set signals(signals_io, SIGTERM, SIGINT, SIGHUP);
  // The engine outlives the server: the workers' shadow requests refer to it until they end.
  std::unique_ptr<mirror::engine> mirroring;
  std::unique_ptr<proxy::server::server> srv;
  try {
    mirroring = std::make_unique<mirror::engine>(cfg);
    srv = std::make_unique<proxy::server::server>(cfg);
    mirroring->attach(*srv);
    srv->start();
  } catch (const std::exception& e) {
    spdlog::critical("cannot start: {}", e.what());
    return exit_runtime;
  }
  proxy::server::log_always(srv->ready_line());
  // --watch: twice a second, so a change is applied about a second after it settles.
  std::unique_ptr<proxy::server::config_watch> watcher;
  if (watch) {
    watcher = std::make_unique<proxy::server::config_watch>(
        path, std::move(initial), std::chrono::milliseconds(500),
        [&srv](const std::string& content) { (void)srv->reload_text(content); });
    watcher->start();
  }

  bool stop = false;
  int code = exit_ok;
  std::function<void(const boost::system::error_code&, int)> on_signal =
      [&](const boost::system::error_code& ec, int sig) {
        if (ec) return;
        if (sig == SIGHUP) {
          spdlog::info("SIGHUP: reloading {}", path);
          (void)srv->reload_file(); // logs and counts the result itself
          signals.async_wait(on_signal);
          return;
        }
        if (watcher) watcher->stop();
        const auto limits = srv->config()->limits; // the configuration in force now
        spdlog::info("signal {}: draining (drain_delay {} ms, then up to {} ms)", sig,
                     limits.drain_delay.count(), limits.drain_timeout.count());
        const bool clean = srv->drain(limits.drain_delay, limits.drain_timeout);
        spdlog::info(clean ? "drained" : "drain timed out; remaining connections closed");
        stop = true;
      };
  signals.async_wait(on_signal);
  while (!stop)
    signals_io.run_one();
  srv->stop();
  mirroring->shutdown(); // compares what is queued, writes the summary file, flushes the log
  // Signals that came during the drain and the stop wait unread in the set. From here on a
  // SIGTERM/SIGINT (a second `docker stop`, a supervisor that signals again) is ignored: the
  // drain is over and must end in exit 0, not in death by signal once the set's handlers are
  // gone. Blocked first (the workers are joined: this is the only thread that could take one),
  // so none lands between the set's SIG_DFL and SIG_IGN.
  sigset_t stopping;
  sigemptyset(&stopping);
  for (const int sig : {SIGTERM, SIGINT, SIGHUP})
    sigaddset(&stopping, sig);
  pthread_sigmask(SIG_BLOCK, &stopping, nullptr);
  signals.clear();
  for (const int sig : {SIGTERM, SIGINT, SIGHUP})
    std::signal(sig, SIG_IGN);
  spdlog::info("stopped");
  return code;
}

// An http:// input of `parallax report`: the summary a running parallax's admin serves.
bool fetch_report(const std::string& url, std::string& body, std::string& error) {
  constexpr std::size_t max_report_bytes = std::size_t{256} * 1024 * 1024;
  auto got = proxy::server::http_get(url, std::chrono::seconds(30), max_report_bytes);
  if (!got.error.empty()) {
    error = "GET failed: " + got.error;
    return false;
  }
  if (got.status != 200) {
    error = "GET answered " + got.status_line;
    return false;
  }
  body = std::move(got.body);
  return true;
}

// `parallax report`: aggregates discrepancy logs, summary files and running parallaxes'
// summaries into one summary (text by default).
int cmd_report(const std::vector<std::string>& inputs, const std::string& format_name,
               const std::string& out_path, double regression_ratio,
               const std::vector<std::string>& fail_if, std::uint64_t min_compared) {
  const auto format = mirror::report::parse_report_format(format_name);
  if (!format) {
    std::cerr << "report: unknown --format " << format_name << " (text, markdown, html or json)\n";
    return exit_config;
  }
  std::vector<mirror::report::gate_condition> conditions;
  for (const auto& expr : fail_if) {
    std::string error;
    auto c = mirror::report::parse_gate_condition(expr, error);
    if (!c) {
      std::cerr << "report: " << error << '\n';
      return exit_config;
    }
    conditions.push_back(std::move(*c));
  }
  mirror::report::aggregate_options options;
  options.regression_ratio = regression_ratio;
  options.fetch = fetch_report;
  const auto result = mirror::report::aggregate_inputs(inputs, options);
  if (!result.ok()) {
    std::cerr << result.error << '\n';
    return exit_config;
  }
  const auto text = mirror::report::render(result.summary, *format);
  if (out_path.empty()) {
    std::cout << text << std::flush;
  } else {
    std::ofstream out(out_path, std::ios::binary | std::ios::trunc);
    out << text;
    out.close();
    if (!out) {
      std::cerr << "report: cannot write " << out_path << '\n';
      return exit_runtime;
    }
  }
  // The gate (reports.md): 4 without enough evidence, 3 when a condition holds.
  const auto verdict = mirror::report::judge(mirror::report::gate_figures_of(result.summary),
                                             conditions, min_compared);
  for (const auto& line : verdict.lines)
    std::cerr << "report: " << line << '\n';
  return verdict.exit_code;
}

int cmd_probe(const std::string& url, double timeout_seconds) {
  const auto r = proxy::server::probe(
      url, std::chrono::milliseconds(static_cast<long>(timeout_seconds * 1000)));
  (r.ok ? std::cout : std::cerr) << url << ": " << r.message << '\n';
  return r.ok ? exit_ok : exit_runtime;
}

// Every library parallax links, as built against (the macros) or as loaded (the functions).
// yaml-cpp 0.7 has no version macro.
std::string version_text() {
  const auto brotli = BrotliDecoderVersion(); // 0xMMMmmmppp in 12-bit fields
  return fmt::format(
      "parallax {}\nboost {}.{}.{}, {}, llhttp {}.{}.{}, nghttp2 {}, protobuf {}.{}.{}, "
      "zlib {}, brotli {}.{}.{}, yaml-cpp 0.7, spdlog {}.{}.{}, fmt {}.{}.{}",
      PARALLAX_VERSION, BOOST_VERSION / 100000, BOOST_VERSION / 100 % 1000, BOOST_VERSION % 100,
      OPENSSL_VERSION_TEXT, LLHTTP_VERSION_MAJOR, LLHTTP_VERSION_MINOR, LLHTTP_VERSION_PATCH,
      nghttp2_version(0)->version_str, GOOGLE_PROTOBUF_VERSION / 1000000,
      GOOGLE_PROTOBUF_VERSION / 1000 % 1000, GOOGLE_PROTOBUF_VERSION % 1000, zlibVersion(),
      brotli >> 24, (brotli >> 12) & 0xfff, brotli & 0xfff, SPDLOG_VER_MAJOR, SPDLOG_VER_MINOR,
      SPDLOG_VER_PATCH, FMT_VERSION / 10000, FMT_VERSION / 100 % 100, FMT_VERSION % 100);
}

} // namespace

int main(int argc, char** argv) {
  std::signal(SIGPIPE, SIG_IGN);
  CLI::App app{"parallax: a traffic-mirroring HTTP proxy for preview environments"};
  app.require_subcommand(0, 1);
  std::string top_config;
  auto* top_config_option =
      app.add_option("--config", top_config, "configuration file (same as `run --config FILE`)");
  bool top_watch = false;
  app.add_flag("--watch", top_watch, "with --config: reload when the file's content changes")
      ->needs(top_config_option);
  bool show_version = false;
  app.add_flag("--version", show_version, "print versions and exit");

  std::string run_config;
  auto* run = app.add_subcommand("run", "run the proxy until SIGTERM/SIGINT");
  run->add_option("--config", run_config, "configuration file")->required();
  bool run_watch = false;
  run->add_flag("--watch", run_watch,
                "reload when the file's content changes (follows a ConfigMap's symlinks)");

  std::string check_config;
  auto* check = app.add_subcommand("check", "validate a configuration file");
  check->add_option("--config", check_config, "configuration file")->required();

  auto* version = app.add_subcommand("version", "print versions and exit");

  std::string probe_url;
  double probe_timeout = 2;
  auto* probe = app.add_subcommand(
      "probe", "GET an admin URL (container health checks): exit 0 on 2xx, 1 otherwise");
  probe->add_option("URL", probe_url, "e.g. http://127.0.0.1:9901/readyz")->required();
  probe->add_option("--timeout", probe_timeout, "seconds for the whole request")
      ->capture_default_str()
      ->check(CLI::Range(0.001, 3600.0));

  std::vector<std::string> report_inputs;
  std::string report_format = "text";
  std::string report_out;
  double report_ratio = 0;
  auto* report = app.add_subcommand(
      "report", "aggregate discrepancy logs, summary files and running parallaxes' /report "
                "into one summary");
  report
      ->add_option("INPUT", report_inputs,
                   "discrepancy logs (JSON Lines, plain or gzip, rotated; other log lines among "
                   "the records are skipped and counted), summary files (parallax.summary/v1), "
                   "- for standard input, http://HOST:PORT for a running parallax's admin "
                   "/report; counts add, so give each pod's data once")
      ->required();
  report->add_option("--format", report_format, "text | markdown | html | json")
      ->capture_default_str();
  report->add_option("--out", report_out, "write to FILE instead of standard output");
  report->add_option("--regression-ratio", report_ratio,
                     "flag endpoints whose shadow p99 exceeds this times the live p99 (0 = off)");
  std::vector<std::string> report_fail_if;
  std::uint64_t report_min_compared = 0;
  report
      ->add_option("--fail-if", report_fail_if,
                   "exit 3 when NAME OP NUMBER holds, e.g. \"discrepancy_rate > 0.01\" "
                   "(repeatable; reports.md \"Gate\")")
      ->expected(1) // one condition per --fail-if: the inputs that follow are not taken
      ->allow_extra_args(false)
      ->take_all();
  report->add_option("--min-compared", report_min_compared,
                     "exit 4 when fewer exchanges were compared (checked first)");

  demo::demo_options demo_opts;
  auto* demo_cmd = app.add_subcommand(
      "demo", "run built-in live and preview APIs behind the proxy and print the report");
  demo_cmd->add_option("--requests", demo_opts.requests, "requests to send")->capture_default_str();
  demo_cmd->add_option("--format", demo_opts.format, "text | markdown | html | json")
      ->capture_default_str();
  demo_cmd->add_option("--log", demo_opts.log_path, "keep the discrepancy log in FILE");
  demo_cmd->add_option("--out", demo_opts.out_path, "write the report to FILE");
  demo_cmd->add_flag("--grpc", demo_opts.grpc,
                     "the gRPC tour: a gRPC service over h2c, compared message by message");

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int code = app.exit(e);
    return code == 0 ? exit_ok : exit_config;
  }
  if (show_version || version->parsed()) {
    std::cout << version_text() << '\n';
    return exit_ok;
  }
  if (check->parsed()) return cmd_check(check_config);
  if (probe->parsed()) return cmd_probe(probe_url, probe_timeout);
  if (report->parsed()) {
    return cmd_report(report_inputs, report_format, report_out, report_ratio, report_fail_if,
                      report_min_compared);
  }
  if (demo_cmd->parsed()) {
    try {
      return demo::run_demo(demo_opts);
    } catch (const std::exception& e) {
      std::cerr << "demo failed: " << e.what() << '\n';
      return exit_runtime;
    }
  }
  if (run->parsed()) return cmd_run(run_config, run_watch);
  if (!top_config.empty()) return cmd_run(top_config, top_watch);
  std::cerr << app.help();
  return exit_config;
}
