// Every shipped example under config/examples/ must load without a single error.

#include "config/loader.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <string>
#include <vector>

namespace parallax::config {
namespace {

/// The example files, sorted so failures are reported in a stable order.
std::vector<std::filesystem::path> example_files() {
  std::vector<std::filesystem::path> out;
  const std::filesystem::path dir =
      std::filesystem::path(PARALLAX_SOURCE_DIR) / "config" / "examples";
  for (const auto& item : std::filesystem::directory_iterator(dir))
    if (item.is_regular_file() && item.path().extension() == ".yaml") out.push_back(item.path());
  std::sort(out.begin(), out.end());
  return out;
}

TEST(ConfigExamplesTest, EveryExampleLoadsWithoutErrors) {
  const auto files = example_files();
  ASSERT_FALSE(files.empty());
  for (const auto& file : files) {
    SCOPED_TRACE(file.string());
    const auto result = load_file(file.string());
    std::string errors;
    for (const auto& e : result.errors)
      errors += e.text() + "\n";
    EXPECT_TRUE(result.ok()) << errors;
  }
}

TEST(ConfigExamplesTest, TheDocumentedExamplesAreShipped) {
  const auto files = example_files();
  for (const char* name : {"minimal.yaml", "quickstart.yaml", "sidecar.yaml", "edge.yaml"}) {
    const bool present = std::any_of(files.begin(), files.end(),
                                     [&](const auto& path) { return path.filename() == name; });
    EXPECT_TRUE(present) << name;
  }
}

TEST(ConfigExamplesTest, QuickstartMirrorsEverythingToPreview) {
  const auto result =
      load_file(std::string(PARALLAX_SOURCE_DIR) + "/config/examples/quickstart.yaml");
  ASSERT_TRUE(result.ok());
  const config& c = *result.cfg;
  ASSERT_EQ(c.listeners.size(), 1u);
  EXPECT_EQ(c.listeners[0].name, "public");
  EXPECT_EQ(c.listeners[0].addr.text(), "127.0.0.1:8080");
  EXPECT_EQ(c.admin.addr.text(), "127.0.0.1:9901");
  EXPECT_EQ(c.upstreams.at("live").endpoints.at(0).text(), "127.0.0.1:9001");
  EXPECT_EQ(c.upstreams.at("preview").endpoints.at(0).text(), "127.0.0.1:9002");
  ASSERT_EQ(c.routes.size(), 1u);
  EXPECT_EQ(c.routes[0].name, "all");
  EXPECT_EQ(c.routes[0].upstream, "live");
  ASSERT_TRUE(c.routes[0].mirror);
  EXPECT_EQ(c.routes[0].mirror->upstream, "preview");
  EXPECT_EQ(c.routes[0].mirror->percent, 100);
  EXPECT_EQ(c.reports.discrepancies.path, "discrepancies.jsonl");
}

} // namespace
} // namespace parallax::config
