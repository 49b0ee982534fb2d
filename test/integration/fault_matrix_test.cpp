// The fault matrix: a scripted misbehaving upstream (test/support/fault_server) as the live
// upstream (what the client must see, proxy.md's error table) and as the shadow (the client's
// answer stays the live one and on time, and the fault is counted; proxy.md "Mirroring
// isolation"), clients that stop reading, stop sending or leave, and after every case a check
// that nothing leaks: client connections, upstream connections, and memory over a loop of the
// nastiest cases.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "test/integration/proxy_fixture.hpp"
#include "test/support/blackhole_server.hpp"
#include "test/support/fault_server.hpp"
#include "test/support/http_backend.hpp"
#include "test/support/http_text.hpp"
#include "test/support/message_parser.hpp"
#include "test/support/raw_client.hpp"
#include "test/support/socket_stream.hpp"

namespace parallax::test {
namespace {

using namespace std::chrono_literals;
using ::testing::EndsWith;
using steady = std::chrono::steady_clock;

// "Does not hang": the bound on every client read (silence that long fails the read) and on
// every wait for an answer, where the configured timeouts are 300 ms.
constexpr std::chrono::milliseconds answer_bound = 5s;
// The bound on waits for the proxy to settle after a case (connections closed, comparisons).
constexpr std::chrono::milliseconds settle_bound = 10s;
// The proxy's limit on a response head (proxy/server/worker.cpp).
constexpr std::size_t response_head_limit = 256 * 1024;

const std::string downstream_series = "parallax_downstream_connections{listener=\"public\"}";

// The value of `series` on the proxy's admin /metrics (0 when not exported).
std::uint64_t metric(running_proxy& proxy, const std::string& series) {
  const auto text = admin_get(proxy.admin_port(), "/metrics").body;
  const auto value = metric_value(text, series);
  return value ? std::stoull(*value) : 0;
}

// Polls `series` until it is at most `limit` (bounded). A gauge has no event to wait on: the
// poll is the only way to await it, so it sleeps briefly between reads of the real endpoint.
bool await_metric_at_most(running_proxy& proxy, const std::string& series, std::uint64_t limit,
                          std::chrono::milliseconds timeout = settle_bound) {
  const auto deadline = steady::now() + timeout;
  for (;;) {
    if (metric(proxy, series) <= limit) return true;
    if (steady::now() >= deadline) return false;
    std::this_thread::sleep_for(10ms);
  }
}

// After a case, with every client closed: the proxy holds no client connection and no more
// than `pooled` idle keep-alive connections to `upstream`.
void expect_nothing_left(running_proxy& proxy, const fault_server& upstream,
                         std::size_t pooled = 0) {
  EXPECT_TRUE(await_metric_at_most(proxy, downstream_series, 0))
      << metric(proxy, downstream_series) << " client connections still open";
  EXPECT_TRUE(upstream.wait_for_open_at_most(pooled, settle_bound))
      << upstream.open_connections() << " upstream connections still open (allowed: " << pooled
      << ")";
}

// One route `all` to the live upstream {live} with `upstream` settings (YAML flow-map entries)
// and `limits` (YAML flow-map entries, may be empty).
std::string live_config(const std::string& upstream, const std::string& limits = "") {
  return simple_config(limits.empty() ? "" : "limits: { " + limits + " }\n", ", " + upstream);
}

// The upstream settings of the live cases: every timeout short except the one under test.
const std::string short_timeouts = "connect_timeout: 300ms, request_timeout: 300ms";

fault_plan plan_of(fault kind) {
  fault_plan plan;
  plan.kind = kind;
  return plan;
}

// The status line of a response `data` starts with, if it does.
bool starts_with_status(const std::string& data, int status) {
  return data.starts_with("HTTP/1.1 " + std::to_string(status) + " ");
}

// A client whose request body is pushed by a second thread while the test thread reads the
// response, like curl uploading a file: the upload runs until it is done, the proxy stops
// taking it for answer_bound, or the connection ends.
class streaming_upload {
public:
  // Connects to `port` and starts sending `head` and then `body_bytes` pattern bytes.
  streaming_upload(std::uint16_t port, std::string head, std::uint64_t body_bytes) {
    std::string error;
    const int fd = connect_loopback(port, steady::now() + answer_bound, error);
    if (fd < 0) throw std::runtime_error(error);
    const int writer_fd = ::dup(fd);
    stop_fd_ = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    reader_ = socket_stream(fd);
    writer_ = std::thread([this, writer_fd, head = std::move(head), body_bytes] {
      socket_stream out(writer_fd);
      out.set_interrupt_fd(stop_fd_);
      if (out.write_all(head, steady::now() + answer_bound) != io_status::ok) return;
      for (std::uint64_t offset = 0; offset < body_bytes;) {
        const auto n =
            static_cast<std::size_t>(std::min<std::uint64_t>(64 * 1024, body_bytes - offset));
        if (out.write_all(pattern_bytes(offset, n), steady::now() + answer_bound) !=
            io_status::ok) {
          return;
        }
        offset += n;
        sent_.store(offset);
      }
    });
  }
  // Stops the upload and closes the connection.
  ~streaming_upload() {
    const std::uint64_t one = 1;
    [[maybe_unused]] const auto written = ::write(stop_fd_, &one, sizeof one);
    if (writer_.joinable()) writer_.join();
    ::close(stop_fd_);
  }
  streaming_upload(const streaming_upload&) = delete;
  streaming_upload& operator=(const streaming_upload&) = delete;

