#include "test/support/socket_stream.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <csignal>
#include <cstring>
#include <mutex>
#include <stdexcept>
#include <system_error>

namespace parallax::test {
namespace {

std::string errno_text(int error) {
  return std::strerror(error);
}

// Every queued OpenSSL error, joined, so messages name the real cause.
std::string openssl_errors() {
  std::string text;
  char reason[256];
  while (const unsigned long code = ERR_get_error()) {
    ERR_error_string_n(code, reason, sizeof reason);
    if (!text.empty()) text += "; ";
    text += reason;
  }
  return text;
}

void set_no_delay(int fd) {
  const int on = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof on);
}

bool is_ip_address(const std::string& name) {
  in_addr v4{};
  in6_addr v6{};
  return ::inet_pton(AF_INET, name.c_str(), &v4) == 1 ||
         ::inet_pton(AF_INET6, name.c_str(), &v6) == 1;
}

} // namespace

std::string_view to_string(io_status status) {
  switch (status) {
  case io_status::ok: return "ok";
  case io_status::closed: return "closed";
  case io_status::reset: return "reset";
  case io_status::timeout: return "timeout";
  case io_status::interrupted: return "interrupted";
  case io_status::failed: return "failed";
  }
  return "unknown";
}

void ignore_sigpipe() {
  static std::once_flag once;
  std::call_once(once, [] {
    struct sigaction current {};
    if (::sigaction(SIGPIPE, nullptr, &current) == 0 && current.sa_handler == SIG_DFL) {
      ::signal(SIGPIPE, SIG_IGN);
    }
  });
}

socket_stream::socket_stream(int fd) : fd_(fd) {
  ignore_sigpipe();
  const int flags = ::fcntl(fd_, F_GETFL, 0);
  ::fcntl(fd_, F_SETFL, flags | O_NONBLOCK);
}

socket_stream::~socket_stream() {
  close();
}

socket_stream::socket_stream(socket_stream&& other) noexcept
    : fd_(other.fd_), ssl_(other.ssl_), interrupt_fd_(other.interrupt_fd_),
      error_(std::move(other.error_)) {
  other.fd_ = -1;
  other.ssl_ = nullptr;
}

socket_stream& socket_stream::operator=(socket_stream&& other) noexcept {
  if (this != &other) {
    close();
    fd_ = other.fd_;
    ssl_ = other.ssl_;
    interrupt_fd_ = other.interrupt_fd_;
    error_ = std::move(other.error_);
    other.fd_ = -1;
    other.ssl_ = nullptr;
  }
  return *this;
}

