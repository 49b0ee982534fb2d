#pragma once
// What the loader tests share: loading YAML text as the file parallax.yaml, the text of its
// errors, a valid file to append to, and environment variables set for one test.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdlib>
#include <string>
#include <vector>

#include "config/loader.hpp"

namespace parallax::config {

/// Loads `yaml` as if it were the file parallax.yaml.
inline load_result load(const std::string& yaml) {
  return load_string(yaml, "parallax.yaml");
}

/// The text of every error of `result`.
inline std::vector<std::string> error_texts(const load_result& result) {
  std::vector<std::string> out;
  for (const auto& e : result.errors)
    out.push_back(e.text());
  return out;
}

/// Lines 1-5 of a valid file; tests append `routes:` (or more) from line 6 on.
inline const std::string head = "version: 1\n"
                                "listeners: [{ name: public, address: 127.0.0.1:8080 }]\n"
                                "upstreams:\n"
                                "  live:    { endpoints: [\"127.0.0.1:9001\"] }\n"
                                "  preview: { endpoints: [\"127.0.0.1:9002\"] }\n";

/// Lines 6-9: one mirrored route.
inline const std::string minimal_routes = "routes:\n"
                                          "  - name: all\n"
                                          "    upstream: live\n"
                                          "    mirror: { upstream: preview, percent: 10 }\n";

/// A valid file followed by `tail` (which starts on line 10).
inline std::string minimal_with(const std::string& tail) {
  return head + minimal_routes + tail;
}

/// Sets an environment variable for the lifetime of a test.
class scoped_env {
public:
  scoped_env(const char* name, const char* value) : name_(name) { ::setenv(name, value, 1); }
  ~scoped_env() { ::unsetenv(name_.c_str()); }
  scoped_env(const scoped_env&) = delete;
  scoped_env& operator=(const scoped_env&) = delete;

private:
  std::string name_;
};

/// Expects exactly one error with this text.
inline void expect_single_error(const std::string& yaml, const std::string& text) {
  const auto result = load(yaml);
  EXPECT_FALSE(result.ok());
  EXPECT_THAT(error_texts(result), ::testing::ElementsAre(text));
}

} // namespace parallax::config
