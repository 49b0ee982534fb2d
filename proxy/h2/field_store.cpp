#include "proxy/h2/field_store.hpp"

#include "proxy/http/ascii.hpp"

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <functional>

namespace parallax::proxy::h2 {
namespace {
// Bytes of a storage block: a few request or response heads.
constexpr std::size_t block_size = 4096;
// Free storage blocks kept besides the current one (more are returned to the allocator).
constexpr std::size_t spare_blocks = 2;

// Copies `n` bytes (sizeof(Word) <= n <= 2 * sizeof(Word)) as two overlapping words.
template <typename Word>
void put_ends(char* to, const char* from, std::size_t n) {
  Word head = 0;
  Word tail = 0;
  std::memcpy(&head, from, sizeof head);
  std::memcpy(&tail, from + n - sizeof tail, sizeof tail);
  std::memcpy(to, &head, sizeof head);
  std::memcpy(to + n - sizeof tail, &tail, sizeof tail);
}

// Copies `n` bytes: most names and values are short, and a call to memcpy costs more than the
// copy.
void put(char* to, const char* from, std::size_t n) {
  if (n > 16) {
    std::memcpy(to, from, n);
  } else if (n >= 8) {
    put_ends<std::uint64_t>(to, from, n);
  } else if (n >= 4) {
    put_ends<std::uint32_t>(to, from, n);
  } else {
    for (std::size_t i = 0; i < n; ++i)
      to[i] = from[i];
  }
}

nghttp2_nv no_copy(const char* name, std::size_t namelen, const char* value, std::size_t valuelen) {
  return {reinterpret_cast<std::uint8_t*>(const_cast<char*>(name)),
          reinterpret_cast<std::uint8_t*>(const_cast<char*>(value)), namelen, valuelen,
          NGHTTP2_NV_FLAG_NO_COPY_NAME | NGHTTP2_NV_FLAG_NO_COPY_VALUE};
}
} // namespace

void field_store::begin(std::size_t bytes, std::size_t count) {
  if (count > capacity_) {
    capacity_ = std::max(count, capacity_ * 2);
    fields_ = std::make_unique_for_overwrite<nghttp2_nv[]>(capacity_);
  }
  count_ = 0;
  const std::size_t need = bytes + 1; // the tag byte: a header block is never empty
  if (current_ != nullptr) {
    if (current_->held == 0) current_->used = 0;
    if (current_->used + need <= current_->size) {
      start_ = current_->bytes.get() + current_->used;
      return;
    }
  }
  block* next = nullptr;
  for (auto& b : blocks_) {
    if (b.get() != current_ && b->held == 0 && b->size >= need) {
      next = b.get();
      next->used = 0;
      break;
    }
  }
  if (next == nullptr) {
    auto b = std::make_unique<block>();
    b->size = std::max(need, block_size);
    b->bytes = std::make_unique_for_overwrite<char[]>(b->size);
    next = b.get();
    blocks_.push_back(std::move(b));
  }
  current_ = next;
  trim(); // the block left may be one spare too many
  start_ = current_->bytes.get() + current_->used;
}

char* field_store::take(std::size_t n) {
  char* p = current_->bytes.get() + current_->used;
  current_->used += n;
  return p;
}

void field_store::literal(std::string_view name, std::string_view value) {
  char* v = take(value.size());
  put(v, value.data(), value.size());
  fields_[count_++] = no_copy(name.data(), name.size(), v, value.size());
}

void field_store::copy(std::string_view name, std::string_view value) {
  char* n = take(name.size() + value.size());
  put(n, name.data(), name.size());
  if (http::has_upper(name)) http::to_lower_in_place(n, n + name.size());
  char* v = n + name.size();
  put(v, value.data(), value.size());
  fields_[count_++] = no_copy(n, name.size(), v, value.size());
}

void field_store::commit() {
  take(1); // the tag byte
  held_.push_back({start_, current_->bytes.get() + current_->used, current_});
  ++current_->held;
}

void field_store::release(const nghttp2_frame& frame) {
  if (frame.hd.type != NGHTTP2_HEADERS || held_.empty()) return;
  // Any value of ours lies within the header block it was copied for (an empty one too: the
  // tag byte follows the last).
  const char* p = nullptr;
  for (std::size_t i = 0; i < frame.headers.nvlen && p == nullptr; ++i) {
    if ((frame.headers.nva[i].flags & NGHTTP2_NV_FLAG_NO_COPY_VALUE) != 0)
      p = reinterpret_cast<const char*>(frame.headers.nva[i].value);
  }
  if (p == nullptr) return;
  const auto it = std::find_if(held_.begin(), held_.end(), [p](const held_block& h) {
    return std::less_equal<>()(h.start, p) && std::less<>()(p, h.end);
  });
  if (it == held_.end()) return;
  block* b = it->in;
  held_.erase(it);
  if (--b->held == 0 && b != current_) trim();
}

void field_store::trim() {
  std::size_t spare = 0;
  std::erase_if(blocks_, [&](const std::unique_ptr<block>& b) {
    return b.get() != current_ && b->held == 0 && ++spare > spare_blocks;
  });
}

} // namespace parallax::proxy::h2
