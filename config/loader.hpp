#pragma once
// The one place that reads YAML: parses, interpolates ${ENV}, validates and builds a
// `config` snapshot, or returns every error found with its file position.

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "config/config.hpp"

namespace parallax::config {

/// One validation error; `text()` is "FILE:LINE:COL: key.path: message".
struct load_error {
  std::string file;
  int line = 0;         // 1-based
  int column = 0;       // 1-based
  std::string key_path; // e.g. routes[0].mirror.percent (empty for syntax errors)
  std::string message;
  [[nodiscard]] std::string text() const;
};

/// Either a config or the list of all errors found (never both).
struct load_result {
  std::shared_ptr<const config> cfg;
  std::vector<load_error> errors;
  [[nodiscard]] bool ok() const { return cfg != nullptr; }
};

/// Loads and validates a YAML file; an unreadable file is one error at 1:1.
load_result load_file(const std::string& path);

/// Loads from text; `file_name` is used in error messages and as source_path.
load_result load_string(std::string_view yaml, const std::string& file_name);

} // namespace parallax::config
