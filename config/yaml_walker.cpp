// Walking YAML nodes (yaml_walker.hpp): positions, maps with fixed keys, typed scalars.

#include "config/yaml_walker.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <limits>
#include <system_error>

#include "config/value_grammar.hpp"

namespace parallax::config::detail {
namespace {

/// Levenshtein distance, for "did you mean" hints on unknown keys.
std::size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<std::size_t> row(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j)
    row[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    std::size_t diagonal = row[0];
    row[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      const std::size_t above = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diagonal = above;
    }
  }
  return row[b.size()];
}

} // namespace

position position_of(const YAML::Mark& mark) {
  if (mark.line < 0 || mark.column < 0) return {};
  return {mark.line + 1, mark.column + 1};
}

std::string describe(const YAML::Node& node) {
  switch (node.Type()) {
  case YAML::NodeType::Null: return "null";
  case YAML::NodeType::Scalar: return quote_text(node.Scalar());
  case YAML::NodeType::Sequence: return "a list";
  case YAML::NodeType::Map: return "a map";
  case YAML::NodeType::Undefined: break;
  }
  return "nothing";
}

section::section(yaml_walker& walker, const field& f, std::initializer_list<std::string_view> keys)
    : walker_(walker), self_(f) {
  if (!f.node.IsMap()) {
    walker.fail_type(f, "a map");
    return;
  }
  valid_ = true;
  entries_ = walker.entries(f);
  for (const entry& e : entries_) {
    if (std::find(keys.begin(), keys.end(), e.key) != keys.end()) continue;
    std::string message = "unknown key " + quote_text(e.key);
    if (e.key == "<<") {
      message += " (YAML merge keys are not supported)";
    } else {
      std::string_view best;
      std::size_t best_distance = 3;
      for (std::string_view known : keys) {
        const std::size_t d = edit_distance(e.key, known);
        if (d < best_distance) {
          best_distance = d;
          best = known;
        }
      }
      if (!best.empty()) message += " (did you mean " + quote_text(best) + "?)";
    }
    walker.fail(e.key_pos, e.value.path, std::move(message));
  }
}

std::vector<entry> yaml_walker::entries(const field& f) {
  std::vector<entry> out;
  for (auto it = f.node.begin(); it != f.node.end(); ++it) {
    const YAML::Node key = it->first;
    const position key_pos = position_of(key.Mark());
    if (!key.IsScalar()) {
      fail(key_pos, f.path, "map keys must be strings, got " + describe(key));
      continue;
    }
    const std::string& name = key.Scalar();
    std::string path = f.path.empty() ? name : f.path + "." + name;
    const auto first =
        std::find_if(out.begin(), out.end(), [&](const entry& e) { return e.key == name; });
    if (first != out.end()) {
      fail(key_pos, path,
           "duplicate key " + quote_text(name) + " (first at line " +
               std::to_string(first->key_pos.line) + ")");
      continue;
    }
    const YAML::Node value = it->second;
    // An empty value's mark points at the next token; the key is where the user looks.
    const position value_pos = value.IsNull() ? key_pos : position_of(value.Mark());
    out.push_back(entry{name, key_pos, field{value, std::move(path), value_pos}});
  }
  return out;
}

std::optional<std::vector<field>> yaml_walker::elements(const field& f, bool non_empty) {
  if (!f.node.IsSequence()) {
    fail_type(f, "a list");
    return std::nullopt;
  }
  if (non_empty && f.node.size() == 0) {
    fail(f.pos, f.path, "must contain at least one entry");
    return std::nullopt;
  }
  std::vector<field> out;
  std::size_t index = 0;
  for (const YAML::Node& element : f.node) {
    const position pos = element.IsNull() ? f.pos : position_of(element.Mark());
    out.push_back(field{element, f.path + "[" + std::to_string(index++) + "]", pos});
  }
  return out;
}

std::optional<std::string> yaml_walker::text(const field& f) {
  if (!f.node.IsScalar()) {
    fail_type(f, "a string");
    return std::nullopt;
  }
  std::string out;
  if (failed(f, expand_env(f.node.Scalar(), out))) return std::nullopt;
  return out;
}

