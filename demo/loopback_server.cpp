#include "demo/loopback_server.hpp"

#include <fmt/format.h>

#include <thread>

namespace parallax::demo {

namespace asio = proxy::asio;
using proxy::tcp;

struct loopback_server::impl {
  handler serve;
  asio::io_context io{1};
  tcp::acceptor acceptor{io};
  std::thread thread;

  proxy::awaitable<void> accept_loop() {
    for (;;) {
      auto [ec, socket] = co_await acceptor.async_accept(proxy::use_nothrow);
      if (ec) co_return;
      socket.set_option(tcp::no_delay(true));
      asio::co_spawn(io, serve(std::move(socket)), asio::detached);
    }
  }
};

loopback_server::loopback_server(handler serve) : impl_(std::make_unique<impl>()) {
  impl_->serve = std::move(serve);
  const tcp::endpoint ep(asio::ip::make_address("127.0.0.1"), 0);
  impl_->acceptor.open(ep.protocol());
  impl_->acceptor.set_option(tcp::acceptor::reuse_address(true));
  impl_->acceptor.bind(ep);
  impl_->acceptor.listen();
  asio::co_spawn(impl_->io, impl_->accept_loop(), asio::detached);
  impl_->thread = std::thread([this] { impl_->io.run(); });
}

loopback_server::~loopback_server() {
  impl_->io.stop();
  if (impl_->thread.joinable()) impl_->thread.join();
}

std::string loopback_server::address() const {
  return fmt::format("127.0.0.1:{}", impl_->acceptor.local_endpoint().port());
}

} // namespace parallax::demo
