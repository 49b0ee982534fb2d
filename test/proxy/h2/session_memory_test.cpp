#include "proxy/h2/session_memory.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

namespace parallax::proxy::h2 {
namespace {

std::string pattern(std::size_t n, char seed) {
  std::string s(n, '\0');
  for (std::size_t i = 0; i < n; ++i)
    s[i] = static_cast<char>(seed + static_cast<char>(i % 23));
  return s;
}

TEST(SessionMemoryTest, BlocksOfEverySizeHoldTheirBytesAndAreAligned) {
  auto* mem = session_memory();
  std::vector<std::pair<void*, std::string>> blocks;
  for (std::size_t size : {1UL, 15UL, 16UL, 63UL, 64UL, 65UL, 700UL, 1024UL, 1025UL, 70000UL}) {
    for (int i = 0; i < 3; ++i) {
      auto bytes = pattern(size, static_cast<char>('a' + i));
      void* p = mem->malloc(size, mem->mem_user_data);
      ASSERT_NE(p, nullptr);
      EXPECT_EQ(reinterpret_cast<std::uintptr_t>(p) % 16, 0u) << size;
      std::memcpy(p, bytes.data(), size);
      blocks.emplace_back(p, std::move(bytes));
    }
  }
  for (auto& [p, bytes] : blocks) {
    EXPECT_EQ(std::memcmp(p, bytes.data(), bytes.size()), 0) << bytes.size();
    mem->free(p, mem->mem_user_data);
  }
  mem->free(nullptr, mem->mem_user_data); // as free(NULL)
}

TEST(SessionMemoryTest, FreedBlocksAreReusedWithoutMixingUp) {
  auto* mem = session_memory();
  void* a = mem->malloc(100, mem->mem_user_data);
  std::memset(a, 'x', 100);
  mem->free(a, mem->mem_user_data);
  void* b = mem->malloc(120, mem->mem_user_data); // same size class
  void* c = mem->malloc(120, mem->mem_user_data); // another block
  EXPECT_NE(b, c);
  std::memset(b, 'b', 120);
  std::memset(c, 'c', 120);
  EXPECT_EQ(static_cast<unsigned char*>(b)[119], 'b');
  EXPECT_EQ(static_cast<unsigned char*>(c)[0], 'c');
  mem->free(b, mem->mem_user_data);
  mem->free(c, mem->mem_user_data);
}

TEST(SessionMemoryTest, CallocZeroesAndRefusesOverflow) {
  auto* mem = session_memory();
  void* dirty = mem->malloc(200, mem->mem_user_data);
  std::memset(dirty, 0xff, 200);
  mem->free(dirty, mem->mem_user_data);
  auto* p = static_cast<unsigned char*>(mem->calloc(10, 20, mem->mem_user_data));
  ASSERT_NE(p, nullptr);
  for (int i = 0; i < 200; ++i)
    ASSERT_EQ(p[i], 0) << i;
  mem->free(p, mem->mem_user_data);
  EXPECT_EQ(mem->calloc(SIZE_MAX / 2, 4, mem->mem_user_data), nullptr);
}

TEST(SessionMemoryTest, ReallocKeepsTheBytesAcrossClassesAndToLargeBlocks) {
  auto* mem = session_memory();
  auto bytes = pattern(50, 'k');
  void* p = mem->realloc(nullptr, 50, mem->mem_user_data); // as malloc
  std::memcpy(p, bytes.data(), 50);
  p = mem->realloc(p, 60, mem->mem_user_data); // within its class
  EXPECT_EQ(std::memcmp(p, bytes.data(), 50), 0);
  p = mem->realloc(p, 900, mem->mem_user_data); // a larger class
  EXPECT_EQ(std::memcmp(p, bytes.data(), 50), 0);
  p = mem->realloc(p, 100000, mem->mem_user_data); // beyond the cached sizes
  EXPECT_EQ(std::memcmp(p, bytes.data(), 50), 0);
  static_cast<char*>(p)[99999] = 'z';
  p = mem->realloc(p, 10, mem->mem_user_data); // shrinking keeps the block
  EXPECT_EQ(std::memcmp(p, bytes.data(), 10), 0);
  EXPECT_EQ(mem->realloc(p, 0, mem->mem_user_data), nullptr); // as free
}

TEST(SessionMemoryTest, ABlockFreedOnAnotherThreadIsFine) {
  auto* mem = session_memory();
  void* p = mem->malloc(300, mem->mem_user_data);
  std::memset(p, 'q', 300);
  std::thread other([&] {
    mem->free(p, mem->mem_user_data); // joins the other thread's cache, freed when it ends
    void* q = mem->malloc(300, mem->mem_user_data);
    std::memset(q, 'r', 300);
    mem->free(q, mem->mem_user_data);
  });
  other.join();
  void* again = mem->malloc(300, mem->mem_user_data);
  ASSERT_NE(again, nullptr);
  mem->free(again, mem->mem_user_data);
}

} // namespace
} // namespace parallax::proxy::h2
