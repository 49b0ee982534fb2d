#include "proxy/net/h2_upstream.hpp"

#include "proxy/net/upstream_exchange.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>

#include <nghttp2/nghttp2.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cstring>

namespace parallax::proxy::net {

namespace {
constexpr int drain_reads = 16;
constexpr std::size_t read_size = 16UL * 1024UL;
constexpr std::size_t write_batch = 64UL * 1024UL;
constexpr auto idle_close = std::chrono::seconds(60);
// The windows parallax announces to upstreams: a stream's response waits in its exchange's
// buffer until the client took it, so a slow client holds at most this much per stream.
constexpr std::uint32_t stream_window = 256U * 1024U;
constexpr std::uint32_t connection_window = 4U * 1024U * 1024U;
} // namespace

h2_upstream_connection::h2_upstream_connection(std::unique_ptr<upstream_connection> conn,
                                               connection_registry& registry,
                                               const config::upstream& cfg)
    : conn_(std::move(conn)), registry_(registry), io_timeout_(cfg.io_timeout),
      max_streams_(cfg.max_streams_per_connection),
      codec_(static_cast<h2::client_events&>(*this), stream_window, connection_window),
      write_wake_(conn_->stream().socket().get_executor()) {
  registry_.add(this);
  idle_deadline_ = clock::now() + idle_close;
  update_deadline();
}

h2_upstream_connection::~h2_upstream_connection() {
  registry_.remove(this);
}

void h2_upstream_connection::start() {
  auto ex = conn_->stream().socket().get_executor();
  asio::co_spawn(ex, reader(shared_from_this()), asio::detached);
  asio::co_spawn(ex, writer(shared_from_this()), asio::detached);
}

bool h2_upstream_connection::available() const {
  return !closed_ && !retired_ && !codec_.going_away() && codec_.alive() &&
         streams_.size() < std::min<std::size_t>(max_streams_, codec_.peer_max_streams());
}

bool h2_upstream_connection::finished() const {
  return closed_ || ((retired_ || codec_.going_away() || !codec_.alive()) && streams_.empty());
}

std::string h2_upstream_connection::endpoint_text() const {
  return conn_->endpoint().addr.text();
}

bool h2_upstream_connection::submit(h2_upstream_stream& st, const h2::request_fields& request,
                                    bool body) {
  if (!available()) return false;
  const auto id = codec_.submit(request, body);
  if (id < 0) return false;
  st.id = id;
  streams_[id] = &st;
  idle_deadline_ = clock::time_point::max();
  update_deadline();
  wake_writer();
  return true;
}

void h2_upstream_connection::resume(h2_upstream_stream& st) {
  codec_.resume(st.id);
  wake_writer();
}

void h2_upstream_connection::consume(h2_upstream_stream& st, std::size_t n) {
  n = std::min(n, st.unconsumed);
  st.unconsumed -= n;
  codec_.consume(st.id, n);
  wake_writer();
}

void h2_upstream_stream::response_event() {
  notify();
  if (waiting != nullptr) waiting->interrupt();
}

void h2_upstream_stream::reset() {
  constexpr std::size_t keep = 16UL * 1024UL; // larger buffers are not held by an idle stream
  const auto trim = [](std::string& b) {
    if (b.capacity() > keep) std::string().swap(b);
    b.clear();
  };
  id = 0;
  trim(req);
  req_off = 0;
  req_end = false;
  relaying = false;
  req_trailers = nullptr;
  head.clear();
  have_head = false;
  interims.clear();
  trim(body);
  trim(relay);
  unconsumed = 0;
  trailers.clear();
  have_trailers = false;
  ended = closed = false;
  close_code = 0;
  waiting = nullptr;
}

std::unique_ptr<h2_upstream_stream> h2_upstream_connection::new_stream() {
  if (spare_.empty()) return std::make_unique<h2_upstream_stream>(executor());
  auto st = std::move(spare_.back());
  spare_.pop_back();
  return st;
}

void h2_upstream_connection::recycle(std::unique_ptr<h2_upstream_stream> st) {
  if (!st || spare_.size() >= max_streams_ || closed_) return;
  st->reset();
  spare_.push_back(std::move(st));
}

void h2_upstream_connection::release(h2_upstream_stream& st) {
  const auto it = streams_.find(st.id);
  if (it == streams_.end()) return;
  if (!st.closed && !closed_) {
    codec_.cancel(st.id); // the exchange gave up (its deadline, the client went away)
  }
  // Bytes received and never handed on still count against the connection's window (nghttp2
  // does not give them back when the stream closes).
  if (st.unconsumed > 0 && !closed_) codec_.consume(st.id, st.unconsumed);
  st.unconsumed = 0;
  wake_writer();
  streams_.erase(it);
  idle_check();
}

void h2_upstream_connection::retire() {
  retired_ = true;
  idle_check();
}

void h2_upstream_connection::close() {
  if (closed_) return;
  closed_ = true;
  conn_->stream().close();
  wake_writer();
  for (auto& [id, st] : streams_) {
    if (st->closed) continue; // already ended (a REFUSED_STREAM stays one)
    st->closed = true;
    // A stream whose HEADERS were still queued never reached the server (say its GOAWAY and
    // close came in one read, before the writer's turn): refused, so it is sent again.
    st->close_code = codec_.sent(id) ? NGHTTP2_CONNECT_ERROR : NGHTTP2_REFUSED_STREAM;
    st->response_event();
  }
  clear_deadline();
}

void h2_upstream_connection::idle_check() {
  if (!streams_.empty() || closed_) return;
  if (retired_ || codec_.going_away()) {
    codec_.terminate();
    wake_writer(); // the writer sends the GOAWAY and closes
    return;
  }
  idle_deadline_ = clock::now() + idle_close;
  update_deadline();
}

void h2_upstream_connection::update_deadline() {
  set_deadline(std::min(write_deadline_, idle_deadline_)); // max: none armed
}

void h2_upstream_connection::on_deadline() {
  const auto now = clock::now();
  if (write_deadline_ <= now) {
    spdlog::warn("upstream {}: HTTP/2 connection not reading for io_timeout", endpoint_text());
    close();
    return;
  }
  if (idle_deadline_ <= now && streams_.empty()) {
    close();
    return;
  }
  update_deadline();
}

void h2_upstream_connection::on_drain() {}

void h2_upstream_connection::force_close() {
  close();
}

awaitable<void>
h2_upstream_connection::reader(std::shared_ptr<h2_upstream_connection> /*self: keeps it alive*/) {
  std::string buf(read_size, '\0');
  auto& socket = conn_->stream().socket();
  // Plain connections: after a read, what the server sent meanwhile is read too (at once, up to
  // drain_reads) before any response is handed on, so the responses of a burst reach each
  // client in one write (nghttpx reads until EAGAIN likewise). TLS: SSL_read keeps its own.
  error_code nb = asio::error::operation_not_supported;
  if (!conn_->stream().is_tls()) socket.non_blocking(true, nb);
  const bool drain = !nb;
  const auto receive = [this](std::string_view bytes) {
    if (codec_.receive(bytes)) return true;
    if (!codec_.failure().empty()) {
      spdlog::warn("upstream {}: HTTP/2 session failed: {}", endpoint_text(), codec_.failure());
    } else { // a GOAWAY (the server's, as it closes, or ours) and no stream left
      spdlog::debug("upstream {}: HTTP/2 session ended (GOAWAY, no stream left)", endpoint_text());
    }
    return false;
  };
  while (!closed_) {
    auto [ec, n] = co_await conn_->stream().read_some(asio::buffer(buf.data(), buf.size()));
    if (ec) break;
    bool fine = receive({buf.data(), n});
    for (int more = 0; fine && drain && !closed_ && more < drain_reads; ++more) {
      n = socket.read_some(asio::buffer(buf.data(), buf.size()), ec);
      if (ec) break; // would_block: all read
      fine = receive({buf.data(), n});
    }
    if (!fine || (ec && ec != asio::error::would_block)) break;
    wake_writer();
  }
  close();
}

awaitable<void>
h2_upstream_connection::writer(std::shared_ptr<h2_upstream_connection> /*self: keeps it alive*/) {
  std::string out;
  for (;;) {
    out.clear();
    if (!codec_.flush(out, write_batch)) break;
    if (out.empty()) {
      if (closed_ || !codec_.alive()) break;
      write_wake_.expires_at(clock::time_point::max());
      co_await write_wake_.async_wait(use_nothrow);
      // Woken by one exchange: the wake-up's completion queues behind the exchanges already
      // woken in this turn of the event loop, so their streams are submitted by now and one
      // write carries them all. (The downstream writer yields once more, which pays there; here
      // it cost a scheduler pass and a reactor poll per wake-up: unary gRPC 1.04x nghttpx's CPU
      // per call with it, 1.01x without, bench/RESULTS.md session 16.)
      continue;
    }
    if (closed_) break;
    write_deadline_ = clock::now() + io_timeout_;
    update_deadline();
    const auto [ec, n] = co_await conn_->stream().write(asio::const_buffer(out.data(), out.size()));
    write_deadline_ = clock::time_point::max();
    update_deadline();
    if (ec) break;
  }
  close();
}

// --- codec events ----------------------------------------------------------------------------

void h2_upstream_connection::on_response(std::int32_t id, http::response_head& head, bool) {
  const auto it = streams_.find(id);
  if (it == streams_.end()) return;
  auto& st = *it->second;
  if (head.status < 200) {
    if (st.interims.size() < 8) st.interims.push_back(head); // a peer cannot pile them up
  } else {
    std::swap(st.head, head); // the codec gets the stream's previous buffers to fill next
    st.have_head = true;
  }
  st.response_event();
}

void h2_upstream_connection::on_body(std::int32_t id, std::string_view bytes) {
  const auto it = streams_.find(id);
  if (it == streams_.end()) {
    codec_.consume(id, bytes.size()); // a stream no exchange waits for any more
    return;
  }
  it->second->body.append(bytes);
  it->second->unconsumed += bytes.size();
  it->second->response_event();
}

void h2_upstream_connection::on_trailers(std::int32_t id, http::header_list& trailers) {
  const auto it = streams_.find(id);
  if (it == streams_.end()) return;
  std::swap(it->second->trailers, trailers);
  it->second->have_trailers = true;
}

void h2_upstream_connection::on_end(std::int32_t id) {
  const auto it = streams_.find(id);
  if (it == streams_.end()) return;
  it->second->ended = true;
  it->second->response_event();
}

void h2_upstream_connection::on_close(std::int32_t id, std::uint32_t error_code) {
  const auto it = streams_.find(id);
  if (it == streams_.end()) return;
  it->second->closed = true;
  it->second->close_code = error_code;
  it->second->response_event();
}

long h2_upstream_connection::read_request_body(std::int32_t id, std::uint8_t* buf,
                                               std::size_t length, bool& eof,
                                               const http::header_list*& trailers) {
  const auto it = streams_.find(id);
  if (it == streams_.end()) {
    eof = true;
    return 0;
  }
  auto& st = *it->second;
  const auto n = std::min(length, st.req.size() - st.req_off);
  if (n == 0 && !st.req_end) return -1;
  std::memcpy(buf, st.req.data() + st.req_off, n);
  st.req_off += n;
  if (st.req_off == st.req.size()) {
    st.req.clear();
    st.req_off = 0;
    // Room for more: a wait for room, and, while the exchange relays both ways, its response
    // waits, whose deadlines count from the sending's progress. (A one-way exchange's wait for
    // the head is not woken: it woke for nothing once per request.)
    st.room.cancel();
    if (st.relaying) st.wake.cancel();
  }
  eof = st.req_end && st.req.empty();
  if (eof) trailers = st.req_trailers;
  return static_cast<long>(n);
}

} // namespace parallax::proxy::net

