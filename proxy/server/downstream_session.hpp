#pragma once
// One client connection: a coroutine that serves its requests in named phases (read head,
// admit, forward, relay, finish) and repeats while keep-alive allows. Pipelined requests wait
// in the read buffer until the previous response is complete (in order). Every client read and
// write goes through a timed stream; the upstream side is one net::upstream_exchange.

#include <boost/asio/buffer.hpp>

#include <array>
#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "proxy/http/parser.hpp"
#include "proxy/net/asio.hpp"
#include "proxy/net/connection_registry.hpp"
#include "proxy/net/stream.hpp"
#include "proxy/net/timed_stream.hpp"
#include "proxy/net/upstream_exchange.hpp"
#include "proxy/server/errors.hpp"
#include "proxy/server/exchange_accounting.hpp"
#include "proxy/server/exchange_observer.hpp"

namespace parallax::proxy::server {

class worker;
struct listener_binding;
struct runtime;

/// A client connection and the coroutine that serves it.
class downstream_session : public std::enable_shared_from_this<downstream_session>,
                           public net::tracked_connection {
public:
  /// A session for an accepted `socket` on `listener` (owned by the server, which outlives
  /// every worker and so every session), run by `w`.
  downstream_session(worker& w, tcp::socket socket, const listener_binding& listener);
  ~downstream_session() override;

  /// Serves the connection until it closes; the coroutine frame owns `self`.
  static awaitable<void> run(std::shared_ptr<downstream_session> self);

  void on_deadline() override {} // client deadlines live in client_io_
  void on_drain() override;
  void force_close() override;

private:
  class live_source;
  class live_sink;
  enum class phase { idle, head, forward, tunnel, h2, closing };
  enum class outcome { keep_alive, close };

  // The protocol of a connection: offered by the listener, chosen by ALPN or the preface.
  [[nodiscard]] bool offers(config::listener_protocol p) const;
  awaitable<bool> sniff_preface(std::size_t& n);
  awaitable<void> serve_h2(std::string_view received);

  // The phases of one request (the synchronous parts run first; coroutines only for waiting).
  awaitable<outcome> serve_one();
  bool head_buffered();
  awaitable<bool> read_head(outcome& failed);
  awaitable<outcome> forward(std::size_t route_index);
  awaitable<outcome> tunnel(const http::response_head& head, net::upstream_connection& up,
                            std::string_view leftover);
  awaitable<outcome> finish_failed(net::exchange_error e, const net::exchange_result& r,
                                   const std::string& upstream, int status_sent);
  void finish_exchange(int status);

  // Client I/O.
  awaitable<bool> read_client(net::timed_stream::time_point deadline);
  awaitable<std::tuple<error_code, std::size_t>>
  write_client(std::span<const asio::const_buffer> bufs);
  awaitable<outcome> send_failure(failure f, std::string_view detail);
  awaitable<void> close_gracefully();
  void release_buffers();
  void adopt(const std::shared_ptr<const runtime>& rt);

  worker& worker_;
  std::shared_ptr<const runtime> rt_; // the snapshot this connection's requests use
  net::stream client_;
  net::timed_stream client_io_; // every client read and write, with its deadline
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
  std::string out_;                                 // serialized heads and chunk framing, reused
  std::vector<asio::const_buffer> gather_;          // buffers of one gathered write, reused
  std::string upstream_head_;                       // the upstream exchange's request head, reused
  std::vector<asio::const_buffer> upstream_gather_; // its gathered writes, reused

  net::upstream_exchange* active_ = nullptr; // closed by force_close
  phase phase_ = phase::idle;
  bool draining_ = false;
  bool closed_ = false;
  bool saw_eof_ = false;
  client_fault fault_ = client_fault::none; // why the client side of an exchange failed
  std::uint64_t exchanges_ = 0;             // requests whose head was read on this connection
  // A new connection's first request head (TLS handshake, first bytes, the rest of the head)
  // is due header_timeout after the connection began, as nginx's client_header_timeout.
  net::timed_stream::time_point first_head_deadline_{};
  int route_index_ = -1;
  std::uint64_t response_bytes_ = 0;
  std::shared_ptr<exchange_tap> tap_; // the observer following this exchange, if any
  exchange_end tap_end_ = exchange_end::client_aborted;
  std::chrono::steady_clock::time_point started_{};
  std::array<char, idle_buffer_size> idle_buf_;
};

} // namespace parallax::proxy::server
