// nghttp2's memory from a per-thread cache of free blocks in 64-byte size classes. A session
// allocates and frees small blocks for every stream and frame (streams, outbound items, header
// copies: about 17 per proxied gRPC call over two sessions); with many streams in flight
// glibc's per-thread cache (7 blocks per size) overflows into its slower bins. Blocks carry
// their size class in a 16-byte prefix (nghttp2's free and realloc give no size). A block freed
// on another thread joins that thread's cache. Bounded: at most cached_bytes_limit per thread;
// beyond it and above the largest class, blocks go straight to malloc/free.

#include "proxy/h2/session_memory.hpp"

#include <array>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <new>

namespace parallax::proxy::h2 {

namespace {

constexpr std::size_t prefix = 16;                     // keeps malloc's 16-byte alignment
constexpr std::size_t class_bytes = 64;                // size class granularity
constexpr std::size_t classes = 16;                    // cached blocks hold up to 1 KiB
constexpr std::size_t cached_bytes_limit = 1UL << 20; // per thread

#if defined(__SANITIZE_ADDRESS__)
constexpr bool pooled = false; // AddressSanitizer sees every block's life
#else
constexpr bool pooled = true;
#endif

struct block_prefix {
  std::size_t size_class; // 1..classes: cached size class; 0: plain malloc of `bytes`
  std::size_t bytes;      // usable bytes
};
static_assert(sizeof(block_prefix) <= prefix);

struct free_block {
  free_block* next;
};

struct cache {
  std::array<free_block*, classes> heads{};
  std::size_t bytes = 0;
  ~cache();
};

thread_local bool cache_gone = false; // trivially destructible: readable after ~cache()
thread_local cache local;

cache::~cache() {
  for (auto*& head : heads) {
    while (head != nullptr) {
      auto* next = head->next;
      std::free(reinterpret_cast<char*>(head) - prefix);
      head = next;
    }
  }
  cache_gone = true;
}

block_prefix& prefix_of(void* p) {
  return *reinterpret_cast<block_prefix*>(static_cast<char*>(p) - prefix);
}

void* plain(std::size_t size) {
  auto* raw = static_cast<char*>(std::malloc(size + prefix));
  if (raw == nullptr) return nullptr;
  new (raw) block_prefix{0, size};
  return raw + prefix;
}

void* take(std::size_t size, void* /*user*/) {
  if (size == 0) size = 1;
  const auto size_class = (size + class_bytes - 1) / class_bytes;
  if (!pooled || size_class > classes || cache_gone) return plain(size);
  auto& head = local.heads[size_class - 1];
  if (head != nullptr) {
    auto* b = head;
    head = b->next;
    local.bytes -= size_class * class_bytes;
    return b;
  }
  auto* raw = static_cast<char*>(std::malloc(size_class * class_bytes + prefix));
  if (raw == nullptr) return nullptr;
  new (raw) block_prefix{size_class, size_class * class_bytes};
  return raw + prefix;
}

void give(void* p, void* /*user*/) {
  if (p == nullptr) return;
  const auto& info = prefix_of(p);
  const auto bytes = info.size_class * class_bytes;
  if (info.size_class == 0 || cache_gone || local.bytes + bytes > cached_bytes_limit) {
    std::free(static_cast<char*>(p) - prefix);
    return;
  }
  auto* b = static_cast<free_block*>(p);
  b->next = local.heads[info.size_class - 1];
  local.heads[info.size_class - 1] = b;
  local.bytes += bytes;
}

void* take_zeroed(std::size_t n, std::size_t size, void* user) {
  if (size != 0 && n > static_cast<std::size_t>(-1) / size) return nullptr;
  void* p = take(n * size, user);
  if (p != nullptr) std::memset(p, 0, n * size);
  return p;
}

void* resize(void* p, std::size_t size, void* user) {
  if (p == nullptr) return take(size, user);
  if (size == 0) {
    give(p, user);
    return nullptr;
  }
  const auto have = prefix_of(p).bytes;
  if (size <= have) return p;
  void* q = take(size, user);
  if (q == nullptr) return nullptr;
  std::memcpy(q, p, have);
  give(p, user);
  return q;
}

nghttp2_mem memory{nullptr, &take, &give, &take_zeroed, &resize};

} // namespace

nghttp2_mem* session_memory() noexcept {
  return &memory;
}

} // namespace parallax::proxy::h2
