#pragma once
// The demo's JSON shop API in two versions, served over HTTP/1.1 on 127.0.0.1 (keep-alive,
// one thread, one coroutine per connection). See demo.hpp for the preview's regressions.

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

namespace parallax::demo {

/// A running API server.
class demo_api {
public:
  /// Starts the `preview` (regressed) or live version on 127.0.0.1, port chosen by the system.
  explicit demo_api(bool preview);
  ~demo_api();
  demo_api(const demo_api&) = delete;
  demo_api& operator=(const demo_api&) = delete;
  /// "127.0.0.1:PORT".
  [[nodiscard]] std::string address() const;

private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

/// The response the API gives: status and JSON body (exposed for unit tests).
struct api_response {
  int status = 200;
  std::string body;
  std::uint32_t delay_ms = 0; // answer after this long
};

/// Answers one request as the live (`preview` false) or preview version.
[[nodiscard]] api_response answer(bool preview, std::string_view method, std::string_view target);

} // namespace parallax::demo
