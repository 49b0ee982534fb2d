#pragma once
// Protobuf messages as JSON documents for the JSON differ (reports.md: gRPC exchanges are
// compared as {"grpc_status", "grpc_message", "messages": [...]}). With the configured
// descriptor sets (`compare.grpc.descriptor_sets`), a message of a known method converts with
// field names (proto3 JSON mapping: int64 as strings, enums by name, defaults printed so a
// change to a default value is a `replace`); its top-level unknown fields are kept under
// "unknown_fields" in the field-number form, so a field the descriptors do not know is still
// compared. Without descriptors, or when a message does not convert (malformed for its type,
// an Any of an unknown type), the field-number form: {"1": ..., "2": [...]} where a varint is
// a number (a string above 2^53), a fixed32/fixed64 a number, and a length-delimited field
// text when it is printable UTF-8, else a nested message when it parses as one, else UTF-8
// text, else {"base64": "..."}; a field seen more than once becomes an array. (The wire does
// not say which it is: like `protoc --decode_raw`, this guesses, the same way for both sides.) Protobuf's headers stay in the .cpp.

#include <boost/json/value.hpp>

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace parallax::mirror::grpc {

/// The message types of one RPC method.
struct method_types {
  std::string request;  // full name, e.g. "shop.GetItemRequest"
  std::string response; // full name
  bool client_streaming = false;
  bool server_streaming = false;
  bool idempotent = false; // idempotency_level NO_SIDE_EFFECTS or IDEMPOTENT
};

/// Loaded FileDescriptorSet files (protoc --include_imports --descriptor_set_out), immutable
/// once loaded: shared by the comparison threads.
class descriptor_set {
public:
  ~descriptor_set();
  descriptor_set(const descriptor_set&) = delete;
  descriptor_set& operator=(const descriptor_set&) = delete;

  /// Loads `files` (in any order); nullptr with `error` naming the file and the reason.
  static std::shared_ptr<const descriptor_set> load(const std::vector<std::string>& files,
                                                    std::string& error);
  /// The types of `path` ("/pkg.Service/Method"), when the descriptors know the method (null
  /// otherwise). No lock and no allocation: the mirroring decision calls it on the live path.
  [[nodiscard]] const method_types* method(std::string_view path) const noexcept;
  /// `bytes` as a message of type `type` in JSON with field names; nullopt when the type is
  /// unknown or the bytes do not convert (the caller falls back to wire_to_json()).
  [[nodiscard]] std::optional<boost::json::value> to_json(const std::string& type,
                                                          std::string_view bytes) const;

private:
  struct impl;
  explicit descriptor_set(std::unique_ptr<impl> p);
  std::unique_ptr<impl> impl_;
};

/// `bytes` in the field-number form (see above); nullopt when they are not a protobuf message.
std::optional<boost::json::value> wire_to_json(std::string_view bytes);

/// A message for comparison: by descriptors when `descriptors` knows `type`, else wire form;
/// a message that is neither becomes {"base64": "..."}.
boost::json::value message_json(const descriptor_set* descriptors, const std::string& type,
                                std::string_view bytes);

} // namespace parallax::mirror::grpc
