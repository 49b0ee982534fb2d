// `parallax demo` end to end, as a user runs it: the built-in live and preview services, the
// real proxy, the report printed; the HTTP/JSON tour and the gRPC one (--grpc).

#include <gtest/gtest.h>

#include <fstream>
#include <iterator>
#include <string>

#include "test/integration/binary_fixture.hpp"
#include "test/support/process.hpp"
#include "test/support/temp_dir.hpp"

namespace parallax::test {
namespace {

TEST(DemoTest, ShowsEachRegressionAndItsLogFeedsTheReportCommand) {
  temp_dir dir;
  const auto log = dir.file("demo.jsonl");
  child_process demo({binary(), "demo", "--requests", "240", "--log", log});
  ASSERT_EQ(run_to_exit(demo), 0) << demo.all_output();
  const auto out = demo.stdout_text();
  // The renamed field, the number that became a string, the 500s, the slower endpoint.
  EXPECT_NE(out.find("body /email_address"), std::string::npos) << out;
  EXPECT_NE(out.find("body /price"), std::string::npos) << out;
  EXPECT_NE(out.find("status 200 -> 500"), std::string::npos) << out;
  const auto search = out.find("GET /api/search");
  ASSERT_NE(search, std::string::npos) << out;
  EXPECT_NE(out.substr(search, out.find('\n', search) - search).find("LATENCY REGRESSION"),
            std::string::npos)
      << out;
  // The reordered list (unordered) and the timestamp (ignored) are not differences.
  EXPECT_EQ(out.find("/items"), std::string::npos) << out;
  EXPECT_EQ(out.find("generated_at"), std::string::npos) << out;
  EXPECT_NE(out.find("method 30"), std::string::npos) << out; // POSTs are not mirrored
  child_process report({binary(), "report", log});
  ASSERT_EQ(run_to_exit(report), 0) << report.all_output();
  EXPECT_NE(report.stdout_text().find("GET /api/orders/{id}"), std::string::npos);
}

TEST(DemoTest, GrpcTourShowsFieldsByNameTypeAndStatusChanges) {
  temp_dir dir;
  const auto log = dir.file("grpc.jsonl");
  child_process demo({binary(), "demo", "--grpc", "--requests", "240", "--log", log});
  ASSERT_EQ(run_to_exit(demo), 0) << demo.all_output();
  const auto out = demo.stdout_text();
  // Endpoints by method; a changed value and a changed type by field name (descriptors), a
  // field the descriptors lack by number, a changed status.
  EXPECT_NE(out.find("gRPC /demo.Shop/GetProduct"), std::string::npos) << out;
  EXPECT_NE(out.find(R"(body /messages/*/name  e.g. "Oak chair" -> "Oak Chair")"), std::string::npos) << out;
  EXPECT_NE(out.find(R"(body /messages/*/price_cents  e.g. "1999" -> "0")"), std::string::npos) << out;
  EXPECT_NE(out.find("body /messages/*/unknown_fields"), std::string::npos) << out;
  std::ifstream in(log);
  const std::string records{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
  EXPECT_NE(records.find(R"("shadow":{"3":"19.99"})"), std::string::npos);
  EXPECT_NE(records.find(R"("shadow":{"6":12})"), std::string::npos);
  EXPECT_NE(out.find("grpc_status 0 -> 5"), std::string::npos) << out;
  // The streamed list matches: its volatile timestamps are ignored.
  const auto list = out.find("gRPC /demo.Shop/ListProducts");
  ASSERT_NE(list, std::string::npos) << out;
  EXPECT_NE(out.substr(list, out.find('\n', list) - list).find("0.00%"), std::string::npos) << out;
  EXPECT_EQ(out.find("/messages/*/updated_at"), std::string::npos) << out;
  EXPECT_NE(out.find("method 60"), std::string::npos) << out; // PlaceOrder is not mirrored
  child_process report({binary(), "report", log});
  ASSERT_EQ(run_to_exit(report), 0) << report.all_output();
  EXPECT_NE(report.stdout_text().find("grpc_status 0 -> 5"), std::string::npos) << report.all_output();
}

} // namespace
} // namespace parallax::test
