#include "proxy/net/tls.hpp"

#include <boost/asio/ssl/host_name_verification.hpp>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include <algorithm>
#include <stdexcept>
#include <string_view>

#include "proxy/net/stream.hpp"

namespace parallax::proxy::net {

namespace ssl = boost::asio::ssl;

namespace {
std::string openssl_error() {
  const unsigned long e = ERR_get_error();
  if (e == 0) return "unknown error";
  char buf[256];
  ERR_error_string_n(e, buf, sizeof buf);
  return buf;
}

void set_min_version(ssl::context& ctx, const std::string& v) {
  const int version = v == "1.3" ? TLS1_3_VERSION : TLS1_2_VERSION;
  SSL_CTX_set_min_proto_version(ctx.native_handle(), version);
}
// ALPN protocol lists in wire format, h2 preferred when both are offered (as nginx and Envoy:
// the order of `protocols` is not a preference, and the default [http1, h2] must give h2 to
// clients that can speak it).
constexpr std::string_view alpn_h2 = "\x02h2";
constexpr std::string_view alpn_http1 = "\x08http/1.1";
constexpr std::string_view alpn_both = "\x02h2\x08http/1.1";

const std::string_view* alpn_list(const std::vector<config::listener_protocol>& protocols) {
  using config::listener_protocol;
  const bool h2 = std::find(protocols.begin(), protocols.end(), listener_protocol::h2) !=
                  protocols.end();
  const bool http1 = std::find(protocols.begin(), protocols.end(), listener_protocol::http1) !=
                     protocols.end();
  if (h2 && http1) return &alpn_both;
  return h2 ? &alpn_h2 : &alpn_http1;
}

// The server's first protocol that the client offers too (server preference).
int select_alpn(SSL*, const unsigned char** out, unsigned char* outlen, const unsigned char* in,
                unsigned int inlen, void* arg) {
  const auto* list = static_cast<const std::string_view*>(arg);
  unsigned char* selected = nullptr;
  const int r = SSL_select_next_proto(&selected, outlen,
                                      reinterpret_cast<const unsigned char*>(list->data()),
                                      static_cast<unsigned>(list->size()), in, inlen);
  if (r != OPENSSL_NPN_NEGOTIATED) return SSL_TLSEXT_ERR_NOACK;
  *out = selected;
  return SSL_TLSEXT_ERR_OK;
}
} // namespace

std::shared_ptr<ssl::context>
make_server_context(const config::listener_tls& tls,
                    const std::vector<config::listener_protocol>& protocols) {
  auto ctx = std::make_shared<ssl::context>(ssl::context::tls_server);
  ctx->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 |
                   ssl::context::no_sslv3 | ssl::context::single_dh_use);
  set_min_version(*ctx, tls.min_version);
  if (SSL_CTX_use_certificate_chain_file(ctx->native_handle(), tls.cert.c_str()) != 1) {
    throw std::runtime_error("cannot load TLS certificate chain " + tls.cert + ": " +
                             openssl_error());
  }
  if (SSL_CTX_use_PrivateKey_file(ctx->native_handle(), tls.key.c_str(), SSL_FILETYPE_PEM) != 1) {
    throw std::runtime_error("cannot load TLS private key " + tls.key + ": " + openssl_error());
  }
  if (SSL_CTX_check_private_key(ctx->native_handle()) != 1) {
    throw std::runtime_error("TLS private key " + tls.key + " does not match certificate " +
                             tls.cert);
  }
  // The lists are static: the callback's argument outlives every context.
  SSL_CTX_set_alpn_select_cb(ctx->native_handle(), &select_alpn,
                             const_cast<std::string_view*>(alpn_list(protocols)));
  return ctx;
}

std::shared_ptr<ssl::context> make_client_context(const config::upstream_tls& tls,
                                                  config::upstream_protocol protocol) {
  auto ctx = std::make_shared<ssl::context>(ssl::context::tls_client);
  ctx->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 |
                   ssl::context::no_sslv3);
  SSL_CTX_set_min_proto_version(ctx->native_handle(), TLS1_2_VERSION);
  if (tls.verify) {
    if (!tls.ca.empty()) {
      if (SSL_CTX_load_verify_locations(ctx->native_handle(), tls.ca.c_str(), nullptr) != 1) {
        throw std::runtime_error("cannot load CA bundle " + tls.ca + ": " + openssl_error());
      }
    } else {
      ctx->set_default_verify_paths();
    }
    ctx->set_verify_mode(ssl::verify_peer);
  } else {
    ctx->set_verify_mode(ssl::verify_none);
  }
  if (protocol == config::upstream_protocol::h2) {
    SSL_CTX_set_alpn_protos(ctx->native_handle(),
                            reinterpret_cast<const unsigned char*>(alpn_h2.data()),
                            static_cast<unsigned>(alpn_h2.size()));
  }
  return ctx;
}

void prepare_client_stream(stream& s, const config::upstream_tls& tls, const std::string& host) {
  const std::string& name = tls.sni.empty() ? host : tls.sni;
  SSL* handle = s.native_tls();
  if (handle == nullptr) return;
  // SNI must be a host name, never an IP literal (RFC 6066 section 3).
  const bool is_ip = name.find_first_not_of("0123456789.") == std::string::npos ||
                     name.find(':') != std::string::npos;
  if (!is_ip) SSL_set_tlsext_host_name(handle, name.c_str());
  if (tls.verify) s.tls()->set_verify_callback(ssl::host_name_verification(name));
}

} // namespace parallax::proxy::net
