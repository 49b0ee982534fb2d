#include "proxy/h2/stream_map.hpp"

#include <gtest/gtest.h>

#include <map>
#include <memory>
#include <random>
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

TEST(StreamMapTest, ErasingInEveryOrderKeepsTheRestFindableAndInOrder) {
  // Streams begin in id order and end in any order (mostly oldest first): checked against
  // std::map through many erasures near the front, the back and the middle, and compactions.
  std::mt19937 rng(7);
  stream_map<std::shared_ptr<int>> m;
  std::map<std::int32_t, int> want;
  std::int32_t next = 1;
  for (int round = 0; round < 20000; ++round) {
    const auto choice = rng() % 8;
    if (choice < 4 || want.empty()) {
      m[next] = std::make_shared<int>(next);
      want[next] = next;
      next += 2;
    } else {
      auto victim = want.begin(); // the oldest (most streams end so)
      if (choice == 6) victim = std::prev(want.end());
      if (choice == 7) std::advance(victim, static_cast<long>(rng() % want.size()));
      const auto it = m.find(victim->first);
      ASSERT_NE(it, m.end()) << victim->first;
      m.erase(it);
      want.erase(victim);
    }
    ASSERT_EQ(m.size(), want.size());
    ASSERT_EQ(m.empty(), want.empty());
    if (round % 97 == 0) {
      auto w = want.begin();
      for (const auto& [id, v] : m) {
        ASSERT_NE(w, want.end());
        ASSERT_EQ(id, w->first);
        ASSERT_TRUE(v);
        ASSERT_EQ(*v, w->second);
        ++w;
      }
      ASSERT_EQ(w, want.end());
      EXPECT_EQ(m.find(next), m.end());
      EXPECT_EQ(m.find(0), m.end());
    }
  }
}

TEST(StreamMapTest, AnErasedEntryReleasesItsValue) {
  stream_map<std::shared_ptr<int>> m;
  auto a = std::make_shared<int>(1);
  auto b = std::make_shared<int>(2);
  auto c = std::make_shared<int>(3);
  m[1] = a;
  m[3] = b;
  m[5] = c;
  m.erase(m.find(3)); // the middle: one side moves
  EXPECT_EQ(b.use_count(), 1);
  m.erase(m.find(1)); // the front
  EXPECT_EQ(a.use_count(), 1);
  EXPECT_EQ(m.size(), 1u);
  EXPECT_EQ(*m.find(5)->second, 3);
  m.erase(m.find(5));
  EXPECT_EQ(c.use_count(), 1);
  EXPECT_TRUE(m.empty());
  m[7] = a; // usable again after emptying
  EXPECT_EQ(m.begin()->first, 7);
}

} // namespace
} // namespace parallax::proxy::h2
