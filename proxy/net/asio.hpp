#pragma once
// Asio vocabulary shared by the network code: coroutines whose I/O results are returned as
// (error_code, value) tuples, because errors on the data path are values, not exceptions.

#include <chrono>
#include <tuple>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/deferred.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace parallax::proxy {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using error_code = boost::system::error_code;
template <typename T>
using awaitable = asio::awaitable<T>;

/// Completion token for coroutines that get errors as values: `auto [ec, n] = co_await ...`.
inline constexpr auto use_nothrow = asio::as_tuple(asio::use_awaitable);

/// Completion token for operations a coroutine awaits as they are (`co_await op(...)`: Asio
/// 1.81 awaits async operations directly): errors as values, as use_nothrow, but without the
/// coroutine frame use_awaitable allocates for each operation's initiation.
inline constexpr auto nothrow_deferred = asio::as_tuple(asio::deferred);

/// Arms `wake`, a timer another coroutine cancels to notify its waiter, until `deadline`:
/// `notified(co_await wait_notice(wake, deadline))` is true when it was notified, false when
/// the deadline passed. Not a coroutine of its own, and a deferred operation (awaited as it
/// is) rather than use_awaitable's: a wait allocates no coroutine frame at all.
inline auto wait_notice(asio::steady_timer& wake, std::chrono::steady_clock::time_point deadline) {
  wake.expires_at(deadline);
  return wake.async_wait(nothrow_deferred);
}

/// See wait_notice().
inline bool notified(const std::tuple<error_code>& waited) noexcept {
  return std::get<0>(waited) == asio::error::operation_aborted;
}

} // namespace parallax::proxy
