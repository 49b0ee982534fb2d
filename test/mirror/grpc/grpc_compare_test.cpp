// gRPC responses compared as call documents (reports.md): grpc_status and trailer differences,
// messages decoded with descriptors or by field number, ignore rules on /messages/..., a shadow
// cut after max_messages, prefixes of large bodies; and the pieces: the streaming message
// counter, the call's status from trailers or head, grpc-message percent-decoding.

#include <gtest/gtest.h>

#include <boost/json/serialize.hpp>

#include <memory>
#include <string>

#include "mirror/compare.hpp"
#include "mirror/grpc/call_document.hpp"
#include "mirror/grpc/messages.hpp"
#include "mirror/grpc/proto_json.hpp"
#include "mirror/report/record.hpp"
#include "test/mirror/describe.hpp"
#include "test/mirror/grpc/shop_fixture.hpp"
#include "test/mirror/grpc/wire.hpp"

namespace parallax::mirror::grpc {
namespace {

using namespace test;

TEST(GrpcMessageCounterTest, CountsWholeMessagesHoweverTheBytesArrive) {
  const auto body = framed("abc") + framed("") + framed(std::string(300, 'x')) + framed("z");
  for (std::size_t step : {1U, 2U, 5U, 7U, 1000U}) {
    message_counter counter;
    for (std::size_t i = 0; i < body.size(); i += step)
      counter.feed(std::string_view(body).substr(i, step));
    EXPECT_EQ(counter.complete(), 4U) << step;
    EXPECT_FALSE(counter.partial()) << step;
  }
  message_counter counter;
  EXPECT_EQ(counter.feed(framed("abc") + framed("de").substr(0, 3)), 1U);
  EXPECT_TRUE(counter.partial()); // a second message has begun
  EXPECT_EQ(counter.feed(framed("de").substr(3)), 2U);
  EXPECT_FALSE(counter.partial());
}

TEST(GrpcCallStatusTest, TrailersWinElseTheHeadOfATrailersOnlyResponse) {
  proxy::http::header_list head;
  proxy::http::header_list trailers;
  head.add("grpc-status", "5");
  head.add("grpc-message", "no%20such%20item%E2%9C%93");
  auto s = status_of(head, trailers);
  EXPECT_EQ(s.code, 5U);
  EXPECT_EQ(s.message, "no such item\xE2\x9C\x93");
  trailers.add("grpc-status", "0");
  s = status_of(head, trailers);
  EXPECT_EQ(s.code, 0U);
  EXPECT_EQ(s.message, "");
  trailers.clear();
  trailers.add("grpc-status", "OK");
  EXPECT_FALSE(status_of(head, trailers).code); // not a number
  EXPECT_EQ(decode_grpc_message("100%"), "100%");
  EXPECT_EQ(decode_grpc_message("%zz%4"), "%zz%4");
  EXPECT_TRUE(is_status_field("Grpc-Status"));
  EXPECT_FALSE(is_status_field("grpc-encoding"));
}

TEST(GrpcCallDocumentTest, MessagesInFieldNumberFormAndSplitErrors) {
  const auto doc =
      call_document({0, "fine"}, framed(vfield(1, 7)) + framed(bfield(2, "hi")), "", {});
  EXPECT_EQ(boost::json::serialize(doc),
            R"({"grpc_message":"fine","messages":[{"1":7},{"2":"hi"}]})");
  // A stream that broke off is reported; the beginning of a longer body is not.
  const auto cut = framed(vfield(1, 7)) + framed(vfield(1, 8)).substr(0, 4);
  EXPECT_EQ(call_document({}, cut, "", {}).at("messages_error"), "truncated");
  document_options prefix;
  prefix.prefix = true;
  EXPECT_FALSE(call_document({}, cut, "", prefix).contains("messages_error"));
  // More than max_messages: the first ones, no error.
  document_options two;
  two.max_messages = 2;
  const auto many = call_document({}, framed("") + framed("") + framed(""), "", two);
  EXPECT_EQ(many.at("messages").as_array().size(), 2U);
  EXPECT_FALSE(many.contains("messages_error"));
}

// A captured gRPC response: head (200, application/grpc), body, trailers.
response_capture grpc_response(std::string_view body, int grpc_status = 0,
                               std::string_view message = {}, std::uint64_t max_bytes = 1 << 20) {
  response_capture c(max_bytes);
  proxy::http::response_head head;
  head.status = 200;
  head.headers.add("content-type", "application/grpc");
  c.head(head);
  c.body(body);
  proxy::http::header_list trailers;
  trailers.add("grpc-status", std::to_string(grpc_status));
  if (!message.empty()) trailers.add("grpc-message", message);
  c.trailers(trailers);
  c.finish();
  return c;
}

std::string describe(const report::record& r) {
  return mirror::test::describe(r, true);
}

class GrpcCompareTest : public ShopDescriptors {
protected:
  report::record run(const response_capture& live, const response_capture& shadow,
                     std::string_view path = "/shop.Shop/GetItem", bool descriptors = true,
                     std::size_t max_messages = 100) {
    comparer c(policy);
    c.set_grpc(descriptors ? set_.get() : nullptr, max_messages);
    report::record r;
    c.compare(live, shadow, nullptr, r, path);
    return r;
  }