std::optional<std::string> yaml_walker::scalar_text(const field& f, std::string_view expected) {
  if (!f.node.IsScalar()) {
    fail_type(f, expected);
    return std::nullopt;
  }
  return text(f);
}

std::optional<std::string> yaml_walker::checked_text(const field& f, text_check check) {
  auto value = text(f);
  if (!value || failed(f, check(*value))) return std::nullopt;
  return value;
}

bool yaml_walker::failed(const field& f, std::optional<std::string> error) {
  if (!error) return false;
  fail(f.pos, f.path, std::move(*error));
  return true;
}

std::optional<std::string> yaml_walker::non_empty_text(const field& f) {
  auto value = text(f);
  if (value && value->empty()) {
    fail(f.pos, f.path, "must not be empty");
    return std::nullopt;
  }
  return value;
}

std::optional<bool> yaml_walker::boolean(const field& f) {
  const auto value = scalar_text(f, "true or false");
  if (!value) return std::nullopt;
  if (*value == "true" || *value == "True" || *value == "TRUE") return true;
  if (*value == "false" || *value == "False" || *value == "FALSE") return false;
  fail(f.pos, f.path, "expected true or false, got " + quote_text(*value));
  return std::nullopt;
}

std::optional<std::int64_t> yaml_walker::integer(const field& f, std::int64_t min,
                                                 std::int64_t max) {
  const auto value = scalar_text(f, "an integer");
  if (!value) return std::nullopt;
  return integer_value(f, *value, min, max, "an integer");
}

std::optional<std::int64_t> yaml_walker::integer_value(const field& f, const std::string& value,
                                                       std::int64_t min, std::int64_t max,
                                                       std::string_view expected) {
  std::string_view digits = value;
  if (!digits.empty() && digits.front() == '+') digits.remove_prefix(1);
  const std::string_view magnitude =
      !digits.empty() && digits.front() == '-' ? digits.substr(1) : digits;
  if (magnitude.empty() || !std::all_of(magnitude.begin(), magnitude.end(), is_digit)) {
    fail(f.pos, f.path, "expected " + std::string(expected) + ", got " + quote_text(value));
    return std::nullopt;
  }
  std::int64_t parsed = 0;
  auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), parsed);
  if (ec != std::errc{} || parsed < min || parsed > max) {
    std::string bound =
        max == std::numeric_limits<std::int64_t>::max()
            ? "must be at least " + std::to_string(min)
            : "must be between " + std::to_string(min) + " and " + std::to_string(max);
    fail(f.pos, f.path, bound + ", got " + value);
    return std::nullopt;
  }
  return parsed;
}

std::optional<double> yaml_walker::number(const field& f, double min, double max) {
  const auto value = scalar_text(f, "a number");
  if (!value) return std::nullopt;
  // YAML 1.2 core decimal: [-+]? ( digits [. digits*] | . digits ) [ [eE] [-+]? digits ]
  std::string_view s = *value;
  if (!s.empty() && s.front() == '+') s.remove_prefix(1);
  std::size_t i = !s.empty() && s.front() == '-' ? 1 : 0;
  std::size_t mantissa_digits = 0;
  while (i < s.size() && is_digit(s[i]))
    ++i, ++mantissa_digits;
  if (i < s.size() && s[i] == '.') {
    ++i;
    while (i < s.size() && is_digit(s[i]))
      ++i, ++mantissa_digits;
  }
  bool well_formed = mantissa_digits > 0;
  if (well_formed && i < s.size() && (s[i] == 'e' || s[i] == 'E')) {
    ++i;
    if (i < s.size() && (s[i] == '-' || s[i] == '+')) ++i;
    const std::size_t exponent_start = i;
    while (i < s.size() && is_digit(s[i]))
      ++i;
    well_formed = i > exponent_start;
  }
  double parsed = 0;
  if (well_formed && i == s.size()) {
    auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), parsed);
    well_formed = ec == std::errc{} && end == s.data() + s.size() && std::isfinite(parsed);
  } else {
    well_formed = false;
  }
  if (!well_formed) {
    fail(f.pos, f.path, "expected a number, got " + quote_text(*value));
    return std::nullopt;
  }
  if (parsed < min || parsed > max) {
    std::string bound =
        max == std::numeric_limits<double>::max()
            ? "must be at least " + format_number(min)
            : "must be between " + format_number(min) + " and " + format_number(max);
    fail(f.pos, f.path, bound + ", got " + *value);
    return std::nullopt;
  }
  return parsed;
}

