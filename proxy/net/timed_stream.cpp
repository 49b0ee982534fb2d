#include "proxy/net/timed_stream.hpp"

#include <boost/asio/deferred.hpp>
#include <boost/asio/experimental/parallel_group.hpp>
#include <boost/asio/write.hpp>

namespace parallax::proxy::net {

void consume_buffers(std::vector<asio::const_buffer>& bufs, std::size_t n) noexcept {
  std::size_t whole = 0;
  while (whole < bufs.size() && n >= bufs[whole].size()) {
    n -= bufs[whole].size();
    ++whole;
  }
  bufs.erase(bufs.begin(), bufs.begin() + static_cast<std::ptrdiff_t>(whole));
  if (!bufs.empty()) bufs.front() += n;
}

namespace {
// In the socket's user-visible non-blocking mode a synchronous operation never waits: it does
// what it can and says would_block for the rest. Asynchronous operations are unaffected.
bool make_non_blocking(tcp::socket& socket, error_code& ec) {
  if (!socket.non_blocking()) socket.non_blocking(true, ec);
  return !ec;
}
} // namespace

std::size_t timed_stream::read_now(asio::mutable_buffer buf, error_code& ec) {
  ec = {};
  auto& socket = stream_->socket();
  if (!make_non_blocking(socket, ec)) return 0;
  const auto n = socket.read_some(buf, ec);
  if (ec == asio::error::would_block || ec == asio::error::try_again) ec = {};
  return n;
}

bool timed_stream::write_now(std::vector<asio::const_buffer>& bufs, error_code& ec) {
  ec = {};
  if (stream_->is_tls() || bufs.empty()) return true;
  auto& socket = stream_->socket();
  if (!make_non_blocking(socket, ec)) return false;
  const auto n = socket.write_some(bufs, ec);
  if (ec == asio::error::would_block || ec == asio::error::try_again) ec = {};
  if (ec) return false;
  consume_buffers(bufs, n);
  return true;
}

timed_stream::timed_stream(connection_registry& registry, stream* s)
    : registry_(registry), stream_(s) {
  registry_.add(this);
}

timed_stream::~timed_stream() {
  registry_.remove(this);
}

void timed_stream::on_deadline() {
  expired_ = true;
  if (stream_ != nullptr) stream_->cancel();
}

void timed_stream::force_close() {
  if (stream_ != nullptr) stream_->close();
}

awaitable<io_result> timed_stream::handshake(asio::ssl::stream_base::handshake_type type,
                                             time_point deadline) {
  expired_ = false;
  set_deadline(deadline);
  const auto ec = co_await stream_->handshake(type);
  clear_deadline();
  co_return io_result{ec, 0, ec && expired_};
}

// A parallel group rather than the `||` operator: it reports the cancelled write's progress,
// so the caller can go on from where the write stopped.
awaitable<io_result> timed_stream::write_unless_readable(std::span<const asio::const_buffer> bufs,
                                                         time_point deadline, bool& readable) {
  expired_ = false;
  set_deadline(deadline);
  auto& socket = stream_->socket();
  auto [order, wec, wn, rec] = co_await asio::experimental::make_parallel_group(
                                   asio::async_write(socket, bufs, asio::deferred),
                                   socket.async_wait(tcp::socket::wait_read, asio::deferred))
                                   .async_wait(asio::experimental::wait_for_one(), use_nothrow);
  clear_deadline();
  readable = order[0] == 1 && !rec;
  co_return io_result{wec, wn, wec && expired_ && !readable};
}

// The watch has no deadline of its own: the group ends when the read does (at the latest at
// its deadline, which cancels the read).
awaitable<io_result> timed_stream::read_some_unless_readable(asio::mutable_buffer buf,
                                                             stream& watched, time_point deadline,
                                                             bool& readable) {
  expired_ = false;
  set_deadline(deadline);
  auto [order, rec, rn, wec] =
      co_await asio::experimental::make_parallel_group(
          stream_->socket().async_read_some(buf, asio::deferred),
          watched.socket().async_wait(tcp::socket::wait_read, asio::deferred))
          .async_wait(asio::experimental::wait_for_one(), use_nothrow);
  clear_deadline();
  readable = order[0] == 1 && !wec;
  co_return io_result{rec, rn, rec && expired_ && !readable};
}

} // namespace parallax::proxy::net
