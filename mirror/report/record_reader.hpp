#pragma once
// Discrepancy records read back from their log lines (for `parallax report`): the inverse of
// append_json_line(), as far as a redacted and excerpted record can be inverted.

#include "mirror/report/record.hpp"

#include <boost/json/parse_options.hpp>
#include <boost/json/value.hpp>

#include <optional>
#include <string>

namespace parallax::mirror::report {

/// How record lines are parsed back: strings may hold bytes that are not UTF-8 (header values
/// with obs-text are written as received).
[[nodiscard]] boost::json::parse_options record_parse_options() noexcept;

/// A record read back from its JSON form; std::nullopt with `error` set when `value` is not a
/// `parallax.discrepancy/v1` record. Values come back as written (redacted, excerpted).
[[nodiscard]] std::optional<record> record_from_json(const boost::json::value& value,
                                                     std::string& error);

} // namespace parallax::mirror::report
