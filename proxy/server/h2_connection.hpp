#pragma once
// One HTTP/2 client connection (RFC 9113): a reader coroutine feeds received bytes to the
// nghttp2 codec, a writer coroutine sends what it gathers, and every request stream is an
// exchange, run by one of the connection's stream runners (coroutines that take one stream
// after another): admitted, routed, observed and forwarded through the same upstream exchange
// as an HTTP/1.1 request (translated to HTTP/1.1 for the upstream).
//
// Flow control is manual: a stream's received body bytes reopen its window only once they
// were handed to the upstream, and a response body waits in a bounded per-stream queue, so a
// slow reader or a slow upstream back-pressures its own stream only. The connection's one
// deadline is the earliest of its pending write's (client_io_timeout) and, while no stream is
// open, its idle read's (header_timeout before the first stream, then idle_timeout).

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <boost/asio/steady_timer.hpp>

#include "proxy/h2/server_codec.hpp"
#include "proxy/h2/stream_map.hpp"
#include "proxy/net/asio.hpp"
#include "proxy/net/connection_registry.hpp"
#include "proxy/net/stream.hpp"

namespace parallax::proxy::net {
class upstream_pool;
struct exchange_result;
} // namespace parallax::proxy::net

namespace parallax::proxy::server {

enum class failure;
class worker;
struct listener_binding;
struct runtime;

/// The HTTP/2 connection preface a client sends first (RFC 9113 3.4).
inline constexpr std::string_view h2_preface = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

/// An HTTP/2 connection over a client stream owned by its session.
class h2_connection final : public net::tracked_connection, private h2::server_events {
public:
  using clock = std::chrono::steady_clock;

  h2_connection(worker& w, net::stream& client, const listener_binding& listener,
                std::string_view client_ip);
  ~h2_connection() override;
  h2_connection(const h2_connection&) = delete;
  h2_connection& operator=(const h2_connection&) = delete;

  /// Serves the connection until it ends and every stream has finished; `received` holds the
  /// bytes already read (the preface, perhaps more). The caller closes the stream afterwards.
  awaitable<void> run(std::string_view received);

  void on_deadline() override;
  void on_drain() override;
  void force_close() override;

private:
  struct stream_state;
  class stream_source;
  class stream_sink;
  struct stream_runner;

  awaitable<void> reader(std::string_view received);
  awaitable<void> writer();
  awaitable<void> run_streams(std::shared_ptr<stream_state> first);
  // A stream's exchange, run by a runner: admit_stream() (false: answered or never
  // forwarded), begin_forward() (the tap, the pool), the upstream exchange, end_forward() (a
  // failure's answer and accounting), and end_stream() (the exchange's record, the tap's end,
  // finish_stream()).
  bool admit_stream(stream_state& st, std::size_t& route);
  net::upstream_pool& begin_forward(stream_state& st, std::size_t route_index);
  void end_forward(stream_state& st, std::size_t route_index, const net::exchange_result& result);
  void end_stream(stream_state& st);
  void respond_failure(stream_state& st, failure f);
  void finish_stream(stream_state& st);
  void close_now();
  // Writes a GOAWAY ENHANCE_YOUR_CALM at once if it can (a flooded session), before close_now.
  void goaway_now();
  void stream_gone(std::shared_ptr<stream_state> st); // left streams_ (idle if it was the last)
  void start_streams(); // starts the exchanges of the heads the last read brought
  [[nodiscard]] clock::time_point idle_deadline() const;
  void wake_writer();
  void update_deadline();
  [[nodiscard]] std::size_t response_queue_limit() const noexcept;

  // h2::server_events
  void on_request(std::int32_t id, http::request_head& head, bool end_stream,
                  h2::head_refusal refused) override;
  void on_data(std::int32_t id, std::string_view bytes) override;
  void on_request_trailers(std::int32_t id, const http::header_list& fields) override;
  void on_request_end(std::int32_t id) override;
  void on_stream_close(std::int32_t id, std::uint32_t error_code) override;
  long read_body(std::int32_t id, std::uint8_t* buf, std::size_t length, bool& eof,
                 const http::header_list*& trailers) override;

  worker& worker_;
  net::stream& client_;
  const listener_binding& listener_;
  std::string client_ip_;
  std::shared_ptr<const runtime> rt_; // the snapshot the connection started with (limits)
  std::unique_ptr<h2::server_codec> codec_;
  h2::stream_map<std::shared_ptr<stream_state>> streams_;
  // Finished streams' states, reused with their buffers (at most max_concurrent_streams).
  std::vector<std::shared_ptr<stream_state>> spare_;
  // Streams whose heads came in the current read, started once it is processed.
  std::vector<std::shared_ptr<stream_state>> to_start_;
  asio::steady_timer write_wake_;            // cancelled to wake the writer
  asio::steady_timer streams_done_;          // cancelled when the last runner ends
  std::size_t runners_ = 0;                  // run_streams() coroutines not yet ended
  std::vector<stream_runner*> idle_runners_; // runners waiting for a stream to serve
  clock::time_point idle_from_;              // since when no stream is open
  clock::time_point read_deadline_ = clock::time_point::max();
  clock::time_point write_deadline_ = clock::time_point::max();
  clock::time_point write_limit_ = clock::time_point::max(); // after a protocol failure
  bool served_ = false;   // a stream was opened (idle_timeout applies from then on)
  bool reading_ = true;   // the reader still runs
  bool closed_ = false;   // the socket is closed: streams end
  bool writing_ = false;  // the writer's write is under way (a frame may be half sent)
  bool draining_ = false; // GOAWAY sent: no new streams
};

} // namespace parallax::proxy::server
