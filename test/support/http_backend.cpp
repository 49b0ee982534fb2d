#include "test/support/http_backend.hpp"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/x509.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <system_error>

namespace parallax::test {
namespace {

using clock = socket_stream::clock;

[[noreturn]] void tls_setup_failed(const std::string& what) {
  std::string message = "test backend TLS: " + what;
  char reason[256];
  while (const unsigned long code = ERR_get_error()) {
    ERR_error_string_n(code, reason, sizeof reason);
    message += ": ";
    message += reason;
  }
  throw std::runtime_error(message);
}

// Picks "http/1.1" when the client offers it; this backend speaks nothing else.
int select_http11(SSL*, const unsigned char** out, unsigned char* out_length,
                  const unsigned char* offered, unsigned int offered_length, void*) {
  constexpr std::string_view wanted = "http/1.1";
  for (unsigned int i = 0; i < offered_length;) {
    const unsigned int length = offered[i];
    if (i + 1 + length > offered_length) break;
    if (std::string_view(reinterpret_cast<const char*>(offered + i + 1), length) == wanted) {
      *out = offered + i + 1;
      *out_length = static_cast<unsigned char>(length);
      return SSL_TLSEXT_ERR_OK;
    }
    i += 1 + length;
  }
  return SSL_TLSEXT_ERR_NOACK;
}

SSL_CTX* make_server_ctx(const test_pki& pki, bool require_client_cert) {
  SSL_CTX* ctx = SSL_CTX_new(TLS_server_method());
  if (ctx == nullptr) tls_setup_failed("SSL_CTX_new");
  SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
  if (SSL_CTX_use_certificate_chain_file(ctx, pki.server_cert_path.c_str()) != 1 ||
      SSL_CTX_use_PrivateKey_file(ctx, pki.server_key_path.c_str(), SSL_FILETYPE_PEM) != 1 ||
      SSL_CTX_check_private_key(ctx) != 1) {
    SSL_CTX_free(ctx);
    tls_setup_failed("loading " + pki.server_cert_path);
  }
  if (require_client_cert) {
    if (SSL_CTX_load_verify_locations(ctx, pki.ca_cert_path.c_str(), nullptr) != 1) {
      SSL_CTX_free(ctx);
      tls_setup_failed("loading " + pki.ca_cert_path);
    }
    SSL_CTX_set_client_CA_list(ctx, SSL_load_client_CA_file(pki.ca_cert_path.c_str()));
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, nullptr);
  }
  SSL_CTX_set_alpn_select_cb(ctx, &select_http11, nullptr);
  return ctx;
}

std::string lower_case(std::string text) {
  for (char& c : text) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return text;
}

} // namespace

http_backend::http_backend(request_handler handler, backend_options options)
    : handler_(std::move(handler)), options_(std::move(options)) {
  if (!handler_) throw std::invalid_argument("http_backend needs a handler");
  if (options_.tls) tls_ctx_ = make_server_ctx(*options_.tls, options_.require_client_cert);
  stop_fd_ = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (stop_fd_ < 0) {
    if (tls_ctx_ != nullptr) SSL_CTX_free(tls_ctx_);
    throw std::system_error(errno, std::generic_category(), "eventfd");
  }
  try {
    listen_fd_ = listen_loopback(SOMAXCONN, port_);
    accept_thread_ = std::thread([this] { accept_loop(); });
  } catch (...) {
    if (listen_fd_ >= 0) ::close(listen_fd_);
    ::close(stop_fd_);
    if (tls_ctx_ != nullptr) SSL_CTX_free(tls_ctx_);
    throw;
  }
}

http_backend::http_backend() : http_backend(echo_handler()) {}

http_backend::~http_backend() {
  stop();
  ::close(stop_fd_);
  if (tls_ctx_ != nullptr) SSL_CTX_free(tls_ctx_);
}

void http_backend::stop() {
  std::lock_guard stop_lock(stop_mutex_);
  if (stopped_) return;
  stopped_ = true;
  stopping_.store(true, std::memory_order_release);
  const std::uint64_t one = 1;
  [[maybe_unused]] const auto written = ::write(stop_fd_, &one, sizeof one);
  if (accept_thread_.joinable()) accept_thread_.join();
  ::close(listen_fd_);
  listen_fd_ = -1;
  std::list<std::unique_ptr<connection_slot>> slots;
  {
    std::lock_guard lock(slots_mutex_);
    slots.swap(slots_);
  }
  for (auto& slot : slots) {
    if (slot->thread.joinable()) slot->thread.join();
  }
}

std::string http_backend::address() const {
  return "127.0.0.1:" + std::to_string(port_);
}

std::string http_backend::url() const {
  return (options_.tls ? "https://" : "http://") + address();
}