io_status socket_stream::wait_for(short events, clock::time_point deadline) {
  pollfd fds[2] = {{fd_, events, 0}, {interrupt_fd_, POLLIN, 0}};
  const nfds_t count = interrupt_fd_ >= 0 ? 2 : 1;
  for (;;) {
    int timeout_ms = -1;
    if (deadline != clock::time_point::max()) {
      const auto left = deadline - clock::now();
      if (left <= clock::duration::zero()) return io_status::timeout;
      // Round up so we never spin on a sub-millisecond remainder; cap to stay in an int.
      const auto ms = std::chrono::ceil<std::chrono::milliseconds>(left).count();
      timeout_ms = static_cast<int>(std::min<long long>(ms, 60'000));
    }
    const int ready = ::poll(fds, count, timeout_ms);
    if (ready < 0) {
      if (errno == EINTR) continue;
      error_ = "poll: " + errno_text(errno);
      return io_status::failed;
    }
    if (count == 2 && fds[1].revents != 0) return io_status::interrupted;
    // POLLHUP/POLLERR count as ready: the following read or write reports what happened.
    if (fds[0].revents != 0) return io_status::ok;
  }
}

io_status socket_stream::tls_failure(int ssl_error, int saved_errno) {
  switch (ssl_error) {
  case SSL_ERROR_ZERO_RETURN: return io_status::closed;
  case SSL_ERROR_SYSCALL: {
    std::string queued = openssl_errors();
    if (saved_errno == ECONNRESET || saved_errno == EPIPE) {
      error_ = errno_text(saved_errno);
      return io_status::reset;
    }
    if (saved_errno == 0 && queued.empty()) {
      error_ = "connection closed";
      return io_status::closed;
    }
    error_ = queued.empty() ? errno_text(saved_errno) : queued;
    return io_status::failed;
  }
  default: {
    error_ = openssl_errors();
    if (ssl_ != nullptr) {
      const long verify = SSL_get_verify_result(ssl_);
      if (verify != X509_V_OK) {
        error_ += std::string(error_.empty() ? "" : "; ") +
                  "certificate verify failed: " + X509_verify_cert_error_string(verify);
      }
    }
    if (error_.empty()) error_ = "TLS error " + std::to_string(ssl_error);
    return io_status::failed;
  }
  }
}

io_status socket_stream::tls_handshake(clock::time_point deadline) {
  SSL_set_mode(ssl_, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
  // Peers that close without close_notify end the stream like a FIN instead of an error.
  SSL_set_options(ssl_, SSL_OP_IGNORE_UNEXPECTED_EOF);
  if (SSL_set_fd(ssl_, fd_) != 1) {
    error_ = "SSL_set_fd: " + openssl_errors();
    return io_status::failed;
  }
  for (;;) {
    ERR_clear_error();
    errno = 0;
    const int rc = SSL_do_handshake(ssl_);
    if (rc == 1) return io_status::ok;
    const int saved_errno = errno;
    const int ssl_error = SSL_get_error(ssl_, rc);
    io_status waited;
    if (ssl_error == SSL_ERROR_WANT_READ) {
      waited = wait_for(POLLIN, deadline);
    } else if (ssl_error == SSL_ERROR_WANT_WRITE) {
      waited = wait_for(POLLOUT, deadline);
    } else {
      const io_status status = tls_failure(ssl_error, saved_errno);
      // A handshake that ends in EOF is a failed handshake, whatever the transport said.
      if (status == io_status::closed) error_ = "peer closed during TLS handshake";
      release_tls();
      return status;
    }
    if (waited != io_status::ok) {
      error_ = waited == io_status::timeout ? "TLS handshake timed out" : "TLS handshake stopped";
      release_tls();
      return waited;
    }
  }
}

io_status socket_stream::start_tls_client(SSL_CTX* ctx, const std::string& server_name,
                                          clock::time_point deadline) {
  ssl_ = SSL_new(ctx);
  if (ssl_ == nullptr) {
    error_ = "SSL_new: " + openssl_errors();
    return io_status::failed;
  }
  SSL_set_connect_state(ssl_);
  if (!server_name.empty() && !is_ip_address(server_name) &&
      SSL_set_tlsext_host_name(ssl_, server_name.c_str()) != 1) {
    error_ = "SNI: " + openssl_errors();
    release_tls();
    return io_status::failed;
  }
  return tls_handshake(deadline);
}

io_status socket_stream::start_tls_server(SSL_CTX* ctx, clock::time_point deadline) {
  ssl_ = SSL_new(ctx);
  if (ssl_ == nullptr) {
    error_ = "SSL_new: " + openssl_errors();
    return io_status::failed;
  }
  SSL_set_accept_state(ssl_);
  return tls_handshake(deadline);
}

io_result socket_stream::read_some(char* data, std::size_t size, clock::time_point deadline) {
  if (fd_ < 0) {
    error_ = "not connected";
    return {io_status::failed, 0};
  }
  const int chunk = static_cast<int>(std::min<std::size_t>(size, INT_MAX));
  for (;;) {
    short want = POLLIN;
    if (ssl_ != nullptr) {
      ERR_clear_error();
      errno = 0;
      const int n = SSL_read(ssl_, data, chunk);
      if (n > 0) return {io_status::ok, static_cast<std::size_t>(n)};
      const int saved_errno = errno;
      const int ssl_error = SSL_get_error(ssl_, n);
      if (ssl_error == SSL_ERROR_WANT_WRITE) {
        want = POLLOUT;
      } else if (ssl_error != SSL_ERROR_WANT_READ) {
        return {tls_failure(ssl_error, saved_errno), 0};
      }
    } else {
      const ssize_t n = ::recv(fd_, data, static_cast<std::size_t>(chunk), 0);
      if (n > 0) return {io_status::ok, static_cast<std::size_t>(n)};
      if (n == 0) return {io_status::closed, 0};
      if (errno == EINTR) continue;
      if (errno == ECONNRESET) {
        error_ = errno_text(errno);
        return {io_status::reset, 0};
      }
      if (errno != EAGAIN && errno != EWOULDBLOCK) {
        error_ = "recv: " + errno_text(errno);
        return {io_status::failed, 0};
      }
    }
    const io_status waited = wait_for(want, deadline);
    if (waited != io_status::ok) return {waited, 0};
  }
}

io_status socket_stream::write_all(std::string_view data, clock::time_point deadline) {
  if (fd_ < 0) {
    error_ = "not connected";
    return io_status::failed;
  }
  while (!data.empty()) {
    short want = POLLOUT;
    if (ssl_ != nullptr) {
      ERR_clear_error();
      errno = 0;
      const int n = SSL_write(ssl_, data.data(),
                              static_cast<int>(std::min<std::size_t>(data.size(), INT_MAX)));
      if (n > 0) {
        data.remove_prefix(static_cast<std::size_t>(n));
        continue;
      }
      const int saved_errno = errno;
      const int ssl_error = SSL_get_error(ssl_, n);
      if (ssl_error == SSL_ERROR_WANT_READ) {
        want = POLLIN;
      } else if (ssl_error != SSL_ERROR_WANT_WRITE) {
        const io_status status = tls_failure(ssl_error, saved_errno);
        return status == io_status::closed ? io_status::reset : status;
      }
    } else {
      const ssize_t n = ::send(fd_, data.data(), data.size(), MSG_NOSIGNAL);
      if (n > 0) {
        data.remove_prefix(static_cast<std::size_t>(n));
        continue;
      }
      if (n < 0 && errno == EINTR) continue;
      if (n < 0 && (errno == ECONNRESET || errno == EPIPE)) {
        error_ = errno_text(errno);
        return io_status::reset;
      }
      if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK) {
        error_ = "send: " + errno_text(errno);
        return io_status::failed;
      }
    }
    const io_status waited = wait_for(want, deadline);
    if (waited != io_status::ok) return waited;
  }
  return io_status::ok;
}

void socket_stream::shutdown_write() {
  if (fd_ < 0) return;
  if (ssl_ != nullptr) {
    // One non-blocking attempt: sends close_notify if the socket buffer has room.
    ERR_clear_error();
    SSL_shutdown(ssl_);
    ERR_clear_error();
  }
  ::shutdown(fd_, SHUT_WR);
}

void socket_stream::reset() {
  if (fd_ < 0) return;
  const linger abortive{1, 0};
  ::setsockopt(fd_, SOL_SOCKET, SO_LINGER, &abortive, sizeof abortive);
  release_tls();
  ::close(fd_);
  fd_ = -1;
}

void socket_stream::close() {
  release_tls();
  if (fd_ >= 0) {
    ::close(fd_);
    fd_ = -1;
  }
}

void socket_stream::release_tls() {
  if (ssl_ != nullptr) {
    SSL_free(ssl_);
    ssl_ = nullptr;
  }
}

int connect_loopback(std::uint16_t port, socket_stream::clock::time_point deadline,
                     std::string& error) {
  ignore_sigpipe();
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    error = "socket: " + errno_text(errno);
    return -1;
  }
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(port);
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  int rc = ::connect(fd, reinterpret_cast<const sockaddr*>(&address), sizeof address);
  if (rc != 0 && errno == EINPROGRESS) {
    pollfd pfd{fd, POLLOUT, 0};
    for (;;) {
      const auto left = deadline - socket_stream::clock::now();
      if (left <= socket_stream::clock::duration::zero()) {
        ::close(fd);
        error = "connect to 127.0.0.1:" + std::to_string(port) + " timed out";
        return -1;
      }
      const auto ms = std::chrono::ceil<std::chrono::milliseconds>(left).count();
      const int ready = ::poll(&pfd, 1, static_cast<int>(std::min<long long>(ms, 60'000)));
      if (ready < 0 && errno == EINTR) continue;
      if (ready != 0) break;
    }
    int so_error = 0;
    socklen_t len = sizeof so_error;
    ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &so_error, &len);
    rc = so_error == 0 ? 0 : -1;
    errno = so_error;
  }
  if (rc != 0) {
    error = "connect to 127.0.0.1:" + std::to_string(port) + ": " + errno_text(errno);
    ::close(fd);
    return -1;
  }
  set_no_delay(fd);
  return fd;
}

int listen_loopback(int backlog, std::uint16_t& port) {
  ignore_sigpipe();
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) throw std::system_error(errno, std::generic_category(), "socket");
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = 0;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof address;
  if (::bind(fd, reinterpret_cast<const sockaddr*>(&address), sizeof address) != 0 ||
      ::listen(fd, backlog) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &len) != 0) {
    const int saved = errno;
    ::close(fd);
    throw std::system_error(saved, std::generic_category(), "listen on 127.0.0.1:0");
  }
  port = ntohs(address.sin_port);
  return fd;
}

} // namespace parallax::test
