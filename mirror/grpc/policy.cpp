#include "mirror/grpc/policy.hpp"

#include <stdexcept>

namespace parallax::mirror::grpc {

mirror_policy::mirror_policy(const config::grpc_mirror& cfg,
                             std::shared_ptr<const descriptor_set> descriptors)
    : cfg_(cfg), descriptors_(std::move(descriptors)) {}

bool mirror_policy::allows(std::string_view path) const noexcept {
  const auto* types = descriptors_ ? descriptors_->method(path) : nullptr;
  if (types && !cfg_.streaming && types->client_streaming) return false;
  if (cfg_.methods.empty()) return types != nullptr && types->idempotent;
  const auto slash = path.rfind('/');
  for (const auto& m : cfg_.methods) {
    if (m == path) return true;
    // "/pkg.Service/*": any method of that service.
    if (m.ends_with("/*") && slash != std::string_view::npos &&
        path.substr(0, slash + 1) == std::string_view(m).substr(0, m.size() - 1)) {
      return true;
    }
  }
  return false;
}

std::shared_ptr<const descriptor_set> load_descriptor_sets(const std::vector<std::string>& files,
                                                           const std::string& key) {
  if (files.empty()) return nullptr;
  std::string error;
  auto set = descriptor_set::load(files, error);
  if (!set) throw std::runtime_error(key + ": " + error);
  return set;
}

} // namespace parallax::mirror::grpc