  // Reads one response; a silence of answer_bound fails it with io_status::timeout.
  parsed_response read_response() {
    parsed_response out;
    message_parser parser(HTTP_RESPONSE);
    parser.start(false, 1 << 20);
    for (;;) {
      if (!buffer_.empty()) {
        std::size_t used = 0;
        const auto result = parser.feed(buffer_, used);
        buffer_.erase(0, used);
        if (result == message_parser::result::failed) {
          out.io = io_status::failed;
          out.error = "invalid response: " + parser.error();
          return out;
        }
        if (result == message_parser::result::complete) break;
      }
      const auto status = fill();
      if (status == io_status::closed && parser.finish() == message_parser::result::complete) break;
      if (status != io_status::ok) {
        out.io = status;
        out.error = "connection " + std::string(to_string(status)) + " before a whole response";
        return out;
      }
    }
    const auto message = parser.take();
    out.status = message.status;
    out.headers = message.headers;
    out.body = message.body;
    out.body_size = message.body_size;
    return out;
  }
  // Waits up to answer_bound for the proxy to close or reset the connection.
  bool wait_closed() {
    for (;;) {
      buffer_.clear();
      const auto status = fill();
      if (status == io_status::closed || status == io_status::reset) return true;
      if (status != io_status::ok) return false;
    }
  }
  // Body bytes sent so far.
  std::uint64_t sent() const { return sent_.load(); }

private:
  io_status fill() {
    char chunk[64 * 1024];
    const auto got = reader_.read_some(chunk, sizeof chunk, steady::now() + answer_bound);
    if (got.status == io_status::ok) buffer_.append(chunk, got.bytes);
    return got.status;
  }

