#pragma once
// The state one HTTP/2 request stream shares between the connection (which fills it from
// frames and drains its response queue) and the runner coroutine serving the stream's
// exchange. Internal to h2_connection.cpp and h2_stream.cpp.

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <boost/asio/buffer.hpp>
#include <boost/asio/steady_timer.hpp>

#include "proxy/h2/server_codec.hpp"
#include "proxy/http/message.hpp"
#include "proxy/net/upstream_exchange.hpp"
#include "proxy/server/errors.hpp"
#include "proxy/server/exchange_observer.hpp"
#include "proxy/server/h2_connection.hpp"

namespace parallax::proxy::server {

struct h2_connection::stream_state {
  stream_state(std::int32_t stream_id, const asio::any_io_executor& ex)
      : id(stream_id), wake(ex), room(ex) {}

  /// Wakes the stream's exchange if it waits (for body bytes on `wake`, for queue room on
  /// `room`: an HTTP/2 upstream may await both at once), for the close. Request bytes cancel
  /// only `wake`, room only `room`: a wait is not woken for the other's event.
  void notify() {
    wake.cancel();
    room.cancel();
  }

  /// Makes a finished stream's state ready for stream `stream_id`, keeping its buffers.
  void reuse(std::int32_t stream_id) {
    id = stream_id;
    refused = h2::head_refusal::none;
    request_ended = body_less = false;
    in.clear();
    lent.clear();
    out.clear();
    out_off = 0;
    out_end = responded = closed = finished = have_trailers = false;
    request_trailers.clear();
    rt.reset();
    active = nullptr;
    tap.reset();
    tap_end = exchange_end::client_aborted;
    fault = client_fault::none;
    route_index = -1;
    status = 0;
    response_bytes = 0;
  }

  std::int32_t id;
  http::request_head head;
  h2::head_refusal refused = h2::head_refusal::none;
  bool request_ended = false; // END_STREAM received: every body byte is in `in` or taken
  bool body_less = false;     // the request head ended the stream

  std::string in;   // body bytes received, not yet taken by the upstream exchange
  std::string lent; // body bytes taken (their buffers are in use); consumed at the next take
  http::header_list request_trailers; // the client's trailer fields (complete once request_ended)

  std::string out; // response body bytes queued for DATA frames: [out_off, size)
  std::size_t out_off = 0;
  bool out_end = false;       // the response's last byte is in `out`
  bool responded = false;     // the response head was submitted
  http::header_list trailers; // the upstream's trailer fields, sent after the body
  bool have_trailers = false;

  bool closed = false;   // nghttp2 closed the stream (ended, or reset by either side)
  bool finished = false; // the exchange coroutine ended
  asio::steady_timer wake;
  asio::steady_timer room;

  // The exchange.
  std::shared_ptr<const runtime> rt;
  net::upstream_exchange* active = nullptr;
  std::string upstream_head;
  std::vector<asio::const_buffer> gather;
  std::shared_ptr<exchange_tap> tap;
  exchange_end tap_end = exchange_end::client_aborted;
  client_fault fault = client_fault::none;
  int route_index = -1;
  int status = 0;
  std::uint64_t response_bytes = 0;
  std::chrono::steady_clock::time_point started{};

  /// Response bytes queued and not yet framed.
  [[nodiscard]] std::size_t queued() const noexcept { return out.size() - out_off; }
};

// Runners kept waiting for streams after a burst; more end when their stream does.
inline constexpr std::size_t idle_runner_limit = 16;

// A coroutine that serves streams one after another: spawned for a stream when no runner is
// idle, it then waits for the next one, so a connection's streams cost no coroutine spawn
// each once it has had as many at once (co_spawn allocates several blocks per call).
struct h2_connection::stream_runner {
  explicit stream_runner(const asio::any_io_executor& ex) : wake(ex) {}
  asio::steady_timer wake; // cancelled to hand over `next` (none: the runner ends)
  std::shared_ptr<stream_state> next;
};

} // namespace parallax::proxy::server
