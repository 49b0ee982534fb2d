#pragma once
// Test suites with the descriptor set protoc compiles from test/mirror/grpc/shop.proto at build
// time (PARALLAX_SHOP_DESCRIPTORS), loaded once per suite.

#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "mirror/grpc/proto_json.hpp"

namespace parallax::mirror::grpc::test {

class ShopDescriptors : public ::testing::Test {
protected:
  static void SetUpTestSuite() {
    std::string error;
    set_ = descriptor_set::load({PARALLAX_SHOP_DESCRIPTORS}, error);
    ASSERT_TRUE(set_) << error;
  }
  static void TearDownTestSuite() { set_.reset(); }
  static inline std::shared_ptr<const descriptor_set> set_;
};

} // namespace parallax::mirror::grpc::test
