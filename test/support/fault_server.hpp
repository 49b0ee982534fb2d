#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <list>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "test/support/socket_stream.hpp"

namespace parallax::test {

// What a fault_server does with one connection. (A refused connection is not a behaviour of a
// listening server: use refusing_port() from blackhole_server.hpp.)
enum class fault {
  respond,              // a well-formed keep-alive response to every request (the control case)
  never_read,           // accept, then never read a byte; hold the connection
  never_answer,         // read the request head, never answer; hold the connection
  slow_head,            // read the request, send the response head one byte per byte_interval
  stall_mid_body,       // send the head and partial_body bytes of the body, then nothing
  reset_mid_head,       // send half of a response head, then close with SO_LINGER 0 (RST)
  reset_mid_body,       // send the head and partial_body bytes of the body, then RST
  garbage,              // answer bytes that are not HTTP, then close
  oversized_head,       // answer a response head of head_bytes (> the proxy's 256 KiB limit)
  short_body,           // promise body_bytes, send partial_body of them, then close (FIN)
  extra_bytes,          // send the body and extra_bytes more than Content-Length; keep serving
  close_delimited,      // HTTP/1.0 response without Content-Length, the body ended by close
  interim_responses,    // interim_count 103/100 interim responses, then the final response
  early_final_response, // after the request head only: 413 + Connection: close, lingering close
};

// Short name of `kind`, for test names and messages.
const char* to_string(fault kind);

// The script for one connection. Bodies are pattern bytes ('a' + offset % 26), so a client can
// check they arrived intact (see pattern_bytes()).
struct fault_plan {
  fault kind = fault::respond;
  int status = 200;                            // final status of the responses it sends
  std::uint64_t body_bytes = 64;               // body length of the final response
  std::uint64_t partial_body = 16;             // body bytes sent before a mid-body fault
  std::uint64_t extra_bytes = 32;              // extra_bytes: bytes beyond Content-Length
  std::size_t head_bytes = 300 * 1024;         // oversized_head: size of the head sent
  std::size_t interim_count = 100;             // interim_responses: how many
  std::chrono::milliseconds byte_interval{20}; // slow_head: pause between head bytes
  // early_final_response: after answering, read and drop what the peer still sends until it
  // closes (lingering close, RFC 9112 9.6); false: close at once, which resets the connection
  // when request bytes are still unread.
  bool linger = true;
  // reset_mid_body, extra_bytes: wait for release() before the fault (the RST, or the extra
  // bytes), so a test can see the first part arrive before it; the wait ends at `hold` too.
  bool wait_for_release = false;
  // The longest a stalled connection is held (and the bound on every wait and write): after
  // it the server closes the connection itself. Long, so a proxy that leaks a connection shows
  // up as a connection still open, not as one the server gave up on.
  std::chrono::milliseconds hold{30'000};
};

// Per-connection counters of a fault_server.
struct fault_connection_stats {
  std::uint64_t id = 0;            // 1-based accept order
  fault kind = fault::respond;     // the behaviour it was given
  std::size_t requests = 0;        // request heads received on it
  std::uint64_t bytes_read = 0;    // bytes received on it
  std::uint64_t bytes_written = 0; // bytes sent on it
  bool open = true;                // false once the server closed it
  bool peer_closed = false;        // the peer closed or reset it (seen by a read or a poll)
};

// A snapshot of a fault_server's counters.
struct fault_stats {
  std::size_t connections_accepted = 0; // connections accepted so far
  std::size_t open_connections = 0;     // connections open now
  std::size_t requests_seen = 0;        // request heads received, on all connections
  std::uint64_t bytes_read = 0;         // bytes received, on all connections
  std::uint64_t bytes_written = 0;      // bytes sent, on all connections
  std::size_t faults_done = 0;          // connections that reached their fault (or answered)
};

// A scriptable misbehaving HTTP/1.1 upstream on 127.0.0.1:<ephemeral port>, for fault tests.
// One thread accepts; each connection gets its own thread running the plan chosen for it,
// with blocking-style I/O whose every wait is bounded (by the plan's `hold`) and ends when the
// server stops. A held (stalled) connection ends when the peer closes or resets it, which the
// server notices without reading (POLLRDHUP), so `open_connections()` going back to 0 shows
// that the proxy closed its side. Counters and waits are thread-safe.
class fault_server {
public:
  // Chooses the plan of each connection from its 1-based accept order.
  using chooser = std::function<fault_plan(std::uint64_t connection_id)>;

