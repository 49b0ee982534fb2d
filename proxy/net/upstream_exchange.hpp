#pragma once
// One exchange with an upstream, for the live forwarder and the shadow leg alike: take a
// pooled connection or connect (DNS included in connect_timeout), write the head and the body,
// retry once on a pooled connection the upstream had closed, relay 1xx, notice a final
// response that arrives before the request is complete, read the response into a sink, and
// give the connection back only when it is clean. Every read and write goes through a timed
// stream, so none can be started without a deadline. The outcome is one exchange_error, which
// the callers map to a status, a metric and a log line, each in one place.

#include <boost/asio/buffer.hpp>

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "proxy/http/message.hpp"
#include "proxy/http/parser.hpp"
#include "proxy/http/serializer.hpp"
#include "proxy/net/asio.hpp"
#include "proxy/net/connection_registry.hpp"
#include "proxy/net/recycler.hpp"
#include "proxy/net/timed_stream.hpp"
#include "proxy/net/upstream_pool.hpp"

namespace parallax::proxy::net {

/// Size of each I/O buffer a worker lends to its exchanges.
inline constexpr std::size_t io_buffer_size = 16UL * 1024UL;

/// Why an exchange failed: exactly one value per exchange.
enum class exchange_error {
  none,
  connect_failed,  // refused, unreachable, DNS failure, connection cap
  connect_timeout, // DNS, TCP and TLS not done within connect_timeout
  tls,             // the TLS handshake failed
  write_failed,    // the upstream closed or reset while the request was written
  write_timeout,   // the upstream stopped reading the request for io_timeout
  reset,           // the upstream closed or reset before a final response head
  head_timeout,    // no final response head within request_timeout
  malformed,       // not HTTP, a head over the limit, or an unexpected 101
  body_timeout,    // the response body stalled for io_timeout after the head
  body_reset,      // the response body broke off (reset, or EOF before its end)
  body_malformed,  // the response body's framing was invalid
  source_failed,   // the request source failed (the client's body: see the source)
  sink_failed,     // the response sink failed (the client went away or stopped reading)
};

/// The exchange_error's name, for log lines.
const char* exchange_error_name(exchange_error e) noexcept;
/// The exchange error a failed connect (DNS, TCP, TLS) counts as.
exchange_error connect_error(upstream_error e) noexcept;
/// The upstream_errors_total kind an exchange error counts as (none for source/sink failures).
upstream_error upstream_error_of(exchange_error e) noexcept;

/// What an exchange borrows from its worker: the deadline sweeper's registry and the recycled
/// buffers and response parsers (all single-threaded, owned by the worker).
struct exchange_resources {
  connection_registry& deadlines;
  recycler<char[]>& buffers;
  recycler<http::parser>& parsers;

