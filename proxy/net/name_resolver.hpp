#pragma once
// Name resolution for upstream endpoints behind a small interface, so a lookup that never
// returns can be bounded (and tested with a resolver the test controls: the machine's own
// resolver is never changed by a test).

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "proxy/net/asio.hpp"

namespace parallax::proxy::net {

/// Addresses of a name, or why there are none.
using resolve_handler = std::function<void(error_code, std::vector<tcp::endpoint>)>;

/// Looks up host names. Handlers run on the io_context given to resolve(), at most once; a
/// resolver may never call one (the caller bounds the wait itself).
class name_resolver {
public:
  virtual ~name_resolver() = default;
  /// Starts looking up `host`:`port`; `done` runs on `io` when the answer arrives.
  virtual void resolve(asio::io_context& io, const std::string& host, std::uint16_t port,
                       resolve_handler done) = 0;
};

/// The system resolver (getaddrinfo on Asio's resolver thread).
std::shared_ptr<name_resolver> system_resolver();

} // namespace parallax::proxy::net
