// Header names the proxy acts on are recognised in any case; others are field::other.

#include "proxy/http/message.hpp"

#include <gtest/gtest.h>

namespace parallax::proxy::http {
namespace {

TEST(MessageTest, FieldOfRecognisesKnownNamesInAnyCase) {
  EXPECT_EQ(field_of("te"), field::te);
  EXPECT_EQ(field_of("Host"), field::host);
  EXPECT_EQ(field_of("EXPECT"), field::expect);
  EXPECT_EQ(field_of("upgrade"), field::upgrade);
  EXPECT_EQ(field_of("Trailer"), field::trailer);
  EXPECT_EQ(field_of("Connection"), field::connection);
  EXPECT_EQ(field_of("keep-alive"), field::keep_alive);
  EXPECT_EQ(field_of("Content-Length"), field::content_length);
  EXPECT_EQ(field_of("x-forwarded-for"), field::x_forwarded_for);
  EXPECT_EQ(field_of("Proxy-Connection"), field::proxy_connection);
  EXPECT_EQ(field_of("X-Forwarded-Host"), field::x_forwarded_host);
  EXPECT_EQ(field_of("transfer-encoding"), field::transfer_encoding);
  EXPECT_EQ(field_of("X-FORWARDED-PROTO"), field::x_forwarded_proto);
  // Same lengths and first letters as known names, but other names.
  EXPECT_EQ(field_of("tx"), field::other);
  EXPECT_EQ(field_of("hose"), field::other);
  EXPECT_EQ(field_of("trailed"), field::other);
  EXPECT_EQ(field_of("connectiom"), field::other);
  EXPECT_EQ(field_of("content-type"), field::other);
  EXPECT_EQ(field_of("x-forwarded-port"), field::other);
  EXPECT_EQ(field_of(""), field::other);
  EXPECT_EQ(field_of("t"), field::other);
}

TEST(MessageTest, HeaderListFindsByNameInAnyCase) {
  header_list h;
  h.add("Content-Length", "5");
  h.add("X-Custom", "a");
  h.add("x-custom", "b");
  EXPECT_EQ(h.find("content-length").value_or(""), "5");
  EXPECT_EQ(h.find(field::content_length).value_or(""), "5");
  EXPECT_EQ(h.find("X-CUSTOM").value_or(""), "a");
  EXPECT_EQ(h.count("x-custom"), 2u);
  EXPECT_FALSE(h.find("host").has_value());
}

TEST(MessageTest, ConnectionOptionsBeyondTheHopByHopOnes) {
  header_list h;
  h.add("Connection", "keep-alive, Close");
  h.add("Connection", "upgrade");
  EXPECT_FALSE(names_other_options(h)); // nothing to look up field by field
  h.add("connection", "X-Hop");
  EXPECT_TRUE(names_other_options(h));
  EXPECT_TRUE(named_in_connection(h, "x-hop"));
  EXPECT_FALSE(named_in_connection(h, "x-other"));
}

} // namespace
} // namespace parallax::proxy::http
