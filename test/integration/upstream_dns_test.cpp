// Name resolution inside connect_timeout (config.md) with a resolver the test controls: a
// lookup that never answers is not waited for, a late answer is still used, and a server
// stopped while lookups are pending shuts down cleanly. The machine's resolver is never touched.

#include <gtest/gtest.h>

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <string>
#include <vector>

#include <boost/asio/post.hpp>

#include "proxy/net/name_resolver.hpp"
#include "test/integration/proxy_fixture.hpp"
#include "test/support/http_backend.hpp"
#include "test/support/raw_client.hpp"

namespace parallax::test {
namespace {

using namespace std::chrono_literals;
namespace net = proxy::net;

// Holds every lookup until the test answers it (or forever).
class controlled_resolver final : public net::name_resolver {
public:
  void resolve(boost::asio::io_context& io, const std::string& host, std::uint16_t port,
               net::resolve_handler done) override {
    std::lock_guard lock(mutex_);
    pending_.push_back({&io, host, port, std::move(done)});
    changed_.notify_all();
  }
  // Waits until `n` lookups were asked for.
  bool wait_for_lookups(std::size_t n, std::chrono::milliseconds timeout) {
    std::unique_lock lock(mutex_);
    return changed_.wait_for(lock, timeout, [&] { return asked_total() >= n; });
  }
  // Answers every pending lookup with 127.0.0.1:`port` on the loop that asked, and returns
  // once every handler has run there.
  void answer_all(std::uint16_t port) {
    std::unique_lock lock(mutex_);
    const auto target = answered_ + pending_.size();
    in_flight_ += pending_.size();
    for (auto& p : pending_) {
      boost::asio::post(*p.io, [this, done = std::move(p.done), port] {
        done({},
             {boost::asio::ip::tcp::endpoint(boost::asio::ip::make_address("127.0.0.1"), port)});
        std::lock_guard relock(mutex_);
        --in_flight_;
        ++answered_;
        changed_.notify_all();
      });
    }
    pending_.clear();
    changed_.wait(lock, [&] { return answered_ == target; });
  }
  // The host names asked for so far (pending ones).
  std::vector<std::string> hosts() {
    std::lock_guard lock(mutex_);
    std::vector<std::string> out;
    for (const auto& p : pending_)
      out.push_back(p.host);
    return out;
  }
  // Drops pending lookups unanswered (their handlers are destroyed, never run).
  void forget() {
    std::lock_guard lock(mutex_);
    pending_.clear();
  }

private:
  struct lookup {
    boost::asio::io_context* io;
    std::string host;
    std::uint16_t port;
    net::resolve_handler done;
  };
  std::size_t asked_total() const { return answered_ + in_flight_ + pending_.size(); }

  std::mutex mutex_;
  std::condition_variable changed_;
  std::vector<lookup> pending_;
  std::size_t answered_ = 0;
  std::size_t in_flight_ = 0; // posted, not run yet
};

std::string dns_config(const std::string& connect_timeout) {
  return "version: 1\n"
         "listeners: [{ name: public, address: \"127.0.0.1:0\" }]\n"
         "admin: { address: \"127.0.0.1:0\" }\n"
         "workers: 1\n"
         "upstreams:\n"
         "  live: { endpoints: [\"live.test.invalid:{port}\"], connect_timeout: " +
         connect_timeout +
         " }\n"
         "routes: [{ name: all, upstream: live }]\n";
}

TEST(UpstreamDnsTest, ALookupThatNeverAnswersEndsWithin502AtConnectTimeout) {
  http_backend live;
  auto resolver = std::make_shared<controlled_resolver>();
  running_proxy proxy(dns_config("300ms"), {{"port", std::to_string(live.port())}}, {},
                      [&](proxy::server::server& s) { s.set_resolver(resolver); });
  raw_client client;
  ASSERT_TRUE(client.connect(proxy.port()));
  const auto started = std::chrono::steady_clock::now();
  auto res = client.round_trip(raw_client::request("GET", "/a"));
  const auto took = std::chrono::steady_clock::now() - started;
  ASSERT_TRUE(res.ok()) << res.error;
  EXPECT_EQ(res.status, 502);
  EXPECT_LT(took, 5s); // bounded by connect_timeout (300 ms) and the 50 ms sweeper, not the lookup
  ASSERT_EQ(resolver->hosts(), std::vector<std::string>{"live.test.invalid"});
  const auto metrics = admin_get(proxy.admin_port(), "/metrics").body;
  EXPECT_EQ(
      metric_value(metrics, "parallax_upstream_errors_total{upstream=\"live\",kind=\"timeout\"}")
          .value_or("missing"),
      "1");

  // The answer arrives late: it is kept, and the next request uses it without a new lookup.
  resolver->answer_all(live.port());
  auto again = client.round_trip(raw_client::request("GET", "/b"));
  ASSERT_TRUE(again.ok()) << again.error;
  EXPECT_EQ(again.status, 200);
  EXPECT_TRUE(resolver->hosts().empty());
}

TEST(UpstreamDnsTest, StoppingWhileLookupsArePendingEndsEverySessionCleanly) {
  http_backend live;
  auto resolver = std::make_shared<controlled_resolver>();
  std::vector<raw_client> clients(4);
  {
    running_proxy proxy(dns_config("30s"), {{"port", std::to_string(live.port())}}, {},
                        [&](proxy::server::server& s) { s.set_resolver(resolver); });
    for (auto& c : clients) {
      ASSERT_TRUE(c.connect(proxy.port()));
      ASSERT_TRUE(c.send(raw_client::request("GET", "/")));
    }
    ASSERT_TRUE(resolver->wait_for_lookups(4, 5s));
    const auto started = std::chrono::steady_clock::now();
    proxy.stop(); // drains for 200 ms, closes what is left, stops the workers
    EXPECT_LT(std::chrono::steady_clock::now() - started, 10s);
  }
  // Every client sees its connection end (answered or closed), none hangs.
  for (auto& c : clients)
    EXPECT_TRUE(c.wait_closed(5s));
  resolver->forget(); // the handlers outlive the server: destroying them must be harmless
  EXPECT_EQ(live.requests_seen(), 0u);
}

} // namespace
} // namespace parallax::test
