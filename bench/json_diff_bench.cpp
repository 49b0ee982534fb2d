// The structural JSON diff of a live and a shadow body, on generated API-like documents of
// 1 KiB, 64 KiB and 1 MiB: identical documents (the common case, a full walk with no output)
// and documents with five differences spread over the walk. Both sides are parsed and copied
// before timing; bytes/s counts the live document's serialized size.

#include "mirror/diff/json_diff.hpp"

#include <benchmark/benchmark.h>

#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>

namespace parallax::mirror::diff {
namespace {

// xorshift32 with a fixed seed: the same documents on every run and machine.
struct xorshift {
  std::uint32_t x = 2463534242U;
  std::uint32_t next() noexcept {
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    return x;
  }
};

boost::json::value make_item(std::int64_t id, xorshift& rng) {
  static constexpr const char* tags[] = {"new", "sale", "eco", "bulk", "gift", "limited"};
  boost::json::array item_tags;
  for (std::uint32_t t = 0, n = 1 + rng.next() % 3; t < n; ++t)
    item_tags.emplace_back(tags[rng.next() % 6]);
  const auto owner = static_cast<std::int64_t>(rng.next() % 5000);
  return boost::json::object{
      {"id", id},
      {"sku", "SKU-" + std::to_string(100000 + id)},
      {"name", "Item " + std::to_string(id) + " in colour " + std::to_string(rng.next() % 40)},
      {"price", static_cast<double>(rng.next() % 100000) / 100.0},
      {"qty", static_cast<std::int64_t>(rng.next() % 250)},
      {"active", rng.next() % 4 != 0},
      {"tags", std::move(item_tags)},
      {"owner", {{"id", owner}, {"email", "user" + std::to_string(owner) + "@example.com"}}},
      {"note", nullptr},
  };
}

// A paged API response whose serialized form is at least `target` bytes (and at least two
// items, so the differences land on different elements).
boost::json::value make_document(std::size_t target) {
  xorshift rng;
  boost::json::array items;
  std::size_t size = 96; // the envelope and "meta"
  while (size < target || items.size() < 2) {
    items.push_back(make_item(static_cast<std::int64_t>(items.size()) + 1, rng));
    size += boost::json::serialize(items.back()).size() + 1;
  }
  const auto count = static_cast<std::int64_t>(items.size());
  return boost::json::object{
      {"meta", {{"page", 1}, {"per_page", count}, {"generated", "2024-01-08T10:15:42Z"}}},
      {"items", std::move(items)},
  };
}

// A copy of `live` with five differences: two replaces, one add, one remove, one type change.
boost::json::value make_shadow(const boost::json::value& live) {
  boost::json::value shadow = live;
  auto& items = shadow.at("items").as_array();
  const std::size_t mid = items.size() / 2;
  shadow.at("meta").as_object()["generated"] = "2024-01-08T10:15:43Z";
  items[0].as_object()["price"] = items[0].at("price").as_double() + 0.01;
  items[mid].as_object()["owner"].as_object()["verified"] = true;
  items[mid].as_object()["qty"] = std::to_string(items[mid].at("qty").as_int64());
  items.back().as_object().erase("note");
  return shadow;
}

// Arguments: the document size in bytes; whether the shadow differs.
void run_json_diff(benchmark::State& state, bool differing) {
  const boost::json::value live = make_document(static_cast<std::size_t>(state.range(0)));
  const boost::json::value shadow = differing ? make_shadow(live) : boost::json::value(live);
  const json_diff_options opts; // defaults: exact comparison, at most 100 differences
  const std::size_t expected = differing ? 5 : 0;
  const auto check = diff_json(live, shadow, opts);
  if (check.differences.size() != expected || check.truncated) {
    state.SkipWithError("the generated documents do not differ as intended");
    return;
  }
  const std::size_t bytes = boost::json::serialize(live).size();
  for ([[maybe_unused]] auto _ : state) {
    auto result = diff_json(live, shadow, opts);
    benchmark::DoNotOptimize(result.differences.data());
    benchmark::ClobberMemory();
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations()) *
                          static_cast<std::int64_t>(bytes));
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
  state.SetLabel(std::to_string(bytes) + " B, " + std::to_string(expected) + " differences");
}

void json_diff_equal(benchmark::State& state) {
  run_json_diff(state, false);
}
BENCHMARK(json_diff_equal)->Arg(1 << 10)->Arg(64 << 10)->Arg(1 << 20);

void json_diff_differing(benchmark::State& state) {
  run_json_diff(state, true);
}
BENCHMARK(json_diff_differing)->Arg(1 << 10)->Arg(64 << 10)->Arg(1 << 20);

} // namespace
} // namespace parallax::mirror::diff
