// The reports and logging sections of config.md.

#include "config/schema_builder.hpp"

#include <algorithm>
#include <iterator>
#include <limits>
#include <string>
#include <string_view>
#include <utility>

#include "config/value_grammar.hpp"

namespace parallax::config::detail {

void schema_builder::read_reports(const field& f, reports& out) {
  section s(*this, f, {"discrepancies", "summary", "redact", "endpoints"});
  if (!s.valid()) return;
  if (auto v = s.get("discrepancies")) read_discrepancies(*v, out.discrepancies);
  if (auto v = s.get("summary")) read_summary(*v, out.summary);
  if (auto v = s.get("redact")) read_redaction(*v, out.redact);
  if (auto v = s.get("endpoints")) {
    const auto endpoint = [&](const field& item) {
      return checked_text(item, check_endpoint_template);
    };
    assign(out.endpoints, list(*v, false, endpoint));
  }
}

void schema_builder::read_discrepancies(const field& f, discrepancy_log& out) {
  section s(*this, f,
            {"path", "max_file_bytes", "keep_files", "include_matches", "max_body_excerpt_bytes"});
  if (!s.valid()) return;
  if (auto v = s.get("path")) {
    auto value = text(*v);
    if (value && value->empty()) {
      fail(v->pos, v->path, "must not be empty (use \"-\" for standard output)");
    } else {
      assign(out.path, value);
    }
  }
  if (auto v = s.get("max_file_bytes")) assign(out.max_file_bytes, size(*v, 1));
  if (auto v = s.get("keep_files"))
    assign(out.keep_files, integer(*v, 1, std::numeric_limits<std::uint32_t>::max()));
  if (auto v = s.get("include_matches")) assign(out.include_matches, boolean(*v));
  if (auto v = s.get("max_body_excerpt_bytes")) assign(out.max_body_excerpt_bytes, size(*v, 0));
}

void schema_builder::read_summary(const field& f, summary_output& out) {
  section s(*this, f, {"path", "interval"});
  if (!s.valid()) return;
  if (auto v = s.get("path")) assign(out.path, text(*v));
  if (auto v = s.get("interval")) assign(out.interval, time_span(*v, duration(1)));
}

void schema_builder::read_redaction(const field& f, redaction& out) {
  section s(*this, f, {"headers", "json_fields", "query_params"});
  if (!s.valid()) return;
  if (auto v = s.get("headers")) assign(out.headers, header_names(*v));
  if (auto v = s.get("json_fields")) {
    const auto json_field = [&](const field& item) -> std::optional<std::string> {
      auto value = non_empty_text(item);
      if (value) return to_lower(*value);
      return value;
    };
    assign(out.json_fields, list(*v, false, json_field));
  }
  if (auto v = s.get("query_params"))
    assign(out.query_params,
           list(*v, false, [&](const field& item) { return non_empty_text(item); }));
}

void schema_builder::read_logging(const field& f, logging& out) {
  section s(*this, f, {"level", "format", "access_log"});
  if (!s.valid()) return;
  if (auto v = s.get("level")) {
    if (auto value = text(*v)) {
      static constexpr std::pair<std::string_view, logging::level> levels[] = {
          {"trace", logging::level::trace},
          {"debug", logging::level::debug},
          {"info", logging::level::info},
          {"warn", logging::level::warn},
          {"error", logging::level::error}};
      const auto it = std::find_if(std::begin(levels), std::end(levels),
                                   [&](const auto& level) { return level.first == *value; });
      if (it == std::end(levels)) {
        fail(v->pos, v->path,
             "must be one of trace, debug, info, warn, error; got " + quote_text(*value));
      } else {
        out.lvl = it->second;
      }
    }
  }
  if (auto v = s.get("format")) {
    if (auto value = text(*v)) {
      if (*value == "text") {
        out.fmt = logging::format::text;
      } else if (*value == "json") {
        out.fmt = logging::format::json;
      } else {
        fail(v->pos, v->path, "must be text or json, got " + quote_text(*value));
      }
    }
  }
  if (auto v = s.get("access_log")) assign(out.access_log, boolean(*v));
}

} // namespace parallax::config::detail