std::optional<duration> yaml_walker::time_span(const field& f, duration min) {
  const auto value = scalar_text(f, "a duration like 5s");
  if (!value) return std::nullopt;
  duration parsed{};
  if (failed(f, parse_duration(*value, parsed))) return std::nullopt;
  if (parsed < min) {
    fail(f.pos, f.path, "must be at least " + duration_text(min) + ", got " + *value);
    return std::nullopt;
  }
  return parsed;
}

std::optional<std::uint64_t> yaml_walker::size(const field& f, std::uint64_t min,
                                               std::uint64_t max) {
  const auto value = scalar_text(f, "a size like 64KiB");
  if (!value) return std::nullopt;
  std::uint64_t parsed = 0;
  if (failed(f, parse_size(*value, parsed))) return std::nullopt;
  if (parsed < min || parsed > max) {
    std::string bound =
        max == std::numeric_limits<std::uint64_t>::max()
            ? "must be at least " + std::to_string(min)
            : "must be between " + std::to_string(min) + " and " + std::to_string(max);
    fail(f.pos, f.path, bound + " bytes, got " + *value);
    return std::nullopt;
  }
  return parsed;
}

std::optional<address> yaml_walker::host_port(const field& f, bool allow_port_zero) {
  const auto value = scalar_text(f, "an address like 127.0.0.1:8080");
  if (!value) return std::nullopt;
  address parsed;
  if (failed(f, parse_address(*value, allow_port_zero, parsed))) return std::nullopt;
  return parsed;
}

void yaml_walker::fail_choice(const field& f, std::string_view value,
                              const std::vector<std::string_view>& names) {
  std::string listed;
  for (std::size_t i = 0; i < names.size(); ++i) {
    if (i > 0) listed += i + 1 == names.size() ? " or " : ", ";
    listed += names[i];
  }
  fail(f.pos, f.path, "must be " + listed + ", got " + quote_text(value));
}

std::optional<std::string> yaml_walker::token(const field& f, std::string_view what) {
  auto value = text(f);
  if (value && !is_token(*value)) {
    fail(f.pos, f.path, "not a valid " + std::string(what) + ": " + quote_text(*value));
    return std::nullopt;
  }
  return value;
}

std::optional<std::string> yaml_walker::header_name(const field& f) {
  const auto value = token(f, "HTTP header name");
  if (!value) return std::nullopt;
  return to_lower(*value);
}

std::optional<std::string> yaml_walker::method(const field& f) {
  const auto value = token(f, "HTTP method");
  if (!value) return std::nullopt;
  return to_upper(*value);
}

std::optional<std::string> yaml_walker::name(const field& f) {
  auto value = text(f);
  if (!value) return std::nullopt;
  if (!is_name(*value)) {
    fail(f.pos, f.path,
         "names may contain only letters, digits, \"-\", \"_\" and \".\", got " +
             quote_text(*value));
    return std::nullopt;
  }
  return value;
}

std::optional<std::string>
yaml_walker::unique_name(const field& f, std::map<std::string, int>& seen, std::string_view kind) {
  auto value = name(f);
  if (!value) return std::nullopt;
  const auto [it, inserted] = seen.emplace(*value, f.pos.line);
  if (!inserted)
    fail(f.pos, f.path,
         "duplicate " + std::string(kind) + " name " + quote_text(*value) + " (first at line " +
             std::to_string(it->second) + ")");
  return value;
}

std::optional<std::vector<std::string>> yaml_walker::header_names(const field& f) {
  return list(f, false, [&](const field& item) { return header_name(item); });
}

std::optional<std::vector<std::string>> yaml_walker::methods(const field& f) {
  return list(f, true, [&](const field& item) { return method(item); });
}

} // namespace parallax::config::detail