// --- the pool's HTTP/2 side ------------------------------------------------------------------

namespace parallax::proxy::net {

awaitable<std::shared_ptr<h2_upstream_connection>>
upstream_pool::take_h2(connection_registry& registry, connect_result& failure) {
  for (bool waited = false;; waited = true) {
    if (auto best = available_h2()) co_return best;
    // Connections being opened take max_streams_per_connection streams each (until their
    // SETTINGS say otherwise): wait for one rather than open another (once; within
    // connect_timeout).
    if (!waited && h2_waiters_->timers.size() < h2_connecting_ * cfg_.max_streams_per_connection) {
      asio::steady_timer opened(ioc_);
      opened.expires_after(cfg_.connect_timeout);
      struct enlisted { // also when the frame is destroyed suspended (shutdown)
        std::shared_ptr<h2_wait_list> list;
        asio::steady_timer* timer;
        ~enlisted() { std::erase(list->timers, timer); }
      } guard{h2_waiters_, &opened};
      h2_waiters_->timers.push_back(&opened);
      const auto failures = h2_waiters_->failures;
      co_await opened.async_wait(use_nothrow);
      if (h2_waiters_->failures != failures) { // the opening it waited for failed: so does it
        failure.error = h2_waiters_->error;
        failure.detail = h2_waiters_->detail;
        co_return nullptr;
      }
      continue;
    }
    break;
  }
  std::size_t endpoint = next_++ % endpoints_.size();
  ++h2_connecting_;
  auto connected = co_await connect(endpoint);
  --h2_connecting_;
  if (!connected.conn) {
    ++h2_waiters_->failures; // its waiters fail with it (no burst of connects after a timeout)
    h2_waiters_->error = connected.error;
    h2_waiters_->detail = connected.detail;
    h2_opened();
    failure = std::move(connected);
    co_return nullptr;
  }
  auto conn = std::make_shared<h2_upstream_connection>(std::move(connected.conn), registry, cfg_);
  conn->start();
  if (retired_) conn->retire();
  h2_.push_back(conn);
  h2_opened();
  co_return conn;
}

std::shared_ptr<h2_upstream_connection> upstream_pool::available_h2() {
  forget_finished();
  h2_upstream_connection* best = nullptr;
  for (const auto& c : h2_) {
    if (c->available() && (best == nullptr || c->streams() < best->streams())) best = c.get();
  }
  return best == nullptr ? nullptr : best->shared_from_this();
}

void upstream_pool::h2_opened() {
  for (auto* t : h2_waiters_->timers)
    t->cancel();
}

void upstream_pool::close_idle_h2() {
  for (const auto& c : h2_) {
    if (c->streams() == 0) c->close();
  }
  forget_finished();
}

void upstream_pool::forget_finished() {
  std::erase_if(h2_, [](const auto& c) { return c->finished(); });
}

void upstream_pool::retire_h2() {
  for (const auto& c : h2_)
    c->retire();
}

} // namespace parallax::proxy::net
