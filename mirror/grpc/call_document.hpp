#pragma once
// A gRPC response as the comparison sees it (reports.md): the call's status (grpc-status and
// grpc-message, from the trailers or, for a trailers-only response, from the head) and its
// response messages as JSON (split per message, decompressed per grpc-encoding, converted with
// the route's descriptors, else in the field-number form). The comparer diffs two such
// documents with the JSON differ, so body paths read /messages/0/user/name or /messages/0/1.

#include <boost/json/object.hpp>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "mirror/grpc/messages.hpp"
#include "proxy/http/message.hpp"

namespace parallax::mirror::grpc {

class descriptor_set;

/// A call's outcome as its response reports it.
struct call_status {
  std::optional<std::uint32_t> code; // grpc-status; none when absent or not a number
  std::string message;               // grpc-message, percent-decoded
};

/// The status of a response with fields `head` and trailer fields `trailers`: the trailers'
/// grpc-status when there is one, else the head's (a trailers-only response).
call_status status_of(const proxy::http::header_list& head,
                      const proxy::http::header_list& trailers);

/// A grpc-message value percent-decoded (gRPC's PROTOCOL-HTTP2.md); an escape that is not
/// two hex digits stays as it is.
std::string decode_grpc_message(std::string_view value);

/// Whether `name` is one of the fields a call document holds (grpc-status, grpc-message): the
/// comparison reports them through the document, not as header or trailer differences.
bool is_status_field(std::string_view name) noexcept;

/// How a response body becomes the document's messages.
struct document_options {
  const descriptor_set* descriptors = nullptr; // the route's, or null
  std::string_view response_type;              // the method's response type, or empty
  std::size_t max_messages = 100;              // messages kept (mirror.grpc.max_messages)
  std::size_t max_bytes = 4 * 1024 * 1024;     // per message, after decompression
  // The body is a prefix of the response (over compare.body.max_bytes, or the shadow was
  // cancelled after max_messages): a message broken off at its end is no fault of the peer.
  bool prefix = false;
};

/// The document of a response body: {"grpc_message": ..., "messages": [...]}, with
/// "messages_error" (`truncated`, `corrupt`, `too_large`, `unsupported_encoding`) when the body
/// does not split cleanly, and without "grpc_status", which the comparison reports on its own
/// (kind `grpc_status`). `encoding` is the response's grpc-encoding.
boost::json::object call_document(const call_status& status, std::string_view body,
                                  std::string_view encoding, const document_options& options);

} // namespace parallax::mirror::grpc