  static std::string item(std::string_view name, std::uint64_t price) {
    return bfield(1, "i-1") + bfield(2, name) + vfield(3, price);
  }

  config::compare_policy policy;
};

TEST_F(GrpcCompareTest, AChangedFieldIsReportedByNameWithDescriptors) {
  const auto r =
      run(grpc_response(framed(item("Ann", 10))), grpc_response(framed(item("ann", 10))));
  EXPECT_EQ(r.outcome, report::outcome::differ);
  EXPECT_EQ(describe(r), R"(body replace /messages/0/name "Ann" -> "ann")");
  EXPECT_EQ(
      run(grpc_response(framed(item("Ann", 10))), grpc_response(framed(item("Ann", 10)))).outcome,
      report::outcome::match);
}

TEST_F(GrpcCompareTest, WithoutDescriptorsFieldsAreNumbered) {
  const auto r = run(grpc_response(framed(item("Ann", 10))), grpc_response(framed(item("Ann", 11))),
                     "/shop.Shop/GetItem", false);
  EXPECT_EQ(describe(r), "body replace /messages/0/3 10 -> 11");
  // A method the descriptors do not know: numbered too.
  EXPECT_EQ(describe(run(grpc_response(framed(item("Ann", 10))),
                         grpc_response(framed(item("Ann", 11))), "/other.Svc/Get")),
            "body replace /messages/0/3 10 -> 11");
}

TEST_F(GrpcCompareTest, AFieldThatChangedTypeShowsAsItsDefaultAndAnUnknownField) {
  const auto shadow = bfield(1, "i-1") + bfield(2, "Ann") + bfield(3, "10");
  const auto r = run(grpc_response(framed(item("Ann", 10))), grpc_response(framed(shadow)));
  EXPECT_EQ(describe(r), R"(body replace /messages/0/price_cents "10" -> "0"; )"
                         R"(body add /messages/0/unknown_fields -> {"3":"10"})");
}

TEST_F(GrpcCompareTest, StatusMessageAndTrailersAreComparedApart) {
  auto live = grpc_response(framed(item("Ann", 10)));
  auto shadow = grpc_response("", 13, "boom%21");
  proxy::http::header_list extra;
  extra.add("grpc-status", "13");
  extra.add("grpc-message", "boom%21");
  extra.add("x-debug", "1");
  shadow.trailers(extra);
  const auto r = run(live, shadow);
  EXPECT_EQ(describe(r), R"(grpc_status 0 -> 13; trailer x-debug -> "1"; )"
                         R"(body replace /grpc_message "" -> "boom!"; )"
                         R"(body remove /messages/0 {"id":"i-1","name":"Ann","price_cents":"10",)"
                         R"("tags":[],"status":"STATUS_UNSPECIFIED"})");
}

TEST_F(GrpcCompareTest, ATrailersOnlyErrorTakesItsStatusFromTheHead) {
  response_capture shadow(1 << 20);
  proxy::http::response_head head;
  head.status = 200;
  head.headers.add("content-type", "application/grpc");
  head.headers.add("grpc-status", "5");
  shadow.head(head);
  shadow.finish();
  const auto r = run(grpc_response(""), shadow);
  // grpc-status in the head is no header difference: it is the call's status.
  EXPECT_EQ(describe(r), "grpc_status 0 -> 5");
}

TEST_F(GrpcCompareTest, TheStatusFollowsCompareStatusAndIgnoreRulesForSlashGrpcStatus) {
  const auto live = grpc_response("");
  const auto shadow = grpc_response("", 5);
  EXPECT_EQ(describe(run(live, shadow)), "grpc_status 0 -> 5");
  policy.body.ignore = {"/grpc_status"}; // the document's path for it (reports.md)
  auto r = run(live, shadow);
  EXPECT_EQ(r.outcome, report::outcome::match);
  EXPECT_EQ(r.noise_suppressed, 1U);
  policy.body.ignore.clear();
  policy.status = false; // as for an HTTP status: not compared, not counted
  r = run(live, shadow);
  EXPECT_EQ(r.outcome, report::outcome::match);
  EXPECT_EQ(r.noise_suppressed, 0U);
}

TEST_F(GrpcCompareTest, IgnoreRulesApplyToMessagePaths) {
  policy.body.ignore = {"/messages/*/name"};
  const auto r = run(grpc_response(framed(item("Ann", 10)) + framed(item("Bo", 10))),
                     grpc_response(framed(item("ann", 10)) + framed(item("bo", 10))));
  EXPECT_EQ(r.outcome, report::outcome::match);
  EXPECT_EQ(r.noise_suppressed, 2U);
}

TEST_F(GrpcCompareTest, ACutShadowIsComparedByItsFirstMessagesOnly) {
  std::string live_body;
  for (int i = 0; i < 5; ++i)
    live_body += framed(item("Ann", 10));
  auto live = grpc_response(live_body, 0, "done");
  // The shadow was cancelled after 3 messages: no status, no trailers, a partial 4th.
  response_capture shadow(1 << 20);
  proxy::http::response_head head;
  head.status = 200;
  head.headers.add("content-type", "application/grpc");
  shadow.head(head);
  shadow.body(live_body.substr(0, live_body.size() * 7 / 10));
  shadow.cut = true;
  shadow.finish();
  EXPECT_EQ(describe(run(live, shadow, "/shop.Shop/ListItems", true, 3)), "");
  // A difference within the first messages still counts.
  auto changed = std::string(live_body).replace(live_body.find("Ann"), 3, "Ana");
  response_capture shadow2(1 << 20);
  shadow2.head(head);
  shadow2.body(changed.substr(0, changed.size() * 7 / 10));
  shadow2.cut = true;
  shadow2.finish();
  EXPECT_EQ(describe(run(live, shadow2, "/shop.Shop/ListItems", true, 3)),
            R"(body replace /messages/0/name "Ann" -> "Ana")");
}

TEST_F(GrpcCompareTest, BodiesOverMaxBytesCompareTheMessagesBothPrefixesHold) {
  policy.body.max_bytes = 100;
  std::string live_body;
  std::string shadow_body;
  for (int i = 0; i < 20; ++i) {
    live_body += framed(item("Ann", 10));
    shadow_body += framed(item("Ann", i == 15 ? 11 : 10)); // beyond the kept prefix
  }
  const auto r = run(grpc_response(live_body, 0, {}, 100), grpc_response(shadow_body, 0, {}, 100));
  EXPECT_EQ(r.outcome, report::outcome::match) << describe(r);
  auto early = shadow_body;
  early.replace(early.find("Ann"), 3, "Bob");
  EXPECT_EQ(describe(run(grpc_response(live_body, 0, {}, 100), grpc_response(early, 0, {}, 100))),
            R"(body replace /messages/0/name "Ann" -> "Bob")");
}

} // namespace
} // namespace parallax::mirror::grpc