void http_backend::accept_loop() {
  pollfd fds[2] = {{listen_fd_, POLLIN, 0}, {stop_fd_, POLLIN, 0}};
  for (;;) {
    // No timeout needed: stop() makes stop_fd_ readable.
    if (::poll(fds, 2, -1) < 0) {
      if (errno == EINTR) continue;
      return;
    }
    if (fds[1].revents != 0) return;
    if ((fds[0].revents & POLLIN) == 0) continue;
    const int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) {
      if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
        // Out of descriptors: back off instead of spinning on a readable listener.
        pollfd stop_only{stop_fd_, POLLIN, 0};
        ::poll(&stop_only, 1, 10);
      }
      continue;
    }
    const int on = 1;
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof on);
    std::uint64_t id = 0;
    {
      std::lock_guard lock(state_mutex_);
      id = ++accepted_;
      ++open_;
    }
    state_changed_.notify_all();
    reap_finished_connections();
    std::lock_guard lock(slots_mutex_);
    auto slot = std::make_unique<connection_slot>();
    connection_slot* raw_slot = slot.get();
    try {
      slot->thread = std::thread([this, fd, id, raw_slot] { serve(fd, id, raw_slot); });
      slots_.push_back(std::move(slot));
    } catch (const std::system_error&) {
      ::close(fd);
      std::lock_guard state_lock(state_mutex_);
      --open_;
    }
  }
}

void http_backend::reap_finished_connections() {
  std::lock_guard lock(slots_mutex_);
  for (auto it = slots_.begin(); it != slots_.end();) {
    if ((*it)->done.load(std::memory_order_acquire)) {
      (*it)->thread.join();
      it = slots_.erase(it);
    } else {
      ++it;
    }
  }
}

void http_backend::serve(int fd, std::uint64_t id, connection_slot* slot) {
  detail::set_thread_stop_flag(&stopping_);
  try {
    socket_stream stream(fd);
    stream.set_interrupt_fd(stop_fd_);
    backend_connection connection(std::move(stream), id, options_.max_stored_body,
                                  options_.send_100_continue, options_.write_timeout);
    received_request tls_info;
    bool ready = true;
    if (tls_ctx_ != nullptr) {
      const auto status =
          connection.stream_.start_tls_server(tls_ctx_, clock::now() + options_.handshake_timeout);
      if (status != io_status::ok) {
        ready = false;
        connection.stream_.close();
        {
          std::lock_guard lock(state_mutex_);
          ++tls_failures_;
        }
        state_changed_.notify_all();
      } else if (SSL* ssl = connection.stream_.tls(); ssl != nullptr) {
        if (const char* sni = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name)) {
          tls_info.tls_server_name = sni;
        }
        const unsigned char* alpn = nullptr;
        unsigned int alpn_length = 0;
        SSL_get0_alpn_selected(ssl, &alpn, &alpn_length);
        if (alpn != nullptr)
          tls_info.tls_alpn.assign(reinterpret_cast<const char*>(alpn), alpn_length);
        if (X509* peer = SSL_get1_peer_certificate(ssl); peer != nullptr) {
          char subject[512];
          X509_NAME_oneline(X509_get_subject_name(peer), subject, sizeof subject);
          tls_info.tls_client_subject = subject;
          X509_free(peer);
        }
      }
    }
    if (ready) serve_requests(connection, tls_info);
    connection.finish(stopping_.load(std::memory_order_acquire));
  } catch (...) {
    // Nothing may escape a thread; the connection is closed by the destructors above.
    std::lock_guard lock(state_mutex_);
    ++handler_errors_;
  }
  {
    std::lock_guard lock(state_mutex_);
    --open_;
  }
  state_changed_.notify_all();
  detail::set_thread_stop_flag(nullptr);
  slot->done.store(true, std::memory_order_release);
}

void http_backend::serve_requests(backend_connection& connection,
                                  const received_request& tls_info) {
  for (std::size_t index = 0; !stopping_.load(std::memory_order_acquire); ++index) {
    std::optional<received_request> request = connection.read_request();
    if (!request) {
      if (connection.parse_failed_) {
        {
          std::lock_guard lock(state_mutex_);
          ++parse_errors_;
        }
        state_changed_.notify_all();
        // Counted before answering, so a test that reads the 400 also sees the count.
        if (connection.answer_400_) {
          connection.write("HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n"
                           "Connection: close\r\n\r\n");
        }
      }
      return;
    }
    request->connection_id = connection.id();
    request->index_on_connection = index;
    request->tls_server_name = tls_info.tls_server_name;
    request->tls_alpn = tls_info.tls_alpn;
    request->tls_client_subject = tls_info.tls_client_subject;
    {
      std::lock_guard lock(state_mutex_);
      requests_.push_back(*request);
    }
    state_changed_.notify_all();

    connection.current_ = &*request;
    try {
      handler_(*request, connection);
    } catch (...) {
      connection.current_ = nullptr;
      connection.reset();
      {
        std::lock_guard lock(state_mutex_);
        ++handler_errors_;
      }
      state_changed_.notify_all();
      return;
    }
    connection.current_ = nullptr;
    // After raw reads or a 101 the bytes are no longer HTTP; after close() nothing more is sent.
    if (!connection.is_open() || connection.raw_used_ || connection.switched_ ||
        connection.close_after_) {
      return;
    }
    if (!request->keep_alive && options_.close_when_client_asks) return;
  }
}

