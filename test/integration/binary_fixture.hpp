#pragma once
// Runs the real parallax binary for integration tests: `parallax run` with the ports its ready
// line announced, configurations written to files, and bounded waits for its exit and output.

#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <fstream>
#include <string>
#include <vector>

#include "test/support/process.hpp"
#include "test/support/raw_client.hpp"
#include "test/support/temp_dir.hpp"

namespace parallax::test {

inline constexpr std::chrono::milliseconds exit_bound{10'000};

/// Path of the binary under test.
inline std::string binary() {
  return PARALLAX_BINARY;
}

/// Writes `text` to `path` and returns the path.
inline std::string write_file(const std::string& path, const std::string& text) {
  std::ofstream(path, std::ios::binary) << text;
  return path;
}

/// Waits (bounded) until the child closed stdout and stderr, so their text is complete.
inline void wait_output_closed(child_process& process) {
  // No line ever contains this, so the wait ends exactly when the output is closed.
  const auto line = process.wait_for_line("\x01no such line\x01", std::chrono::seconds(5));
  EXPECT_FALSE(line.has_value());
}

/// Runs `argv` to completion (bounded); returns the exit code with the output complete.
inline int run_to_exit(child_process& process) {
  const int code = process.wait_exit(exit_bound);
  wait_output_closed(process);
  return code;
}

/// The start of a configuration for the binary: one plain listener `public` and the admin on
/// port 0, one worker (so a drain is one event), then the `upstreams:` key.
inline std::string config_head() {
  return "version: 1\n"
         "listeners: [{ name: public, address: \"127.0.0.1:0\" }]\n"
         "admin: { address: \"127.0.0.1:0\" }\n"
         "workers: 1\n"
         "upstreams:\n";
}

/// A configuration for the binary (config_head()): everything forwarded to `live`, reports
/// kept in `dir`.
inline std::string run_config(const temp_dir& dir, const std::string& live,
                              const std::string& extra = "") {
  return config_head() + "  live: { endpoints: [\"" + live +
         "\"] }\n"
         "routes:\n"
         "  - { name: all, upstream: live }\n"
         "reports: { discrepancies: { path: \"" +
         dir.file("discrepancies.jsonl") + "\" } }\n" + extra;
}

/// `parallax run --config FILE` (or the short form `parallax --config FILE`), with the ports its
/// ready line announced.
class running_binary {
public:
  /// Starts the binary and waits (bounded) for its ready line.
  explicit running_binary(const std::string& config_path,
                          const std::vector<std::string>& extra_args = {}, bool short_form = false)
      : process_(argv(config_path, extra_args, short_form)) {
    const auto match =
        process_.wait_for_match(R"(ready:.* listener public=http://127\.0\.0\.1:([0-9]+))"
                                R"(.* admin=http://127\.0\.0\.1:([0-9]+))",
                                exit_bound);
    if (!match) return;
    listener_port_ = static_cast<std::uint16_t>(std::stoi((*match)[1]));
    admin_port_ = static_cast<std::uint16_t>(std::stoi((*match)[2]));
  }

  /// True once the ready line was seen.
  [[nodiscard]] bool ready() const { return listener_port_ != 0 && admin_port_ != 0; }
  /// The bound port of listener "public".
  [[nodiscard]] std::uint16_t port() const { return listener_port_; }
  /// The bound admin port.
  [[nodiscard]] std::uint16_t admin_port() const { return admin_port_; }
  /// The child process.
  child_process& process() { return process_; }

private:
  static std::vector<std::string> argv(const std::string& config_path,
                                       const std::vector<std::string>& extra_args,
                                       bool short_form) {
    std::vector<std::string> out{binary()};
    if (!short_form) out.emplace_back("run");
    out.insert(out.end(), {"--config", config_path});
    out.insert(out.end(), extra_args.begin(), extra_args.end());
    return out;
  }

  child_process process_;
  std::uint16_t listener_port_ = 0;
  std::uint16_t admin_port_ = 0;
};

/// GET `path` over a fresh connection to `port`.
inline parsed_response get(std::uint16_t port, const std::string& path) {
  raw_client client;
  if (!client.connect(port)) {
    parsed_response failed;
    failed.error = "connect: " + client.last_error();
    return failed;
  }
  return client.round_trip(raw_client::request("GET", path));
}

} // namespace parallax::test