  // Every connection gets `plan`. Starts listening at once; throws on failure.
  explicit fault_server(fault_plan plan);
  // Each connection gets chooser(id). Starts listening at once; throws on failure.
  explicit fault_server(chooser choose);
  // Stops (see stop()).
  ~fault_server();
  fault_server(const fault_server&) = delete;
  fault_server& operator=(const fault_server&) = delete;

  // Closes the listener and every connection and joins all threads. Idempotent.
  void stop();
  // Lets every connection waiting for it go on: a plan with wait_for_release does its fault;
  // a held connection (never_read, never_answer, stall_mid_body) reads and discards what the
  // peer sends until the peer closes (so a peer blocked writing to it can finish and close).
  // Later connections do not wait at all.
  void release();

  // The listening port.
  std::uint16_t port() const { return port_; }
  // "127.0.0.1:<port>".
  std::string address() const;

  // All counters at once.
  fault_stats stats() const;
  // Per-connection counters, in accept order.
  std::vector<fault_connection_stats> connections() const;
  // Connections accepted so far.
  std::size_t connections_accepted() const;
  // Connections open now.
  std::size_t open_connections() const;
  // Request heads received so far.
  std::size_t requests_seen() const;

  // Waits until `predicate` holds for the counters (checked on every change); false on timeout.
  // The predicate runs under the server's lock: it must not call back into the server.
  bool wait_for(const std::function<bool(const fault_stats&)>& predicate,
                std::chrono::milliseconds timeout) const;
  // Waits until at least `n` connections were accepted; false on timeout.
  bool wait_for_connections(std::size_t n, std::chrono::milliseconds timeout) const;
  // Waits until at most `n` connections are open; false on timeout.
  bool wait_for_open_at_most(std::size_t n, std::chrono::milliseconds timeout) const;
  // Waits until at least `n` request heads were received; false on timeout.
  bool wait_for_requests(std::size_t n, std::chrono::milliseconds timeout) const;
  // Waits until at least `n` connections reached their fault; false on timeout.
  bool wait_for_faults(std::size_t n, std::chrono::milliseconds timeout) const;

private:
  struct connection_slot {
    std::thread thread;
    std::atomic<bool> done{false};
  };
  class session;
  friend class session;

  void start();
  void accept_loop();
  void serve(int fd, std::uint64_t id, connection_slot* slot);
  void reap_finished_connections();
  template <class Predicate>
  bool wait_until(std::chrono::milliseconds timeout, Predicate predicate) const;
  fault_stats stats_locked() const;
  // Counter updates from connection threads.
  void count_read(std::uint64_t id, std::uint64_t n);
  void count_written(std::uint64_t id, std::uint64_t n);
  void count_request(std::uint64_t id);
  void count_fault(std::uint64_t id);
  void count_peer_closed(std::uint64_t id);

  chooser choose_;
  int listen_fd_ = -1;
  int stop_fd_ = -1;    // eventfd: readable once stopping; wakes every wait in this server
  int release_fd_ = -1; // eventfd: readable once release() was called
  std::uint16_t port_ = 0;
  std::mutex stop_mutex_;
  bool stopped_ = false;
  std::thread accept_thread_;

  std::mutex slots_mutex_;
  std::list<std::unique_ptr<connection_slot>> slots_;

  mutable std::mutex state_mutex_;
  mutable std::condition_variable state_changed_;
  std::vector<fault_connection_stats> connections_;
  std::size_t open_ = 0;
  std::size_t requests_ = 0;
  std::uint64_t bytes_read_ = 0;
  std::uint64_t bytes_written_ = 0;
  std::size_t faults_done_ = 0;
};

} // namespace parallax::test
