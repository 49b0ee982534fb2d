// Content-Encoding decoding of a captured 64 KiB JSON response body, as done before every
// body comparison: gzip (the common case) and br. The body is compressed once before timing;
// bytes/s counts decoded bytes, the `ratio` counter is decoded / encoded size.

#include "mirror/diff/body_decode.hpp"

#include <benchmark/benchmark.h>
#include <brotli/encode.h>
#include <zlib.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace parallax::mirror::diff {
namespace {

constexpr std::size_t body_size = std::size_t{64} * 1024;
constexpr std::size_t max_bytes = std::size_t{1024} * 1024; // the default compare.body.max_bytes

// A JSON array of records with varying fields, so it compresses like a real API body (about
// 5:1), neither trivially nor not at all.
std::string json_body(std::size_t size) {
  std::string s = "[";
  std::uint32_t x = 2463534242U;
  while (s.size() < size) {
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    if (s.size() > 1) s += ',';
    s += R"({"id":)" + std::to_string(x % 100000) + R"(,"name":"item )" + std::to_string(x % 977) +
         R"(","price":)" + std::to_string(x % 10000) + "." + std::to_string(x % 100) +
         R"(,"active":)" + (x % 3 != 0 ? "true" : "false") + "}";
  }
  s += ']';
  return s;
}

// gzip at zlib's default level, as most servers send it. Empty on failure.
std::string gzip(std::string_view in) {
  z_stream z{};
  if (deflateInit2(&z, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 16 + 15, 8, Z_DEFAULT_STRATEGY) != Z_OK) {
    return {};
  }
  std::string out(deflateBound(&z, static_cast<uLong>(in.size())) + 64, '\0');
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  z.avail_in = static_cast<uInt>(in.size());
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = static_cast<uInt>(out.size());
  const bool ok = deflate(&z, Z_FINISH) == Z_STREAM_END;
  out.resize(ok ? z.total_out : 0);
  deflateEnd(&z);
  return out;
}

// br at quality 5, a typical setting for dynamic responses. Empty on failure.
std::string brotli(std::string_view in) {
  std::string out(BrotliEncoderMaxCompressedSize(in.size()) + 64, '\0');
  std::size_t size = out.size();
  if (BrotliEncoderCompress(5, BROTLI_DEFAULT_WINDOW, BROTLI_MODE_TEXT, in.size(),
                            reinterpret_cast<const std::uint8_t*>(in.data()), &size,
                            reinterpret_cast<std::uint8_t*>(out.data())) != BROTLI_TRUE) {
    return {};
  }
  out.resize(size);
  return out;
}

void run_decode(benchmark::State& state, std::string_view coding,
                std::string (*encode)(std::string_view)) {
  const std::string body = json_body(body_size);
  const std::string encoded = encode(body);
  const auto check = decode_body(encoded, coding, max_bytes);
  if (encoded.empty() || check.status != decode_status::ok || check.body != body) {
    state.SkipWithError("the encoded body did not decode to the original");
    return;
  }
  for ([[maybe_unused]] auto _ : state) {
    auto result = decode_body(encoded, coding, max_bytes);
    benchmark::DoNotOptimize(result.body.data());
    benchmark::ClobberMemory();
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations()) *
                          static_cast<std::int64_t>(body.size()));
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
  state.counters["ratio"] = static_cast<double>(body.size()) / static_cast<double>(encoded.size());
  state.SetLabel(std::to_string(encoded.size()) + " B -> " + std::to_string(body.size()) + " B");
}

void body_decode_gzip(benchmark::State& state) {
  run_decode(state, "gzip", &gzip);
}
BENCHMARK(body_decode_gzip);

void body_decode_br(benchmark::State& state) {
  run_decode(state, "br", &brotli);
}
BENCHMARK(body_decode_br);

} // namespace
} // namespace parallax::mirror::diff
