#include "mirror/grpc/messages.hpp"

#include <algorithm>
#include <cstdint>

#include "mirror/diff/body_decode.hpp"
#include "proxy/http/ascii.hpp"

namespace parallax::mirror::grpc {

std::string_view to_string(split_status s) noexcept {
  switch (s) {
  case split_status::ok: return "ok";
  case split_status::truncated: return "truncated";
  case split_status::too_many: return "too_many";
  case split_status::too_large: return "too_large";
  case split_status::corrupt: return "corrupt";
  case split_status::unsupported_encoding: return "unsupported_encoding";
  }
  return "unknown";
}

split_result split_messages(std::string_view body, std::string_view encoding,
                            std::size_t max_messages, std::size_t max_bytes) {
  constexpr std::size_t prefix = 5;
  split_result out;
  while (!body.empty()) {
    if (out.messages.size() == max_messages) {
      out.status = split_status::too_many;
      return out;
    }
    if (body.size() < prefix) {
      out.status = split_status::truncated;
      return out;
    }
    const auto flag = static_cast<unsigned char>(body[0]);
    std::size_t length = 0;
    for (std::size_t i = 1; i < prefix; ++i)
      length = (length << 8) | static_cast<unsigned char>(body[i]);
    if (flag > 1) {
      out.status = split_status::corrupt;
      return out;
    }
    if (length > max_bytes) {
      out.status = split_status::too_large;
      return out;
    }
    if (body.size() - prefix < length) {
      out.status = split_status::truncated;
      return out;
    }
    const auto message = body.substr(prefix, length);
    body.remove_prefix(prefix + length);
    if (flag == 0) {
      out.messages.emplace_back(message);
      continue;
    }
    if (encoding.empty() || proxy::http::iequals(encoding, "identity")) {
      out.status = split_status::corrupt; // compressed, yet the call names no encoding
      return out;
    }
    auto decoded = diff::decode_body(message, encoding, max_bytes);
    switch (decoded.status) {
    case diff::decode_status::ok: out.messages.push_back(std::move(decoded.body)); continue;
    case diff::decode_status::too_large: out.status = split_status::too_large; return out;
    case diff::decode_status::unsupported:
      out.status = split_status::unsupported_encoding;
      return out;
    case diff::decode_status::corrupt: break;
    }
    out.status = split_status::corrupt;
    return out;
  }
  return out;
}

std::size_t message_counter::feed(std::string_view piece) noexcept {
  constexpr std::size_t prefix = 5;
  while (!piece.empty()) {
    if (prefix_have_ < prefix) {
      if (prefix_have_ > 0) length_ = (length_ << 8) | static_cast<unsigned char>(piece.front());
      piece.remove_prefix(1);
      if (++prefix_have_ < prefix) continue;
      remaining_ = length_;
    } else {
      const auto take = std::min<std::uint64_t>(remaining_, piece.size());
      remaining_ -= take;
      piece.remove_prefix(static_cast<std::size_t>(take));
    }
    if (remaining_ == 0) { // the message is complete
      ++complete_;
      prefix_have_ = 0;
      length_ = 0;
    }
  }
  return complete_;
}

bool is_grpc_content_type(std::string_view content_type) noexcept {
  const auto type = content_type.substr(0, content_type.find(';'));
  return proxy::http::iequals(type, "application/grpc") ||
         proxy::http::istarts_with(type, "application/grpc+");
}

std::optional<std::chrono::nanoseconds> parse_grpc_timeout(std::string_view value) noexcept {
  using namespace std::chrono;
  if (value.size() < 2 || value.size() > 9) return std::nullopt;
  std::int64_t n = 0;
  for (char c : value.substr(0, value.size() - 1)) {
    if (c < '0' || c > '9') return std::nullopt;
    n = n * 10 + (c - '0');
  }
  switch (value.back()) {
  case 'H': return duration_cast<nanoseconds>(hours(n));
  case 'M': return duration_cast<nanoseconds>(minutes(n));
  case 'S': return duration_cast<nanoseconds>(seconds(n));
  case 'm': return duration_cast<nanoseconds>(milliseconds(n));
  case 'u': return duration_cast<nanoseconds>(microseconds(n));
  case 'n': return nanoseconds(n);
  default: return std::nullopt;
  }
}

} // namespace parallax::mirror::grpc
