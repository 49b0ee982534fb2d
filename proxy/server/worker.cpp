#include "proxy/server/worker.hpp"

#include <spdlog/spdlog.h>

#include <sys/socket.h>

#include "proxy/server/downstream_session.hpp"

namespace parallax::proxy::server {

using clock = std::chrono::steady_clock;

namespace {
// Deadlines are checked this often: a store per request instead of a timer syscall, at the
// price of this much slack on every timeout.
constexpr auto sweep_interval = std::chrono::milliseconds(50);
} // namespace

// The binding is the server's (it outlives the workers): sessions keep referring to it while
// the worker destroys its acceptors before the suspended sessions.
struct worker::acceptor_entry {
  tcp::acceptor acceptor;
  const listener_binding& binding;
};

worker::worker(std::size_t id, server_state& state, std::shared_ptr<const runtime> rt)
    : id_(id), state_(state), rt_(std::move(rt)),
      // One thread runs this loop and only it touches the loop's sockets and timers (other
      // threads only post to it, before start() or after stop() they may touch them): the
      // scheduler keeps its lock for those posts, the reactor's locks (per descriptor, and
      // for registering descriptors and timers) are left out.
      io_(std::make_unique<asio::io_context>(static_cast<int>(
          BOOST_ASIO_CONCURRENCY_HINT_ID | BOOST_ASIO_CONCURRENCY_HINT_LOCKING_SCHEDULER))),
      guard_(asio::make_work_guard(*io_)), sweep_timer_(std::in_place, *io_) {}

worker::~worker() {
  stop();
  guard_.reset();
  // Sockets and timers must go before their io_context; destroying the io_context then
  // destroys the suspended session coroutines, which unregister from registry_.
  acceptors_.clear();
  pools_.stop(); // destroyed after io_ (see pool_set::stop)
  if (observer_) observer_->stop();
  sweep_timer_.reset();
  io_.reset();
  observer_.reset();
}

tcp::endpoint worker::listen(const listener_binding& binding, const tcp::endpoint& ep) {
  auto entry = std::make_unique<acceptor_entry>(acceptor_entry{tcp::acceptor(*io_), binding});
  auto& a = entry->acceptor;
  a.open(ep.protocol());
  a.set_option(tcp::acceptor::reuse_address(true));
  const int one = 1;
  if (::setsockopt(a.native_handle(), SOL_SOCKET, SO_REUSEPORT, &one, sizeof one) != 0) {
    throw boost::system::system_error(error_code(errno, boost::system::system_category()),
                                      "SO_REUSEPORT");
  }
  a.bind(ep);
  a.listen(asio::socket_base::max_listen_connections);
  auto bound = a.local_endpoint();
  acceptors_.push_back(std::move(entry));
  return bound;
}

void worker::start() {
  for (auto& entry : acceptors_) {
    asio::co_spawn(*io_, accept_loop(*entry), [](const std::exception_ptr& e) {
      if (e) spdlog::error("accept loop ended by an exception");
    });
  }
  asio::co_spawn(*io_, sweep_loop(), [](const std::exception_ptr& e) {
    if (e) spdlog::error("deadline sweeper ended by an exception");
  });
  thread_ = std::thread([this] {
    try {
      io_->run();
    } catch (const std::exception& e) {
      spdlog::critical("worker {} stopped by an exception: {}", id_, e.what());
    }
  });
}

awaitable<void> worker::accept_loop(acceptor_entry& entry) {
  for (;;) {
    auto [ec, socket] = co_await entry.acceptor.async_accept(use_nothrow);
    if (ec) {
      if (ec == asio::error::operation_aborted || !entry.acceptor.is_open()) co_return;
      // EMFILE and friends: back off briefly instead of spinning.
      spdlog::warn("listener {}: accept failed: {}", entry.binding.name, ec.message());
      asio::steady_timer backoff(*io_, std::chrono::milliseconds(50));
      co_await backoff.async_wait(use_nothrow);
      continue;
    }
    if (state_.connections.fetch_add(1, std::memory_order_relaxed) >=
        rt_->cfg->limits.max_connections) {
      // Over max_connections: closed at once, never queued.
      state_.connections.fetch_sub(1, std::memory_order_relaxed);
      error_code ignored;
      socket.close(ignored);
      continue;
    }
    error_code ignored;
    socket.set_option(tcp::no_delay(true), ignored);
    auto session = std::make_shared<downstream_session>(*this, std::move(socket), entry.binding);
    asio::co_spawn(*io_, downstream_session::run(std::move(session)),
                   [](const std::exception_ptr& e) {
                     if (!e) return;
                     try {
                       std::rethrow_exception(e);
                     } catch (const std::exception& ex) {
                       spdlog::error("connection ended by an exception: {}", ex.what());
                     }
                   });
  }
}

awaitable<void> worker::sweep_loop() {
  for (;;) {
    sweep_timer_->expires_after(sweep_interval);
    auto [ec] = co_await sweep_timer_->async_wait(use_nothrow);
    if (ec) co_return;
    registry_.sweep(clock::now());
    pools_.collect(); // retired pools whose last exchange ended
  }
}

void worker::apply(std::shared_ptr<const runtime> rt) {
  if (!thread_.joinable()) {
    install(std::move(rt));
    return;
  }
  asio::post(*io_, [this, rt = std::move(rt)]() mutable { install(std::move(rt)); });
}

void worker::install(std::shared_ptr<const runtime> rt) {
  rt_ = std::move(rt);
  pools_.update(*rt_);
  if (observer_) observer_->reconfigured(*rt_);
}

void worker::begin_drain() {
  asio::post(*io_, [this] {
    draining_ = true;
    for (auto& entry : acceptors_) {
      error_code ignored;
      entry->acceptor.close(ignored);
    }
    registry_.for_each([](net::tracked_connection& c) { c.on_drain(); });
    pools_.close_idle();
    check_drained();
  });
}

void worker::force_close() {
  asio::post(*io_,
             [this] { registry_.for_each([](net::tracked_connection& c) { c.force_close(); }); });
}

void worker::stop() {
  if (!thread_.joinable()) return;
  guard_.reset();
  io_->stop();
  thread_.join();
}

void worker::connection_closed() {
  --sessions_;
  if (draining_) check_drained();
}

void worker::check_drained() {
  if (drained_reported_ || sessions_ != 0) return;
  drained_reported_ = true;
  {
    std::lock_guard lock(state_.drain_mutex);
    ++state_.workers_drained;
  }
  state_.drain_cv.notify_all();
}

} // namespace parallax::proxy::server
