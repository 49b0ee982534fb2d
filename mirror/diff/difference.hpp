#pragma once
// One difference between a live and a shadow response, as the differs produce it and the
// discrepancy log writes it (reports.md, `differences`). A plain value: no excerpting or
// redaction happens here; the report writer does both when it serialises a record.

#include <array>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include <boost/json/value.hpp>

namespace parallax::mirror::diff {

/// What part of the exchange differs (the record's `kind`). `grpc_status` and `trailer` come
/// from gRPC exchanges (reports.md): the call's status code, and a trailer field compared like
/// a header.
enum class difference_kind { status, header, body, body_text, body_bytes, grpc_status, trailer };

/// Every kind, for lookups by name.
inline constexpr std::array<difference_kind, 7> all_difference_kinds{
    difference_kind::status,     difference_kind::header,      difference_kind::body,
    difference_kind::body_text,  difference_kind::body_bytes,  difference_kind::grpc_status,
    difference_kind::trailer};

/// The JSON body operation of a `body` difference (the record's `op`).
///
/// `add`, `remove` and `replace` follow RFC 6902. `type` is a replace whose two values have
/// different JSON types (number 10 -> string "10", object -> array); whoever applies a
/// record treats `type` exactly like `replace`. That is the reading of reports.md's patch
/// rule this project uses: applying add/remove/replace, with `type` counted as a replace,
/// to the live body gives the shadow body.
enum class body_op { none, add, remove, replace, type };

/// One difference. Which fields are meaningful depends on `kind`:
/// - status:     live/shadow hold the two status codes.
/// - header:     name (lower-case); live/shadow hold the joined values, absent when missing.
/// - body:       op and path (RFC 6901); live for remove/replace/type, shadow for
///               add/replace/type.
/// - body_text:  line (1-based: the live line number when the live line is present,
///               otherwise the shadow line number); live/shadow hold the line texts, absent
///               when the line exists on one side only.
/// - body_bytes: live/shadow hold the hex SHA-256 of each body (the writer names them
///               `live_sha256` / `shadow_sha256`).
/// - grpc_status: live/shadow hold the two gRPC status codes (null: none was received).
/// - trailer:    like header, for a trailer field.
struct difference {
  difference_kind kind = difference_kind::body;
  body_op op = body_op::none;
  std::string path;
  std::string name;
  std::size_t line = 0;
  std::optional<boost::json::value> live;   // std::nullopt: absent on the live side
  std::optional<boost::json::value> shadow; // std::nullopt: absent on the shadow side

  bool operator==(const difference&) const = default;
};

/// The record spelling of a kind (`status`, `header`, `body`, `body_text`, `body_bytes`).
[[nodiscard]] constexpr std::string_view to_string(difference_kind kind) noexcept {
  switch (kind) {
  case difference_kind::status: return "status";
  case difference_kind::header: return "header";
  case difference_kind::body: return "body";
  case difference_kind::body_text: return "body_text";
  case difference_kind::body_bytes: return "body_bytes";
  case difference_kind::grpc_status: return "grpc_status";
  case difference_kind::trailer: return "trailer";
  }
  return "body";
}

/// The kind spelt `name` in records and summaries; nothing for a kind this version does not
/// know (a later, additive one).
[[nodiscard]] constexpr std::optional<difference_kind> difference_kind_named(std::string_view name) noexcept {
  for (auto k : all_difference_kinds) {
    if (to_string(k) == name) return k;
  }
  return std::nullopt;
}

/// Whether differences of `kind` are told apart by a field name (`header`, `trailer`).
[[nodiscard]] constexpr bool is_named_kind(difference_kind kind) noexcept {
  return kind == difference_kind::header || kind == difference_kind::trailer;
}

/// Whether differences of `kind` are told apart by their two values (`status`, `grpc_status`).
[[nodiscard]] constexpr bool is_status_kind(difference_kind kind) noexcept {
  return kind == difference_kind::status || kind == difference_kind::grpc_status;
}

/// The record spelling of an op (`add`, `remove`, `replace`, `type`; empty for none).
[[nodiscard]] constexpr std::string_view to_string(body_op op) noexcept {
  switch (op) {
  case body_op::none: return "";
  case body_op::add: return "add";
  case body_op::remove: return "remove";
  case body_op::replace: return "replace";
  case body_op::type: return "type";
  }
  return "";
}

} // namespace parallax::mirror::diff