  /// An I/O buffer of io_buffer_size bytes.
  [[nodiscard]] std::unique_ptr<char[]> take_buffer() const;
  /// A response parser accepting the largest response head (256 KiB), reset by the borrower.
  [[nodiscard]] std::unique_ptr<http::parser> take_parser() const;
};

/// What a source's body step reached.
enum class source_step {
  more,        // bytes (or nothing yet, when not waiting); more follow
  done,        // the last bytes
  failed,      // the source failed
  interrupted, // the watched upstream turned readable while the source waited
};

/// The request as an HTTP/2 upstream needs it: fields rather than a serialized head.
struct request_parts {
  const http::request_head* head = nullptr; // null: this source serializes only (HTTP/1.1)
  http::forwarding_info forwarding;         // for X-Forwarded-*
};

/// Where the request comes from.
class request_source {
public:
  virtual ~request_source() = default;
  /// The request's head and forwarding facts (HTTP/2 upstreams); its body then comes from
  /// take()/next() without HTTP/1.1 framing (the source was made with content-length or no
  /// framing).
  virtual request_parts parts() { return {}; }
  /// The request head, serialized into `scratch` or kept elsewhere by the source (called again
  /// for a retry on a fresh connection); valid until the request is written.
  virtual std::string_view head(std::string& scratch) = 0;
  /// Appends the body bytes at hand as buffers to `out` (framing included; possibly none). The
  /// buffers stay valid until the next call of take() or next().
  virtual source_step take(std::vector<asio::const_buffer>& out) = 0;
  /// Like take(), but waits for at least some bytes; given `watch` (the upstream), it may stop
  /// waiting when that turns readable (`interrupted`, nothing taken).
  virtual awaitable<source_step> next(std::vector<asio::const_buffer>& out, stream* watch) = 0;
  /// Whether the whole request can be written again (nothing taken that cannot be replayed).
  [[nodiscard]] virtual bool replayable() const = 0;
  /// The request's trailer fields, once take()/next() returned `done` (null: none). An
  /// HTTP/1.1 source writes them into its last chunk itself; an HTTP/2 upstream sends them as
  /// the stream's last HEADERS.
  virtual const http::header_list* trailers() { return nullptr; }
  /// Whether next() may be awaited while the response is delivered to the sink (an HTTP/2
  /// client's stream): an HTTP/2 upstream then relays both directions at once (gRPC's
  /// bidirectional streaming); otherwise the request is sent whole before the response is read.
  [[nodiscard]] virtual bool full_duplex() const { return false; }
  /// Makes a pending next() (without `watch`) return `interrupted` soon (a full-duplex
  /// source: the HTTP/2 upstream's response began while the request body was awaited).
  virtual void interrupt() {}
  /// From now on the response is relayed while next() waits (full duplex): a client that is
  /// quiet meanwhile is no fault; the relay's deadlines bound the exchange, and its end
  /// cancels the wait.
  virtual void relaying() {}
  /// The whole request was written (once per attempt).
  virtual void sent() = 0;
};

/// How a sink took a piece of the response.
enum class delivery {
  done,    // taken
  pending, // partly taken: flush() must be awaited before the exchange goes on
  failed,  // the sink failed: the exchange stops (sink_failed)
};

/// Where the response goes.
class response_sink {
public:
  virtual ~response_sink() = default;
  /// An interim response (1xx other than 101); false stops the exchange (sink_failed).
  virtual awaitable<bool> interim(const http::response_head& head) = 0;
  /// The final response: `first` with its head, then body pieces; `complete` with the last.
  /// Takes what it can without waiting; the pieces stay valid until flush() has ended.
  virtual delivery deliver(const http::response_head& head,
                           const std::vector<std::string_view>& body, bool first,
                           bool complete) = 0;
  /// Finishes a `pending` delivery; false stops the exchange (sink_failed).
  virtual awaitable<bool> flush() { co_return true; }
  /// Trailer fields that end the response (HTTP/2 upstreams: gRPC's status), given before the
  /// last deliver().
  virtual void trailers(const http::header_list& /*fields*/) {}
  /// Upstream bytes just arrived (before they are parsed).
  virtual void arrived() {}
  /// Whether pace() must be awaited after each read (the shadow yields to live work).
  [[nodiscard]] virtual bool paced() const { return false; }
  /// Awaited after each read when paced().
  virtual awaitable<void> pace() { co_return; }
};

/// How one exchange behaves.
struct exchange_options {
  bool head_request = false;  // the response to HEAD has no body
  bool allow_upgrade = false; // a 101 ends the exchange, handing the connection back
  bool detect_early = true;   // watch for a final response while the body is still written
};

/// How an exchange ended.
struct exchange_result {
  exchange_error error = exchange_error::none;
  bool head_delivered = false;   // the final head reached the sink: later failures truncate
  bool request_complete = false; // every request byte was written
  bool early_response = false;   // the final response came before the request was complete
  std::unique_ptr<upstream_connection> upgraded; // after a 101 (allow_upgrade)
  std::string_view upgrade_leftover;             // bytes after the 101 head (exchange's buffer)
  std::string detail;                            // for the log line
};

/// One request/response with an upstream through `pool`.
class h2_upstream_connection;
struct h2_upstream_stream;

class upstream_exchange {
public:
  /// An exchange borrowing from `res`, with connections of `pool`; `head` and `gather` are the
  /// caller's reused storage for the request head and a gathered write (no allocation per
  /// exchange once they have grown).
  upstream_exchange(const exchange_resources& res, upstream_pool& pool, std::string& head,
                    std::vector<asio::const_buffer>& gather);
  ~upstream_exchange();
  upstream_exchange(const upstream_exchange&) = delete;
  upstream_exchange& operator=(const upstream_exchange&) = delete;

