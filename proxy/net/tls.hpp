#pragma once
// OpenSSL contexts through Asio SSL: TLS termination on listeners, TLS towards upstreams.

#include <boost/asio/ssl/context.hpp>

#include <memory>
#include <string>
#include <vector>

#include "config/config.hpp"

namespace parallax::proxy::net {

class stream;

/// A server context from a listener's cert/key, offering `protocols` by ALPN (h2 as "h2",
/// preferred, http1 as "http/1.1"; a client offering neither gets no ALPN answer); throws
/// std::runtime_error naming the file.
std::shared_ptr<boost::asio::ssl::context>
make_server_context(const config::listener_tls& tls,
                    const std::vector<config::listener_protocol>& protocols);

/// A client context for an upstream (CA bundle or system store, verify on by default),
/// offering h2 by ALPN for `protocol: h2`.
std::shared_ptr<boost::asio::ssl::context>
make_client_context(const config::upstream_tls& tls, config::upstream_protocol protocol);

/// Sets SNI and host-name verification on a client TLS stream before its handshake.
void prepare_client_stream(stream& s, const config::upstream_tls& tls, const std::string& host);

} // namespace parallax::proxy::net
