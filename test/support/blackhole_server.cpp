#include "test/support/blackhole_server.hpp"

#include <netinet/in.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <system_error>

#include "test/support/socket_stream.hpp"

namespace parallax::test {

std::uint16_t refusing_port() {
  // Bound but never listening: the kernel answers SYNs to it with RST until it is closed, and
  // after close nothing owns the port any more.
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) throw std::system_error(errno, std::generic_category(), "socket");
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof address;
  if (::bind(fd, reinterpret_cast<const sockaddr*>(&address), sizeof address) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &len) != 0) {
    const int saved = errno;
    ::close(fd);
    throw std::system_error(saved, std::generic_category(), "bind 127.0.0.1:0");
  }
  ::close(fd);
  return ntohs(address.sin_port);
}

blackhole_server::blackhole_server(blackhole_mode mode) {
  stop_fd_ = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (stop_fd_ < 0) throw std::system_error(errno, std::generic_category(), "eventfd");
  try {
    if (mode == blackhole_mode::never_accept) {
      // Linux queues backlog + 1 established connections; with backlog 0 one filler connection
      // fills the queue, and SYNs beyond it are dropped, so clients retry until they time out.
      listen_fd_ = listen_loopback(0, port_);
      std::string error;
      const int filler =
          connect_loopback(port_, socket_stream::clock::now() + std::chrono::seconds(5), error);
      if (filler < 0) throw std::runtime_error("blackhole filler connection: " + error);
      held_fds_.push_back(filler);
    } else {
      listen_fd_ = listen_loopback(SOMAXCONN, port_);
      accept_thread_ = std::thread([this] { accept_loop(); });
    }
  } catch (...) {
    for (const int fd : held_fds_)
      ::close(fd);
    if (listen_fd_ >= 0) ::close(listen_fd_);
    ::close(stop_fd_);
    throw;
  }
}

blackhole_server::~blackhole_server() {
  const std::uint64_t one = 1;
  [[maybe_unused]] const auto written = ::write(stop_fd_, &one, sizeof one);
  if (accept_thread_.joinable()) accept_thread_.join();
  ::close(listen_fd_);
  for (const int fd : held_fds_)
    ::close(fd);
  ::close(stop_fd_);
}

std::string blackhole_server::address() const {
  return "127.0.0.1:" + std::to_string(port_);
}

std::size_t blackhole_server::connections_accepted() const {
  std::lock_guard lock(mutex_);
  return accepted_;
}

bool blackhole_server::wait_for_connections(std::size_t n,
                                            std::chrono::milliseconds timeout) const {
  std::unique_lock lock(mutex_);
  return changed_.wait_for(lock, timeout, [&] { return accepted_ >= n; });
}

void blackhole_server::accept_loop() {
  pollfd fds[2] = {{listen_fd_, POLLIN, 0}, {stop_fd_, POLLIN, 0}};
  for (;;) {
    if (::poll(fds, 2, -1) < 0) {
      if (errno == EINTR) continue;
      return;
    }
    if (fds[1].revents != 0) return;
    const int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) continue;
    {
      std::lock_guard lock(mutex_);
      held_fds_.push_back(fd);
      ++accepted_;
    }
    changed_.notify_all();
  }
}

} // namespace parallax::test
