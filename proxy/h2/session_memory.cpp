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

constexpr std::size_t prefix = 16;                    // keeps malloc's 16-byte alignment
constexpr std::size_t class_bytes = 64;               // size class granularity
constexpr std::size_t classes = 16;                   // cached blocks hold up to 1 KiB
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

// The cache itself is trivially destructible and constant-initialised, so the fast paths read
// it with no thread-local guard; `owner` (which has a destructor) is touched only when a thread
// first caches a block, so that its blocks are freed when the thread ends. Afterwards `room` is
// 0 and the lists are empty: every block then goes to malloc/free.
struct cache {
  std::array<free_block*, classes> heads;
  std::size_t room; // bytes more this thread may cache
  bool owned;       // `owner` is constructed (its destructor will run)
  bool gone;        // `owner` was destroyed
};
constinit thread_local cache local{{}, cached_bytes_limit, false, false};

struct cache_owner {
  cache_owner() { local.owned = true; }
  ~cache_owner() {
    for (auto*& head : local.heads) {
      while (head != nullptr) {
        auto* next = head->next;
        std::free(reinterpret_cast<char*>(head) - prefix);
        head = next;
      }
    }
    local.room = 0;
    local.gone = true;
  }
};
thread_local cache_owner owner;

block_prefix& prefix_of(void* p) {
  return *reinterpret_cast<block_prefix*>(static_cast<char*>(p) - prefix);
}

void* plain(std::size_t size) {
  auto* raw = static_cast<char*>(std::malloc(size + prefix));
  if (raw == nullptr) return nullptr;
  new (raw) block_prefix{0, size};
  return raw + prefix;
}

[[gnu::noinline]] void* take_new(std::size_t size, std::size_t size_class) {
  if (!pooled || size_class - 1 >= classes || local.gone) return plain(size == 0 ? 1 : size);
  auto* raw = static_cast<char*>(std::malloc(size_class * class_bytes + prefix));
  if (raw == nullptr) return nullptr;
  new (raw) block_prefix{size_class, size_class * class_bytes};
  return raw + prefix;
}

void* take(std::size_t size, void* /*user*/) {
  const auto size_class = (size + class_bytes - 1) / class_bytes; // 0 for 0 bytes: plain
  if (size_class - 1 < classes) {
    auto& head = local.heads[size_class - 1]; // empty unless pooled
    if (auto* b = head; b != nullptr) {
      head = b->next;
      local.room += size_class * class_bytes;
      return b;
    }
  }
  return take_new(size, size_class);
}

void give(void* p, void* user);

[[gnu::noinline]] void give_first(void* p) {
  if (pooled && !local.gone) {
    [[maybe_unused]] const cache_owner& constructed = owner; // frees the cache at thread end
    if (local.owned) {
      give(p, nullptr);
      return;
    }
  }
  std::free(static_cast<char*>(p) - prefix);
}

void give(void* p, void* /*user*/) {
  if (p == nullptr) return;
  const auto size_class = prefix_of(p).size_class;
  const auto bytes = size_class * class_bytes;
  if (size_class == 0 || !pooled || local.room < bytes) {
    std::free(static_cast<char*>(p) - prefix);
    return;
  }
  if (!local.owned) {
    give_first(p);
    return;
  }
  auto* b = static_cast<free_block*>(p);
  b->next = local.heads[size_class - 1];
  local.heads[size_class - 1] = b;
  local.room -= bytes;
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
