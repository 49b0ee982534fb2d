// The bytes of header blocks handed to nghttp2 without a copy: they stay as they were until
// nghttp2 says it sent or dropped the frame, then their storage is used again; memory stays
// bounded by what is held.

#include "proxy/h2/field_store.hpp"

#include <gtest/gtest.h>

#include <string>
#include <string_view>
#include <vector>

namespace parallax::proxy::h2 {
namespace {

std::string_view text(const std::uint8_t* p, std::size_t n) {
  return {reinterpret_cast<const char*>(p), n};
}

// The fields of the header block begun last (as nghttp2 copies the array when it takes them).
std::vector<nghttp2_nv> taken(const field_store& store) {
  return {store.fields(), store.fields() + store.count()};
}

// A HEADERS frame as nghttp2 presents it to on_frame_send: the fields as they were submitted.
nghttp2_frame headers_frame(std::vector<nghttp2_nv>& fields) {
  nghttp2_frame frame{};
  frame.hd.type = NGHTTP2_HEADERS;
  frame.headers.nva = fields.data();
  frame.headers.nvlen = fields.size();
  return frame;
}

TEST(FieldStoreTest, HeldBytesStayUntilTheirFrameIsReleasedThenTheStorageIsReused) {
  field_store store;
  store.begin(64, 2);
  store.literal(":path", "/a");
  store.copy("X-Trace", "t-1");
  auto first = taken(store);
  store.commit();
  EXPECT_EQ(text(first[1].name, first[1].namelen), "x-trace"); // folded
  EXPECT_EQ(first[1].flags, NGHTTP2_NV_FLAG_NO_COPY_NAME | NGHTTP2_NV_FLAG_NO_COPY_VALUE);

  // Held: further header blocks do not write over it, however many.
  std::vector<std::vector<nghttp2_nv>> more;
  for (int i = 0; i < 600; ++i) { // about 28 KiB: seven storage blocks
    store.begin(64, 1);
    store.copy("x-n", std::to_string(i) + std::string(40, 'v'));
    more.push_back(taken(store));
    store.commit();
  }
  EXPECT_EQ(text(first[0].value, first[0].valuelen), "/a");
  EXPECT_EQ(text(first[1].value, first[1].valuelen), "t-1");
  EXPECT_GE(store.blocks(), 6u);
  EXPECT_EQ(store.held(), 601u);

  // Released in any order; a frame that is not ours changes nothing.
  std::vector<nghttp2_nv> foreign{{nullptr, nullptr, 0, 0, NGHTTP2_NV_FLAG_NONE}};
  auto f = headers_frame(foreign);
  store.release(f);
  EXPECT_EQ(store.held(), 601u);
  for (auto it = more.rbegin(); it != more.rend(); ++it) {
    f = headers_frame(*it);
    store.release(f);
  }
  f = headers_frame(first);
  store.release(f);
  EXPECT_EQ(store.held(), 0u);
  EXPECT_EQ(store.blocks(), 3u) << "spare storage is given back: the current block and two";

  // Nothing held: the next header block starts at the storage's beginning again.
  store.begin(8, 1);
  store.literal(":path", "/b");
  const auto again = taken(store);
  store.begin(8, 1);
  store.literal(":path", "/c");
  EXPECT_EQ(store.fields()[0].value, again[0].value) << "an uncommitted block is reused";
}

TEST(FieldStoreTest, AFrameIsFoundByAnEmptyValueAndALargeBlockGetsRoomOfItsOwn) {
  field_store store;
  store.begin(0, 1);
  store.literal(":authority", "");
  auto empty = taken(store);
  store.commit();
  const std::string big(10000, 'b');
  store.begin(big.size() + 5, 1);
  store.copy("x-big", big);
  auto large = taken(store);
  store.commit();
  EXPECT_EQ(text(large[0].value, large[0].valuelen), big);
  EXPECT_EQ(store.held(), 2u);
  auto f = headers_frame(empty);
  store.release(f);
  EXPECT_EQ(store.held(), 1u);
  f = headers_frame(large);
  store.release(f);
  EXPECT_EQ(store.held(), 0u);
}

TEST(FieldStoreTest, NamesAndValuesOfEveryShortLengthAreCopiedWhole) {
  field_store store;
  std::string input;
  for (std::size_t n = 0; n <= 40; ++n) {
    input.clear();
    for (std::size_t i = 0; i < n; ++i)
      input += static_cast<char>('A' + (i % 26)); // every byte differs from its neighbours
    store.begin(2 * n, 2);
    store.copy(input, input);
    store.literal(":path", input);
    std::string lower = input;
    for (auto& c : lower)
      c = static_cast<char>(c - 'A' + 'a');
    EXPECT_EQ(text(store.fields()[0].name, store.fields()[0].namelen), lower) << n;
    EXPECT_EQ(text(store.fields()[0].value, store.fields()[0].valuelen), input) << n;
    EXPECT_EQ(text(store.fields()[1].value, store.fields()[1].valuelen), input) << n;
  }
}

} // namespace
} // namespace parallax::proxy::h2