  socket_stream reader_;
  int stop_fd_ = -1;
  std::thread writer_;
  std::atomic<std::uint64_t> sent_{0};
  std::string buffer_;
};

// "METHOD target HTTP/1.1" head declaring a `body_bytes` Content-Length body.
std::string upload_head(std::uint64_t body_bytes, const std::string& target = "/upload") {
  return "PUT " + target +
         " HTTP/1.1\r\nHost: localhost\r\nContent-Length: " + std::to_string(body_bytes) +
         "\r\n\r\n";
}

// ---------------------------------------------------------------------------------------------
// The live upstream misbehaves: what the client sees.

// A request that ends in a response the proxy makes itself: `status`, within answer_bound.
void expect_proxy_answer(running_proxy& proxy, int status, const std::string& request = {}) {
  raw_client client(answer_bound);
  ASSERT_TRUE(client.connect(proxy.port())) << client.last_error();
  const auto res = client.round_trip(request.empty() ? raw_client::request("GET", "/f") : request);
  ASSERT_TRUE(res.ok()) << res.error;
  EXPECT_EQ(res.status, status);
}

TEST(FaultMatrixLiveTest, RefusedConnectionIs502) {
  running_proxy proxy(live_config(short_timeouts),
                      {{"live", "127.0.0.1:" + std::to_string(refusing_port())}});
  expect_proxy_answer(proxy, 502);
  EXPECT_TRUE(await_metric_at_most(proxy, downstream_series, 0));
  EXPECT_EQ(
      metric(proxy, "parallax_upstream_errors_total{upstream=\"live\",kind=\"connect_failed\"}"),
      1u);
}

TEST(FaultMatrixLiveTest, UnreadRequestIs504AfterRequestTimeout) {
  fault_server upstream(plan_of(fault::never_read));
  running_proxy proxy(live_config(short_timeouts), {{"live", upstream.address()}});
  expect_proxy_answer(proxy, 504);
  expect_nothing_left(proxy, upstream);
  EXPECT_EQ(metric(proxy, "parallax_upstream_errors_total{upstream=\"live\",kind=\"timeout\"}"),
            1u);
}

TEST(FaultMatrixLiveTest, UnansweredRequestIs504AfterRequestTimeout) {
  fault_server upstream(plan_of(fault::never_answer));
  running_proxy proxy(live_config(short_timeouts), {{"live", upstream.address()}});
  expect_proxy_answer(proxy, 504);
  EXPECT_EQ(upstream.requests_seen(), 1u);
  expect_nothing_left(proxy, upstream);
}

TEST(FaultMatrixLiveTest, HeadTrickledSlowerThanRequestTimeoutIs504) {
  // About 70 head bytes at one per 20 ms: the head is still incomplete after the 300 ms
  // request_timeout, although bytes keep arriving (the deadline bounds the whole wait).
  fault_plan plan = plan_of(fault::slow_head);
  plan.byte_interval = 20ms;
  fault_server upstream(plan);
  running_proxy proxy(live_config(short_timeouts), {{"live", upstream.address()}});
  expect_proxy_answer(proxy, 504);
  expect_nothing_left(proxy, upstream);
}

TEST(FaultMatrixLiveTest, ResetMidHeadIs502) {
  fault_server upstream(plan_of(fault::reset_mid_head));
  running_proxy proxy(live_config(short_timeouts), {{"live", upstream.address()}});
  expect_proxy_answer(proxy, 502);
  expect_nothing_left(proxy, upstream);
  EXPECT_EQ(metric(proxy, "parallax_upstream_errors_total{upstream=\"live\",kind=\"reset\"}"), 1u);
}

TEST(FaultMatrixLiveTest, GarbageIs502) {
  fault_server upstream(plan_of(fault::garbage));
  running_proxy proxy(live_config(short_timeouts), {{"live", upstream.address()}});
  expect_proxy_answer(proxy, 502);
  expect_nothing_left(proxy, upstream);
  EXPECT_EQ(metric(proxy,
                   "parallax_upstream_errors_total{upstream=\"live\",kind=\"malformed_response\"}"),
            1u);
}

TEST(FaultMatrixLiveTest, ResponseHeadAboveTheLimitIs502) {
  fault_plan plan = plan_of(fault::oversized_head);
  plan.head_bytes = response_head_limit + 44 * 1024;
  fault_server upstream(plan);
  running_proxy proxy(live_config(short_timeouts), {{"live", upstream.address()}});
  expect_proxy_answer(proxy, 502);
  // The proxy stops reading at its limit and must close the connection (the fault server
  // holds it until then).
  expect_nothing_left(proxy, upstream);
  EXPECT_EQ(metric(proxy,
                   "parallax_upstream_errors_total{upstream=\"live\",kind=\"malformed_response\"}"),
            1u);
}

TEST(FaultMatrixLiveTest, BodyStalledForIoTimeoutClosesTheClient) {
  fault_plan plan = plan_of(fault::stall_mid_body);
  plan.body_bytes = 1000;
  plan.partial_body = 100;
  fault_server upstream(plan);
  // request_timeout is long: only io_timeout may end the stalled body.
  running_proxy proxy(live_config("request_timeout: 30s, io_timeout: 300ms"),
                      {{"live", upstream.address()}});
  {
    raw_client client(answer_bound);
    ASSERT_TRUE(client.connect(proxy.port()));
    ASSERT_TRUE(client.send(raw_client::request("GET", "/stall")));
    const auto got = client.read_until_close();
    ASSERT_NE(to_string(got.status), "timeout")
        << "still open " << answer_bound.count() << " ms after the body stalled; got "
        << got.data.size() << " bytes";
    EXPECT_TRUE(starts_with_status(got.data, 200)) << got.data;
    // Truncated: the head and the 100 bytes that came, never the promised 1000.
    EXPECT_THAT(got.data, EndsWith("\r\n\r\n" + pattern_bytes(0, 100)));
  }
  expect_nothing_left(proxy, upstream);
  EXPECT_EQ(metric(proxy, "parallax_upstream_errors_total{upstream=\"live\",kind=\"timeout\"}"),
            1u);
}

TEST(FaultMatrixLiveTest, ResetMidBodyClosesTheClient) {
  fault_plan plan = plan_of(fault::reset_mid_body);
  plan.body_bytes = 1000;
  plan.partial_body = 100;
  plan.wait_for_release = true; // the RST only after the client has the first part
  fault_server upstream(plan);
  running_proxy proxy(live_config(short_timeouts), {{"live", upstream.address()}});
  {
    raw_client client(answer_bound);
    ASSERT_TRUE(client.connect(proxy.port()));
    ASSERT_TRUE(client.send(raw_client::request("GET", "/reset")));
    std::string got;
    while (!got.ends_with("\r\n\r\n" + pattern_bytes(0, 100))) {
      const auto piece = client.read_some();
      ASSERT_TRUE(piece.ok()) << to_string(piece.status) << " after " << got;
      got += piece.data;
    }
    EXPECT_TRUE(starts_with_status(got, 200)) << got;
    upstream.release();
    const auto rest = client.read_until_close();
    ASSERT_NE(to_string(rest.status), "timeout");
    EXPECT_EQ(rest.data, ""); // nothing after the break: the message stays truncated
  }
  expect_nothing_left(proxy, upstream);
  EXPECT_EQ(metric(proxy, "parallax_upstream_errors_total{upstream=\"live\",kind=\"reset\"}"), 1u);
}

TEST(FaultMatrixLiveTest, BodyShorterThanContentLengthClosesTheClient) {
  fault_plan plan = plan_of(fault::short_body);
  plan.body_bytes = 1000;
  plan.partial_body = 100;
  fault_server upstream(plan);
  running_proxy proxy(live_config(short_timeouts), {{"live", upstream.address()}});
  {
    raw_client client(answer_bound);
    ASSERT_TRUE(client.connect(proxy.port()));
    ASSERT_TRUE(client.send(raw_client::request("GET", "/short")));
    const auto got = client.read_until_close();
    ASSERT_NE(to_string(got.status), "timeout") << got.data;
    EXPECT_TRUE(starts_with_status(got.data, 200)) << got.data;
    EXPECT_THAT(got.data, EndsWith("\r\n\r\n" + pattern_bytes(0, 100)));
  }
  expect_nothing_left(proxy, upstream);
}

TEST(FaultMatrixLiveTest, BytesBeyondContentLengthAreDroppedWithTheConnection) {
  fault_plan plan = plan_of(fault::extra_bytes);
  plan.body_bytes = 100;
  plan.extra_bytes = 50; // in the same write as the body
  fault_server upstream(plan);
  running_proxy proxy(live_config(short_timeouts), {{"live", upstream.address()}});
  {
    raw_client client(answer_bound);
    ASSERT_TRUE(client.connect(proxy.port()));
    for (int i = 0; i < 2; ++i) {
      const auto res = client.round_trip(raw_client::request("GET", "/x"));
      ASSERT_TRUE(res.ok()) << "request " << i << ": " << res.error;
      EXPECT_EQ(res.status, 200);
      EXPECT_EQ(res.body, pattern_bytes(0, 100)) << "request " << i;
    }
  }
  // The connection that sent too much carried one request only: the second went to a new one.
  const auto connections = upstream.connections();
  ASSERT_EQ(connections.size(), 2u);
  EXPECT_EQ(connections[0].requests, 1u);
  EXPECT_EQ(connections[1].requests, 1u);
  expect_nothing_left(proxy, upstream, 0);
}

TEST(FaultMatrixLiveTest, BytesArrivingOnAnIdlePooledConnectionSpoilIt) {
  // The extra bytes come after the response, while the connection idles in the pool: like nginx
  // (keepalive close handler) and Envoy, the proxy must drop a pooled connection that has
  // anything to read, and never parse those bytes as the next response.
  fault_plan plan = plan_of(fault::extra_bytes);
  plan.body_bytes = 100;
  plan.extra_bytes = 50;
  plan.wait_for_release = true;
  fault_server upstream(plan);
  running_proxy proxy(live_config(short_timeouts), {{"live", upstream.address()}});
  {
    raw_client client(answer_bound);
    ASSERT_TRUE(client.connect(proxy.port()));
    const auto first = client.round_trip(raw_client::request("GET", "/1"));
    ASSERT_TRUE(first.ok()) << first.error;
    EXPECT_EQ(first.body, pattern_bytes(0, 100));
    upstream.release();
    ASSERT_TRUE(upstream.wait_for_faults(1, settle_bound)); // the extra bytes are out
    // The idle watch drops the connection once its event loop sees the bytes. (A request that
    // reaches the proxy before the loop has polled for them could still take the connection:
    // like nginx's keepalive close handler, the watch acts on the next poll, not at once.)
    ASSERT_TRUE(upstream.wait_for_open_at_most(0, settle_bound)) << "the spoilt connection stayed";
    const auto second = client.round_trip(raw_client::request("GET", "/2"));
    ASSERT_TRUE(second.ok()) << second.error;
    EXPECT_EQ(second.status, 200);
    EXPECT_EQ(second.body, pattern_bytes(0, 100));
  }
  const auto connections = upstream.connections();
  ASSERT_EQ(connections.size(), 2u) << "the spoilt connection was reused";
  EXPECT_EQ(connections[0].requests, 1u);
  expect_nothing_left(proxy, upstream, 1);
}

TEST(FaultMatrixLiveTest, CloseDelimitedBodyArrivesWhole) {
  fault_plan plan = plan_of(fault::close_delimited);
  plan.body_bytes = 300 * 1024;
  fault_server upstream(plan);
  running_proxy proxy(live_config(short_timeouts), {{"live", upstream.address()}});
  {
    raw_client client(answer_bound);
    ASSERT_TRUE(client.connect(proxy.port()));
    const auto res = client.round_trip(raw_client::request("GET", "/old"));
    ASSERT_TRUE(res.ok()) << res.error;
    EXPECT_EQ(res.status, 200);
    EXPECT_EQ(res.body_size, 300u * 1024u);
    EXPECT_TRUE(res.body_matches_pattern);
  }
  expect_nothing_left(proxy, upstream);
}

TEST(FaultMatrixLiveTest, FinalResponseFollowsAHundredInterimOnes) {
  fault_plan plan = plan_of(fault::interim_responses);
  plan.interim_count = 100;
  fault_server upstream(plan);
  running_proxy proxy(live_config(short_timeouts), {{"live", upstream.address()}});
  {
    raw_client client(answer_bound);
    ASSERT_TRUE(client.connect(proxy.port()));
    ASSERT_TRUE(client.send(raw_client::request("GET", "/hints")));
    int interim = 0;
    parsed_response res;
    for (;;) {
      res = client.read_response();
      ASSERT_TRUE(res.ok()) << "after " << interim << " interim responses: " << res.error;
      if (res.status >= 200) break;
      EXPECT_NE(res.status, 101);
      ++interim;
      ASSERT_LE(interim, 100);
    }
    EXPECT_EQ(res.status, 200);
    EXPECT_EQ(res.body, pattern_bytes(0, 64));
    // The connection stays usable.
    const auto next = client.round_trip(raw_client::request("GET", "/next"));
    EXPECT_TRUE(next.ok() && next.status >= 100) << next.error;
  }
  expect_nothing_left(proxy, upstream, 1);
}

TEST(FaultMatrixLiveTest, EarlyFinalResponseIsRelayedWhileTheBodyWaits) {
  // RFC 9110 lets a server answer before the request body is complete; nginx and Envoy relay
  // such an answer at once. The client has sent part of its body and waits for it.
  fault_server upstream(plan_of(fault::early_final_response));
  running_proxy proxy(
      live_config("request_timeout: 30s, io_timeout: 30s", "client_io_timeout: 30s"),
      {{"live", upstream.address()}});
  {
    raw_client client(answer_bound);
    ASSERT_TRUE(client.connect(proxy.port()));
    ASSERT_TRUE(client.send(upload_head(1 << 20) + pattern_bytes(0, 64 * 1024)));
    const auto res = client.read_response();
    ASSERT_TRUE(res.ok()) << res.error;
    EXPECT_EQ(res.status, 413);
    EXPECT_EQ(res.body, "request body too large\n");
    // The rest of the body never came, so the connection cannot carry another request.
    EXPECT_TRUE(client.wait_closed(answer_bound));
  }
  expect_nothing_left(proxy, upstream);
}

TEST(FaultMatrixLiveTest, EarlyFinalResponseIsRelayedWhileTheBodyStreams) {
  fault_server upstream(plan_of(fault::early_final_response));
  running_proxy proxy(live_config("request_timeout: 30s, io_timeout: 30s"),
                      {{"live", upstream.address()}});
  {
    streaming_upload client(proxy.port(), upload_head(8 << 20), 8 << 20);
    const auto res = client.read_response();
    ASSERT_TRUE(res.ok()) << res.error << " (body bytes sent: " << client.sent() << ")";
    EXPECT_EQ(res.status, 413);
  }
  expect_nothing_left(proxy, upstream);
}

TEST(FaultMatrixLiveTest, EarlyFinalResponseIsRelayedWhenTheUpstreamClosesAtOnce) {
  // The upstream answers and closes without draining the body, so the proxy's next body write
  // fails (reset). The 413 arrived before that and is still readable: nginx and Envoy, which
  // read the upstream while sending, relay it; a 502 would hide the upstream's real answer.
  fault_plan plan = plan_of(fault::early_final_response);
  plan.linger = false;
  fault_server upstream(plan);
  running_proxy proxy(live_config("request_timeout: 30s, io_timeout: 30s"),
                      {{"live", upstream.address()}});
  {
    streaming_upload client(proxy.port(), upload_head(8 << 20), 8 << 20);
    const auto res = client.read_response();
    ASSERT_TRUE(res.ok()) << res.error << " (body bytes sent: " << client.sent() << ")";
    EXPECT_EQ(res.status, 413);
  }
  expect_nothing_left(proxy, upstream);
}

TEST(FaultMatrixLiveTest, UpstreamThatStopsReadingTheBodyIs504AfterIoTimeout) {
  // The upstream reads the head and then nothing: 64 MiB cannot fit in the socket buffers, so
  // the proxy's writes stall. request_timeout is long: only io_timeout may end this.
  fault_server upstream(plan_of(fault::never_answer));
  running_proxy proxy(live_config("request_timeout: 30s, io_timeout: 300ms"),
                      {{"live", upstream.address()}});
  {
    streaming_upload client(proxy.port(), upload_head(64ull << 20), 64ull << 20);
    const auto res = client.read_response();
    ASSERT_TRUE(res.ok()) << res.error << " (body bytes sent: " << client.sent() << ")";
    EXPECT_EQ(res.status, 504);
    EXPECT_TRUE(client.wait_closed());
  }
  // Let the fault server take what is still queued for it: the proxy's close reaches it only
  // behind those bytes. A connection the proxy kept open stays open.
  upstream.release();
  expect_nothing_left(proxy, upstream);
  EXPECT_EQ(metric(proxy, "parallax_upstream_errors_total{upstream=\"live\",kind=\"timeout\"}"),
            1u);
}

// ---------------------------------------------------------------------------------------------
// Clients that misbehave.

TEST(FaultMatrixClientTest, ClientThatStopsReadingIsDisconnectedAfterClientIoTimeout) {
  fault_plan plan = plan_of(fault::respond);
  plan.body_bytes = 64ull << 20;
  fault_server upstream(plan);
  running_proxy proxy(live_config(short_timeouts, "client_io_timeout: 300ms"),
                      {{"live", upstream.address()}});
  raw_client client(answer_bound);
  ASSERT_TRUE(client.connect(proxy.port()));
  ASSERT_TRUE(client.send(raw_client::request("GET", "/big")));
  ASSERT_TRUE(upstream.wait_for_requests(1, settle_bound));
  // The client reads nothing: the proxy must give up on it, and on the upstream connection.
  ASSERT_TRUE(await_metric_at_most(proxy, downstream_series, 0))
      << "the client that reads nothing is still connected";
  ASSERT_TRUE(upstream.wait_for_open_at_most(0, settle_bound))
      << "the upstream connection of the abandoned response is still open";
  const auto got = client.read_until_close();
  EXPECT_NE(to_string(got.status), "timeout");
  EXPECT_LT(got.data.size(), 64u << 20);
  client.close();
  expect_nothing_left(proxy, upstream);
}

TEST(FaultMatrixClientTest, ClientThatStopsSendingItsBodyIsDisconnectedAfterClientIoTimeout) {
  fault_server upstream(plan_of(fault::respond));
  running_proxy proxy(
      live_config("request_timeout: 30s, io_timeout: 30s", "client_io_timeout: 300ms"),
      {{"live", upstream.address()}});
  {
    raw_client client(answer_bound);
    ASSERT_TRUE(client.connect(proxy.port()));
    ASSERT_TRUE(client.send(upload_head(1 << 20) + pattern_bytes(0, 1024)));
    ASSERT_TRUE(upstream.wait_for_requests(1, settle_bound));
    const auto got = client.read_until_close();
    ASSERT_NE(to_string(got.status), "timeout")
        << "still connected " << answer_bound.count() << " ms after the body stopped";
    // proxy.md: "connection closed". nginx answers 408 first (client_body_timeout): either is
    // fine, a 2xx or 5xx is not.
    EXPECT_TRUE(got.data.empty() || starts_with_status(got.data, 408)) << got.data;
  }
  // The upstream connection that carried the unfinished request is closed, not leaked.
  expect_nothing_left(proxy, upstream);
}

TEST(FaultMatrixClientTest, ClientThatLeavesMidResponseReleasesTheUpstream) {
  fault_plan plan = plan_of(fault::respond);
  plan.body_bytes = 64ull << 20;
  fault_server upstream(plan);
  running_proxy proxy(live_config(short_timeouts), {{"live", upstream.address()}});
  {
    raw_client client(answer_bound);
    ASSERT_TRUE(client.connect(proxy.port()));
    ASSERT_TRUE(client.send(raw_client::request("GET", "/big")));
    const auto part = client.read_exact(1 << 20);
    ASSERT_TRUE(part.ok()) << to_string(part.status);
    EXPECT_TRUE(starts_with_status(part.data, 200));
  } // closed with unread data: the proxy sees a reset
  // The upstream connection is closed (nginx with proxy_ignore_client_abort off), or released
  // to the pool once the whole response has been read from it; never left hanging.
  EXPECT_TRUE(await_metric_at_most(proxy, downstream_series, 0))
      << metric(proxy, downstream_series) << " client connections still open";
  EXPECT_TRUE(upstream.wait_for(
      [](const fault_stats& s) {
        return s.open_connections == 0 || (s.open_connections == 1 && s.faults_done == 1);
      },
      settle_bound))
      << upstream.open_connections() << " upstream connections open, "
      << upstream.stats().bytes_written << " bytes written to the proxy";
}

// ---------------------------------------------------------------------------------------------
// The shadow misbehaves: the client gets exactly the live answer, on time, and the fault is
// counted.

// One shadow case.
struct shadow_case {
  const char* name;
  fault_plan plan;
  bool refused = false;                  // the preview port refuses (no fault server is used)
  bool stalls = false;                   // the shadow cannot end before preview's request_timeout
  bool post_body = false;                // a POST with a body (mirror methods include POST)
  std::uint64_t body_bytes = 1000;       // the POST's body size
  const char* error_kind = nullptr;      // outcome shadow_error with upstream_errors_total{kind}
  std::size_t pooled = 0;                // idle keep-alive connections allowed to stay open
  const char* preview_timeout = "500ms"; // preview's connect, request and io timeouts
};

void PrintTo(const shadow_case& c, std::ostream* out) {
  *out << c.name;
}

fault_plan shadow_plan(fault kind) {
  fault_plan plan = plan_of(kind);
  plan.body_bytes = 1000;
  plan.partial_body = 100;
  plan.extra_bytes = 50;
  return plan;
}

std::vector<shadow_case> shadow_cases() {
  fault_plan slow = shadow_plan(fault::slow_head);
  slow.byte_interval = 20ms; // about 1.4 s for the head: beyond preview's 500 ms
  fault_plan big_head = shadow_plan(fault::oversized_head);
  big_head.head_bytes = response_head_limit + 44 * 1024;
  std::vector<shadow_case> cases;
  cases.push_back(
      {"refused", shadow_plan(fault::respond), true, false, false, 0, "connect_failed"});
  cases.push_back({"never_read", shadow_plan(fault::never_read), false, true, false, 0, "timeout"});
  // The shadow's write stalls (8 MiB do not fit in the socket buffers). The client's own
  // exchange moves 8 MiB each way first, hence a longer preview timeout for "on time".
  cases.push_back({"never_read_large_body", shadow_plan(fault::never_read), false, true, true,
                   8 << 20, "timeout", 0, "2s"});
  cases.push_back(
      {"never_answer", shadow_plan(fault::never_answer), false, true, false, 0, "timeout"});
  cases.push_back({"slow_head", slow, false, true, false, 0, "timeout"});
  cases.push_back(
      {"stall_mid_body", shadow_plan(fault::stall_mid_body), false, true, false, 0, "timeout"});
  cases.push_back(
      {"reset_mid_head", shadow_plan(fault::reset_mid_head), false, false, false, 0, "reset"});
  cases.push_back(
      {"reset_mid_body", shadow_plan(fault::reset_mid_body), false, false, false, 0, "reset"});
  cases.push_back(
      {"garbage", shadow_plan(fault::garbage), false, false, false, 0, "malformed_response"});
  cases.push_back({"oversized_head", big_head, false, false, false, 0, "malformed_response"});
  // A connection that ends before the promised body is a reset (the connection broke off), as
  // for the live side.
  cases.push_back({"short_body", shadow_plan(fault::short_body), false, false, false, 0, "reset"});
  // These complete a valid response that differs from the live one: compared, `differ`.
  cases.push_back(
      {"extra_bytes", shadow_plan(fault::extra_bytes), false, false, false, 0, nullptr, 0});
  cases.push_back(
      {"close_delimited", shadow_plan(fault::close_delimited), false, false, false, 0, nullptr, 0});
  cases.push_back({"interim_responses", shadow_plan(fault::interim_responses), false, false, false,
                   0, nullptr, 2});
  cases.push_back({"early_final_response", shadow_plan(fault::early_final_response), false, false,
                   true, 256 * 1024, nullptr, 0});
  return cases;
}

// Route `api`: live {live}, mirrored at 100 % to {preview}, whose timeouts are `timeout`.
std::string shadow_config(const std::string& timeout) {
  return "version: 1\n"
         "listeners: [{ name: public, address: \"127.0.0.1:0\" }]\n"
         "admin: { address: \"127.0.0.1:0\" }\n"
         "workers: 1\n"
         "upstreams:\n"
         "  live: { endpoints: [\"{live}\"] }\n"
         "  preview: { endpoints: [\"{preview}\"], connect_timeout: " +
         timeout + ", request_timeout: " + timeout + ", io_timeout: " + timeout +
         " }\n"
         "routes:\n"
         "  - name: api\n"
         "    upstream: live\n"
         "    mirror: { upstream: preview, percent: 100, methods: [GET, POST], "
         "max_body_bytes: 16MiB }\n";
}

class FaultMatrixShadowTest : public ::testing::TestWithParam<shadow_case> {};

TEST_P(FaultMatrixShadowTest, ClientGetsTheLiveAnswerOnTimeAndTheFaultIsCounted) {
  const auto& c = GetParam();
  http_backend live(echo_handler());
  fault_server preview(c.plan);
  const std::string preview_address =
      c.refused ? "127.0.0.1:" + std::to_string(refusing_port()) : preview.address();
  running_proxy proxy(shadow_config(c.preview_timeout),
                      {{"live", live.address()}, {"preview", preview_address}});
  constexpr int requests = 2;
  {
    raw_client client(answer_bound);
    ASSERT_TRUE(client.connect(proxy.port()));
    for (int i = 0; i < requests; ++i) {
      const std::string target = "/r/" + std::to_string(i);
      const auto res = client.round_trip(
          c.post_body ? raw_client::request("POST", target, {}, pattern_bytes(0, c.body_bytes))
                      : raw_client::request("GET", target));
      ASSERT_TRUE(res.ok()) << "request " << i << ": " << res.error;
      EXPECT_EQ(res.status, 200) << "request " << i;
      ASSERT_EQ(live.requests_seen(), static_cast<std::size_t>(i + 1));
      EXPECT_EQ(res.body, echo_json(live.requests().at(static_cast<std::size_t>(i))))
          << "request " << i;
    }
    if (c.stalls) {
      // On time: both answers came while the shadows were still stuck (they can only end at
      // preview's request_timeout).
      EXPECT_EQ(proxy.engine().compared(), 0u);
    }
  }
  ASSERT_TRUE(proxy.engine().wait_settled(requests, settle_bound));
  // A held connection sees the proxy's close only behind what the proxy still had queued for
  // it: let the fault server read that. A connection the proxy kept open stays open.
  preview.release();
  const std::string route = "{route=\"api\",outcome=\"";
  if (c.error_kind != nullptr) {
    EXPECT_EQ(metric(proxy, "parallax_mirror_compared_total" + route + "shadow_error\"}"),
              static_cast<std::uint64_t>(requests));
    EXPECT_EQ(
        metric(proxy, std::string("parallax_upstream_errors_total{upstream=\"preview\",kind=\"") +
                          c.error_kind + "\"}"),
        static_cast<std::uint64_t>(requests));
  } else {
    EXPECT_EQ(metric(proxy, "parallax_mirror_compared_total" + route + "differ\"}"),
              static_cast<std::uint64_t>(requests));
    EXPECT_EQ(metric(proxy, "parallax_mirror_compared_total" + route + "shadow_error\"}"), 0u);
  }
  EXPECT_EQ(metric(proxy, "parallax_upstream_errors_total{upstream=\"live\",kind=\"reset\"}"), 0u);
  if (c.plan.kind == fault::extra_bytes && !c.refused) {
    // The connection that sent too much is never used again.
    for (const auto& conn : preview.connections())
      EXPECT_EQ(conn.requests, 1u) << "preview connection " << conn.id;
  }
  if (!c.refused) {
    EXPECT_GE(preview.connections_accepted(), 1u);
    expect_nothing_left(proxy, preview, c.pooled);
  } else {
    EXPECT_TRUE(await_metric_at_most(proxy, downstream_series, 0));
  }
}

INSTANTIATE_TEST_SUITE_P(FaultMatrix, FaultMatrixShadowTest, ::testing::ValuesIn(shadow_cases()),
                         [](const ::testing::TestParamInfo<shadow_case>& param) {
                           return std::string(param.param.name);
                         });

// ---------------------------------------------------------------------------------------------
// Many nasty exchanges in a row: nothing accumulates.

// Resident set size of this process (the proxy runs in it) in bytes; 0 if unreadable.
std::uint64_t own_rss_bytes() {
  std::ifstream status("/proc/self/status");
  for (std::string line; std::getline(status, line);) {
    if (line.starts_with("VmRSS:")) {
      std::istringstream fields(line.substr(6));
      std::uint64_t kib = 0;
      fields >> kib;
      return kib * 1024;
    }
  }
  return 0;
}

TEST(FaultMatrixSoakTest, TwoHundredRoundsOfFastFaultsLeakNothing) {
  // Faults that end at once (no timeout to wait for), on the live side and on the shadow side,
  // in turn: resets, garbage, an oversized head, a short body, extra bytes.
  const std::vector<fault> kinds = {fault::reset_mid_head, fault::reset_mid_body,
                                    fault::garbage,        fault::oversized_head,
                                    fault::short_body,     fault::extra_bytes};
  const auto choose = [kinds](std::uint64_t id) {
    fault_plan plan = shadow_plan(kinds[(id - 1) % kinds.size()]);
    plan.head_bytes = response_head_limit + 44 * 1024;
    return plan;
  };
  fault_server live_faults(choose);
  fault_server preview_faults(choose);
  http_backend live(echo_handler());
  running_proxy proxy("version: 1\n"
                      "listeners: [{ name: public, address: \"127.0.0.1:0\" }]\n"
                      "admin: { address: \"127.0.0.1:0\" }\n"
                      "workers: 1\n"
                      "upstreams:\n"
                      "  faulty: { endpoints: [\"{faulty}\"], request_timeout: 500ms }\n"
                      "  live: { endpoints: [\"{live}\"] }\n"
                      "  preview: { endpoints: [\"{preview}\"], request_timeout: 500ms }\n"
                      "routes:\n"
                      "  - { name: faulty, match: { path_prefix: /faulty/ }, upstream: faulty }\n"
                      "  - name: api\n"
                      "    upstream: live\n"
                      "    mirror: { upstream: preview, percent: 100 }\n",
                      {{"faulty", live_faults.address()},
                       {"live", live.address()},
                       {"preview", preview_faults.address()}});
  constexpr int warm_up = 20;
  constexpr int rounds = 200;
  std::uint64_t rss_after_warm_up = 0;
  for (int i = 0; i < warm_up + rounds; ++i) {
    if (i == warm_up) rss_after_warm_up = own_rss_bytes();
    {
      raw_client client(answer_bound);
      ASSERT_TRUE(client.connect(proxy.port()));
      ASSERT_TRUE(client.send(
          raw_client::request("GET", "/faulty/" + std::to_string(i), {{"Connection", "close"}})));
      // A 502, a truncated 200 or a whole one (extra bytes): an answer or a close, never a hang.
      const auto got = client.read_until_close();
      ASSERT_NE(to_string(got.status), "timeout") << "round " << i;
    }
    {
      raw_client client(answer_bound);
      ASSERT_TRUE(client.connect(proxy.port()));
      const auto res = client.round_trip(raw_client::request("GET", "/api/" + std::to_string(i)));
      ASSERT_TRUE(res.ok()) << "round " << i << ": " << res.error;
      ASSERT_EQ(res.status, 200) << "round " << i;
    }
  }
  ASSERT_TRUE(proxy.engine().wait_settled(warm_up + rounds, settle_bound));
  // Every round met a fault on both sides (nothing was pooled and quietly reused).
  EXPECT_GE(live_faults.connections_accepted(), static_cast<std::size_t>(warm_up + rounds));
  EXPECT_GE(preview_faults.connections_accepted(), static_cast<std::size_t>(warm_up + rounds));
  expect_nothing_left(proxy, live_faults);
  expect_nothing_left(proxy, preview_faults);
  const auto growth =
      static_cast<std::int64_t>(own_rss_bytes()) - static_cast<std::int64_t>(rss_after_warm_up);
#if defined(__SANITIZE_ADDRESS__)
  // AddressSanitizer's quarantine holds freed memory on purpose; its leak check covers this.
  (void)growth;
#else
  EXPECT_LT(growth, 20ll << 20) << "RSS grew by " << growth / 1024 << " KiB over " << rounds
                                << " rounds";
#endif
}

} // namespace
} // namespace parallax::test
