// Reloads of the real binary (config.md "Reload", proxy.md "Signals" and the admin table):
// POST /reload and SIGHUP re-read the file, a bad file is rejected with its positions and the
// running configuration stays, and `run --watch` follows a Kubernetes ConfigMap volume, whose
// file is a symlink through `..data` that the kubelet swaps atomically.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>

#include <csignal>
#include <filesystem>
#include <string>

#include "test/integration/binary_fixture.hpp"
#include "test/integration/proxy_fixture.hpp"
#include "test/support/http_backend.hpp"
#include "test/support/raw_client.hpp"
#include "test/support/temp_dir.hpp"

namespace parallax::test {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using ::testing::HasSubstr;

request_handler named(const std::string& name) {
  return fixed_response_handler(200, "ok\n", {{"x-backend", name}});
}

std::string backend_of(std::uint16_t port) {
  return get(port, "/x").header("x-backend").value_or("(none)");
}

parsed_response post_reload(std::uint16_t admin_port) {
  raw_client admin;
  if (!admin.connect(admin_port)) {
    parsed_response failed;
    failed.error = admin.last_error();
    return failed;
  }
  return admin.round_trip(raw_client::request("POST", "/reload"));
}

TEST(ReloadBinaryTest, PostReloadAndSighupReReadTheFileAndABadFileIsRejectedWithPositions) {
  http_backend a(named("a"));
  http_backend b(named("b"));
  const temp_dir dir("parallax-reload-binary");
  const auto path = write_file(dir.file("parallax.yaml"), run_config(dir, a.address()));
  running_binary proxy(path);
  ASSERT_TRUE(proxy.ready()) << proxy.process().all_output();
  EXPECT_EQ(backend_of(proxy.port()), "a");

  write_file(path, run_config(dir, b.address()));
  auto r = post_reload(proxy.admin_port());
  ASSERT_EQ(r.status, 200) << r.body;
  auto body = boost::json::parse(r.body);
  EXPECT_EQ(body.at("result").as_string(), "ok");
  EXPECT_EQ(body.at("generation").as_int64(), 2);
  EXPECT_EQ(backend_of(proxy.port()), "b");

  // A file with errors: 400 with each error at its position; the running configuration stays.
  write_file(path, run_config(dir, b.address(), "limits: { max_connections: -1 }\n"));
  r = post_reload(proxy.admin_port());
  ASSERT_EQ(r.status, 400) << r.body;
  body = boost::json::parse(r.body);
  EXPECT_EQ(body.at("result").as_string(), "rejected");
  EXPECT_EQ(body.at("generation").as_int64(), 2);
  const std::string first(body.at("errors").at(0).as_string());
  EXPECT_EQ(first, path + ":10:28: limits.max_connections: must be at least 1, got -1");
  EXPECT_EQ(backend_of(proxy.port()), "b");
  const auto metrics = get(proxy.admin_port(), "/metrics").body;
  EXPECT_THAT(metrics, HasSubstr("parallax_config_reloads_total{result=\"rejected\"} 1\n"));
  EXPECT_THAT(metrics, HasSubstr("parallax_config_reloads_total{result=\"ok\"} 1\n"));
  EXPECT_THAT(metrics, HasSubstr("parallax_config_last_reload_successful 0\n"));

  // SIGHUP reloads the same way.
  write_file(path, run_config(dir, a.address()));
  ASSERT_TRUE(proxy.process().signal(SIGHUP));
  ASSERT_TRUE(proxy.process().wait_for_line("generation 3", exit_bound))
      << proxy.process().all_output();
  EXPECT_EQ(backend_of(proxy.port()), "a");
  EXPECT_THAT(get(proxy.admin_port(), "/metrics").body,
              HasSubstr("parallax_config_last_reload_successful 1\n"));
  ASSERT_TRUE(proxy.process().signal(SIGTERM));
  EXPECT_EQ(run_to_exit(proxy.process()), 0) << proxy.process().all_output();
}

// The kubelet's update of a ConfigMap volume: the new files go to a fresh directory, a symlink
// `..data_tmp` to it is renamed over `..data`, and `parallax.yaml` is a symlink through `..data`.
class configmap_volume {
public:
  explicit configmap_volume(const temp_dir& dir) : root_(dir.path()) {
    fs::create_symlink("..data/parallax.yaml", root_ / "parallax.yaml");
  }
  void publish(const std::string& text) {
    const auto version = "..2026_12_03_" + std::to_string(++versions_);
    fs::create_directory(root_ / version);
    write_file((root_ / version / "parallax.yaml").string(), text);
    fs::create_symlink(version, root_ / "..data_tmp");
    fs::rename(root_ / "..data_tmp", root_ / "..data"); // atomic
  }
  [[nodiscard]] std::string path() const { return (root_ / "parallax.yaml").string(); }

private:
  fs::path root_;
  int versions_ = 0;
};

TEST(ReloadBinaryTest, WatchFollowsAConfigMapSymlinkSwap) {
  http_backend a(named("a"));
  http_backend b(named("b"));
  // proxy.md: the short form `parallax --config FILE` is `run --config FILE`, --watch included.
  for (const bool short_form : {false, true}) {
    SCOPED_TRACE(short_form ? "parallax --config FILE --watch" : "parallax run --config ...");
    const temp_dir dir("parallax-reload-watch");
    configmap_volume volume(dir);
    volume.publish(run_config(dir, a.address()));
    running_binary proxy(volume.path(), {"--watch"}, short_form);
    ASSERT_TRUE(proxy.ready()) << proxy.process().all_output();
    EXPECT_EQ(backend_of(proxy.port()), "a");

    volume.publish(run_config(dir, b.address()));
    ASSERT_TRUE(proxy.process().wait_for_line("generation 2", exit_bound))
        << proxy.process().all_output();
    EXPECT_EQ(backend_of(proxy.port()), "b");
    if (short_form) {
      ASSERT_TRUE(proxy.process().signal(SIGTERM));
      EXPECT_EQ(run_to_exit(proxy.process()), 0);
      continue;
    }

    // A broken update is rejected once (not retried every poll) and the running one stays.
    volume.publish("version: 1\nlisteners: [\n");
    ASSERT_TRUE(proxy.process().wait_for_line("reload rejected", exit_bound))
        << proxy.process().all_output();
    EXPECT_EQ(backend_of(proxy.port()), "b");
    volume.publish(run_config(dir, a.address()));
    ASSERT_TRUE(proxy.process().wait_for_line("generation 3", exit_bound))
        << proxy.process().all_output();
    EXPECT_EQ(backend_of(proxy.port()), "a");
    ASSERT_TRUE(proxy.process().signal(SIGTERM));
    EXPECT_EQ(run_to_exit(proxy.process()), 0);
    const auto out = proxy.process().all_output();
    std::size_t rejected = 0;
    for (auto pos = out.find("reload rejected"); pos != std::string::npos;
         pos = out.find("reload rejected", pos + 1))
      ++rejected;
    EXPECT_EQ(rejected, 1u) << out;
  }
}

} // namespace
} // namespace parallax::test
