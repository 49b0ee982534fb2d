#pragma once
// The steps both demo tours (HTTP/JSON and gRPC) share: where the discrepancy log goes, the
// real proxy run around generated traffic, and the report printed at the end.

#include <boost/json/object.hpp>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <iostream>
#include <thread>
#include <vector>

#include "demo/demo.hpp"
#include "mirror/report/format.hpp"

namespace parallax::config {
struct config;
}

namespace parallax::demo {

/// The files of one demo run.
struct run_files {
  std::filesystem::path temp; // a fresh temporary directory (removed at the end), or empty
  std::string log_path;       // the discrepancy log: --log FILE (emptied first) or in `temp`
};

/// Prepares the run's files; the temporary directory is made whether or not --log was given
/// (the gRPC tour keeps its descriptor set there).
run_files prepare_files(const demo_options& options);

/// Replaces every `{key}` in `text` with `value`.
std::string substitute(std::string text, std::string_view key, const std::string& value);

/// The configuration of `yaml` (errors printed: nullptr).
std::shared_ptr<const config::config> load_demo_config(const std::string& yaml);

/// Runs the real proxy (listener, one worker, mirroring engine) for `cfg`: prints `banner` with
/// `{port}` replaced by its listener's port, calls `traffic(port)` (false: a client failed),
/// waits until `mirrored` comparisons are settled, stops, and returns the summary (nothing when
/// the traffic failed).
std::optional<boost::json::object> run_proxy(const std::shared_ptr<const config::config>& cfg,
                                             std::uint64_t mirrored, const std::string& banner,
                                             const std::function<bool(std::uint16_t)>& traffic);

/// Prints the report of `summary` in `format` (to --out or standard output), the counts and
/// where the log is, and removes the temporary directory; returns the exit code.
int finish_demo(const boost::json::object& summary, const demo_options& options,
                mirror::report::report_format format, std::uint64_t sent, std::uint64_t mirrored,
                std::chrono::steady_clock::time_point started, run_files& files);

/// Sends `requests` requests from four client threads, each with its own `Client(port)`
/// connection and taking every fourth request in turn: `send(client, i)`. False when a client
/// failed (its error printed).
template <typename Client, typename Send>
bool run_clients(std::uint16_t port, std::uint32_t requests, Send send) {
  constexpr std::uint32_t connections = 4;
  std::vector<std::thread> clients;
  std::atomic<bool> failed{false};
  for (std::uint32_t t = 0; t < connections; ++t) {
    clients.emplace_back([&, t] {
      try {
        Client c(port);
        for (std::uint32_t i = t; i < requests; i += connections)
          send(c, i);
      } catch (const std::exception& e) {
        std::cerr << "demo client: " << e.what() << '\n';
        failed = true;
      }
    });
  }
  for (auto& th : clients)
    th.join();
  return !failed;
}

/// `parallax demo --grpc`: the gRPC tour (grpc_shop.hpp).
int run_grpc_demo(const demo_options& options);

} // namespace parallax::demo
