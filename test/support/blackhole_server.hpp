#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace parallax::test {

// A 127.0.0.1 port where nothing listens: connecting to it is refused at once. The port was
// bound and released, so it is free now (another process could take it, which is unlikely).
std::uint16_t refusing_port();

// How a blackhole_server treats connections.
enum class blackhole_mode {
  accept_and_ignore, // complete the TCP handshake, accept, never read or answer
  never_accept,      // keep the accept queue full so new connects hang in SYN_SENT
};

// A listener that never answers, for timeout tests: connections either get accepted and then
// ignored (read/response timeouts) or never complete (connect timeouts). Thread-safe.
class blackhole_server {
public:
  // Starts listening on 127.0.0.1:0; throws on failure.
  explicit blackhole_server(blackhole_mode mode = blackhole_mode::accept_and_ignore);
  // Closes the listener and every held connection.
  ~blackhole_server();
  blackhole_server(const blackhole_server&) = delete;
  blackhole_server& operator=(const blackhole_server&) = delete;

  // The listening port.
  std::uint16_t port() const { return port_; }
  // "127.0.0.1:<port>".
  std::string address() const;
  // Connections accepted so far (always 0 in never_accept mode).
  std::size_t connections_accepted() const;
  // Waits until at least `n` connections were accepted; false on timeout.
  bool wait_for_connections(std::size_t n, std::chrono::milliseconds timeout) const;

private:
  void accept_loop();

  int listen_fd_ = -1;
  int stop_fd_ = -1;
  std::uint16_t port_ = 0;
  std::vector<int> held_fds_; // accepted connections, or the fillers of the accept queue
  std::thread accept_thread_;
  mutable std::mutex mutex_;
  mutable std::condition_variable changed_;
  std::size_t accepted_ = 0;
};

} // namespace parallax::test
