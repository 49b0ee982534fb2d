#include "test/support/backend_connection.hpp"

#include <algorithm>
#include <cstdio>

namespace parallax::test {
namespace {

using clock = socket_stream::clock;

constexpr std::size_t read_chunk = std::size_t{64} * 1024;
constexpr std::size_t stream_piece = std::size_t{64} * 1024;
// After a graceful close, how long the client gets to close its side before we close anyway.
constexpr auto linger_bound = std::chrono::seconds(1);

std::string chunk_size_line(std::size_t size) {
  char line[32];
  std::snprintf(line, sizeof line, "%zx\r\n", size);
  return line;
}

bool starts_with_101(std::string_view bytes) {
  return bytes.starts_with("HTTP/1.1 101") || bytes.starts_with("HTTP/1.0 101");
}

} // namespace

std::optional<std::string> received_request::header(std::string_view name) const {
  return find_header(headers, name);
}

std::size_t received_request::header_count(std::string_view name) const {
  return count_headers(headers, name);
}

backend_connection::backend_connection(socket_stream stream, std::uint64_t id,
                                       std::size_t max_stored_body, bool send_100_continue,
                                       std::chrono::milliseconds write_timeout)
    : stream_(std::move(stream)), id_(id), max_stored_body_(max_stored_body),
      send_100_continue_(send_100_continue), write_timeout_(write_timeout) {}

io_result backend_connection::fill(clock::time_point deadline) {
  char chunk[read_chunk];
  const io_result got = stream_.read_some(chunk, sizeof chunk, deadline);
  if (got.status == io_status::ok) buffer_.append(chunk, got.bytes);
  return got;
}

std::optional<received_request> backend_connection::read_request() {
  parser_.start(false, max_stored_body_);
  bool continue_sent = false;
  for (;;) {
    if (!buffer_.empty()) {
      std::size_t used = 0;
      const auto parsed = parser_.feed(buffer_, used);
      buffer_.erase(0, used);
      if (parsed == message_parser::result::failed) {
        // The backend counts the error, then answers 400 (see http_backend::serve_requests).
        parse_failed_ = true;
        answer_400_ = true;
        parse_error_ = parser_.error();
        return std::nullopt;
      }
      if (parsed == message_parser::result::complete) break;
    }
    if (send_100_continue_ && !continue_sent && parser_.headers_complete() &&
        header_has_token(parser_.message().headers, "Expect", "100-continue")) {
      continue_sent = true;
      if (!write("HTTP/1.1 100 Continue\r\n\r\n")) return std::nullopt;
    }
    // Idle keep-alive connections wait for ever; the backend's interrupt fd ends the wait.
    const io_result got = fill(clock::time_point::max());
    if (got.status == io_status::closed) {
      if (parser_.started()) {
        parse_failed_ = true;
        parse_error_ = "client closed in the middle of a request";
      }
      return std::nullopt;
    }
    if (got.status != io_status::ok) return std::nullopt;
  }
  parsed_message message = parser_.take();
  received_request request;
  request.method = std::move(message.method);
  request.target = std::move(message.target);
  request.version_minor = message.version_minor;
  request.headers = std::move(message.headers);
  request.trailers = std::move(message.trailers);
  request.body = std::move(message.body);
  request.body_size = message.body_size;
  request.body_truncated = message.body_truncated;
  request.body_matches_pattern = message.body_matches_pattern;
  request.chunked = message.chunked;
  request.upgrade = message.upgrade;
  request.keep_alive = message.keep_alive;
  request.raw_head = std::move(message.raw_head);
  return request;
}

bool backend_connection::write(std::string_view bytes) {
  if (!stream_.is_open() || write_shut_) return false;
  return stream_.write_all(bytes, clock::now() + write_timeout_) == io_status::ok;
}

bool backend_connection::head_only() const {
  return current_ != nullptr && current_->method == "HEAD";
}

bool backend_connection::write_raw(std::string_view bytes) {
  if (starts_with_101(bytes)) switched_ = true;
  return write(bytes);
}

bool backend_connection::respond(int status, std::string_view body, const header_list& headers,
                                 std::string_view content_type) {
  if (header_has_token(headers, "Connection", "close")) close_after_ = true;
  if (status == 101) switched_ = true;
  const bool bodiless = (status >= 100 && status < 200) || status == 204 || status == 304;
  header_list all = headers;
  if (!content_type.empty() && !bodiless && !find_header(all, "Content-Type")) {
    all.emplace_back("Content-Type", std::string(content_type));
  }
  if (!bodiless && !find_header(all, "Content-Length") && !find_header(all, "Transfer-Encoding")) {
    all.emplace_back("Content-Length", std::to_string(body.size()));
  }
  std::string message = response_head(status, all);
  if (!bodiless && !head_only()) message.append(body);
  return write(message);
}

bool backend_connection::respond_chunked(int status, const std::vector<std::string>& chunks,
                                         const header_list& headers, const header_list& trailers) {
  if (header_has_token(headers, "Connection", "close")) close_after_ = true;
  header_list all = headers;
  if (!find_header(all, "Transfer-Encoding")) all.emplace_back("Transfer-Encoding", "chunked");
  if (!write(response_head(status, all))) return false;
  if (head_only()) return true;
  for (const auto& chunk : chunks) {
    if (chunk.empty()) continue;
    if (!write(chunk_size_line(chunk.size()) + chunk + "\r\n")) return false;
  }
  std::string last = "0\r\n";
  for (const auto& [name, value] : trailers)
    last.append(name).append(": ").append(value).append("\r\n");
  last += "\r\n";
  return write(last);
}

bool backend_connection::stream_body(int status, std::uint64_t total_bytes, bool chunked,
                                     const header_list& headers) {
  if (header_has_token(headers, "Connection", "close")) close_after_ = true;
  header_list all = headers;
  if (chunked) {
    all.emplace_back("Transfer-Encoding", "chunked");
  } else {
    all.emplace_back("Content-Length", std::to_string(total_bytes));
  }
  if (!find_header(all, "Content-Type"))
    all.emplace_back("Content-Type", "application/octet-stream");
  if (!write(response_head(status, all))) return false;
  if (head_only()) return true;
  // One pattern window, 26 bytes longer than a piece, serves every offset: the pattern repeats
  // every 26 bytes, so the piece at body offset o starts at window[o % 26].
  const std::string window = pattern_bytes(0, stream_piece + 26);
  std::string framed;
  if (chunked) framed.reserve(stream_piece + 32);
  for (std::uint64_t sent = 0; sent < total_bytes;) {
    const auto size =
        static_cast<std::size_t>(std::min<std::uint64_t>(stream_piece, total_bytes - sent));
    const std::string_view piece(window.data() + sent % 26, size);
    if (chunked) {
      framed.assign(chunk_size_line(size));
      framed.append(piece);
      framed.append("\r\n");
      if (!write(framed)) return false;
    } else if (!write(piece)) {
      return false;
    }
    sent += size;
  }
  return chunked ? write("0\r\n\r\n") : true;
}

void backend_connection::close() {
  if (!stream_.is_open() || write_shut_) return;
  stream_.shutdown_write();
  write_shut_ = true;
}

void backend_connection::reset() {
  stream_.reset();
}

std::optional<std::string> backend_connection::read_some(std::size_t max,
                                                         std::chrono::milliseconds timeout) {
  raw_used_ = true;
  if (buffer_.empty()) {
    if (!stream_.is_open()) {
      last_read_status_ = io_status::failed;
      return std::nullopt;
    }
    last_read_status_ = fill(clock::now() + timeout).status;
    if (last_read_status_ != io_status::ok) return std::nullopt;
  }
  last_read_status_ = io_status::ok;
  const std::size_t n = std::min(max, buffer_.size());
  std::string out = buffer_.substr(0, n);
  buffer_.erase(0, n);
  return out;
}

std::optional<std::string> backend_connection::read_exact(std::size_t n,
                                                          std::chrono::milliseconds timeout) {
  raw_used_ = true;
  const auto deadline = clock::now() + timeout;
  while (buffer_.size() < n) {
    if (!stream_.is_open()) {
      last_read_status_ = io_status::failed;
      return std::nullopt;
    }
    last_read_status_ = fill(deadline).status;
    if (last_read_status_ != io_status::ok) return std::nullopt;
  }
  last_read_status_ = io_status::ok;
  std::string out = buffer_.substr(0, n);
  buffer_.erase(0, n);
  return out;
}

bool backend_connection::wait_peer_closed(std::chrono::milliseconds timeout) {
  if (!stream_.is_open()) return false;
  const auto deadline = clock::now() + timeout;
  for (;;) {
    if (!buffer_.empty()) raw_used_ = true;
    buffer_.clear();
    last_read_status_ = fill(deadline).status;
    if (last_read_status_ == io_status::closed || last_read_status_ == io_status::reset) {
      return true;
    }
    if (last_read_status_ != io_status::ok) return false;
  }
}

void backend_connection::finish(bool stopping) {
  if (!stream_.is_open()) return;
  if (stopping) {
    stream_.close();
    return;
  }
  if (!write_shut_) stream_.shutdown_write();
  write_shut_ = true;
  // Read until the client closes too: closing with unread input would send a RST, which can
  // destroy the response still in flight to the client.
  const auto deadline = clock::now() + linger_bound;
  char sink[16 * 1024];
  while (stream_.read_some(sink, sizeof sink, deadline).status == io_status::ok) {
  }
  stream_.close();
}

} // namespace parallax::test
