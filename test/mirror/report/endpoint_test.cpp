#include "mirror/report/endpoint.hpp"

#include <gtest/gtest.h>

namespace parallax::mirror::report {
namespace {

const endpoint_namer automatic{{}};

TEST(EndpointNamerTest, PlainPathIsKept) {
  EXPECT_EQ(automatic.name("GET", "/api/users"), "GET /api/users");
  EXPECT_EQ(automatic.name("POST", "/"), "POST /");
}

TEST(EndpointNamerTest, QueryStringIsNotPartOfTheEndpoint) {
  EXPECT_EQ(automatic.name("GET", "/api/users?page=2&token=x"), "GET /api/users");
  EXPECT_EQ(automatic.name("GET", "/api/users#top"), "GET /api/users");
  EXPECT_EQ(automatic.name("GET", "/?q=1"), "GET /");
}

TEST(EndpointNamerTest, DigitSegmentsBecomeId) {
  EXPECT_EQ(automatic.name("GET", "/api/users/42"), "GET /api/users/{id}");
  EXPECT_EQ(automatic.name("GET", "/api/users/42/orders/7"), "GET /api/users/{id}/orders/{id}");
  EXPECT_EQ(automatic.name("GET", "/0"), "GET /{id}");
}

TEST(EndpointNamerTest, MixedSegmentsAreKept) {
  EXPECT_EQ(automatic.name("GET", "/api/v2/users"), "GET /api/v2/users");
  EXPECT_EQ(automatic.name("GET", "/items/42a"), "GET /items/42a");
  EXPECT_EQ(automatic.name("GET", "/items/-42"), "GET /items/-42");
}

TEST(EndpointNamerTest, UuidSegmentsBecomeId) {
  EXPECT_EQ(automatic.name("GET", "/orders/123e4567-e89b-12d3-a456-426614174000"),
            "GET /orders/{id}");
  EXPECT_EQ(automatic.name("GET", "/orders/123E4567-E89B-12D3-A456-426614174000/items"),
            "GET /orders/{id}/items");
  // Wrong grouping or a non-hex digit is not a UUID.
  EXPECT_EQ(automatic.name("GET", "/o/123e4567e-89b-12d3-a456-426614174000"),
            "GET /o/123e4567e-89b-12d3-a456-426614174000");
  EXPECT_EQ(automatic.name("GET", "/o/123e4567-e89b-12d3-a456-42661417400g"),
            "GET /o/123e4567-e89b-12d3-a456-42661417400g");
}

TEST(EndpointNamerTest, LongHexSegmentsBecomeId) {
  EXPECT_EQ(automatic.name("GET", "/blobs/0123456789abcdef"), "GET /blobs/{id}");           // 16
  EXPECT_EQ(automatic.name("GET", "/blobs/0123456789ABCDEF01"), "GET /blobs/{id}");         // 18
  EXPECT_EQ(automatic.name("GET", "/blobs/0123456789abcde"), "GET /blobs/0123456789abcde"); // 15
  EXPECT_EQ(automatic.name("GET", "/blobs/deadbeef"), "GET /blobs/deadbeef");
}

TEST(EndpointNamerTest, IdSegmentRules) {
  EXPECT_TRUE(is_id_segment("1"));
  EXPECT_TRUE(is_id_segment("00000000-0000-0000-0000-000000000000"));
  EXPECT_TRUE(is_id_segment("ffffffffffffffff"));
  EXPECT_FALSE(is_id_segment(""));
  EXPECT_FALSE(is_id_segment("users"));
  EXPECT_FALSE(is_id_segment("fffffffffffffff"));
  EXPECT_FALSE(is_id_segment("1.5"));
}

TEST(EndpointNamerTest, EmptySegmentsAndTrailingSlashArePreserved) {
  EXPECT_EQ(automatic.name("GET", "/api/users/"), "GET /api/users/");
  EXPECT_EQ(automatic.name("GET", "/api//42"), "GET /api//{id}");
}

TEST(EndpointNamerTest, AbsoluteFormTargetUsesItsPath) {
  EXPECT_EQ(automatic.name("GET", "http://shop.example.com/api/users/42?x=1"),
            "GET /api/users/{id}");
  EXPECT_EQ(automatic.name("GET", "http://shop.example.com"), "GET /");
  EXPECT_EQ(automatic.name("GET", "http://shop.example.com?x=1"), "GET /");
}

TEST(EndpointNamerTest, AsteriskFormIsKept) {
  EXPECT_EQ(automatic.name("OPTIONS", "*"), "OPTIONS *");
  EXPECT_EQ(automatic.name("GET", ""), "GET /");
}

TEST(EndpointNamerTest, TemplatePlaceholderMatchesAnyOneSegment) {
  const endpoint_namer namer({"/api/users/{id}/orders/{order}"});
  EXPECT_EQ(namer.name("GET", "/api/users/ann/orders/A-17?x=1"),
            "GET /api/users/{id}/orders/{order}");
  EXPECT_EQ(namer.name("DELETE", "/api/users/42/orders/7"),
            "DELETE /api/users/{id}/orders/{order}");
}

TEST(EndpointNamerTest, TemplateNeedsSameSegmentCount) {
  const endpoint_namer namer({"/api/users/{id}"});
  EXPECT_EQ(namer.name("GET", "/api/users/ann"), "GET /api/users/{id}");
  EXPECT_EQ(namer.name("GET", "/api/users/ann/orders"), "GET /api/users/ann/orders");
  EXPECT_EQ(namer.name("GET", "/api/users"), "GET /api/users");
  // A placeholder does not match an empty segment, so a trailing slash is a different endpoint.
  EXPECT_EQ(namer.name("GET", "/api/users/"), "GET /api/users/");
}

TEST(EndpointNamerTest, TemplateLiteralSegmentsAreCaseSensitive) {
  const endpoint_namer namer({"/api/users/{id}"});
  EXPECT_EQ(namer.name("GET", "/API/users/ann"), "GET /API/users/ann");
}

TEST(EndpointNamerTest, FirstMatchingTemplateWins) {
  const endpoint_namer namer({"/api/users/me", "/api/users/{user}", "/api/{resource}/{id}"});
  EXPECT_EQ(namer.name("GET", "/api/users/me"), "GET /api/users/me");
  EXPECT_EQ(namer.name("GET", "/api/users/42"), "GET /api/users/{user}");
  EXPECT_EQ(namer.name("GET", "/api/items/42"), "GET /api/{resource}/{id}");
}

TEST(EndpointNamerTest, UnmatchedPathFallsBackToAutomaticNaming) {
  const endpoint_namer namer({"/api/users/{user}"});
  EXPECT_EQ(namer.name("GET", "/api/items/42"), "GET /api/items/{id}");
}

TEST(EndpointNamerTest, RootTemplateMatchesOnlyRoot) {
  const endpoint_namer namer({"/"});
  EXPECT_EQ(namer.name("GET", "/?a=1"), "GET /");
  EXPECT_EQ(namer.name("GET", "/x"), "GET /x");
}

TEST(EndpointNamerTest, TargetPathStripsQueryFragmentAndAuthority) {
  EXPECT_EQ(target_path("/a/b?c#d"), "/a/b");
  EXPECT_EQ(target_path("https://h:8443/a?b"), "/a");
  EXPECT_EQ(target_path("*"), "*");
  EXPECT_EQ(target_path("shop.example.com:443"), "shop.example.com:443");
}

} // namespace
} // namespace parallax::mirror::report
