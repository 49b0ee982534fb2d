#include "proxy/net/tls.hpp"

#include <boost/asio/ssl/host_name_verification.hpp>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include <stdexcept>

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
} // namespace

std::shared_ptr<ssl::context> make_server_context(const config::listener_tls& tls) {
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
  return ctx;
}

std::shared_ptr<ssl::context> make_client_context(const config::upstream_tls& tls) {
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