  /// Runs the exchange to its end. The exchange object must outlive the tunnel of an upgrade
  /// (upgrade_leftover points into its buffer).
  awaitable<exchange_result> run(request_source& source, response_sink& sink,
                                 const exchange_options& options);
  /// Closes the connection in use (the exchange ends with an error soon after).
  void abort() noexcept;
  /// The final response head (valid once delivered).
  [[nodiscard]] const http::response_head& response() const noexcept;

private:
  enum class head_progress { need_more, interim, final_head, failed };

  awaitable<exchange_result> attempt(request_source& source, response_sink& sink,
                                     const exchange_options& options);
  // HTTP/2 upstreams (h2_exchange.cpp): one stream on a shared connection.
  awaitable<exchange_result> run_h2(request_source& source, response_sink& sink,
                                    const exchange_options& options);
  bool h2_queue(request_source& source, source_step step);
  awaitable<exchange_error> h2_send(request_source& source, source_step step);
  awaitable<exchange_error> h2_receive(response_sink& sink);
  awaitable<exchange_error> h2_duplex(request_source& source, response_sink& sink,
                                      source_step step);
  exchange_result h2_finish(exchange_error e);
  void drop_h2_stream(); // releases the stream and gives it back to its connection
  awaitable<exchange_result> retry(request_source& source, response_sink& sink,
                                   const exchange_options& options);
  exchange_result finish(exchange_error e);
  void take_buffer();
  // Where the body relay stands.
  struct body_state {
    bool complete;                               // the message ended
    bool first = true;                           // the head is not delivered yet
    exchange_error error = exchange_error::none; // why deliver_buffered() failed
  };

  awaitable<exchange_error> send_request(request_source& source, response_sink& sink,
                                         source_step step, bool watch, exchange_result& result,
                                         bool& final_head);
  awaitable<exchange_error> check_early(response_sink& sink, exchange_result& result,
                                        bool write_failed, bool& final_head);
  head_progress parse_head(exchange_result& result);
  awaitable<head_progress> parse_and_relay(response_sink& sink, exchange_result& result);
  delivery deliver_buffered(response_sink& sink, exchange_result& result, body_state& body);
  void release_if_clean(const exchange_result& result);
  awaitable<exchange_error> relay_body(response_sink& sink, exchange_result& result,
                                       body_state& body, bool pending);

  const exchange_resources& res_;
  upstream_pool& pool_;
  std::unique_ptr<upstream_connection> conn_;
  std::unique_ptr<char[]> buf_;
  std::unique_ptr<http::parser> parser_;
  timed_stream io_;        // every operation's deadline, bound to conn_
  exchange_result result_; // handed to the caller when the exchange ends
  std::size_t begin_ = 0;  // unparsed response bytes are buf_[begin_, end_)
  std::size_t end_ = 0;
  bool got_bytes_ = false;   // the attempt received response bytes
  bool fresh_ = false;       // the retry: a new connection, never a pooled one
  std::size_t endpoint_ = 0; // this exchange's endpoint (round-robin pick)
  std::string& head_; // the serialized request head; HTTP/2: the body kept for a retry (caller's)
  std::vector<asio::const_buffer>& gather_;         // one gathered write (caller's)
  std::shared_ptr<h2_upstream_connection> h2_conn_; // HTTP/2: the connection in use
  std::unique_ptr<h2_upstream_stream> h2_stream_;   // HTTP/2: this exchange's stream
  std::weak_ptr<h2_upstream_connection> h2_home_;   // HTTP/2: where the stream goes back
  bool aborted_ = false;                            // abort() was called
  bool h2_sending_ = false;       // HTTP/2, full duplex: the request is still being sent
  bool h2_switch_ = false;        // HTTP/2: the response began while request bytes were awaited
  bool h2_keep_ = false;          // HTTP/2: all the body taken is kept in head_ (refused streams)
  bool h2_kept_whole_ = false;    // head_ holds the whole request body
  bool h2_interims_sent_ = false; // HTTP/2: 1xx heads reached the sink (no retry after them)
};

} // namespace parallax::proxy::net
