#pragma once
// Writing protobuf's wire format and gRPC's message framing: the few encoders the built-in
// demo's gRPC services (and the tests) need to build messages without generated code. Reading
// is proto_json.hpp's and messages.hpp's.

#include <cstdint>
#include <string>
#include <string_view>

namespace parallax::mirror::grpc::wire {

/// Appends `v` as a base-128 varint.
inline void put_varint(std::string& out, std::uint64_t v) {
  while (v >= 0x80) {
    out.push_back(static_cast<char>((v & 0x7F) | 0x80));
    v >>= 7;
  }
  out.push_back(static_cast<char>(v));
}
/// Appends a field key (field number and wire type: 0 varint, 2 length-delimited).
inline void put_key(std::string& out, int field, int wire_type) {
  put_varint(out, static_cast<std::uint64_t>(field) << 3 | static_cast<std::uint64_t>(wire_type));
}
/// Appends a varint field.
inline void put_varint_field(std::string& out, int field, std::uint64_t v) {
  put_key(out, field, 0);
  put_varint(out, v);
}
/// Appends a length-delimited field (a string, bytes or a nested message).
inline void put_bytes_field(std::string& out, int field, std::string_view bytes) {
  put_key(out, field, 2);
  put_varint(out, bytes.size());
  out.append(bytes);
}
/// Appends `message` as one gRPC Length-Prefixed-Message (uncompressed unless `compressed`,
/// for bytes already compressed per the call's grpc-encoding).
inline void put_framed(std::string& out, std::string_view message, bool compressed = false) {
  out.push_back(compressed ? '\1' : '\0');
  const auto n = static_cast<std::uint32_t>(message.size());
  for (int shift = 24; shift >= 0; shift -= 8)
    out.push_back(static_cast<char>((n >> shift) & 0xFF));
  out.append(message);
}

} // namespace parallax::mirror::grpc::wire
