#pragma once
// Runs a real parallax server in-process on 127.0.0.1 port 0 from YAML text, for integration
// tests that talk to it with test::raw_client and real loopback backends. Wired as `parallax
// run` wires it: the mirroring engine attached, outliving the server.

#include <gtest/gtest.h>

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "config/loader.hpp"
#include "mirror/engine.hpp"
#include "proxy/server/server.hpp"
#include "test/support/raw_client.hpp"

namespace parallax::test {

/// A started proxy; stopped (drained quickly) on destruction.
class running_proxy {
public:
  /// Loads `yaml` after replacing each `{name}` key of `vars` by its value, then starts.
  /// `prepare` runs on the server before it starts (e.g. to set a resolver).
  explicit running_proxy(std::string yaml,
                         const std::vector<std::pair<std::string, std::string>>& vars = {},
                         mirror::queue_limits limits = {},
                         const std::function<void(proxy::server::server&)>& prepare = {}) {
    for (const auto& [key, value] : vars) {
      const std::string needle = "{" + key + "}";
      for (auto pos = yaml.find(needle); pos != std::string::npos; pos = yaml.find(needle)) {
        yaml.replace(pos, needle.size(), value);
      }
    }
    auto result = config::load_string(yaml, "test.yaml");
    if (!result.ok()) {
      std::string all;
      for (const auto& e : result.errors)
        all += e.text() + "\n";
      throw std::runtime_error("test config invalid:\n" + all + yaml);
    }
    engine_ = std::make_unique<mirror::engine>(result.cfg, limits);
    server_ = std::make_unique<proxy::server::server>(result.cfg);
    engine_->attach(*server_);
    if (prepare) prepare(*server_);
    server_->start();
  }
  ~running_proxy() { stop(); }
  /// Drains quickly, stops the server and flushes the mirroring engine (idempotent).
  void stop() {
    if (stopped_) return;
    stopped_ = true;
    server_->drain(std::chrono::milliseconds(0), std::chrono::milliseconds(200));
    server_->stop();
    engine_->shutdown();
  }
  running_proxy(const running_proxy&) = delete;
  running_proxy& operator=(const running_proxy&) = delete;

  /// Port of listener `i`.
  [[nodiscard]] std::uint16_t port(std::size_t i = 0) const {
    return server_->listeners().at(i).endpoint.port();
  }
  /// Port of the admin listener.
  [[nodiscard]] std::uint16_t admin_port() const { return server_->admin_endpoint().port(); }
  /// The server.
  proxy::server::server& server() { return *server_; }
  /// The mirroring engine.
  mirror::engine& engine() { return *engine_; }

private:
  std::unique_ptr<mirror::engine> engine_; // outlives server_
  std::unique_ptr<proxy::server::server> server_;
  bool stopped_ = false;
};

/// A one-route configuration forwarding everything to `{live}`, with extra top-level YAML.
inline std::string simple_config(const std::string& extra = "",
                                 const std::string& upstream_extra = "") {
  return "version: 1\n"
         "listeners: [{ name: public, address: \"127.0.0.1:0\" }]\n"
         "admin: { address: \"127.0.0.1:0\" }\n"
         "workers: 1\n"
         "upstreams:\n"
         "  live: { endpoints: [\"{live}\"] " +
         upstream_extra +
         "}\n"
         "routes:\n"
         "  - { name: all, upstream: live }\n" +
         extra;
}

/// GET `path` on the admin listener over a fresh connection.
inline parsed_response admin_get(std::uint16_t port, const std::string& path) {
  raw_client client;
  if (!client.connect(port)) {
    parsed_response failed;
    failed.error = "connect to admin: " + client.last_error();
    return failed;
  }
  return client.round_trip(raw_client::request("GET", path));
}

/// Value of the Prometheus sample `series` (the text before the value), if exported.
inline std::optional<std::string> metric_value(const std::string& text, const std::string& series) {
  const std::string needle = "\n" + series + " ";
  const auto pos = ("\n" + text).find(needle);
  if (pos == std::string::npos) return std::nullopt;
  const auto start = pos + needle.size() - 1; // "\n" was prepended for the search
  return text.substr(start, text.find('\n', start) - start);
}

} // namespace parallax::test