template <class Predicate>
bool http_backend::wait_until(std::chrono::milliseconds timeout, Predicate predicate) const {
  std::unique_lock lock(state_mutex_);
  return state_changed_.wait_for(lock, timeout, predicate);
}

backend_stats http_backend::stats_locked() const {
  backend_stats out;
  out.connections_accepted = accepted_;
  out.open_connections = open_;
  out.requests_seen = requests_.size();
  out.parse_errors = parse_errors_;
  out.tls_handshake_failures = tls_failures_;
  out.handler_errors = handler_errors_;
  return out;
}

backend_stats http_backend::stats() const {
  std::lock_guard lock(state_mutex_);
  return stats_locked();
}

bool http_backend::wait_for(const std::function<bool(const backend_stats&)>& predicate,
                            std::chrono::milliseconds timeout) const {
  return wait_until(timeout, [&] { return predicate(stats_locked()); });
}

std::size_t http_backend::connections_accepted() const {
  std::lock_guard lock(state_mutex_);
  return accepted_;
}

std::size_t http_backend::open_connections() const {
  std::lock_guard lock(state_mutex_);
  return open_;
}

std::size_t http_backend::requests_seen() const {
  std::lock_guard lock(state_mutex_);
  return requests_.size();
}

std::vector<received_request> http_backend::requests() const {
  std::lock_guard lock(state_mutex_);
  return requests_;
}

received_request http_backend::last_request() const {
  std::lock_guard lock(state_mutex_);
  if (requests_.empty()) throw std::out_of_range("the test backend has received no request");
  return requests_.back();
}

std::size_t http_backend::parse_errors() const {
  std::lock_guard lock(state_mutex_);
  return parse_errors_;
}

std::size_t http_backend::tls_handshake_failures() const {
  std::lock_guard lock(state_mutex_);
  return tls_failures_;
}

std::size_t http_backend::handler_errors() const {
  std::lock_guard lock(state_mutex_);
  return handler_errors_;
}

bool http_backend::wait_for_requests(std::size_t n, std::chrono::milliseconds timeout) const {
  return wait_until(timeout, [&] { return requests_.size() >= n; });
}

bool http_backend::wait_for_connections(std::size_t n, std::chrono::milliseconds timeout) const {
  return wait_until(timeout, [&] { return accepted_ >= n; });
}

bool http_backend::wait_for_open_connections(std::size_t n,
                                             std::chrono::milliseconds timeout) const {
  return wait_until(timeout, [&] { return open_ == n; });
}

std::string echo_json(const received_request& request, std::string_view backend_name) {
  // Fields with the same name are merged, in first-seen order, as HTTP allows for lists.
  std::vector<std::pair<std::string, std::string>> merged;
  for (const auto& [name, value] : request.headers) {
    std::string key = lower_case(name);
    auto it = std::find_if(merged.begin(), merged.end(),
                           [&](const auto& entry) { return entry.first == key; });
    if (it == merged.end()) {
      merged.emplace_back(std::move(key), value);
    } else {
      it->second += ", " + value;
    }
  }
  std::string json = "{";
  if (!backend_name.empty()) json += "\"backend\":" + json_quote(backend_name) + ",";
  json += "\"method\":" + json_quote(request.method);
  json += ",\"target\":" + json_quote(request.target);
  json += ",\"version\":\"HTTP/1." + std::to_string(request.version_minor) + "\"";
  json += ",\"headers\":{";
  for (std::size_t i = 0; i < merged.size(); ++i) {
    if (i != 0) json += ",";
    json += json_quote(merged[i].first) + ":" + json_quote(merged[i].second);
  }
  json += "},\"body\":" + json_quote(request.body);
  json += ",\"body_size\":" + std::to_string(request.body_size);
  json += std::string(",\"chunked\":") + (request.chunked ? "true" : "false");
  json += "}";
  return json;
}

request_handler echo_handler(std::string backend_name) {
  return [name = std::move(backend_name)](const received_request& request,
                                          backend_connection& connection) {
    connection.respond(200, echo_json(request, name), {}, "application/json");
  };
}

request_handler fixed_response_handler(int status, std::string body, header_list headers,
                                       std::string content_type) {
  return [status, body = std::move(body), headers = std::move(headers),
          content_type = std::move(content_type)](const received_request&,
                                                  backend_connection& connection) {
    connection.respond(status, body, headers, content_type);
  };
}

} // namespace parallax::test
