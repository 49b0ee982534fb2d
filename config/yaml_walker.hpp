#pragma once
// Walking yaml-cpp nodes with their key paths and file positions: typed scalars, lists, maps
// with a fixed set of keys, and every error collected as a `load_error`. Internal to the
// loader (config/ is the only place that includes yaml-cpp).

#include <yaml-cpp/yaml.h>

#include <cstdint>
#include <initializer_list>
#include <limits>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "config/config.hpp"
#include "config/loader.hpp"

namespace parallax::config::detail {

/// 1-based line and column of a node in the file.
struct position {
  int line = 1;
  int column = 1;
};

/// The 1-based position of a yaml-cpp mark (1:1 when the mark is unknown).
position position_of(const YAML::Mark& mark);

/// A YAML value with the key path and position used in its error messages.
struct field {
  YAML::Node node;
  std::string path;
  position pos;
};

/// One key of a YAML map, with its value.
struct entry {
  std::string key;
  position key_pos;
  field value;
};

/// How a node is described in "expected X, got Y" messages.
std::string describe(const YAML::Node& node);

/// Reads typed values out of YAML nodes, collecting every error with its position.
class yaml_walker {
public:
  explicit yaml_walker(std::string file) : file_(std::move(file)) {}

  /// Records one error.
  void fail(position pos, std::string path, std::string message) {
    errors_.push_back(load_error{file_, pos.line, pos.column, std::move(path), std::move(message)});
  }

  /// Records a type mismatch on `f`.
  void fail_type(const field& f, std::string_view expected) {
    fail(f.pos, f.path, "expected " + std::string(expected) + ", got " + describe(f.node));
  }

  /// The errors recorded so far.
  std::vector<load_error>& errors() { return errors_; }

  /// The keys of map `f` with duplicate and non-string keys reported.
  std::vector<entry> entries(const field& f);

  /// The elements of list `f` (nothing if it is not a list, or empty when `non_empty`).
  std::optional<std::vector<field>> elements(const field& f, bool non_empty);

  /// A string scalar with ${ENV} references expanded.
  std::optional<std::string> text(const field& f);

  /// The expanded text of a scalar; anything else is "expected `expected`, got ...".
  std::optional<std::string> scalar_text(const field& f, std::string_view expected);

  /// A value_grammar check of a text: an error message, or nothing when the text is valid.
  using text_check = std::optional<std::string> (*)(std::string_view);

  /// A string that passes `check` (its message is the error otherwise).
  std::optional<std::string> checked_text(const field& f, text_check check);

  /// Records `error` at `f` when there is one; true if it did.
  bool failed(const field& f, std::optional<std::string> error);

  /// A string that must not be empty.
  std::optional<std::string> non_empty_text(const field& f);

  /// true / false.
  std::optional<bool> boolean(const field& f);

  /// A decimal integer in [min, max].
  std::optional<std::int64_t> integer(const field& f, std::int64_t min, std::int64_t max);

  /// `value` (the expanded text of `f`) as a decimal integer in [min, max].
  std::optional<std::int64_t> integer_value(const field& f, const std::string& value,
                                            std::int64_t min, std::int64_t max,
                                            std::string_view expected);

  /// A finite decimal number in [min, max].
  std::optional<double> number(const field& f, double min, double max);

  /// A duration with a unit in [min, max_duration].
  std::optional<duration> time_span(const field& f, duration min);

  /// A size in bytes in [min, max].
  std::optional<std::uint64_t> size(const field& f, std::uint64_t min,
                                    std::uint64_t max = std::numeric_limits<std::uint64_t>::max());

  /// HOST:PORT.
  std::optional<address> host_port(const field& f, bool allow_port_zero);

  /// A list of strings converted one by one with `convert` (elements failing are dropped).
  template <class Convert>
  std::optional<std::vector<std::string>> list(const field& f, bool non_empty, Convert convert);

  /// The value paired with the text of `f` in `choices`; another text is an error listing them.
  template <class T, std::size_t N>
  std::optional<T> choice(const field& f, const std::pair<std::string_view, T> (&choices)[N]);

  /// Records "must be A, B or C, got VALUE" at `f`.
  void fail_choice(const field& f, std::string_view value,
                   const std::vector<std::string_view>& names);

  /// An HTTP header name, lower-cased.
  std::optional<std::string> header_name(const field& f);

  /// An HTTP method, upper-cased.
  std::optional<std::string> method(const field& f);

  /// A list (possibly empty) of HTTP header names, lower-cased.
  std::optional<std::vector<std::string>> header_names(const field& f);

  /// A non-empty list of HTTP methods, upper-cased.
  std::optional<std::vector<std::string>> methods(const field& f);

  /// A listener/upstream/route name.
  std::optional<std::string> name(const field& f);

  /// A name (see `name`); one already in `seen` (name -> line of first use) is reported as a
  /// duplicate KIND name, and returned all the same.
  std::optional<std::string> unique_name(const field& f, std::map<std::string, int>& seen,
                                         std::string_view kind);

private:
  /// An HTTP token (RFC 9110); `what` names it in the error.
  std::optional<std::string> token(const field& f, std::string_view what);

  std::string file_;
  std::vector<load_error> errors_;
};

/// A YAML map with a fixed set of keys: reports duplicate and unknown keys on construction.
class section {
public:
  /// Reads map `f`; a key outside `keys` is an error with a "did you mean" hint.
  section(yaml_walker& walker, const field& f, std::initializer_list<std::string_view> keys);

  /// True when the node is a map.
  [[nodiscard]] bool valid() const { return valid_; }

  /// The value of `key`, if present.
  [[nodiscard]] std::optional<field> get(std::string_view key) const {
    for (const entry& e : entries_)
      if (e.key == key) return e.value;
    return std::nullopt;
  }

  /// The value of `key`; reports it missing otherwise.
  [[nodiscard]] std::optional<field> require(std::string_view key) const {
    auto value = get(key);
    if (!value && valid_) walker_.fail(self_.pos, child_path(key), "required key is missing");
    return value;
  }

  /// The key path of `key` inside this map.
  [[nodiscard]] std::string child_path(std::string_view key) const {
    return self_.path.empty() ? std::string(key) : self_.path + "." + std::string(key);
  }

private:
  yaml_walker& walker_;
  field self_;
  std::vector<entry> entries_;
  bool valid_ = false;
};

/// Stores `value` into `out` when a conversion succeeded.
template <class T, class U>
void assign(T& out, const std::optional<U>& value) {
  if (value) out = static_cast<T>(*value);
}

template <class Convert>
std::optional<std::vector<std::string>> yaml_walker::list(const field& f, bool non_empty,
                                                          Convert convert) {
  const auto items = elements(f, non_empty);
  if (!items) return std::nullopt;
  std::vector<std::string> out;
  for (const field& item : *items)
    if (auto value = convert(item)) out.push_back(std::move(*value));
  return out;
}

template <class T, std::size_t N>
std::optional<T> yaml_walker::choice(const field& f,
                                     const std::pair<std::string_view, T> (&choices)[N]) {
  const auto value = text(f);
  if (!value) return std::nullopt;
  std::vector<std::string_view> names;
  for (const auto& [choice_name, result] : choices) {
    if (choice_name == *value) return result;
    names.push_back(choice_name);
  }
  fail_choice(f, *value, names);
  return std::nullopt;
}

} // namespace parallax::config::detail
