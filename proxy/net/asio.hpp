#pragma once
// Asio vocabulary shared by the network code: coroutines whose I/O results are returned as
// (error_code, value) tuples, because errors on the data path are values, not exceptions.

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
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

} // namespace parallax::proxy
