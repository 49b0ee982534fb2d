#include "test/support/raw_client.hpp"

#include <arpa/inet.h>
#include <openssl/err.h>
#include <openssl/x509v3.h>

#include <algorithm>
#include <cstdio>
#include <limits>

namespace parallax::test {
namespace {

using clock = socket_stream::clock;

constexpr std::size_t read_chunk = std::size_t{64} * 1024;

bool is_ip_address(const std::string& name) {
  in_addr v4{};
  in6_addr v6{};
  return ::inet_pton(AF_INET, name.c_str(), &v4) == 1 ||
         ::inet_pton(AF_INET6, name.c_str(), &v6) == 1;
}

std::string take_openssl_errors() {
  std::string text;
  char reason[256];
  while (const unsigned long code = ERR_get_error()) {
    ERR_error_string_n(code, reason, sizeof reason);
    if (!text.empty()) text += "; ";
    text += reason;
  }
  return text;
}

// Client context for one connection; the SSL object keeps its own reference.
SSL_CTX* make_client_ctx(const tls_client_options& tls, std::string& error) {
  SSL_CTX* ctx = SSL_CTX_new(TLS_client_method());
  if (ctx == nullptr) {
    error = "SSL_CTX_new: " + take_openssl_errors();
    return nullptr;
  }
  SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
  auto fail = [&](const std::string& what) -> SSL_CTX* {
    error = what + ": " + take_openssl_errors();
    SSL_CTX_free(ctx);
    return nullptr;
  };
  if (!tls.ca_file.empty()) {
    if (SSL_CTX_load_verify_locations(ctx, tls.ca_file.c_str(), nullptr) != 1) {
      return fail("loading CA " + tls.ca_file);
    }
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, nullptr);
    X509_VERIFY_PARAM* param = SSL_CTX_get0_param(ctx);
    const bool name_set =
        tls.server_name.empty() ||
        (is_ip_address(tls.server_name)
             ? X509_VERIFY_PARAM_set1_ip_asc(param, tls.server_name.c_str()) == 1
             : X509_VERIFY_PARAM_set1_host(param, tls.server_name.c_str(), 0) == 1);
    if (!name_set) return fail("verify name " + tls.server_name);
  } else {
    SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, nullptr);
  }
  if (!tls.cert_file.empty()) {
    if (SSL_CTX_use_certificate_chain_file(ctx, tls.cert_file.c_str()) != 1 ||
        SSL_CTX_use_PrivateKey_file(ctx, tls.key_file.c_str(), SSL_FILETYPE_PEM) != 1) {
      return fail("loading client certificate " + tls.cert_file);
    }
  }
  if (!tls.alpn.empty()) {
    std::string wire;
    for (const auto& protocol : tls.alpn) {
      wire += static_cast<char>(protocol.size());
      wire += protocol;
    }
    // Unlike most of OpenSSL, this returns 0 on success.
    if (SSL_CTX_set_alpn_protos(ctx, reinterpret_cast<const unsigned char*>(wire.data()),
                                static_cast<unsigned int>(wire.size())) != 0) {
      return fail("ALPN");
    }
  }
  return ctx;
}

std::string chunk_size_line(std::size_t size) {
  char line[32];
  std::snprintf(line, sizeof line, "%zx\r\n", size);
  return line;
}

} // namespace

tls_client_options tls_client_options::trusting(const test_pki& pki, std::string server_name) {
  tls_client_options options;
  options.enabled = true;
  options.ca_file = pki.ca_cert_path;
  options.server_name = std::move(server_name);
  return options;
}

std::optional<std::string> parsed_response::header(std::string_view name) const {
  return find_header(headers, name);
}

std::size_t parsed_response::header_count(std::string_view name) const {
  return count_headers(headers, name);
}

raw_client::raw_client(std::chrono::milliseconds timeout)
    : parser_(std::make_unique<message_parser>(HTTP_RESPONSE)), timeout_(timeout) {}

raw_client::~raw_client() = default;
raw_client::raw_client(raw_client&&) noexcept = default;
raw_client& raw_client::operator=(raw_client&&) noexcept = default;

