#pragma once
// gRPC messages out of an HTTP/2 body (gRPC's PROTOCOL-HTTP2.md "Length-Prefixed-Message"):
// a 1-byte compressed flag, a 4-byte big-endian length, the message. Messages do not align with
// DATA frames, so a captured body is split here, after the exchange. A compressed message is
// decompressed per the call's `grpc-encoding` (gzip, deflate; identity for none). Failures are
// values; every output is bounded.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace parallax::mirror::grpc {

/// How splitting a body ended.
enum class split_status {
  ok,
  truncated,            // the body ends inside a prefix or a message (a broken-off stream)
  too_many,             // more than max_messages: the first max_messages are kept
  too_large,            // a message (or its decompressed form) is over max_bytes
  corrupt,              // a compressed message that does not decompress, or a bad flag byte
  unsupported_encoding, // compressed with an encoding this build does not know
};

/// Short name of a status for records and logs.
std::string_view to_string(split_status s) noexcept;

/// The messages of a body, decompressed.
struct split_result {
  std::vector<std::string> messages;
  split_status status = split_status::ok;
};

/// Splits `body` into at most `max_messages` messages of at most `max_bytes` each (after
/// decompression per `encoding`, the call's grpc-encoding; empty means identity).
split_result split_messages(std::string_view body, std::string_view encoding,
                            std::size_t max_messages, std::size_t max_bytes);

/// Counts the complete messages of a body as it streams past, copying nothing (a shadow's
/// response is cancelled once it has mirror.grpc.max_messages).
class message_counter {
public:
  /// Counts the messages `piece` completes; returns the count so far.
  std::size_t feed(std::string_view piece) noexcept;
  [[nodiscard]] std::size_t complete() const noexcept { return complete_; }
  /// Whether bytes of a further message have arrived after the complete ones.
  [[nodiscard]] bool partial() const noexcept { return prefix_have_ > 0; }

private:
  std::size_t complete_ = 0;
  std::uint64_t remaining_ = 0;  // bytes of the current message still to come
  std::uint32_t length_ = 0;     // the length being read from a prefix
  std::size_t prefix_have_ = 0;  // prefix bytes seen of the current message (0 to 5)
};

/// Whether `content_type` is gRPC's (application/grpc, application/grpc+proto, ...).
bool is_grpc_content_type(std::string_view content_type) noexcept;

/// The call's deadline from a `grpc-timeout` value (1 to 8 digits and a unit: H, M, S, m, u,
/// n); nothing when it is not one.
std::optional<std::chrono::nanoseconds> parse_grpc_timeout(std::string_view value) noexcept;

} // namespace parallax::mirror::grpc
