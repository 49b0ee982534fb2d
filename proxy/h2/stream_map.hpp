#pragma once
// Streams of one HTTP/2 connection by id: a vector sorted by id. Stream ids only grow, so a new
// stream goes at the end; lookups are binary searches; nothing is allocated per stream once
// the vector has grown (an unordered_map allocates a node for each).

#include <algorithm>
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
  void erase(iterator it) { items_.erase(it); }
  void clear() noexcept { items_.clear(); }
  [[nodiscard]] bool empty() const noexcept { return items_.empty(); }
  [[nodiscard]] std::size_t size() const noexcept { return items_.size(); }
  iterator begin() noexcept { return items_.begin(); }
  iterator end() noexcept { return items_.end(); }
  const_iterator begin() const noexcept { return items_.begin(); }
  const_iterator end() const noexcept { return items_.end(); }

private:
  iterator position(std::int32_t id) {
    if (items_.empty() || items_.back().first < id) return items_.end(); // the usual case
    return std::lower_bound(items_.begin(), items_.end(), id,
                            [](const value_type& v, std::int32_t key) { return v.first < key; });
  }

  std::vector<value_type> items_;
};

} // namespace parallax::proxy::h2
