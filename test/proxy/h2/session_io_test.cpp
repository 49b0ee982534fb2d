// Header fields as nghttp2 takes them: names in lower case, values as they are, the skipped
// ones left out, all copied into the store (nghttp2 copies nothing).

#include "proxy/h2/session_io.hpp"

#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

namespace parallax::proxy::h2 {
namespace {

std::vector<std::pair<std::string, std::string>> as_pairs(const field_store& store) {
  std::vector<std::pair<std::string, std::string>> out;
  for (std::size_t i = 0; i < store.count(); ++i) {
    const auto& f = store.fields()[i];
    out.emplace_back(std::string(view(f.name, f.namelen)), std::string(view(f.value, f.valuelen)));
  }
  return out;
}

TEST(SessionIoTest, AppendFieldsLowerCasesNamesCopiesAndSkips) {
  http::header_list headers;
  headers.add("content-type", "Application/JSON");
  headers.add("X-Trace-Id", "AbC");
  headers.add("x-skip", "1");
  for (int i = 0; i < 40; ++i)
    headers.add("X-Field-" + std::to_string(i), std::to_string(i));
  field_store store;
  store.begin(3 + field_bytes(headers), 1 + headers.size());
  store.literal(":status", "200");
  append_fields(store, headers, [](const http::header& h) { return h.name == "x-skip"; });
  const auto got = as_pairs(store);
  const auto* fields = store.fields();
  ASSERT_EQ(got.size(), 43u);
  EXPECT_EQ(got[0], (std::pair<std::string, std::string>{":status", "200"}));
  EXPECT_EQ(got[1], (std::pair<std::string, std::string>{"content-type", "Application/JSON"}));
  EXPECT_EQ(got[2], (std::pair<std::string, std::string>{"x-trace-id", "AbC"}));
  for (int i = 0; i < 40; ++i)
    EXPECT_EQ(got[3 + i].first, "x-field-" + std::to_string(i));
  // Copies: nghttp2 may read them after the headers change.
  EXPECT_NE(reinterpret_cast<const char*>(fields[1].name), headers[0].name.data());
  EXPECT_NE(reinterpret_cast<const char*>(fields[1].value), headers[0].value.data());
  for (std::size_t i = 0; i < store.count(); ++i)
    EXPECT_EQ(fields[i].flags, NGHTTP2_NV_FLAG_NO_COPY_NAME | NGHTTP2_NV_FLAG_NO_COPY_VALUE);

  const std::vector<http::field_view> views{{"TE", "trailers"}, {"grpc-timeout", "1S"}};
  store.begin(field_bytes(views), views.size());
  append_fields(store, views, [](const http::field_view&) { return false; });
  EXPECT_EQ(as_pairs(store), (std::vector<std::pair<std::string, std::string>>{
                                 {"te", "trailers"}, {"grpc-timeout", "1S"}}));
}

} // namespace
} // namespace parallax::proxy::h2
