#pragma once
// One client connection: a coroutine that reads requests, routes and forwards each to its
// live upstream, streams the response back, and repeats while keep-alive allows. Pipelined
// requests wait in the read buffer until the previous response is complete (in order).

#include <boost/asio/buffer.hpp>

#include <array>
#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "proxy/http/parser.hpp"
#include "proxy/net/asio.hpp"
#include "proxy/net/stream.hpp"
#include "proxy/net/upstream_pool.hpp"
#include "proxy/server/connection_registry.hpp"
#include "proxy/server/errors.hpp"
#include "proxy/server/exchange_observer.hpp"

namespace parallax::proxy::server {

class worker;
struct listener_binding;
struct runtime;

/// A client connection and the coroutine that serves it.
class downstream_session : public std::enable_shared_from_this<downstream_session>,
                           public tracked_connection {
public:
  /// A session for an accepted `socket` on `listener`, run by `w`.
  downstream_session(worker& w, tcp::socket socket, const listener_binding& listener);
  ~downstream_session() override;

  /// Serves the connection until it closes; the coroutine frame owns `self`.
  static awaitable<void> run(std::shared_ptr<downstream_session> self);

  void on_deadline() override;
  void on_drain() override;
  void force_close() override;

private:
  enum class phase { idle, head, body, upstream, response, tunnel, closing };
  enum class outcome { keep_alive, close };
  enum class body_error {
    none,
    too_large,
    client_malformed,
    client_failed,
    upstream_failed_before_send,
    upstream_failed
  };

  awaitable<outcome> serve_one();
  awaitable<bool> read_client();
  awaitable<void> close_gracefully();
  awaitable<outcome> send_failure(failure f, std::string_view detail);
  awaitable<outcome> forward(std::size_t route_index);
  awaitable<bool> send_request_body(net::upstream_connection& up, bool chunked, body_error& err);
  awaitable<outcome> tunnel(net::upstream_connection& up, std::size_t leftover_begin,
                            std::size_t leftover_end);
  awaitable<error_code> write_client(std::string_view data);
  void finish_exchange(int status);
  void log_access(int status, std::uint64_t bytes) const;
  void release_buffers();

  worker& worker_;
  std::shared_ptr<const runtime> rt_; // the snapshot this connection's requests use
  net::stream client_;
  const listener_binding& listener_;
  std::string client_ip_;

  // Client read buffer, lent by the worker's pool while the connection is busy; [begin_, end_)
  // holds bytes not yet given to the parser. An idle connection holds no pooled buffer and
  // waits for its next request with a read into idle_buf_.
  static constexpr std::size_t idle_buffer_size = 1024;
  std::unique_ptr<char[]> buf_;
  std::size_t begin_ = 0;
  std::size_t end_ = 0;
  http::parser request_parser_;
  // Lent by the worker for an exchange with the upstream, given back when idle.
  std::unique_ptr<http::parser> response_parser_;
  std::unique_ptr<char[]> upstream_buf_;
  std::string out_;                        // serialized heads and chunk framing, reused
  std::vector<asio::const_buffer> gather_; // buffers of one gathered write, reused

  net::upstream_connection* active_upstream_ = nullptr; // cancelled by deadlines
  phase phase_ = phase::idle;
  bool expired_ = false;
  bool draining_ = false;
  bool closed_ = false;
  bool saw_eof_ = false;
  std::uint64_t exchanges_ = 0; // requests whose head was read on this connection
  int route_index_ = -1;
  std::uint64_t response_bytes_ = 0;
  std::shared_ptr<exchange_tap> tap_; // the observer following this exchange, if any
  exchange_end tap_end_ = exchange_end::client_aborted;
  std::chrono::steady_clock::time_point started_{};
  std::array<char, idle_buffer_size> idle_buf_;
};

} // namespace parallax::proxy::server
