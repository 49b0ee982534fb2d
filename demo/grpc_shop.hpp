#pragma once
// The gRPC part of `parallax demo --grpc`: a small `demo.Shop` service in two versions, served
// over h2c on 127.0.0.1, and the descriptor set that tells parallax its message types (built
// with libprotobuf, as `protoc --descriptor_set_out` would write it). The preview's
// regressions:
//   - GetProduct 3: price_cents (int64) sent as a string: a changed field type
//   - GetProduct 2: name "Oak chair" became "Oak Chair"
//   - GetProduct 5: NOT_FOUND where live answers
//   - GetProduct 6: a new field 6 (stock) the descriptors do not know: compared by number
//   - every Product has a volatile updated_at (configured ignored: ListProducts all match)
//   - PlaceOrder has side effects (no idempotency option): not mirrored by default

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

namespace parallax::demo {

/// A gRPC answer: the response body (length-prefixed messages) and the call's status.
struct grpc_answer {
  std::string body;
  std::uint32_t status = 0; // grpc-status
  std::string message;      // grpc-message
};

/// Answers a call to `path` with request message `request` as the live or preview version.
[[nodiscard]] grpc_answer answer_grpc(bool preview, std::string_view path, std::string_view request);

/// The request message of GetProduct(id), ListProducts(limit) and PlaceOrder(product).
[[nodiscard]] std::string product_request(int id);

/// Writes the service's FileDescriptorSet to `path`; false when it cannot be written.
bool write_shop_descriptors(const std::string& path);

/// A running demo.Shop server (h2c, one thread).
class demo_grpc_api {
public:
  /// Starts the `preview` (regressed) or live version on 127.0.0.1, port chosen by the system.
  explicit demo_grpc_api(bool preview);
  ~demo_grpc_api();
  demo_grpc_api(const demo_grpc_api&) = delete;
  demo_grpc_api& operator=(const demo_grpc_api&) = delete;
  /// "127.0.0.1:PORT".
  [[nodiscard]] std::string address() const;

private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

} // namespace parallax::demo
