// gRPC message splitting and protobuf-to-JSON conversion (descriptor and field-number forms).

#include <gtest/gtest.h>

#include <boost/json/serialize.hpp>

#include <cstdint>
#include <string>

#include "mirror/grpc/messages.hpp"
#include "mirror/grpc/proto_json.hpp"
#include "test/mirror/grpc/shop_fixture.hpp"
#include "test/mirror/grpc/wire.hpp"
#include "test/mirror/zlib_compress.hpp"

namespace parallax::mirror::grpc {
namespace {

using namespace test;

std::string json(const boost::json::value& v) {
  return boost::json::serialize(v);
}

constexpr std::size_t mib = 1024 * 1024;

TEST(GrpcSplitTest, MessagesComeOutWholeWhateverTheirSize) {
  const std::string big(70000, 'x');
  const auto r = split_messages(framed("a") + framed("") + framed(big), "", 10, mib);
  EXPECT_EQ(r.status, split_status::ok);
  ASSERT_EQ(r.messages.size(), 3U);
  EXPECT_EQ(r.messages[0], "a");
  EXPECT_EQ(r.messages[1], "");
  EXPECT_EQ(r.messages[2], big);
}

TEST(GrpcSplitTest, ABodyCutInsideAPrefixOrAMessageIsTruncatedAndKeepsTheWholeOnes) {
  const auto body = framed("first") + framed("second");
  for (std::size_t cut = 1; cut < framed("second").size(); ++cut) {
    const auto r = split_messages(std::string_view(body).substr(0, body.size() - cut), "", 10, mib);
    EXPECT_EQ(r.status, split_status::truncated) << cut;
    ASSERT_EQ(r.messages.size(), 1U);
    EXPECT_EQ(r.messages[0], "first");
  }
}

TEST(GrpcSplitTest, LimitsOnCountAndSize) {
  const auto three = framed("1") + framed("2") + framed("3");
  const auto r = split_messages(three, "", 2, mib);
  EXPECT_EQ(r.status, split_status::too_many);
  EXPECT_EQ(r.messages.size(), 2U);
  EXPECT_EQ(split_messages(framed(std::string(101, 'x')), "", 10, 100).status,
            split_status::too_large);
  EXPECT_EQ(split_messages(framed(std::string(100, 'x')), "", 10, 100).status, split_status::ok);
  // Decompression is bounded too: a small message that inflates beyond the limit.
  EXPECT_EQ(split_messages(framed(gzip(std::string(5000, 'a')), true), "gzip", 10, 100).status,
            split_status::too_large);
}

TEST(GrpcSplitTest, CompressedMessagesAreDecompressedPerTheCallsEncoding) {
  const std::string message = bfield(2, "widget") + vfield(3, 999);
  const auto body = framed(gzip(message), true) + framed(message);
  const auto r = split_messages(body, "gzip", 10, mib);
  EXPECT_EQ(r.status, split_status::ok);
  ASSERT_EQ(r.messages.size(), 2U);
  EXPECT_EQ(r.messages[0], message);
  EXPECT_EQ(r.messages[1], message);
  EXPECT_EQ(split_messages(framed(zlib_wrapped(message), true), "deflate", 10, mib).messages.at(0),
            message);
  EXPECT_EQ(split_messages(framed(gzip(message), true), "", 10, mib).status, split_status::corrupt);
  EXPECT_EQ(split_messages(framed("not gzip", true), "gzip", 10, mib).status, split_status::corrupt);
  EXPECT_EQ(split_messages(framed("x", true), "snappy", 10, mib).status,
            split_status::unsupported_encoding);
  EXPECT_EQ(split_messages(std::string("\2\0\0\0\0", 5), "", 10, mib).status, split_status::corrupt);
}

TEST(GrpcSplitTest, ContentTypes) {
  EXPECT_TRUE(is_grpc_content_type("application/grpc"));
  EXPECT_TRUE(is_grpc_content_type("application/grpc+proto"));
  EXPECT_TRUE(is_grpc_content_type("Application/GRPC; charset=x"));
  EXPECT_FALSE(is_grpc_content_type("application/grpc-web"));
  EXPECT_FALSE(is_grpc_content_type("application/json"));
}

TEST(GrpcSplitTest, GrpcTimeouts) {
  using namespace std::chrono;
  EXPECT_EQ(parse_grpc_timeout("500m"), milliseconds(500));
  EXPECT_EQ(parse_grpc_timeout("2S"), seconds(2));
  EXPECT_EQ(parse_grpc_timeout("1H"), hours(1));
  EXPECT_EQ(parse_grpc_timeout("3M"), minutes(3));
  EXPECT_EQ(parse_grpc_timeout("7u"), microseconds(7));
  EXPECT_EQ(parse_grpc_timeout("99999999n"), nanoseconds(99999999));
  EXPECT_FALSE(parse_grpc_timeout("123456789S")); // 9 digits: more than gRPC allows
  EXPECT_FALSE(parse_grpc_timeout("S"));
  EXPECT_FALSE(parse_grpc_timeout("5s"));
  EXPECT_FALSE(parse_grpc_timeout("-5S"));
  EXPECT_FALSE(parse_grpc_timeout(""));
}

TEST(WireJsonTest, FieldsByNumber) {
  const auto nested = vfield(1, 7) + bfield(2, "inner");
  const auto message = vfield(1, 150) + bfield(2, "hi") + bfield(3, nested) + vfield(4, 1) +
                       vfield(4, 2) + bfield(5, std::string("\xff\x00", 2)) +
                       vfield(6, std::uint64_t{1} << 60) + key(7, 5) + std::string("\x01\0\0\0", 4) +
                       key(8, 1) + std::string("\x02\0\0\0\0\0\0\0", 8);
  const auto v = wire_to_json(message);
  ASSERT_TRUE(v);
  EXPECT_EQ(json(*v), R"({"1":150,"2":"hi","3":{"1":7,"2":"inner"},"4":[1,2],"5":{"base64":"/wA="},)"
                      R"("6":"1152921504606846976","7":1,"8":2})");
}

TEST(WireJsonTest, NotAMessage) {
  EXPECT_FALSE(wire_to_json("\x08"));                     // a varint cut off
  EXPECT_FALSE(wire_to_json(std::string("\x0a\x05""ab", 3))); // a length beyond the end
  EXPECT_FALSE(wire_to_json("\x0f"));                     // wire type 7 does not exist
  EXPECT_EQ(json(*wire_to_json("")), "{}");
  EXPECT_EQ(json(message_json(nullptr, "", "\x08")), R"({"base64":"CA=="})");
}

class DescriptorTest : public ShopDescriptors {};

TEST_F(DescriptorTest, MethodsResolveToTheirTypesAndIdempotency) {
  const auto get = set_->method("/shop.Shop/GetItem");
  ASSERT_TRUE(get);
  EXPECT_EQ(get->request, "shop.GetItemRequest");
  EXPECT_EQ(get->response, "shop.Item");
  EXPECT_TRUE(get->idempotent);
  EXPECT_FALSE(get->server_streaming);
  const auto list = set_->method("/shop.Shop/ListItems");
  ASSERT_TRUE(list);
  EXPECT_TRUE(list->server_streaming);
  EXPECT_FALSE(list->idempotent);
  EXPECT_FALSE(set_->method("/shop.Shop/Nope"));
  EXPECT_FALSE(set_->method("/shop.Nope/GetItem"));
  EXPECT_FALSE(set_->method("shop.Shop/GetItem"));
  EXPECT_FALSE(set_->method("/"));
}

TEST_F(DescriptorTest, MessagesConvertWithFieldNamesInt64AsStringsEnumsByNameAndDefaults) {
  const auto timestamp = vfield(1, 1700000000);
  const auto item = bfield(1, "i-1") + bfield(2, "widget") + vfield(3, 1999) + bfield(4, "a") +
                    bfield(4, "b") + vfield(5, 2) + bfield(6, timestamp) + bfield(7, bfield(1, "ann"));
  const auto v = set_->to_json("shop.Item", item);
  ASSERT_TRUE(v);
  EXPECT_EQ(json(*v), R"({"id":"i-1","name":"widget","price_cents":"1999","tags":["a","b"],)"
                      R"("status":"SOLD_OUT","owner":{"name":"ann"},"updated_at":"2023-11-14T22:13:20Z"})");
  // An empty message prints its defaults: a field set to its default reads as a change of value.
  EXPECT_EQ(json(*set_->to_json("shop.Item", "")),
            R"({"id":"","name":"","price_cents":"0","tags":[],"status":"STATUS_UNSPECIFIED"})");
}

TEST_F(DescriptorTest, UnknownFieldsAreKeptByNumber) {
  const auto v = set_->to_json("shop.GetItemRequest", bfield(1, "i-1") + vfield(9, 5));
  ASSERT_TRUE(v);
  EXPECT_EQ(json(*v), R"({"id":"i-1","unknown_fields":{"9":5}})");
}

TEST_F(DescriptorTest, AFieldOfAnotherWireTypeIsAnUnknownFieldAsProtobufParsesIt) {
  // Field 3 (int64) sent as a string: the field reads as its default, the string as unknown.
  const auto v = set_->to_json("shop.Item", bfield(3, "not a number"));
  ASSERT_TRUE(v);
  EXPECT_EQ(json(v->at("price_cents")), R"("0")");
  EXPECT_EQ(json(v->at("unknown_fields")), R"({"3":"not a number"})");
}

TEST_F(DescriptorTest, AnAnyOfAnUnknownTypeFallsBackToTheWireForm) {
  const auto any = bfield(1, "type.googleapis.com/elsewhere.Secret") + bfield(2, vfield(1, 42));
  const auto item = bfield(1, "i-1") + bfield(8, any);
  EXPECT_FALSE(set_->to_json("shop.Item", item));
  EXPECT_EQ(json(message_json(set_.get(), "shop.Item", item)),
            R"({"1":"i-1","8":{"1":"type.googleapis.com/elsewhere.Secret","2":{"1":42}}})");
  // A known type inside the Any converts.
  const auto known = bfield(1, "type.googleapis.com/shop.Owner") + bfield(2, bfield(1, "bo"));
  const auto v = set_->to_json("shop.Item", bfield(8, known));
  ASSERT_TRUE(v);
  EXPECT_EQ(json(v->at("extra")), R"({"@type":"type.googleapis.com/shop.Owner","name":"bo"})");
}

TEST_F(DescriptorTest, WhatDoesNotConvertFallsBackToTheWireFormThenToBase64) {
  EXPECT_FALSE(set_->to_json("shop.Item", "\x18")); // field 3's varint is missing
  EXPECT_EQ(json(message_json(set_.get(), "shop.Item", "\x18")), R"({"base64":"GA=="})");
  EXPECT_FALSE(set_->to_json("shop.Unknown", ""));
  EXPECT_EQ(json(message_json(set_.get(), "shop.Unknown", vfield(1, 1))), R"({"1":1})");
}

TEST(DescriptorLoadTest, ErrorsNameTheFile) {
  std::string error;
  EXPECT_FALSE(descriptor_set::load({"/nonexistent/x.pb"}, error));
  EXPECT_EQ(error, "/nonexistent/x.pb: cannot be read");
  EXPECT_FALSE(descriptor_set::load({PARALLAX_SOURCE_FILE}, error));
  EXPECT_NE(error.find("not a FileDescriptorSet"), std::string::npos) << error;
}

} // namespace
} // namespace parallax::mirror::grpc
