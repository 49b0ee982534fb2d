#pragma once
// Protobuf wire format and gRPC message framing by hand, so the tests do not depend on
// generated code: value-returning forms of mirror/grpc/wire_writer.hpp.

#include <cstdint>
#include <string>
#include <string_view>

#include "mirror/grpc/wire_writer.hpp"

namespace parallax::mirror::grpc::test {

inline std::string varint(std::uint64_t v) {
  std::string out;
  wire::put_varint(out, v);
  return out;
}
inline std::string key(int field, int wire_type) {
  std::string out;
  wire::put_key(out, field, wire_type);
  return out;
}
inline std::string vfield(int field, std::uint64_t v) {
  std::string out;
  wire::put_varint_field(out, field, v);
  return out;
}
inline std::string bfield(int field, std::string_view bytes) {
  std::string out;
  wire::put_bytes_field(out, field, bytes);
  return out;
}
/// One length-prefixed gRPC message.
inline std::string framed(std::string_view message, bool compressed = false) {
  std::string out;
  wire::put_framed(out, message, compressed);
  return out;
}

} // namespace parallax::mirror::grpc::test