clock::time_point raw_client::deadline() const {
  return clock::now() + timeout_;
}

bool raw_client::connect(std::uint16_t port, const tls_client_options& tls) {
  close();
  const auto until = deadline();
  const int fd = connect_loopback(port, until, error_);
  if (fd < 0) return false;
  stream_ = socket_stream(fd);
  if (!tls.enabled) return true;
  SSL_CTX* ctx = make_client_ctx(tls, error_);
  if (ctx == nullptr) {
    stream_.close();
    return false;
  }
  const io_status status = stream_.start_tls_client(ctx, tls.server_name, until);
  SSL_CTX_free(ctx);
  if (status != io_status::ok) {
    error_ = "TLS handshake (" + std::string(to_string(status)) + "): " + stream_.error();
    stream_.close();
    return false;
  }
  return true;
}

std::string raw_client::negotiated_alpn() const {
  if (stream_.tls() == nullptr) return {};
  const unsigned char* protocol = nullptr;
  unsigned int length = 0;
  SSL_get0_alpn_selected(stream_.tls(), &protocol, &length);
  return protocol == nullptr ? std::string()
                             : std::string(reinterpret_cast<const char*>(protocol), length);
}

bool raw_client::send(std::string_view raw) {
  const io_status status = stream_.write_all(raw, deadline());
  if (status == io_status::ok) return true;
  error_ = "send (" + std::string(to_string(status)) + "): " + stream_.error();
  return false;
}

io_status raw_client::fill(clock::time_point until) {
  char chunk[read_chunk];
  const io_result got = stream_.read_some(chunk, sizeof chunk, until);
  if (got.status == io_status::ok) {
    buffer_.append(chunk, got.bytes);
  } else if (got.status == io_status::closed || got.status == io_status::reset) {
    peer_closed_ = true;
    end_status_ = got.status;
  }
  return got.status;
}

parsed_response raw_client::read_message(bool head_request, bool keep_body) {
  parsed_response out;
  if (!parser_) parser_ = std::make_unique<message_parser>(HTTP_RESPONSE); // moved-from client
  parser_->start(head_request, keep_body ? std::numeric_limits<std::size_t>::max() : 0);
  for (;;) {
    if (!buffer_.empty()) {
      std::size_t used = 0;
      const auto parsed = parser_->feed(buffer_, used);
      buffer_.erase(0, used);
      if (parsed == message_parser::result::failed) {
        out.io = io_status::failed;
        out.error = "invalid response: " + parser_->error();
        return out;
      }
      if (parsed == message_parser::result::complete) break;
    }
    if (peer_closed_) {
      if (parser_->finish() == message_parser::result::complete) break;
      out.io = end_status_;
      out.error =
          parser_->started()
              ? "connection " + std::string(to_string(end_status_)) + " in the middle of a response"
              : "connection " + std::string(to_string(end_status_)) + " before a response";
      return out;
    }
    // The deadline restarts with every read: the timeout bounds silence, not the whole body.
    const io_status status = fill(deadline());
    if (status != io_status::ok && status != io_status::closed && status != io_status::reset) {
      out.io = status;
      out.error = status == io_status::timeout
                      ? "no response data for " + std::to_string(timeout_.count()) + " ms"
                      : "read failed: " + stream_.error();
      return out;
    }
  }
  // Notice a close that arrived together with the response, without waiting for one.
  if (!peer_closed_ && buffer_.empty() && stream_.is_open()) fill(clock::now());

  parsed_message message = parser_->take();
  out.status = message.status;
  out.reason = std::move(message.reason);
  out.version_minor = message.version_minor;
  out.headers = std::move(message.headers);
  out.trailers = std::move(message.trailers);
  out.body = std::move(message.body);
  out.body_size = message.body_size;
  out.body_matches_pattern = message.body_matches_pattern;
  out.chunked = message.chunked;
  out.keep_alive = message.keep_alive;
  out.raw_head = std::move(message.raw_head);
  out.closed_after = peer_closed_;
  out.io = peer_closed_ ? end_status_ : io_status::ok;
  return out;
}

