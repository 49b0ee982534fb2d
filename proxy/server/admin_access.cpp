#include "proxy/server/admin_access.hpp"

#include <openssl/crypto.h>
#include <openssl/sha.h>

#include <array>

#include "proxy/http/ascii.hpp"

namespace parallax::proxy::server {

namespace {
using digest = std::array<unsigned char, SHA256_DIGEST_LENGTH>;

digest sha256(std::string_view text) {
  digest d{};
  SHA256(reinterpret_cast<const unsigned char*>(text.data()), text.size(), d.data());
  return d;
}

// The credentials of `Authorization: Bearer CREDENTIALS` (RFC 6750 2.1; the scheme is
// case-insensitive, one or more spaces follow it).
std::optional<std::string_view> bearer_credentials(std::string_view authorization) {
  constexpr std::string_view scheme = "bearer";
  if (authorization.size() <= scheme.size() ||
      !http::iequals(authorization.substr(0, scheme.size()), scheme) ||
      authorization[scheme.size()] != ' ') {
    return std::nullopt;
  }
  auto rest = authorization.substr(scheme.size());
  while (!rest.empty() && rest.front() == ' ')
    rest.remove_prefix(1);
  return rest;
}
} // namespace

bool is_mutating(std::string_view method) noexcept {
  return method != "GET" && method != "HEAD";
}

int mutation_refusal(std::string_view token, std::optional<std::string_view> authorization,
                     bool loopback_peer) {
  if (token.empty()) return loopback_peer ? 0 : 403;
  const auto credentials = authorization ? bearer_credentials(*authorization) : std::nullopt;
  if (!credentials) return 401;
  const auto want = sha256(token);
  const auto got = sha256(*credentials);
  return CRYPTO_memcmp(want.data(), got.data(), want.size()) == 0 ? 0 : 401;
}

} // namespace parallax::proxy::server
