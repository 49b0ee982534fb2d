#pragma once
// A stream whose every operation has a deadline. The deadline is a plain store that the
// worker's sweeper checks (no timer syscall per operation); when it passes, the stream's
// pending operations are cancelled and the caller sees `timed_out`. There is no way to start
// an operation without one.

#include <boost/asio/buffer.hpp>

#include <chrono>
#include <span>
#include <vector>

#include "proxy/net/asio.hpp"
#include "proxy/net/connection_registry.hpp"
#include "proxy/net/stream.hpp"

namespace parallax::proxy::net {

/// Drops the first `n` bytes of a gathered write (they were written).
void consume_buffers(std::vector<asio::const_buffer>& bufs, std::size_t n) noexcept;

/// Outcome of one timed operation.
struct io_result {
  error_code ec;          // the stream's error (operation_aborted when timed out)
  std::size_t bytes = 0;  // bytes transferred
  bool timed_out = false; // the deadline passed first
  /// Whether the operation succeeded in time.
  [[nodiscard]] bool ok() const noexcept { return !ec && !timed_out; }
};

/// Timed operations on one stream at a time (rebindable: an upstream exchange moves to a fresh
/// connection on a retry). Registered with the worker's deadline registry for its lifetime;
/// force_close() closes the bound stream.
class timed_stream final : public tracked_connection {
public:
  using time_point = clock::time_point;

  /// Tracks deadlines through `registry`; `s` may be bound later.
  explicit timed_stream(connection_registry& registry, stream* s = nullptr);
  ~timed_stream() override;
  timed_stream(const timed_stream&) = delete;
  timed_stream& operator=(const timed_stream&) = delete;

  /// Binds the stream later operations use (null: none).
  void bind(stream* s) noexcept { stream_ = s; }
  /// The bound stream.
  [[nodiscard]] stream* bound() const noexcept { return stream_; }

  /// Runs the TLS handshake (a no-op for plain streams) by `deadline`.
  awaitable<io_result> handshake(asio::ssl::stream_base::handshake_type type, time_point deadline);
  // The plain operations arm the deadline and return the stream's own operation: no coroutine
  // frame of their own on the hot path. The deadline stays armed after the operation (a stale
  // one fires into no pending operation; the next one re-arms); timed_out(ec) tells whether
  // an error came from it.

  /// Reads at least one byte, or fails, by `deadline`.
  awaitable<std::tuple<error_code, std::size_t>> read_some(asio::mutable_buffer buf,
                                                           time_point deadline) {
    arm(deadline);
    return stream_->read_some(buf);
  }
  /// Writes all of `bufs` by `deadline`.
  awaitable<std::tuple<error_code, std::size_t>> write(std::span<const asio::const_buffer> bufs,
                                                       time_point deadline) {
    arm(deadline);
    return stream_->write(bufs);
  }
  /// Writes all of `buf` by `deadline`.
  awaitable<std::tuple<error_code, std::size_t>> write(asio::const_buffer buf,
                                                       time_point deadline) {
    arm(deadline);
    return stream_->write(buf);
  }
  /// Waits until the socket is readable (or closed), by `deadline`. Plain TCP only.
  awaitable<std::tuple<error_code>> wait_readable(time_point deadline) {
    arm(deadline);
    return stream_->socket().async_wait(tcp::socket::wait_read, use_nothrow);
  }
  /// Reads what is there at once, without waiting (after wait_readable()); 0 bytes with no
  /// error when nothing is. Plain TCP only.
  std::size_t read_now(asio::mutable_buffer buf, error_code& ec);
  /// Writes what the socket takes at once, without waiting (so with no deadline to keep), and
  /// drops the written bytes from the front of `bufs`. Plain TCP only (a TLS stream writes
  /// nothing here). Returns false on a broken connection (`ec` says why). A small response or
  /// request usually goes out whole: no asynchronous operation, no trip through the scheduler.
  bool write_now(std::vector<asio::const_buffer>& bufs, error_code& ec);
  /// Whether `ec`, the error of the operation that just ended, came from its deadline.
  [[nodiscard]] bool timed_out(const error_code& ec) const noexcept { return ec && expired_; }
  /// Writes all of `bufs` by `deadline` unless the peer sends something (or closes) first:
  /// then the write stops, and `bytes` says how much of it was written. Plain TCP only.
  awaitable<io_result> write_unless_readable(std::span<const asio::const_buffer> bufs,
                                             time_point deadline, bool& readable);
  /// Reads at least one byte by `deadline`, unless `watched` turns readable first (then
  /// `readable` is set and `bytes` is 0 unless the read had completed too). Plain TCP only.
  awaitable<io_result> read_some_unless_readable(asio::mutable_buffer buf, stream& watched,
                                                 time_point deadline, bool& readable);
  /// Moves the deadline of the operation in progress (a tunnel's activity in one direction
  /// keeps the other direction's read alive).
  void extend(time_point deadline) noexcept { set_deadline(deadline); }

  /// `d` from now.
  static time_point after(clock::duration d) noexcept { return clock::now() + d; }

  void on_deadline() override;
  void on_drain() override {}
  void force_close() override;

private:
  void arm(time_point deadline) noexcept {
    expired_ = false;
    set_deadline(deadline);
  }

  connection_registry& registry_;
  stream* stream_;
  bool expired_ = false;
};

} // namespace parallax::proxy::net
