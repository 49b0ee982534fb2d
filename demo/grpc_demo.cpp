// `parallax demo --grpc`: the built-in demo.Shop gRPC service in a live and a preview version
// (grpc_shop.hpp), the real proxy in front of them speaking h2c both ways with 100% mirroring
// and the service's descriptor set, gRPC calls from four h2c clients, then the report: fields
// by name under `gRPC /demo.Shop/GetProduct`, a changed type, a changed status.

#include <boost/asio/buffer.hpp>
#include <boost/asio/write.hpp>

#include <fmt/format.h>

#include <atomic>
#include <iostream>
#include <thread>
#include <vector>

#include "demo/demo_steps.hpp"
#include "demo/grpc_shop.hpp"
#include "mirror/grpc/wire_writer.hpp"
#include "proxy/h2/client_codec.hpp"
#include "proxy/net/asio.hpp"

namespace parallax::demo {

namespace asio = proxy::asio;
namespace h2 = proxy::h2;
namespace http = proxy::http;
using proxy::tcp;

namespace {

constexpr std::string_view grpc_yaml = R"(version: 1
listeners: [{ name: public, address: "127.0.0.1:0" }]
admin: { address: "127.0.0.1:0" }
workers: 1
upstreams:
  live: { endpoints: ["{live}"], protocol: h2c }
  preview: { endpoints: ["{preview}"], protocol: h2c, request_timeout: 5s }
routes:
  - name: shop
    match: { path_prefix: /demo.Shop/ }
    upstream: live
    mirror:
      upstream: preview
      percent: 100
      compare:
        body:
          ignore: [/messages/*/updated_at]
        grpc: { descriptor_sets: ["{descriptors}"] }
reports:
  discrepancies: { path: "{log}" }
logging: { level: warn }
)";

// A blocking h2c gRPC client: one call at a time on one connection.
class grpc_client final : private h2::client_events {
public:
  explicit grpc_client(std::uint16_t port) : socket_(io_), codec_(*this, 1 << 20, 1 << 22) {
    socket_.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port));
    socket_.set_option(tcp::no_delay(true));
  }

  // Calls `path` with `message`; returns the call's grpc-status.
  int call(std::string_view path, std::string_view message) {
    static constexpr std::array<http::field_view, 2> fields{
        {{"content-type", "application/grpc"}, {"te", "trailers"}}};
    request_.clear();
    mirror::grpc::wire::put_framed(request_, message);
    sent_ = 0;
    done_ = false;
    status_ = -1;
    const auto id = codec_.submit({"POST", "http", "shop.example", path, fields}, true);
    if (id < 0) throw std::runtime_error("the proxy took no new stream");
    std::string out;
    std::array<char, 16384> buf{};
    for (;;) {
      out.clear();
      if (!codec_.flush(out, 1 << 20)) throw std::runtime_error("HTTP/2 session failed");
      if (!out.empty()) asio::write(socket_, asio::buffer(out));
      if (done_) break;
      const auto n = socket_.read_some(asio::buffer(buf));
      if (!codec_.receive({buf.data(), n})) throw std::runtime_error("HTTP/2 session ended");
      if (unconsumed_ > 0) codec_.consume(id, unconsumed_);
      unconsumed_ = 0;
    }
    if (status_ < 0) throw std::runtime_error(fmt::format("{}: no grpc-status", path));
    return status_;
  }

private:
  void status_from(const http::header_list& fields) {
    if (const auto s = fields.find("grpc-status")) status_ = std::atoi(std::string(*s).c_str());
  }
  void on_response(std::int32_t, http::response_head& head, bool end_stream) override {
    if (end_stream) status_from(head.headers); // trailers-only
  }
  void on_body(std::int32_t, std::string_view bytes) override { unconsumed_ += bytes.size(); }
  void on_trailers(std::int32_t, http::header_list& trailers) override { status_from(trailers); }
  void on_end(std::int32_t) override {}
  void on_close(std::int32_t, std::uint32_t) override { done_ = true; }
  long read_request_body(std::int32_t, std::uint8_t* buf, std::size_t length, bool& eof,
                         const http::header_list*& /*trailers: none*/) override {
    const auto n = std::min(length, request_.size() - sent_);
    std::copy_n(request_.data() + sent_, n, buf);
    sent_ += n;
    eof = sent_ == request_.size();
    return static_cast<long>(n);
  }

  asio::io_context io_;
  tcp::socket socket_;
  h2::client_codec codec_;
  std::string request_;
  std::size_t sent_ = 0;
  std::size_t unconsumed_ = 0;
  bool done_ = false;
  int status_ = -1;
};

} // namespace

int run_grpc_demo(const demo_options& options) {
  const auto started = std::chrono::steady_clock::now();
  const auto format = mirror::report::parse_report_format(options.format);
  if (!format) {
    std::cerr << "demo: unknown --format " << options.format << " (text, markdown, html or json)\n";
    return 2;
  }
  auto files = prepare_files(options);
  const auto descriptors = (files.temp / "shop.pb").string();
  if (!write_shop_descriptors(descriptors)) {
    std::cerr << "demo: cannot write " << descriptors << '\n';
    return 1;
  }
  demo_grpc_api live(false);
  demo_grpc_api preview(true);
  auto yaml = substitute(std::string(grpc_yaml), "live", live.address());
  yaml = substitute(yaml, "preview", preview.address());
  yaml = substitute(yaml, "descriptors", descriptors);
  yaml = substitute(yaml, "log", files.log_path);
  const auto cfg = load_demo_config(yaml);
  if (!cfg) return 1;

  const std::uint64_t sent = options.requests;
  // Every call but PlaceOrder (i % 4 == 3: it has side effects) is mirrored.
  const std::uint64_t mirrored = sent - (sent + 1) / 4;
  const auto banner = fmt::format(
      "parallax demo --grpc: live demo.Shop at {}, preview at {}, proxy at 127.0.0.1:{{port}} "
      "(h2c), "
      "mirroring the calls without side effects (GetProduct, ListProducts) with the service's "
      "descriptor set\n\n",
      live.address(), preview.address());
  const auto summary = run_proxy(cfg, mirrored, banner, [&](std::uint16_t port) {
    return run_clients<grpc_client>(port, options.requests, [](grpc_client& c, std::uint32_t i) {
      const auto id = [&](std::uint32_t n) { return product_request(1 + static_cast<int>(n) % 6); };
      switch (i % 4) {
      case 0: c.call("/demo.Shop/GetProduct", id(i / 4)); break;
      case 1: c.call("/demo.Shop/ListProducts", product_request(6)); break;
      case 2: c.call("/demo.Shop/GetProduct", id(i / 8)); break;
      default: c.call("/demo.Shop/PlaceOrder", product_request(3)); break;
      }
    });
  });
  if (!summary) return 1;
  return finish_demo(*summary, options, *format, sent, mirrored, started, files);
}

} // namespace parallax::demo
