#pragma once
// Line-by-line comparison of two text bodies (reports.md `kind: body_text`).
//
// Lines are the pieces between '\n' characters, compared byte for byte ('\r' included, so a
// CRLF/LF change shows); n newlines make n + 1 lines, so a missing final newline shows as a
// last empty line on one side only. Equal leading and trailing lines are skipped, then the
// changed middle is aligned by a longest-common-subsequence table when it is small enough
// (an inserted line is reported once, not as a shift of every later line), or compared
// position by position when it is not.

#include <cstddef>
#include <string_view>
#include <vector>

#include "mirror/diff/difference.hpp"

namespace parallax::mirror::diff {

/// Limits of a text comparison.
struct text_diff_options {
  /// At most this many differing lines are reported; the rest sets `truncated`.
  std::size_t max_lines = 10;
  /// Largest LCS table (live lines x shadow lines of the changed middle, 2 bytes per cell);
  /// beyond it the middle is compared by position.
  std::size_t max_lcs_cells = std::size_t{1} << 20;
};

/// The outcome of diff_text.
struct text_diff_result {
  std::vector<difference> differences; // kind body_text, in line order
  bool truncated = false;              // more than max_lines lines differ
};

/// The lines of `text` as views into it (see the file comment for what a line is).
[[nodiscard]] std::vector<std::string_view> split_lines(std::string_view text);

/// Compares two text bodies line by line. A changed line carries both texts and its live
/// line number; a line only one side has carries that side's text and line number.
[[nodiscard]] text_diff_result diff_text(std::string_view live, std::string_view shadow,
                                         const text_diff_options& opts = {});

} // namespace parallax::mirror::diff
