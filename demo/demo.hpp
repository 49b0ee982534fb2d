#pragma once
// `parallax demo` (proxy.md): a self-contained tour. Starts a built-in "live" and "preview"
// version of a small JSON shop API on loopback, runs the real proxy (listener, workers,
// mirroring engine) in front of them with 100% mirroring, sends generated traffic through the
// listener (four keep-alive connections), then prints the comparison report. The preview
// carries deliberate regressions:
//   - GET /api/users/{id}: field `email` renamed to `email_address`
//   - GET /api/products/{id}: `price` became a string ("19.99")
//   - GET /api/orders/{id}: 500 for every fourth order
//   - GET /api/search: answers ~40 ms slower (latency_regression at ratio 1.5)
//   - GET /api/products: the list comes back in another order (configured unordered: no diff)
//   - every body has a volatile `generated_at` timestamp (configured ignored: no diff)
//   - GET /api/health: identical (all matches); POST /api/orders: not mirrored (method)
// With --grpc, the same tour with a gRPC service over h2c instead (grpc_shop.hpp).

#include <cstdint>
#include <string>

namespace parallax::demo {

/// Options of `parallax demo`.
struct demo_options {
  std::uint32_t requests = 1600; // client requests sent through the proxy
  std::string format = "text";   // report format: text | markdown | html | json
  std::string log_path;          // keep the discrepancy log here (default: a temporary file)
  std::string out_path;          // write the report here instead of standard output
  bool grpc = false;             // the gRPC tour instead (demo_steps.hpp, grpc_shop.hpp)
};

/// Runs the demo; returns the process exit code (0 on success).
int run_demo(const demo_options& options);

} // namespace parallax::demo
