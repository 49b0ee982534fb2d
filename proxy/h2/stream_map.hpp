#pragma once
// Streams of one HTTP/2 connection by id: a vector sorted by id. Stream ids only grow, so a new
// stream goes at the end; lookups are binary searches; nothing is allocated per stream once
// the vector has grown (an unordered_map allocates a node for each). Streams mostly end in the
// order they began, so an erase moves the shorter side of the vector: the entries before it
// move up one and the live range starts one later (compacted once that gap is half the
// vector), as a deque would, rather than every later entry moving down.

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <utility>
#include <vector>

namespace parallax::proxy::h2 {

template <typename T>
class stream_map {
public:
  using value_type = std::pair<std::int32_t, T>;
  using iterator = typename std::vector<value_type>::iterator;
  using const_iterator = typename std::vector<value_type>::const_iterator;

  /// The entry of `id`, or end().
  iterator find(std::int32_t id) {
    const auto it = position(id);
    return it != items_.end() && it->first == id ? it : items_.end();
  }
  /// The value of `id`, made (value-initialised) when missing.
  T& operator[](std::int32_t id) {
    auto it = position(id);
    if (it == items_.end() || it->first != id) it = items_.emplace(it, id, T{});
    return it->second;
  }
  /// Removes the entry `it` points to.
  void erase(iterator it) {
    const auto first = begin();
    if (it - first < end() - it - 1) {
      std::move_backward(first, it, it + 1);
      first->second = T{}; // moved from; holds nothing now
      if (++front_ == items_.size()) {
        clear();
      } else if (front_ >= compact_from && front_ * 2 >= items_.size()) {
        items_.erase(items_.begin(), begin());
        front_ = 0;
      }
    } else {
      items_.erase(it);
      if (empty()) clear();
    }
  }
  void clear() noexcept {
    items_.clear();
    front_ = 0;
  }
  [[nodiscard]] bool empty() const noexcept { return items_.size() == front_; }
  [[nodiscard]] std::size_t size() const noexcept { return items_.size() - front_; }
  iterator begin() noexcept { return items_.begin() + static_cast<std::ptrdiff_t>(front_); }
  iterator end() noexcept { return items_.end(); }
  const_iterator begin() const noexcept {
    return items_.begin() + static_cast<std::ptrdiff_t>(front_);
  }
  const_iterator end() const noexcept { return items_.end(); }

private:
  static constexpr std::size_t compact_from = 32; // entries before the live range

  iterator position(std::int32_t id) {
    if (empty() || items_.back().first < id) return items_.end(); // the usual case
    return std::lower_bound(begin(), end(), id,
                            [](const value_type& v, std::int32_t key) { return v.first < key; });
  }

  std::vector<value_type> items_;
  std::size_t front_ = 0; // items_[0, front_) are erased entries
};

} // namespace parallax::proxy::h2
