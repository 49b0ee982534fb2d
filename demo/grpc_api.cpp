// The demo's gRPC server: demo.Shop over h2c on 127.0.0.1, one thread, one coroutine per
// connection driving proxy/h2's server codec (read -> codec -> answers -> gathered frames ->
// write). Each call is answered once its request has ended.

#include <boost/asio/buffer.hpp>
#include <boost/asio/write.hpp>

#include <fmt/format.h>

#include <unordered_map>
#include <vector>

#include "demo/grpc_shop.hpp"
#include "demo/loopback_server.hpp"
#include "proxy/h2/server_codec.hpp"
#include "proxy/net/asio.hpp"

namespace parallax::demo {

namespace asio = proxy::asio;
namespace h2 = proxy::h2;
namespace http = proxy::http;
using proxy::awaitable;
using proxy::tcp;

namespace {

class grpc_connection final : private h2::server_events {
public:
  explicit grpc_connection(bool preview) : preview_(preview), codec_(*this, h2::settings{}) {
    headers_.add("content-type", "application/grpc");
  }

  awaitable<void> serve(tcp::socket socket) {
    std::vector<char> buf(16384);
    std::string out;
    for (;;) {
      out.clear();
      if (!codec_.flush(out, 256 * 1024)) co_return;
      if (!out.empty()) {
        auto [ec, n] = co_await asio::async_write(socket, asio::buffer(out), proxy::use_nothrow);
        if (ec) co_return;
      }
      if (!codec_.alive()) co_return;
      auto [ec, n] = co_await socket.async_read_some(asio::buffer(buf), proxy::use_nothrow);
      if (ec) co_return;
      const bool go_on = codec_.receive({buf.data(), n});
      // Answered after receive() returns: the codec is not re-entered from its callbacks.
      for (const auto& [id, bytes] : consumed_)
        codec_.consume(id, bytes);
      consumed_.clear();
      for (const auto id : ready_)
        answer(id);
      ready_.clear();
      if (!go_on) {
        out.clear();
        codec_.flush(out, 256 * 1024);
        co_await asio::async_write(socket, asio::buffer(out), proxy::use_nothrow);
        co_return;
      }
    }
  }

private:
  struct call {
    std::string path;
    std::string request; // the request body: one length-prefixed message
    std::string response;
    std::size_t sent = 0;
    http::header_list trailers;
  };

  void answer(std::int32_t id) {
    const auto it = calls_.find(id);
    if (it == calls_.end()) return;
    auto& c = it->second;
    const auto message = c.request.size() >= 5 ? std::string_view(c.request).substr(5) : std::string_view();
    auto a = answer_grpc(preview_, c.path, message);
    c.response = std::move(a.body);
    c.trailers.add("grpc-status", std::to_string(a.status));
    if (!a.message.empty()) c.trailers.add("grpc-message", a.message);
    codec_.respond(id, {200, &headers_, {}}, true);
  }

  void on_request(std::int32_t id, http::request_head& head, bool end_stream,
                  h2::head_refusal) override {
    calls_[id].path = head.target;
    if (end_stream) ready_.push_back(id);
  }
  void on_data(std::int32_t id, std::string_view bytes) override {
    if (const auto it = calls_.find(id); it != calls_.end() && it->second.request.size() < 65536) {
      it->second.request.append(bytes);
    }
    consumed_.emplace_back(id, bytes.size());
  }
  void on_request_end(std::int32_t id) override { ready_.push_back(id); }
  void on_stream_close(std::int32_t id, std::uint32_t) override { calls_.erase(id); }
  long read_body(std::int32_t id, std::uint8_t* buf, std::size_t length, bool& eof,
                 const http::header_list*& trailers) override {
    const auto it = calls_.find(id);
    if (it == calls_.end()) return -1;
    auto& c = it->second;
    const auto n = std::min(length, c.response.size() - c.sent);
    std::copy_n(c.response.data() + c.sent, n, buf);
    c.sent += n;
    if (c.sent == c.response.size()) {
      eof = true;
      trailers = &c.trailers;
    }
    return static_cast<long>(n);
  }

  bool preview_;
  h2::server_codec codec_;
  http::header_list headers_;
  std::unordered_map<std::int32_t, call> calls_;
  std::vector<std::int32_t> ready_;
  std::vector<std::pair<std::int32_t, std::size_t>> consumed_;
};

// One h2c connection of the live or preview service.
awaitable<void> serve(bool preview, tcp::socket socket) {
  grpc_connection c(preview);
  co_await c.serve(std::move(socket));
}

} // namespace

struct demo_grpc_api::impl {
  explicit impl(bool preview)
      : server([preview](tcp::socket s) { return serve(preview, std::move(s)); }) {}
  loopback_server server;
};

demo_grpc_api::demo_grpc_api(bool preview) : impl_(std::make_unique<impl>(preview)) {}

demo_grpc_api::~demo_grpc_api() = default;

std::string demo_grpc_api::address() const {
  return impl_->server.address();
}

} // namespace parallax::demo
