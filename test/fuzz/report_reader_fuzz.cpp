// Fuzzes what `parallax report` reads (mirror/report/): input = a discrepancy log file (JSON
// Lines, plain or gzip) or a summary document (docs/report.md: a file whose first non-blank line
// is `{` alone or claims the summary schema). Oracles:
// - aggregate_inputs (the real entry point: file reading, gzip detection, line splitting,
//   record_from_json, summary detection and merge_json) never crashes; an error names the file
//   ("FILE:LINE: message" or "FILE: message"); on success the summary is a
//   `parallax.summary/v1` object, and from a log every non-blank line was a record or skipped;
// - a summary read, written and read again converges: the second writing equals the third
//   (the first may normalise: examples cut, endpoints of one name merged, top differences);
// - the summary renders in every format, and its JSON rendering parses back to the same
//   document (non-finite numbers aside, written as null);
// - writing and reading records converges at once: a record read from a line, written, read
//   and written again gives the same line the second time as the third (the first write may
//   normalise: it lower-cases and joins repeated headers, redacts, excerpts);
// - any JSON object renders as a summary in every format without crashing (the renderers read
//   the document defensively: missing or mistyped fields show as unknown).

#include <sys/mman.h>
#include <unistd.h>

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include "config/config.hpp"
#include "mirror/report/aggregate.hpp"
#include "mirror/report/format.hpp"
#include "mirror/report/record.hpp"
#include "mirror/report/record_reader.hpp"
#include "test/fuzz/oracle.hpp"

namespace {

using namespace parallax;
using namespace parallax::mirror::report;
namespace json = boost::json;

/// An in-memory file the reader opens by path (/proc/self/fd/N), rewritten for every input.
class memory_file {
public:
  memory_file() : fd_(memfd_create("discrepancies.jsonl", MFD_CLOEXEC)) {
    fuzz::require(fd_ >= 0, "memfd_create failed");
    path_ = "/proc/self/fd/" + std::to_string(fd_);
  }
  ~memory_file() { close(fd_); }
  memory_file(const memory_file&) = delete;
  memory_file& operator=(const memory_file&) = delete;