parsed_response raw_client::read_response(bool head_request) {
  return read_message(head_request, true);
}

parsed_response raw_client::read_response_discard_body(bool head_request) {
  return read_message(head_request, false);
}

parsed_response raw_client::round_trip(std::string_view raw, bool head_request) {
  if (!send(raw)) {
    parsed_response out;
    out.io = io_status::failed;
    out.error = error_;
    return out;
  }
  return read_response(head_request);
}

raw_read raw_client::read_exact(std::size_t n) {
  raw_read out;
  while (buffer_.size() < n) {
    if (peer_closed_) {
      out.status = end_status_;
      break;
    }
    const io_status status = fill(deadline());
    if (status != io_status::ok && status != io_status::closed && status != io_status::reset) {
      out.status = status;
      break;
    }
  }
  const std::size_t take = std::min(n, buffer_.size());
  out.data = buffer_.substr(0, take);
  buffer_.erase(0, take);
  return out;
}

raw_read raw_client::read_some(std::size_t max) {
  raw_read out;
  if (buffer_.empty()) {
    if (peer_closed_) {
      out.status = end_status_;
      return out;
    }
    const io_status status = fill(deadline());
    if (status != io_status::ok) {
      out.status = status;
      return out;
    }
  }
  const std::size_t take = std::min(max, buffer_.size());
  out.data = buffer_.substr(0, take);
  buffer_.erase(0, take);
  return out;
}

raw_read raw_client::read_until_close() {
  raw_read out;
  while (!peer_closed_) {
    const io_status status = fill(deadline());
    if (status != io_status::ok && status != io_status::closed && status != io_status::reset) {
      out.status = status;
      out.data = std::move(buffer_);
      buffer_.clear();
      return out;
    }
  }
  out.status = end_status_;
  out.data = std::move(buffer_);
  buffer_.clear();
  return out;
}

bool raw_client::wait_closed(std::chrono::milliseconds timeout) {
  const auto until = clock::now() + timeout;
  while (!peer_closed_) {
    buffer_.clear();
    const io_status status = fill(until);
    if (status != io_status::ok && status != io_status::closed && status != io_status::reset) {
      return false;
    }
  }
  return true;
}

void raw_client::shutdown_write() {
  stream_.shutdown_write();
}

void raw_client::reset() {
  stream_.reset();
  buffer_.clear();
  peer_closed_ = false;
  end_status_ = io_status::ok;
}

void raw_client::close() {
  stream_.close();
  buffer_.clear();
  peer_closed_ = false;
  end_status_ = io_status::ok;
}

std::string raw_client::request(std::string_view method, std::string_view target,
                                const header_list& headers, std::string_view body) {
  std::string out;
  out.reserve(128 + body.size());
  out.append(method).append(" ").append(target).append(" HTTP/1.1\r\n");
  if (!find_header(headers, "Host")) out += "Host: localhost\r\n";
  for (const auto& [name, value] : headers)
    out.append(name).append(": ").append(value).append("\r\n");
  const bool framed =
      find_header(headers, "Content-Length") || find_header(headers, "Transfer-Encoding");
  const bool expects_body = method == "POST" || method == "PUT" || method == "PATCH";
  if (!framed && (!body.empty() || expects_body)) {
    out += "Content-Length: " + std::to_string(body.size()) + "\r\n";
  }
  out += "\r\n";
  out.append(body);
  return out;
}

std::string raw_client::chunked_request(std::string_view method, std::string_view target,
                                        const header_list& headers,
                                        const std::vector<std::string>& chunks,
                                        const header_list& trailers) {
  header_list all = headers;
  if (!find_header(all, "Transfer-Encoding")) all.emplace_back("Transfer-Encoding", "chunked");
  std::string out = request(method, target, all);
  for (const auto& chunk : chunks) {
    if (chunk.empty()) continue;
    out += chunk_size_line(chunk.size());
    out += chunk;
    out += "\r\n";
  }
  out += "0\r\n";
  for (const auto& [name, value] : trailers)
    out.append(name).append(": ").append(value).append("\r\n");
  out += "\r\n";
  return out;
}

} // namespace parallax::test
