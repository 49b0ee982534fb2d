#include "proxy/net/name_resolver.hpp"

namespace parallax::proxy::net {

namespace {
class getaddrinfo_resolver final : public name_resolver {
public:
  void resolve(asio::io_context& io, const std::string& host, std::uint16_t port,
               resolve_handler done) override {
    // The resolver object lives as long as its lookup: a caller that stopped waiting does not
    // have to keep anything alive (getaddrinfo cannot be cancelled; its answer is dropped).
    auto resolver = std::make_shared<tcp::resolver>(io);
    resolver->async_resolve(
        host, std::to_string(port),
        [resolver, done = std::move(done)](error_code ec, tcp::resolver::results_type results) {
          std::vector<tcp::endpoint> found;
          for (const auto& r : results)
            found.push_back(r.endpoint());
          if (!ec && found.empty()) ec = asio::error::host_not_found;
          done(ec, std::move(found));
        });
  }
};
} // namespace

std::shared_ptr<name_resolver> system_resolver() {
  static const auto instance = std::make_shared<getaddrinfo_resolver>();
  return instance;
}

} // namespace parallax::proxy::net
