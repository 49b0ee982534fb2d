#pragma once
// Who may change a running proxy through the admin listener (proxy.md "Admin listener"):
// GETs are open; POST and DELETE need `Authorization: Bearer TOKEN` when admin.token is set,
// and a loopback peer when it is not.

#include <optional>
#include <string_view>

namespace parallax::proxy::server {

/// Whether `method` changes something (and so is guarded).
[[nodiscard]] bool is_mutating(std::string_view method) noexcept;

/// The refusal of a mutating request, or 0 when it may run: 401 when a token is configured
/// and `authorization` does not carry it as a Bearer credential, 403 when no token is
/// configured and the peer is not on loopback. The token is compared in constant time (its
/// SHA-256 digest, so not even its length leaks).
[[nodiscard]] int mutation_refusal(std::string_view token,
                                   std::optional<std::string_view> authorization,
                                   bool loopback_peer);

} // namespace parallax::proxy::server
