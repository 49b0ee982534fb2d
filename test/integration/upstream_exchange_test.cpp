// The upstream exchange's deadlines apply to the upstream only: a client that pauses mid-body
// longer than the upstream's io_timeout (but within client_io_timeout) is still served.

#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <thread>

#include "test/integration/proxy_fixture.hpp"
#include "test/support/http_backend.hpp"
#include "test/support/raw_client.hpp"

namespace parallax::test {
namespace {

using namespace std::chrono_literals;

TEST(UpstreamExchangeTest, AClientPauseLongerThanTheUpstreamIoTimeoutIsNotAnUpstreamTimeout) {
  http_backend live(echo_handler());
  running_proxy proxy(simple_config("limits: { client_io_timeout: 10s }\n", ", io_timeout: 200ms"),
                      {{"live", live.address()}});
  raw_client client;
  ASSERT_TRUE(client.connect(proxy.port()));
  const std::string body(4000, 'b');
  ASSERT_TRUE(client.send("POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: 4000\r\n\r\n" +
                          body.substr(0, 1000)));
  // The pause itself is what is tested: the upstream's last write deadline (200 ms) passes
  // while the proxy waits for the client, which has 10 s.
  std::this_thread::sleep_for(600ms);
  ASSERT_TRUE(client.send(body.substr(1000)));
  const auto res = client.read_response();
  ASSERT_TRUE(res.ok()) << res.error;
  EXPECT_EQ(res.status, 200);
  ASSERT_TRUE(live.wait_for_requests(1, 5s));
  EXPECT_EQ(live.last_request().body_size, 4000u);
}

} // namespace
} // namespace parallax::test
