#include "mirror/diff/text_diff.hpp"

#include <algorithm>
#include <cstdint>
#include <limits>

#include <boost/json/string.hpp>

namespace parallax::mirror::diff {

namespace {

using lines = std::vector<std::string_view>;

/// Collects differences of aligned runs, stopping once the limit is reached.
class line_reporter {
public:
  line_reporter(const lines& live, const lines& shadow, const text_diff_options& opts,
                text_diff_result& out)
      : live_(live), shadow_(shadow), opts_(opts), out_(out) {}

  /// Reports the run where live lines [l0, l1) stand against shadow lines [s0, s1): the
  /// k-th line of one side pairs with the k-th of the other; equal pairs are skipped.
  /// False once the result is full.
  bool run(std::size_t l0, std::size_t l1, std::size_t s0, std::size_t s1) {
    const std::size_t live_count = l1 - l0;
    const std::size_t shadow_count = s1 - s0;
    for (std::size_t k = 0; k < std::max(live_count, shadow_count); ++k) {
      const bool has_live = k < live_count;
      const bool has_shadow = k < shadow_count;
      if (has_live && has_shadow && live_[l0 + k] == shadow_[s0 + k]) continue;
      if (out_.differences.size() >= opts_.max_lines) {
        out_.truncated = true;
        return false;
      }
      difference& d = out_.differences.emplace_back();
      d.kind = difference_kind::body_text;
      d.line = (has_live ? l0 : s0) + k + 1;
      if (has_live) d.live = boost::json::string(live_[l0 + k]);
      if (has_shadow) d.shadow = boost::json::string(shadow_[s0 + k]);
    }
    return true;
  }

private:
  const lines& live_;
  const lines& shadow_;
  const text_diff_options& opts_;
  text_diff_result& out_;
};

/// Aligns live [l0, l1) with shadow [s0, s1) by a suffix LCS table and reports each run of
/// unmatched lines between matched ones.
void report_aligned(const lines& live, const lines& shadow, std::size_t l0, std::size_t l1,
                    std::size_t s0, std::size_t s1, line_reporter& reporter) {
  const std::size_t n = l1 - l0;
  const std::size_t m = s1 - s0;
  const std::size_t width = m + 1;
  // table[i * width + j]: LCS length of live[l0 + i ..) and shadow[s0 + j ..); at most
  // min(n, m), which the caller keeps within uint16_t.
  std::vector<std::uint16_t> table((n + 1) * width, 0);
  for (std::size_t i = n; i-- > 0;) {
    for (std::size_t j = m; j-- > 0;) {
      std::uint16_t& cell = table[i * width + j];
      if (live[l0 + i] == shadow[s0 + j]) {
        cell = static_cast<std::uint16_t>(table[(i + 1) * width + j + 1] + 1);
      } else {
        cell = std::max(table[(i + 1) * width + j], table[i * width + j + 1]);
      }
    }
  }
  std::size_t i = 0;
  std::size_t j = 0;
  std::size_t run_i = 0; // start of the current run of unmatched lines
  std::size_t run_j = 0;
  while (i < n || j < m) {
    if (i < n && j < m && live[l0 + i] == shadow[s0 + j]) {
      if (!reporter.run(l0 + run_i, l0 + i, s0 + run_j, s0 + j)) return;
      run_i = ++i;
      run_j = ++j;
    } else if (j == m || (i < n && table[(i + 1) * width + j] >= table[i * width + j + 1])) {
      ++i;
    } else {
      ++j;
    }
  }
  static_cast<void>(reporter.run(l0 + run_i, l1, s0 + run_j, s1));
}

} // namespace

std::vector<std::string_view> split_lines(std::string_view text) {
  std::vector<std::string_view> out;
  std::size_t start = 0;
  while (true) {
    const std::size_t end = text.find('\n', start);
    if (end == std::string_view::npos) {
      out.push_back(text.substr(start));
      return out;
    }
    out.push_back(text.substr(start, end - start));
    start = end + 1;
  }
}

text_diff_result diff_text(std::string_view live, std::string_view shadow,
                           const text_diff_options& opts) {
  text_diff_result result;
  if (live == shadow) return result;
  const lines a = split_lines(live);
  const lines b = split_lines(shadow);
  std::size_t prefix = 0;
  while (prefix < a.size() && prefix < b.size() && a[prefix] == b[prefix])
    ++prefix;
  std::size_t suffix = 0;
  while (suffix < a.size() - prefix && suffix < b.size() - prefix &&
         a[a.size() - 1 - suffix] == b[b.size() - 1 - suffix])
    ++suffix;
  const std::size_t l0 = prefix;
  const std::size_t l1 = a.size() - suffix;
  const std::size_t s0 = prefix;
  const std::size_t s1 = b.size() - suffix;
  const std::size_t n = l1 - l0;
  const std::size_t m = s1 - s0;
  line_reporter reporter(a, b, opts, result);
  const bool small = std::min(n, m) <= std::numeric_limits<std::uint16_t>::max() &&
                     (n == 0 || m == 0 || (n + 1) <= opts.max_lcs_cells / (m + 1));
  if (small && n > 0 && m > 0) {
    report_aligned(a, b, l0, l1, s0, s1, reporter);
  } else {
    static_cast<void>(reporter.run(l0, l1, s0, s1));
  }
  return result;
}

} // namespace parallax::mirror::diff
