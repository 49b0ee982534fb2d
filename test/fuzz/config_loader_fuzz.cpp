// Fuzzes the configuration loader (config/loader.cpp over yaml-cpp): input = a YAML file.
// Oracles:
// - load_string never throws or crashes, whatever the text;
// - it returns a config or errors, never both nor neither;
// - every error reads "test.yaml:LINE:COL: ..." with a 1-based line and column inside the file
//   (config.md: every error names its position);
// - a config it accepts can be shown (config::to_json, admin /config) and its body compare
//   patterns compile (the loader validated them: make_json_diff_options must not fail).

#include <cstddef>
#include <cstdint>
#include <exception>
#include <string>
#include <string_view>

#include "config/json.hpp"
#include "config/loader.hpp"
#include "mirror/diff/json_diff.hpp"
#include "test/fuzz/oracle.hpp"

namespace {

using namespace parallax;

constexpr std::string_view file_name = "test.yaml";

/// Whether `text` starts with "test.yaml:LINE:COL: " and LINE, COL are positive.
bool positioned(std::string_view text) {
  if (text.substr(0, file_name.size() + 1) != std::string(file_name) + ":") return false;
  text.remove_prefix(file_name.size() + 1);
  for (int part = 0; part < 2; ++part) {
    std::size_t digits = 0;
    while (digits < text.size() && text[digits] >= '0' && text[digits] <= '9')
      ++digits;
    if (digits == 0 || text[0] == '0' || digits == text.size() || text[digits] != ':') {
      return false;
    }
    text.remove_prefix(digits + 1);
  }
  return text.substr(0, 1) == " ";
}

/// The number of lines of `yaml` (a last line without a newline counts).
int line_count(std::string_view yaml) {
  int lines = 1;
  for (const char c : yaml)
    if (c == '\n') ++lines;
  return lines;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view yaml(reinterpret_cast<const char*>(data), size);
  config::load_result result;
  try {
    result = config::load_string(yaml, std::string(file_name));
  } catch (const std::exception& e) {
    fuzz::violated("load_string threw", e.what());
  } catch (...) {
    fuzz::violated("load_string threw a non-standard exception");
  }
  fuzz::require(result.ok() != !result.errors.empty(),
                result.ok() ? "a config came with errors" : "neither a config nor an error");
  const int lines = line_count(yaml);
  for (const auto& error : result.errors) {
    const std::string text = error.text();
    fuzz::require(positioned(text), "an error without FILE:LINE:COL", fuzz::printable(text));
    fuzz::require(error.line <= lines, "an error on a line after the end of the file",
                  fuzz::printable(text));
  }
  if (!result.ok()) return 0;
  try {
    const auto shown = config::to_json(*result.cfg);
    fuzz::require(shown.is_object(), "to_json of a config is not an object");
  } catch (const std::exception& e) {
    fuzz::violated("to_json threw on an accepted config", e.what());
  }
  for (const auto& route : result.cfg->routes) {
    if (!route.mirror) continue;
    fuzz::require(mirror::diff::make_json_diff_options(route.mirror->compare.body).has_value(),
                  "an accepted compare.body pattern does not compile", route.name);
  }
  return 0;
}
