#pragma once
// Which gRPC calls a route mirrors (config.md `mirror.grpc`), decided from the call's path
// `/package.Service/Method`:
// - `methods` listed: the call's method or its service's `*` must be listed;
// - none listed: only methods whose descriptor says idempotency_level NO_SIDE_EFFECTS or
//   IDEMPOTENT (so nothing without descriptor sets): mirroring a call sends it twice;
// - unary and server-streaming calls only, unless `streaming: true`. A call's kind is known
//   from the descriptors; a listed method the descriptors do not know is taken as listed here,
//   and skipped later if its request carries more than one message (shadow_dispatcher.cpp).

#include <memory>
#include <string_view>

#include "config/config.hpp"
#include "mirror/grpc/proto_json.hpp"

namespace parallax::mirror::grpc {

class mirror_policy {
public:
  /// The policy of `cfg` with the route's descriptor sets (null: none).
  mirror_policy(const config::grpc_mirror& cfg, std::shared_ptr<const descriptor_set> descriptors);
  /// Whether a call to `path` is mirrored.
  [[nodiscard]] bool allows(std::string_view path) const noexcept;
  /// The route's descriptor sets (null: none).
  [[nodiscard]] const descriptor_set* descriptors() const noexcept { return descriptors_.get(); }

private:
  const config::grpc_mirror& cfg_;
  std::shared_ptr<const descriptor_set> descriptors_;
};

/// Loads a route's `compare.grpc.descriptor_sets` (null when none are configured); throws
/// std::runtime_error naming `key` and the file when one cannot be loaded.
std::shared_ptr<const descriptor_set> load_descriptor_sets(const std::vector<std::string>& files,
                                                           const std::string& key);

} // namespace parallax::mirror::grpc
