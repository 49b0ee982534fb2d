#include "mirror/grpc/call_document.hpp"

#include <boost/json/array.hpp>
#include <boost/json/string.hpp>

#include <charconv>

#include "mirror/grpc/proto_json.hpp"
#include "proxy/http/ascii.hpp"

namespace parallax::mirror::grpc {

namespace {
std::optional<std::uint32_t> status_code(std::string_view value) noexcept {
  value = proxy::http::trim_ows(value);
  std::uint32_t code = 0;
  const auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), code);
  if (ec != std::errc() || end != value.data() + value.size() || value.empty()) return {};
  return code;
}
} // namespace

std::string decode_grpc_message(std::string_view value) {
  std::string out;
  out.reserve(value.size());
  for (std::size_t i = 0; i < value.size(); ++i) {
    if (value[i] == '%' && i + 2 < value.size()) {
      const int hi = proxy::http::hex_value(value[i + 1]);
      const int lo = proxy::http::hex_value(value[i + 2]);
      if (hi >= 0 && lo >= 0) {
        out.push_back(static_cast<char>(hi * 16 + lo));
        i += 2;
        continue;
      }
    }
    out.push_back(value[i]);
  }
  return out;
}

call_status status_of(const proxy::http::header_list& head,
                      const proxy::http::header_list& trailers) {
  // A response with a grpc-status trailer has its status there; one without any takes it from
  // its head (trailers-only).
  const auto& fields = trailers.find("grpc-status") ? trailers : head;
  call_status out;
  if (const auto code = fields.find("grpc-status")) out.code = status_code(*code);
  if (const auto message = fields.find("grpc-message")) out.message = decode_grpc_message(*message);
  return out;
}

bool is_status_field(std::string_view name) noexcept {
  return proxy::http::iequals(name, "grpc-status") || proxy::http::iequals(name, "grpc-message");
}

boost::json::object call_document(const call_status& status, std::string_view body,
                                  std::string_view encoding, const document_options& options) {
  boost::json::object doc;
  doc["grpc_message"] = status.message;
  auto split = split_messages(body, encoding, options.max_messages, options.max_bytes);
  const std::string type(options.response_type);
  boost::json::array messages;
  messages.reserve(split.messages.size());
  for (const auto& m : split.messages)
    messages.push_back(message_json(options.descriptors, type, m));
  doc["messages"] = std::move(messages);
  // Only max_messages are compared: more is no fault; nor is a message broken off at the end of
  // a body that is only the response's beginning.
  const bool fine = split.status == split_status::ok || split.status == split_status::too_many ||
                    (options.prefix && split.status == split_status::truncated);
  if (!fine) doc["messages_error"] = to_string(split.status);
  return doc;
}

} // namespace parallax::mirror::grpc
