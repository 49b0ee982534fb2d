// Fuzzes the gRPC message splitter and the protobuf field-number conversion
// (mirror/grpc/messages.cpp, mirror/grpc/proto_json.cpp over libprotobuf's UnknownFieldSet),
// which read untrusted response bodies. Input: one selector byte, then the body. The
// selector's low bit picks the call's grpc-encoding (identity or gzip), the next bits the
// limits. Oracles:
// - splitting never crashes and keeps its limits: at most max_messages messages, each at most
//   max_bytes;
// - with identity and an ok status, framing the messages again gives the body back;
// - the body taken as one message, framed, splits back into itself;
// - every message converts to a JSON object (the field-number form, or {"base64": ...}),
//   whatever its bytes, and the result serializes.

#include <boost/json/serialize.hpp>

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "mirror/grpc/messages.hpp"
#include "mirror/grpc/proto_json.hpp"
#include "test/fuzz/oracle.hpp"

namespace {

std::string framed(std::string_view message) {
  std::string out(1, '\0');
  const auto n = static_cast<std::uint32_t>(message.size());
  for (int shift = 24; shift >= 0; shift -= 8)
    out.push_back(static_cast<char>((n >> shift) & 0xFF));
  return out + std::string(message);
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace parallax::mirror::grpc;
  using parallax::fuzz::printable;
  using parallax::fuzz::require;
  if (size == 0) return 0;
  const auto selector = data[0];
  const std::string_view body(reinterpret_cast<const char*>(data + 1), size - 1);
  const std::string_view encoding = (selector & 1) != 0 ? "gzip" : "";
  const std::size_t max_messages = 1 + ((selector >> 1) & 7);
  const std::size_t max_bytes = (selector & 0x10) != 0 ? 64 : 1U << 20;

  const auto r = split_messages(body, encoding, max_messages, max_bytes);
  require(r.messages.size() <= max_messages, "more messages than max_messages", printable(body));
  std::string again;
  for (const auto& m : r.messages) {
    require(m.size() <= max_bytes, "a message over max_bytes", printable(body));
    again += framed(m);
    const auto json = message_json(nullptr, "", m);
    require(json.is_object(), "a message did not convert to an object", printable(m));
    (void)boost::json::serialize(json);
    if (const auto wire = wire_to_json(m)) require(wire->is_object(), "wire form not an object");
  }
  if (encoding.empty() && r.status == split_status::ok) {
    require(again == body, "framing the messages again does not give the body", printable(body));
  }
  if (body.size() <= max_bytes) {
    const auto one = split_messages(framed(body), "", 1, max_bytes);
    require(one.status == split_status::ok && one.messages.size() == 1 && one.messages[0] == body,
            "a framed message does not split back into itself", printable(body));
  }
  return 0;
}
