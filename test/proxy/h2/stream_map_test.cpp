#include "proxy/h2/stream_map.hpp"

#include <gtest/gtest.h>

#include <string>

namespace parallax::proxy::h2 {
namespace {

TEST(StreamMapTest, FindsInsertsAndErasesByIdInAnyOrder) {
  stream_map<std::string> m;
  EXPECT_TRUE(m.empty());
  EXPECT_EQ(m.find(1), m.end());
  m[1] = "one";
  m[5] = "five";
  m[3] = "three"; // out of order: kept sorted
  m[7] = "seven";
  ASSERT_EQ(m.size(), 4u);
  EXPECT_EQ(m.find(3)->second, "three");
  EXPECT_EQ(m.find(4), m.end());
  EXPECT_EQ(m.find(9), m.end());
  m[5] = "FIVE"; // an existing id: the same entry
  EXPECT_EQ(m.size(), 4u);
  EXPECT_EQ(m.find(5)->second, "FIVE");
  m.erase(m.find(1));
  m.erase(m.find(7));
  std::string order;
  for (const auto& [id, v] : m)
    order += std::to_string(id) + "=" + v + " ";
  EXPECT_EQ(order, "3=three 5=FIVE ");
  m.clear();
  EXPECT_TRUE(m.empty());
}

} // namespace
} // namespace parallax::proxy::h2
