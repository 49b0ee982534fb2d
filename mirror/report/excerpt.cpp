#include "mirror/report/excerpt.hpp"

#include "mirror/report/redact.hpp"

#include <boost/json/serialize.hpp>
#include <boost/json/string.hpp>

namespace parallax::mirror::report {
namespace {

namespace json = boost::json;

constexpr std::string_view ellipsis = "\xE2\x80\xA6"; // U+2026

} // namespace

std::string excerpt(std::string_view text, std::uint64_t max_bytes) {
  if (text.size() <= max_bytes) return std::string(text);
  auto cut = static_cast<std::size_t>(max_bytes);
  // Back up over continuation bytes (10xxxxxx) so no character is split.
  while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xC0) == 0x80)
    --cut;
  std::string out;
  out.reserve(cut + ellipsis.size());
  out.append(text.substr(0, cut));
  out.append(ellipsis);
  return out;
}

json::value excerpt_json(const json::value& value, const std::vector<std::string>& json_fields,
                         std::uint64_t max_bytes) {
  if (const auto* s = value.if_string()) return json::string(excerpt(*s, max_bytes));
  if (!value.is_structured()) return value;
  json::value copy = value;
  redact_json(copy, json_fields);
  const std::string text = json::serialize(copy);
  if (text.size() <= max_bytes) return copy;
  return json::string(excerpt(text, max_bytes));
}

} // namespace parallax::mirror::report
