#include "mirror/report/aggregate.hpp"

#include "mirror/report/record_reader.hpp"

#include <boost/json/array.hpp>
#include <boost/json/parse.hpp>

#include <unistd.h>
#include <zlib.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <map>
#include <set>
#include <system_error>

namespace parallax::mirror::report {
namespace {

namespace json = boost::json;

constexpr std::size_t read_chunk = std::size_t{64} * 1024;
// What a discrepancy record's line always holds: its schema name as a JSON string.
const std::string record_schema_claim = "\"" + std::string(record_schema) + "\"";
// ... and a summary's (a compact one: pretty ones start with a line "{").
const std::string summary_schema_claim = "\"" + std::string(summary_schema) + "\"";
constexpr std::size_t max_line_bytes =
    std::size_t{64} * 1024 * 1024; // far above any record written; the bound of a summary too
using time_point = std::chrono::system_clock::time_point;

// Owns a zlib file handle (zlib reads plain files transparently, so one reader serves both).
class gz_file {
public:
  /// `-` is standard input.
  explicit gz_file(const std::string& path)
      : file_(path == "-" ? gzdopen(::dup(STDIN_FILENO), "rb") : gzopen(path.c_str(), "rb")) {
    if (file_ != nullptr) gzbuffer(file_, 128 * 1024);
  }
  ~gz_file() {
    if (file_ != nullptr) gzclose(file_);
  }
  gz_file(const gz_file&) = delete;
  gz_file& operator=(const gz_file&) = delete;

  [[nodiscard]] gzFile get() const noexcept { return file_; }

private:
  gzFile file_;
};

// Everything the inputs add up to: endpoints in `sum`, the rest here.
struct merger {
  explicit merger(summary_options options) : sum(std::move(options)) {}

  summary sum;
  std::optional<time_point> since, until; // of summary inputs
  std::uint64_t inputs = 0;
  std::uint64_t inputs_with_totals = 0;
  proxy_totals totals;
  std::map<std::string, std::pair<time_point, json::object>> routes; // name -> (until, route)

  void cover(time_point from, time_point to) {
    since = since ? std::min(*since, from) : from;
    until = until ? std::max(*until, to) : to;
  }

  // Adds a summary document: endpoints, window, proxy totals and routes.
  bool add_summary(const json::value& document, std::string& error) {
    const auto* doc = document.if_object();
    if (doc == nullptr) {
      error = "not a JSON object";
      return false;
    }
    if (!sum.merge_json(*doc, error)) return false;
    const auto time_at = [&](std::string_view key) -> std::optional<time_point> {
      const auto* v = doc->if_contains(key);
      return v != nullptr && v->is_string() ? parse_time(v->get_string()) : std::nullopt;
    };
    const auto from = time_at("since");
    const auto to = time_at("until");
    if (from || to) cover(from.value_or(*to), to.value_or(*from));
    add_totals(*doc);
    if (const auto* list = doc->if_contains("routes"); list != nullptr && list->is_array()) {
      // One entry per route name: the one of the latest summary (the configuration then).
      const auto when = to.value_or(time_point::min());
      for (const auto& r : list->get_array()) {
        const auto* o = r.if_object();
        const auto* name = o == nullptr ? nullptr : o->if_contains("name");
        if (name == nullptr || !name->is_string()) continue;
        auto [it, fresh] = routes.try_emplace(std::string(name->get_string()), when, *o);
        if (!fresh && when >= it->second.first) it->second = {when, *o};
      }
    }
    return true;
  }

