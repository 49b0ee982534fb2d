// The HTTP/2 connection: reader, writer, deadlines, drain, and the codec's events. The
// streams' exchanges are in h2_stream.cpp.

#include "proxy/server/h2_connection.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>

#include <nghttp2/nghttp2.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cstring>

#include "proxy/server/h2_stream.hpp"
#include "proxy/server/runtime.hpp"
#include "proxy/server/worker.hpp"

namespace parallax::proxy::server {

using namespace asio::experimental::awaitable_operators;

namespace {
// Frames gathered into one write.
constexpr std::size_t write_batch = 64UL * 1024UL;

h2::settings settings_of(const config::limits& limits) {
  h2::settings s;
  s.max_concurrent_streams = limits.http2.max_concurrent_streams;
  s.initial_stream_window = limits.http2.initial_stream_window;
  s.initial_connection_window = limits.http2.initial_connection_window;
  s.max_header_list_bytes = limits.http2.max_header_list_bytes;
  s.max_headers = limits.max_request_headers;
  s.max_resets_per_second = limits.http2.max_resets_per_second;
  s.max_continuation_frames = limits.http2.max_continuation_frames;
  return s;
}
} // namespace

h2_connection::h2_connection(worker& w, net::stream& client, const listener_binding& listener,
                             std::string_view client_ip)
    : worker_(w), client_(client), listener_(listener), client_ip_(client_ip), rt_(w.rt()),
      codec_(std::make_unique<h2::server_codec>(static_cast<h2::server_events&>(*this),
                                                settings_of(rt_->cfg->limits))),
      write_wake_(w.io()), streams_done_(w.io()), idle_from_(clock::now()) {
  worker_.registry().add(this);
}

h2_connection::~h2_connection() {
  worker_.registry().remove(this);
}

awaitable<void> h2_connection::run(std::string_view received) {
  co_await (reader(received) && writer());
  close_now();
  // No stream comes any more: the idle runners end, the others after their streams.
  for (auto* r : idle_runners_)
    r->wake.cancel();
  idle_runners_.clear();
  while (runners_ > 0) {
    streams_done_.expires_at(clock::time_point::max());
    co_await streams_done_.async_wait(use_nothrow);
  }
  streams_.clear();
}

awaitable<void> h2_connection::reader(std::string_view received) {
  auto buf = worker_.resources().take_buffer();
  bool fine = codec_->receive(received);
  start_streams();
  while (fine && !closed_) {
    wake_writer();
    read_deadline_ = streams_.empty() ? idle_deadline() : clock::time_point::max();
    update_deadline();
    const auto [ec, n] = co_await client_.read_some(asio::buffer(buf.get(), net::io_buffer_size));
    read_deadline_ = clock::time_point::max();
    update_deadline();
    if (ec) {
      // The client went away, or the idle deadline (or a drain) cancelled the read: a GOAWAY
      // the codec has queued still goes out.
      if (ec != asio::error::operation_aborted) close_now();
      break;
    }
    fine = codec_->receive({buf.get(), n});
    start_streams();
  }
  if (!codec_->failure().empty()) {
    spdlog::info("http2 connection from {} ended: {}", client_ip_, codec_->failure());
    if (codec_->flooded()) {
      goaway_now();
      close_now();
    }
    // A misbehaving peer gets its GOAWAY if it reads it soon; it cannot hold the connection.
    write_limit_ = clock::now() + std::chrono::seconds(1);
    write_deadline_ = std::min(write_deadline_, write_limit_);
    update_deadline();
  }
  worker_.resources().buffers.give(std::move(buf));
  reading_ = false;
  codec_->terminate(NGHTTP2_NO_ERROR); // nothing is read any more: the session ends
  wake_writer();
}

awaitable<void> h2_connection::writer() {
  std::string out;
  for (;;) {
    out.clear();
    if (!codec_->flush(out, write_batch)) break;
    if (out.empty()) {
      if (closed_ || !codec_->alive()) break;
      if (!reading_ && streams_.empty()) break;
      write_wake_.expires_at(clock::time_point::max());
      co_await write_wake_.async_wait(use_nothrow);
      // Woken by one stream: the others that are ready in this turn of the event loop queue
      // their frames first, so one write carries them all (as nghttpx's one writev per turn).
      // Measured (session 16): without this yield h2 GETs cost ~3% more CPU per request
      // (smaller writes); the upstream writer does without it.
      co_await asio::post(write_wake_.get_executor(), asio::use_awaitable);
      continue;
    }
    if (closed_) break;
    write_deadline_ = std::min(clock::now() + rt_->cfg->limits.client_io_timeout, write_limit_);
    update_deadline();
    writing_ = true;
    const auto [ec, n] = co_await client_.write(asio::const_buffer(out.data(), out.size()));
    writing_ = false;
    write_deadline_ = clock::time_point::max();
    update_deadline();
    if (ec) break;
  }
  close_now();
}

void h2_connection::goaway_now() {
  // A flooded session's queue (its acknowledgements) is not sent, but the peer still gets a
  // GOAWAY ENHANCE_YOUR_CALM if the socket takes it at once (proxy.md): only between whole
  // writes (never inside a frame) and on plain TCP (TLS records are the TLS layer's).
  if (writing_ || closed_ || client_.is_tls()) return;
  const auto frame = codec_->goaway_frame();
  auto& socket = client_.socket();
  error_code ec;
  socket.non_blocking(true, ec);
  if (!ec)
    socket.write_some(asio::buffer(frame), ec); // best effort: a full buffer is not waited for
}

void h2_connection::close_now() {
  if (!closed_) {
    closed_ = true;
    client_.close();
  }
  wake_writer();
  for (auto& [id, st] : streams_) {
    st->closed = true;
    if (st->active != nullptr) st->active->abort();
    st->notify();
  }
}

h2_connection::clock::time_point h2_connection::idle_deadline() const {
  // From the moment the connection had no stream open: frames without a stream (PING,
  // SETTINGS) do not keep an idle connection (as Envoy's idle_timeout).
  const auto& limits = rt_->cfg->limits;
  return idle_from_ + (served_ ? limits.idle_timeout : limits.header_timeout);
}

void h2_connection::stream_gone(std::shared_ptr<stream_state> st) {
  if (spare_.size() < rt_->cfg->limits.http2.max_concurrent_streams)
    spare_.push_back(std::move(st));
  if (!streams_.empty()) return;
  idle_from_ = clock::now();
  if (reading_ && !closed_) {
    read_deadline_ = idle_deadline();
    update_deadline();
  }
  if (draining_ && write_deadline_ == clock::time_point::max()) client_.cancel();
}

void h2_connection::wake_writer() {
  write_wake_.cancel();
}

void h2_connection::update_deadline() {
  set_deadline(std::min(read_deadline_, write_deadline_)); // max: none armed
}

void h2_connection::on_deadline() {
  const auto now = clock::now();
  if (write_deadline_ <= now) {
    spdlog::debug("http2 connection from {}: not reading for client_io_timeout", client_ip_);
    close_now();
    return;
  }
  if (read_deadline_ <= now && streams_.empty() && write_deadline_ == clock::time_point::max()) {
    // Idle: say goodbye (GOAWAY) and stop reading; no write is pending, so the cancel reaches
    // the read only.
    read_deadline_ = clock::time_point::max();
    codec_->shutdown();
    client_.cancel();
    return;
  }
  update_deadline();
}

void h2_connection::on_drain() {
  if (draining_) return;
  draining_ = true;
  codec_->shutdown(); // GOAWAY: streams in flight finish, new ones are refused
  wake_writer();
  if (streams_.empty() && write_deadline_ == clock::time_point::max()) client_.cancel();
}

void h2_connection::force_close() {
  close_now();
}

std::size_t h2_connection::response_queue_limit() const noexcept {
  return rt_->cfg->limits.http2.initial_stream_window;
}

// --- codec events ----------------------------------------------------------------------------

void h2_connection::on_request(std::int32_t id, http::request_head& head, bool end_stream,
                               h2::head_refusal refused) {
  if (closed_) return;
  std::shared_ptr<stream_state> st;
  if (!spare_.empty() && spare_.back().use_count() == 1) {
    st = std::move(spare_.back());
    spare_.pop_back();
    st->reuse(id);
  } else {
    st = std::make_shared<stream_state>(id, worker_.io().get_executor());
  }
  std::swap(st->head, head); // the codec fills the stream's previous buffers next
  st->refused = refused;
  st->request_ended = end_stream;
  st->body_less = end_stream;
  streams_[id] = st;
  served_ = true;
  to_start_.push_back(std::move(st)); // once the read's frames are in (start_streams())
}

void h2_connection::start_streams() {
  // After the whole read: a request's DATA and END_STREAM that came with its HEADERS are in
  // its state before its exchange starts (a unary call then needs no wait for its body), and
  // a stream reset in the same read is never forwarded.
  for (auto& st : to_start_) {
    if (idle_runners_.empty()) {
      ++runners_;
      asio::co_spawn(worker_.io(), run_streams(std::move(st)), asio::detached);
    } else {
      auto* r = idle_runners_.back();
      idle_runners_.pop_back();
      r->next = std::move(st);
      r->wake.cancel();
    }
  }
  to_start_.clear();
}

void h2_connection::on_data(std::int32_t id, std::string_view bytes) {
  const auto it = streams_.find(id);
  if (it == streams_.end() || it->second->finished) {
    codec_->consume(id, bytes.size()); // nobody takes them
    return;
  }
  it->second->in.append(bytes);
  it->second->wake.cancel(); // request bytes: only a wait for them
}

void h2_connection::on_request_trailers(std::int32_t id, const http::header_list& fields) {
  const auto it = streams_.find(id);
  if (it != streams_.end()) it->second->request_trailers = fields;
}

void h2_connection::on_request_end(std::int32_t id) {
  const auto it = streams_.find(id);
  if (it == streams_.end()) return;
  it->second->request_ended = true;
  it->second->wake.cancel();
}

void h2_connection::on_stream_close(std::int32_t id, std::uint32_t error_code) {
  const auto it = streams_.find(id);
  if (it == streams_.end()) return;
  auto& st = *it->second;
  st.closed = true;
  // Reset before the response ended (by the client, or by nghttp2 for a protocol error): the
  // exchange stops; its upstream connection cannot be reused.
  if (error_code != NGHTTP2_NO_ERROR || !st.out_end) {
    if (st.active != nullptr) st.active->abort();
  }
  st.notify();
  if (st.finished) {
    auto gone = std::move(it->second);
    streams_.erase(it);
    stream_gone(std::move(gone));
  }
}

long h2_connection::read_body(std::int32_t id, std::uint8_t* buf, std::size_t length, bool& eof,
                              const http::header_list*& trailers) {
  const auto it = streams_.find(id);
  if (it == streams_.end()) {
    eof = true;
    return 0;
  }
  auto& st = *it->second;
  const auto limit = response_queue_limit();
  const bool was_full = st.queued() > limit;
  const auto n = std::min(length, st.queued());
  if (n == 0 && !st.out_end) return -1;
  std::memcpy(buf, st.out.data() + st.out_off, n);
  st.out_off += n;
  if (st.out_off == st.out.size()) {
    st.out.clear();
    st.out_off = 0;
  }
  eof = st.out_end && st.queued() == 0;
  if (eof && st.have_trailers) trailers = &st.trailers;
  if (was_full && st.queued() <= limit) st.room.cancel(); // only a wait for room
  return static_cast<long>(n);
}

} // namespace parallax::proxy::server
