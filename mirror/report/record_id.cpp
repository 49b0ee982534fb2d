#include "mirror/report/record_id.hpp"

#include <cstdint>
#include <functional>
#include <random>
#include <string_view>
#include <thread>

namespace parallax::mirror::report {
namespace {

constexpr std::string_view crockford = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

// Per-thread id state: ids from one thread are strictly increasing within a millisecond.
struct id_state {
  std::mt19937_64 rng;
  std::uint64_t last_ms = 0;
  std::uint16_t random_high = 0; // top 16 of the 80 random bits
  std::uint64_t random_low = 0;  // low 64 of the 80 random bits

  id_state() {
    std::random_device device;
    std::seed_seq seed{
        device(), device(), device(), device(),
        static_cast<unsigned>(std::hash<std::thread::id>{}(std::this_thread::get_id()))};
    rng.seed(seed);
  }
};

} // namespace

std::string make_record_id(std::chrono::system_clock::time_point time) {
  thread_local id_state state;
  const auto since_epoch =
      std::chrono::duration_cast<std::chrono::milliseconds>(time.time_since_epoch()).count();
  const std::uint64_t ms =
      since_epoch < 0 ? 0 : static_cast<std::uint64_t>(since_epoch) & 0xFFFFFFFFFFFFULL;
  if (ms == state.last_ms) {
    // Same millisecond: the next value of the 80-bit random part keeps the order.
    if (++state.random_low == 0) ++state.random_high;
  } else {
    state.last_ms = ms;
    state.random_low = state.rng();
    state.random_high = static_cast<std::uint16_t>(state.rng());
  }
  // 128 bits = high (48-bit time, 16 random bits) and low (64 random bits); 26 base32
  // characters hold 130 bits, so the first character carries only 3.
  std::uint64_t high = (ms << 16) | state.random_high;
  std::uint64_t low = state.random_low;
  std::string id(26, '0');
  for (std::size_t i = 26; i-- > 0;) {
    id[i] = crockford[low & 0x1F];
    low = (low >> 5) | ((high & 0x1F) << 59);
    high >>= 5;
  }
  return id;
}

} // namespace parallax::mirror::report
