#include "proxy/net/upstream_pool.hpp"

#include <openssl/ssl.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/ip/address.hpp>

#include <spdlog/spdlog.h>

#include <variant>

#include <sys/socket.h>
#include <cerrno>

#include "proxy/net/tls.hpp"

namespace parallax::proxy::net {

using namespace asio::experimental::awaitable_operators;
using clock = std::chrono::steady_clock;

const char* upstream_error_name(upstream_error e) noexcept {
  switch (e) {
  case upstream_error::connect_failed: return "connect_failed";
  case upstream_error::timeout: return "timeout";
  case upstream_error::reset: return "reset";
  case upstream_error::malformed_response: return "malformed_response";
  case upstream_error::tls: return "tls";
  case upstream_error::none: break;
  }
  return "none";
}

upstream_connection::upstream_connection(tcp::socket socket, std::shared_ptr<endpoint_state> ep,
                                         asio::ssl::context* tls)
    : stream_(tls ? net::stream(std::move(socket), *tls) : net::stream(std::move(socket))),
      ep_(std::move(ep)) {
  ++ep_->open;
}

upstream_connection::~upstream_connection() {
  stream_.close();
  --ep_->open;
}

upstream_pool::upstream_pool(asio::io_context& ioc, const config::upstream& cfg,
                             std::shared_ptr<asio::ssl::context> tls,
                             std::shared_ptr<name_resolver> resolver)
    : ioc_(ioc), cfg_(cfg), tls_(cfg.tls.enabled ? std::move(tls) : nullptr),
      resolver_(resolver ? std::move(resolver) : system_resolver()) {
  for (const auto& a : cfg_.endpoints) {
    auto ep = std::make_shared<endpoint_state>();
    ep->addr = a;
    error_code ec;
    const auto ip = asio::ip::make_address(a.host, ec);
    if (!ec) {
      ep->literal = true;
      ep->resolved.emplace_back(ip, a.port);
    }
    endpoints_.push_back(std::move(ep));
  }
}

upstream_pool::~upstream_pool() {
  close_idle();
}

namespace {
bool negotiated_h2(stream& s) {
  const unsigned char* alpn = nullptr;
  unsigned size = 0;
  SSL_get0_alpn_selected(s.native_tls(), &alpn, &size);
  return std::string_view(reinterpret_cast<const char*>(alpn), size) == "h2";
}

// An idle keep-alive connection must have nothing to read: EOF, an error or unexpected bytes
// (including a TLS close_notify) mean the upstream is done with it.
bool idle_connection_alive(upstream_connection& conn) {
  char byte = 0;
  const auto n = ::recv(conn.stream().socket().native_handle(), &byte, 1, MSG_PEEK | MSG_DONTWAIT);
  return n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
}
} // namespace

std::unique_ptr<upstream_connection> upstream_pool::take_idle(std::size_t& endpoint_index,
                                                              bool check_alive) {
  endpoint_index = next_++ % endpoints_.size();
  auto& idle = endpoints_[endpoint_index]->idle;
  while (!idle.empty()) {
    auto conn = std::move(idle.back());
    idle.pop_back();
    if (!check_alive || idle_connection_alive(*conn)) return conn;
  }
  return nullptr;
}

void upstream_pool::release(std::unique_ptr<upstream_connection> conn) {
  auto& ep = *conn->ep_;
  if (retired_ || ep.idle.size() >= cfg_.max_idle_per_endpoint || !conn->stream().is_open()) return;
  // An idle connection must stay silent: bytes (say, past a response's Content-Length) or a
  // close spoil it, so it leaves the pool the moment its socket turns readable (nginx's
  // keepalive close handler). Starting the wait costs one epoll_ctl (Asio re-arms the
  // descriptor for a wait), which also arms the next exchange's wait for its response (still
  // queued behind this one: no second system call). Measured alternatives: a MSG_PEEK on every
  // reuse instead saves ~1,200 instructions per request but adds that system call back (the
  // same CPU in total under load); watching only connections idle for 100 ms moves the
  // epoll_ctl to the next exchange's wait for its response, and a read instead of that wait
  // costs a recv that finds nothing (Boost 1.81 tries every read first): one system call per
  // exchange whichever way (h2load through parallax to nginx, 2026-12-04).
  ++conn->idle_periods_;
  watch_idle(*conn);
  ep.idle.push_back(std::move(conn));
}

// The handler only looks the connection up by address among the idle ones, so one that was
// taken, or destroyed, meanwhile is left alone; and it acts only in the idle period it was
// started in: a watch outlives its period when the connection is taken, and the response that
// wakes the next exchange's wait wakes it too, after the exchange may have put the connection
// back. Epoll reports readiness by edges, so a wake can also come late for bytes an exchange
// has read since: the socket is peeked before the connection is dropped, and watched again
// when it is silent after all (seen under load: kept connections were dropped and reopened).
void upstream_pool::watch_idle(upstream_connection& conn) {
  conn.stream().socket().async_wait(
      tcp::socket::wait_read,
      [owner = conn.ep_, id = &conn, period = conn.idle_periods_](const error_code& ec) {
        if (ec) return;
        auto& idle = owner->idle;
        for (auto it = idle.begin(); it != idle.end(); ++it) {
          if (it->get() != id) continue;
          if ((*it)->idle_periods_ != period) return;
          // Watched again before the peek, so bytes that arrive after the peek wake the new
          // wait (an edge with no wait queued would be lost).
          watch_idle(**it);
          if (!idle_connection_alive(**it)) idle.erase(it);
          return;
        }
      });
}

void upstream_pool::close_idle() {
  for (auto& ep : endpoints_)
    ep->idle.clear();
  close_idle_h2();
}

void upstream_pool::retire() {
  retired_ = true;
  close_idle();
  retire_h2();
}

std::uint64_t upstream_pool::open_connections() const noexcept {
  std::uint64_t n = 0;
  for (const auto& ep : endpoints_)
    n += ep->open;
  return n;
}

namespace {
// One lookup's answer, shared by the resolver's handler and the connect waiting for it: the
// waiter may give up (deadline) or be destroyed (shutdown) before the answer comes, and a
// resolver may keep its handler after the event loop is gone, so the state owns no I/O object.
struct lookup {
  bool done = false;
  error_code ec;
  asio::steady_timer* waiter = nullptr; // the waiting connect's timer, while it waits
};

// Forgets the waiter's timer when its coroutine frame goes (also when destroyed suspended).
struct waiter_guard {
  lookup& state;
  ~waiter_guard() { state.waiter = nullptr; }
};
} // namespace

// Waits for the lookup until `deadline` at most: getaddrinfo cannot be cancelled, so the `||`
// of a resolve and a timer would wait for the resolve anyway. A late answer still refreshes
// the endpoint's addresses.
awaitable<error_code> upstream_pool::resolve(const std::shared_ptr<endpoint_state>& ep,
                                             clock::time_point deadline) {
  auto state = std::make_shared<lookup>();
  asio::steady_timer wake(ioc_);
  wake.expires_at(deadline);
  state->waiter = &wake;
  const waiter_guard guard{*state};
  resolver_->resolve(ioc_, ep->addr.host, ep->addr.port,
                     [state, ep](error_code ec, std::vector<tcp::endpoint> found) {
                       state->done = true;
                       state->ec = ec;
                       if (!ec && !found.empty()) {
                         ep->resolved = std::move(found);
                         ep->resolved_at = clock::now();
                       }
                       if (state->waiter != nullptr) state->waiter->cancel();
                     });
  if (!state->done) co_await wake.async_wait(use_nothrow);
  if (!state->done) co_return asio::error::timed_out;
  co_return state->ec;
}

void upstream_pool::refresh_in_background(const std::shared_ptr<endpoint_state>& ep) {
  if (ep->refreshing) return;
  ep->refreshing = true;
  // The endpoint state is kept alive by the shared_ptr captured in the coroutine, the pool by
  // counting the lookup as a user; stale addresses stay in use until the new ones arrive.
  add_user();
  asio::co_spawn(
      ioc_,
      [this, ep]() -> awaitable<void> {
        struct user_guard {
          upstream_pool& pool;
          ~user_guard() { pool.remove_user(); }
        } const guard{*this};
        const auto ec = co_await resolve(ep, clock::now() + cfg_.connect_timeout);
        if (ec) {
          spdlog::warn("upstream {}: re-resolving {} failed: {}", cfg_.name, ep->addr.host,
                       ec.message());
          ep->resolved_at = clock::now(); // retry after another interval, keep old addresses
        }
        ep->refreshing = false;
      },
      [](const std::exception_ptr& e) {
        if (e) spdlog::error("upstream DNS refresh failed unexpectedly");
      });
}

awaitable<connect_result> upstream_pool::connect(std::size_t endpoint_index) {
  auto ep = endpoints_[endpoint_index];
  connect_result result;
  if (cfg_.max_connections_per_endpoint != 0 && ep->open >= cfg_.max_connections_per_endpoint) {
    result.error = upstream_error::connect_failed;
    result.detail = "max_connections_per_endpoint reached";
    co_return result;
  }
  const auto deadline = clock::now() + cfg_.connect_timeout;
  asio::steady_timer timer(ioc_);
  timer.expires_at(deadline);

  if (!ep->literal) {
    if (ep->resolved.empty()) {
      if (const auto ec = co_await resolve(ep, deadline); ec == asio::error::timed_out) {
        result.error = upstream_error::timeout;
        result.detail = "DNS resolution of " + ep->addr.host + " timed out";
        co_return result;
      } else if (ec) {
        result.error = upstream_error::connect_failed;
        result.detail = "cannot resolve " + ep->addr.host + ": " + ec.message();
        co_return result;
      }
    } else if (clock::now() - ep->resolved_at > cfg_.resolve_interval) {
      refresh_in_background(ep);
    }
  }

  // Addresses of a name are used in turn; a refused one falls through to the next (a name
  // with both ::1 and 127.0.0.1 works whichever the upstream listens on).
  tcp::socket socket(ioc_);
  const std::size_t addresses = ep->resolved.size();
  for (std::size_t tried = 0;; ++tried) {
    const auto target = ep->resolved[ep->next_address++ % addresses];
    socket = tcp::socket(ioc_);
    auto outcome =
        co_await (socket.async_connect(target, use_nothrow) || timer.async_wait(use_nothrow));
    if (outcome.index() == 1) {
      result.error = upstream_error::timeout;
      result.detail = "connect to " + ep->addr.text() + " timed out";
      co_return result;
    }
    const auto [ec] = std::get<0>(outcome);
    if (!ec) break;
    if (tried + 1 >= addresses) {
      result.error = upstream_error::connect_failed;
      result.detail = "connect to " + ep->addr.text() + ": " + ec.message();
      co_return result;
    }
  }
  error_code ignored;
  socket.set_option(tcp::no_delay(true), ignored);
  auto conn = std::make_unique<upstream_connection>(std::move(socket), ep, tls_.get());
  if (tls_) {
    prepare_client_stream(conn->stream(), cfg_.tls, ep->addr.host);
    auto hs = co_await (conn->stream().handshake(asio::ssl::stream_base::client) ||
                        timer.async_wait(use_nothrow));
    if (hs.index() == 1) {
      result.error = upstream_error::timeout;
      result.detail = "TLS handshake with " + ep->addr.text() + " timed out";
      co_return result;
    }
    if (const auto ec = std::get<0>(hs)) {
      result.error = upstream_error::tls;
      result.detail = "TLS handshake with " + ep->addr.text() + ": " + ec.message();
      co_return result;
    }
    if (cfg_.protocol == config::upstream_protocol::h2 && !negotiated_h2(conn->stream())) {
      result.error = upstream_error::tls;
      result.detail = "TLS handshake with " + ep->addr.text() + ": h2 not negotiated (ALPN)";
      co_return result;
    }
  }
  result.conn = std::move(conn);
  co_return result;
}

} // namespace parallax::proxy::net
