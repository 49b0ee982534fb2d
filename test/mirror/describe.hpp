#pragma once
// A record's differences in one line, for the comparison tests' expectations: "body replace
// /user/name; header content-type; body_text 3", with each difference's values when asked.

#include <boost/json/serialize.hpp>

#include <string>

#include "mirror/report/record.hpp"

namespace parallax::mirror::test {

inline std::string describe(const report::record& r, bool values = false) {
  std::string out;
  for (const auto& d : r.differences) {
    if (!out.empty()) out += "; ";
    out += std::string(diff::to_string(d.kind));
    if (d.kind == diff::difference_kind::body)
      out += " " + std::string(diff::to_string(d.op)) + " " + d.path;
    if (diff::is_named_kind(d.kind)) out += " " + d.name;
    if (d.kind == diff::difference_kind::body_text) out += " " + std::to_string(d.line);
    if (!values) continue;
    if (d.live) out += " " + boost::json::serialize(*d.live);
    if (d.shadow) out += " -> " + boost::json::serialize(*d.shadow);
  }
  return out;
}

} // namespace parallax::mirror::test