  // Totals the proxy counted (a summary of a running parallax): they add up.
  void add_totals(const json::object& doc) {
    const auto* t = doc.if_contains("totals");
    if (t == nullptr || !t->is_object()) return;
    const auto& o = t->get_object();
    const auto count = [&](const json::object& from, std::string_view key) {
      const auto* v = from.if_contains(key);
      return v != nullptr && v->is_number() ? std::optional(v->to_number<double>()) : std::nullopt;
    };
    const auto as_count = [](std::optional<double> d) {
      return d && *d >= 0 && *d < 1.8e19 ? static_cast<std::uint64_t>(*d) : std::uint64_t{0};
    };
    const auto exchanges = count(o, "exchanges");
    const auto sampled = count(o, "sampled");
    if (!exchanges || !sampled) return; // built from logs: unknown
    ++inputs_with_totals;
    totals.exchanges += as_count(exchanges);
    totals.sampled += as_count(sampled);
    totals.comparisons_dropped += as_count(count(o, "comparisons_dropped"));
    if (const auto* skipped = o.if_contains("skipped");
        skipped != nullptr && skipped->is_object()) {
      for (std::size_t i = 0; i < skip_reason_count; ++i) {
        totals.skipped[i] +=
            as_count(count(skipped->get_object(), to_string(static_cast<skip_reason>(i))));
      }
    }
  }
};

// Reads one file (a log line by line, or a summary document) into `m`; false with `error` set
// at the first problem.
bool read_file(const std::string& path, merger& m, aggregate_result& result) {
  errno = 0;
  const gz_file file(path);
  if (file.get() == nullptr) {
    result.error = path + ": cannot open: " + std::strerror(errno != 0 ? errno : ENOENT);
    return false;
  }
  enum class kind { unknown, log, summary } what = kind::unknown;
  std::string document; // a summary's text
  std::uint64_t line_number = 0;
  std::string line;
  std::string parse_error;
  const auto fail = [&](const std::string& message) {
    result.error = path + ":" + std::to_string(line_number) + ": " + message;
    return false;
  };
  const auto take_line = [&]() -> bool {
    ++line_number;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (what == kind::summary) {
      document.append(line).push_back('\n');
      return document.size() <= max_line_bytes ||
             fail("summary longer than " + std::to_string(max_line_bytes) + " bytes");
    }
    const auto first = line.find_first_not_of(" \t\r");
    if (first == std::string::npos) return true; // blank
    const bool claims_record = line.find(record_schema_claim) != std::string::npos;
    if (what == kind::unknown) {
      const auto last = line.find_last_not_of(" \t\r");
      const bool summary_start =
          (first == last && line[first] == '{') ||
          (!claims_record && line.find(summary_schema_claim) != std::string::npos);
      what = summary_start ? kind::summary : kind::log;
      if (what == kind::summary) {
        document.append(line).push_back('\n');
        return true;
      }
    }
    // A line that does not claim the record schema is someone else's (a container's log lines
    // interleaved by `kubectl logs`): skipped and counted. One that claims it must parse; it may
    // follow a prefix (`kubectl logs --prefix`: "[pod/NAME/CONTAINER] ").
    if (!claims_record) {
      ++result.skipped_lines;
      return true;
    }
    const auto start = line.find('{');
    const std::string_view json =
        start == std::string::npos ? std::string_view(line) : std::string_view(line).substr(start);
    boost::system::error_code ec;
    const auto value = boost::json::parse(json, ec, {}, record_parse_options());
    if (ec) return fail("invalid JSON: " + ec.message());
    auto r = record_from_json(value, parse_error);
    if (!r) return fail(parse_error);
    m.sum.add(*r);
    ++result.records;
    return true;
  };
  std::vector<char> buffer(read_chunk);
  for (;;) {
    const int n = gzread(file.get(), buffer.data(), static_cast<unsigned>(buffer.size()));
    if (n < 0) {
      int code = 0;
      const char* message = gzerror(file.get(), &code);
      ++line_number; // the line being read
      return fail(std::string("read error: ") + (code == Z_ERRNO ? std::strerror(errno) : message));
    }
    if (n == 0) break;
    std::string_view chunk(buffer.data(), static_cast<std::size_t>(n));
    for (;;) {
      const auto newline = chunk.find('\n');
      line.append(chunk.substr(0, newline));
      if (line.size() > max_line_bytes) {
        ++line_number;
        return fail("line longer than " + std::to_string(max_line_bytes) + " bytes");
      }
      if (newline == std::string_view::npos) break;
      if (!take_line()) return false;
      line.clear();
      chunk.remove_prefix(newline + 1);
    }
  }
  int code = Z_OK;
  gzerror(file.get(), &code);
  if (code == Z_BUF_ERROR) {
    ++line_number;
    return fail("truncated gzip data");
  }
  if (!line.empty() && !take_line()) return false; // last line without a newline
  ++result.files;
  if (what != kind::summary) return true;
  boost::system::error_code ec;
  const auto value = boost::json::parse(document, ec, {}, record_parse_options());
  if (ec) {
    result.error = path + ": invalid summary JSON: " + ec.message();
    return false;
  }
  if (!m.add_summary(value, parse_error)) {
    result.error = path + ": invalid summary: " + parse_error;
    return false;
  }
  ++result.summaries;
  return true;
}

// GETs a running parallax's summary into `m`.
bool read_url(const std::string& input, const aggregate_options& options, merger& m,
              aggregate_result& result) {
  const auto url = report_url(input);
  std::string body;
  std::string error;
  if (!options.fetch) {
    error = "URL inputs are not supported here";
  } else if (options.fetch(url, body, error)) {
    boost::system::error_code ec;
    const auto value = boost::json::parse(body, ec, {}, record_parse_options());
    if (ec) {
      error = "invalid summary JSON: " + ec.message();
    } else if (m.add_summary(value, error)) {
      ++result.summaries;
      return true;
    } else {
      error = "invalid summary: " + error;
    }
  }
  result.error = url + ": " + error;
  return false;
}

} // namespace

bool is_url_input(std::string_view input) noexcept {
  return input.starts_with("http://");
}

std::string report_url(std::string_view input) {
  const auto scheme_end = input.find("://");
  const auto authority = input.substr(scheme_end == std::string_view::npos ? 0 : scheme_end + 3);
  const auto slash = authority.find('/');
  if (slash != std::string_view::npos && slash + 1 < authority.size()) return std::string(input);
  return std::string(input.substr(0, input.size() - (slash == std::string_view::npos ? 0 : 1))) +
         "/report";
}

aggregate_result aggregate_inputs(const std::vector<std::string>& inputs,
                                  const aggregate_options& options) {
  aggregate_result result;
  summary_options sum_options;
  sum_options.regression_ratio = options.regression_ratio;
  sum_options.max_endpoints = options.max_endpoints;
  sum_options.top_differences = options.top_differences;
  merger m(sum_options);
  std::set<std::string> seen; // the same file (or URL) named twice counts once
  std::string current;
  try {
    for (const auto& input : inputs) {
      current = input;
      const bool url = is_url_input(input);
      std::error_code ec;
      std::string key = url ? input : std::filesystem::weakly_canonical(input, ec).string();
      if (ec) key = input;
      if (!seen.insert(key).second) continue;
      ++m.inputs;
      if (!(url ? read_url(input, options, m, result) : read_file(input, m, result))) {
        return result;
      }
    }
    if (const auto range = m.sum.record_time_range()) m.cover(range->first, range->second);
    const auto now = std::chrono::system_clock::now();
    // Totals only when every input carries the proxy's (logs hold none): never half of them.
    const bool totals_known = m.inputs > 0 && m.inputs_with_totals == m.inputs;
    result.summary = m.sum.to_json(m.since.value_or(now), m.until.value_or(now),
                                   totals_known ? std::optional(m.totals) : std::nullopt);
    std::vector<std::string> notes;
    if (const auto* note = result.summary.if_contains("note"); note && note->is_string()) {
      notes.emplace_back(note->get_string());
    }
    if (!totals_known && m.inputs_with_totals > 0) {
      notes.push_back(std::to_string(m.inputs_with_totals) + " of " + std::to_string(m.inputs) +
                      " inputs carry the proxy's totals, the others (logs, or summaries built "
                      "from logs) do not: the totals stay unknown");
    }
    result.summary["skipped_lines"] = result.skipped_lines;
    if (result.skipped_lines > 0) {
      notes.push_back(std::to_string(result.skipped_lines) +
                      " line(s) that are not discrepancy records (other log lines) were skipped");
    }
    if (!notes.empty()) {
      std::string note;
      for (const auto& n : notes)
        note += (note.empty() ? "" : "; ") + n;
      result.summary["note"] = note;
    }
    if (!m.routes.empty()) {
      json::array routes;
      for (auto& [name, entry] : m.routes)
        routes.push_back(std::move(entry.second));
      result.summary["routes"] = std::move(routes);
    }
  } catch (const std::exception& e) { // allocation failure: report it like any input error
    result.error = current + ": " + e.what();
    result.summary = {};
  }
  return result;
}

} // namespace parallax::mirror::report
