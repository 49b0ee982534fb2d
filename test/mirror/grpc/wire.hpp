#pragma once
// Protobuf wire format and gRPC message framing by hand, so the tests do not depend on
// generated code.

#include <cstdint>
#include <string>
#include <string_view>

namespace parallax::mirror::grpc::test {

inline std::string varint(std::uint64_t v) {
  std::string out;
  while (v >= 0x80) {
    out.push_back(static_cast<char>((v & 0x7F) | 0x80));
    v >>= 7;
  }
  out.push_back(static_cast<char>(v));
  return out;
}
inline std::string key(int field, int wire_type) {
  return varint(static_cast<std::uint64_t>(field) << 3 | static_cast<std::uint64_t>(wire_type));
}
inline std::string vfield(int field, std::uint64_t v) {
  return key(field, 0) + varint(v);
}
inline std::string bfield(int field, std::string_view bytes) {
  return key(field, 2) + varint(bytes.size()) + std::string(bytes);
}
/// One length-prefixed gRPC message.
inline std::string framed(std::string_view message, bool compressed = false) {
  std::string out(1, compressed ? '\1' : '\0');
  const auto n = static_cast<std::uint32_t>(message.size());
  for (int shift = 24; shift >= 0; shift -= 8)
    out.push_back(static_cast<char>((n >> shift) & 0xFF));
  return out + std::string(message);
}

} // namespace parallax::mirror::grpc::test