  /// Replaces the file's content with `text`.
  void write(std::string_view text) {
    fuzz::require(ftruncate(fd_, 0) == 0, "ftruncate failed");
    std::size_t done = 0;
    while (done < text.size()) {
      const auto n = pwrite(fd_, text.data() + done, text.size() - done, static_cast<off_t>(done));
      fuzz::require(n > 0, "pwrite failed");
      done += static_cast<std::size_t>(n);
    }
  }
  [[nodiscard]] const std::string& path() const noexcept { return path_; }

private:
  int fd_;
  std::string path_;
};

/// JSON equality where numbers compare by value and a non-finite double equals null (how the
/// renderer writes it).
bool same(const json::value& a, const json::value& b) {
  const auto as_double = [](const json::value& v) {
    if (v.is_int64()) return static_cast<double>(v.get_int64());
    if (v.is_uint64()) return static_cast<double>(v.get_uint64());
    return v.get_double();
  };
  if (a.is_double() && !std::isfinite(a.get_double())) return b.is_null();
  if (a.is_number() && b.is_number()) {
    if (!a.is_double() && !b.is_double()) return a == b;
    return as_double(a) == as_double(b);
  }
  if (a.kind() != b.kind()) return false;
  if (const auto* x = a.if_array()) {
    const auto& y = b.get_array();
    if (x->size() != y.size()) return false;
    for (std::size_t i = 0; i < x->size(); ++i)
      if (!same((*x)[i], y[i])) return false;
    return true;
  }
  if (const auto* x = a.if_object()) {
    const auto& y = b.get_object();
    if (x->size() != y.size()) return false;
    for (const auto& member : *x) {
      const auto* other = y.if_contains(member.key());
      if (other == nullptr || !same(member.value(), *other)) return false;
    }
    return true;
  }
  return a == b;
}

void render_all(const json::object& summary) {
  for (const auto format :
       {report_format::text, report_format::markdown, report_format::html, report_format::json})
    static_cast<void>(render(summary, format));
}

bool blank(std::string_view line) {
  return line.find_first_not_of(" \t\r") == std::string_view::npos;
}

/// Checks the write-read-write fixed point of every line that reads as a record.
void check_record_round_trips(std::string_view text) {
  static const config::reports cfg; // the default redaction and excerpt length
  while (!text.empty()) {
    const auto newline = text.find('\n');
    std::string_view line = text.substr(0, newline);
    text = newline == std::string_view::npos ? std::string_view{} : text.substr(newline + 1);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    boost::system::error_code ec;
    const auto value = json::parse(line, ec, {}, record_parse_options());
    if (ec) continue;
    std::string error;
    const auto first = record_from_json(value, error);
    if (!first) continue;
    std::string lines[3];
    append_json_line(lines[0], *first, cfg);
    for (int i = 1; i < 3; ++i) {
      const auto reread = json::parse(lines[i - 1], ec, {}, record_parse_options());
      fuzz::require(!ec, "a written record is not JSON", fuzz::printable(lines[i - 1]));
      const auto again = record_from_json(reread, error);
      fuzz::require(again.has_value(), "a written record does not read back: " + error,
                    fuzz::printable(lines[i - 1]));
      append_json_line(lines[i], *again, cfg);
    }
    fuzz::require(lines[1] == lines[2], "writing a record read back changed it again",
                  fuzz::printable(lines[1]) + "\n---\n" + fuzz::printable(lines[2]));
  }
}

/// Reads `summary` (pretty JSON text) back twice through the file: the two writings are equal.
/// Rewrites `file`.
void check_summary_converges(memory_file& file, const std::string& summary) {
  std::string written[2];
  std::string text = render_json(json::parse(summary, {}, record_parse_options()).as_object());
  for (auto& out : written) {
    file.write(text);
    const auto again = aggregate_inputs({file.path()});
    fuzz::require(again.ok() && again.summaries == 1,
                  "a written summary does not read back: " + again.error, fuzz::printable(text));
    out = render_json(again.summary);
    text = out;
  }
  fuzz::require(written[0] == written[1], "reading a summary read back changed it again",
                fuzz::printable(written[0]) + "\n---\n" + fuzz::printable(written[1]));
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static memory_file file;
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  file.write(text);

  const auto result = aggregate_inputs({file.path()});
  const bool gzip = size >= 2 && data[0] == 0x1f && data[1] == 0x8b;
  if (!result.ok()) {
    fuzz::require(result.error.starts_with(file.path() + ":"),
                  "an error without FILE:", fuzz::printable(result.error));
    fuzz::require(result.summary.empty(), "an error came with a summary");
  } else {
    const auto* schema = result.summary.if_contains("schema");
    fuzz::require(schema != nullptr && schema->is_string() &&
                      schema->get_string() == summary_schema,
                  "a summary without its schema");
    if (result.summaries > 0) {
      fuzz::require(result.records == 0 && result.skipped_lines == 0,
                    "a summary file counted records or skipped lines");
    } else if (!gzip) {
      std::uint64_t lines = 0;
      for (std::string_view rest = text; !rest.empty();) {
        const auto newline = rest.find('\n');
        if (!blank(rest.substr(0, newline))) ++lines;
        rest = newline == std::string_view::npos ? std::string_view{} : rest.substr(newline + 1);
      }
      // Every line that is not blank is a record or another program's line (skipped, counted).
      fuzz::require(result.records + result.skipped_lines == lines,
                    "records and skipped lines counted differ from the lines read");
      fuzz::require(result.summary.at("skipped_lines").as_uint64() == result.skipped_lines,
                    "the summary's skipped_lines is not the count");
    }
    render_all(result.summary);
    const std::string rendered = render_json(result.summary, false);
    boost::system::error_code ec;
    // Record strings may hold bytes that are not UTF-8; the summary passes them on.
    const auto back = json::parse(rendered, ec, {}, record_parse_options());
    fuzz::require(!ec, "the JSON rendering does not parse: " + ec.message(),
                  fuzz::printable(rendered));
    fuzz::require(same(result.summary, back), "the JSON rendering is another document",
                  fuzz::printable(rendered));
    if (result.summaries > 0) check_summary_converges(file, rendered);
  }

  if (!gzip) check_record_round_trips(text);

  boost::system::error_code ec;
  const auto document = json::parse(text, ec);
  if (!ec && document.is_object()) render_all(document.get_object());
  return 0;
}
