#include "demo/demo_api.hpp"

#include <boost/asio/buffer.hpp>
#include <boost/asio/write.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

#include <fmt/format.h>

#include <array>
#include <vector>
#include <chrono>

#include "demo/loopback_server.hpp"
#include "mirror/report/record.hpp"
#include "proxy/http/parser.hpp"
#include "proxy/http/serializer.hpp"
#include "proxy/net/asio.hpp"

namespace parallax::demo {

namespace json = boost::json;
namespace asio = proxy::asio;
using proxy::awaitable;
using proxy::tcp;

namespace {

struct product {
  int id;
  const char* name;
  double price;
};
constexpr std::array<product, 6> products{{{1, "Walnut desk", 349.0},
                                           {2, "Oak chair", 129.5},
                                           {3, "Lamp", 19.99},
                                           {4, "Bookshelf", 210.0},
                                           {5, "Rug", 89.9},
                                           {6, "Mirror", 59.0}}};
constexpr std::array<const char*, 5> names{"Ann", "Bo", "Chen", "Dara", "Eli"};

std::string now_text() {
  return mirror::report::format_time(std::chrono::system_clock::now(), true);
}

// The numeric id after `prefix` in `path`, if the rest is all digits.
std::optional<int> id_after(std::string_view path, std::string_view prefix) {
  if (!path.starts_with(prefix)) return std::nullopt;
  const auto rest = path.substr(prefix.size());
  if (rest.empty() || rest.size() > 6) return std::nullopt;
  int id = 0;
  for (char c : rest) {
    if (c < '0' || c > '9') return std::nullopt;
    id = id * 10 + (c - '0');
  }
  return id;
}

json::object product_json(const product& p, bool price_as_string) {
  json::object o;
  o["id"] = p.id;
  o["name"] = p.name;
  if (price_as_string) {
    o["price"] = fmt::format("{}", p.price);
  } else {
    o["price"] = p.price;
  }
  o["currency"] = "EUR";
  return o;
}

// Every answer takes a couple of milliseconds, like a real service's database round trip, so
// the latency comparison measures the service and not the scheduler's sub-millisecond noise.
constexpr std::uint32_t base_delay_ms = 2;

api_response ok(json::object body, std::uint32_t delay = base_delay_ms) {
  body["generated_at"] = now_text();
  return {200, json::serialize(body), delay};
}

} // namespace

api_response answer(bool preview, std::string_view method, std::string_view target) {
  const auto q = target.find('?');
  const auto path = target.substr(0, q);
  if (method == "POST" && path == "/api/orders") {
    json::object o;
    o["id"] = 1001;
    o["status"] = "created";
    o["generated_at"] = now_text();
    return {201, json::serialize(o), 0};
  }
  if (method != "GET" && method != "HEAD") return {405, R"({"error":"method not allowed"})", 0};
  if (path == "/api/health") {
    json::object o;
    o["status"] = "ok";
    return {200, json::serialize(o), base_delay_ms};
  }
  if (path == "/api/products") {
    json::array items;
    for (const auto& p : products)
      items.push_back(product_json(p, false));
    if (preview) std::reverse(items.begin(), items.end()); // same items, other order
    json::object o;
    o["items"] = std::move(items);
    o["total"] = products.size();
    return ok(std::move(o));
  }
  if (auto id = id_after(path, "/api/products/")) {
    if (*id < 1 || *id > static_cast<int>(products.size())) {
      return {404, R"({"error":"no such product"})", 0};
    }
    return ok(product_json(products[static_cast<std::size_t>(*id - 1)], preview));
  }
  if (auto id = id_after(path, "/api/users/")) {
    json::object o;
    o["id"] = *id;
    o["name"] = names[static_cast<std::size_t>(*id) % names.size()];
    o[preview ? "email_address" : "email"] = fmt::format("user{}@example.com", *id);
    o["tier"] = *id % 3 == 0 ? "gold" : "standard";
    return ok(std::move(o));
  }
  if (auto id = id_after(path, "/api/orders/")) {
    if (preview && *id % 4 == 0) {
      return {500, R"({"error":"internal server error"})", base_delay_ms};
    }
    json::object o;
    o["id"] = *id;
    o["status"] = *id % 2 == 0 ? "shipped" : "processing";
    o["lines"] = json::array{json::object{{"product", 1 + *id % 6}, {"quantity", 1 + *id % 3}}};
    return ok(std::move(o));
  }
  if (path == "/api/search") {
    json::object o;
    o["query"] = q == std::string_view::npos ? "" : std::string(target.substr(q + 1));
    json::array hits;
    for (const auto& p : products)
      hits.push_back(p.id);
    o["hits"] = std::move(hits);
    return ok(std::move(o), preview ? 45 : 3);
  }
  return {404, R"({"error":"not found"})", 0};
}

namespace {
// One keep-alive connection of the live or preview API.
awaitable<void> serve(bool preview, tcp::socket socket) {
  proxy::http::parser parser(proxy::http::parser::mode::request);
  std::vector<char> buf(16384);
  std::size_t begin = 0;
  std::size_t end = 0;
  std::string out;
  asio::steady_timer timer(socket.get_executor());
  for (;;) {
    // One request: feed buffered bytes first, read more when the parser needs them.
    bool complete = false;
    while (!complete) {
      if (begin == end) {
        auto [ec, n] = co_await socket.async_read_some(asio::buffer(buf.data(), buf.size()),
                                                       proxy::use_nothrow);
        if (ec) co_return;
        begin = 0;
        end = n;
      }
      parser.clear_body();
      const auto r = parser.feed({buf.data() + begin, end - begin});
      if (r.status == proxy::http::parse_status::error) co_return;
      begin += r.consumed;
      complete =
          r.status == proxy::http::parse_status::message_complete ||
          (r.status == proxy::http::parse_status::head_complete && !parser.request().has_body());
      if (r.status == proxy::http::parse_status::head_complete && complete) {
        parser.feed({}); // body-less: completes the message
      }
    }
    const auto& req = parser.request();
    const auto res = answer(preview, req.method, req.target);
    if (res.delay_ms > 0) {
      timer.expires_after(std::chrono::milliseconds(res.delay_ms));
      co_await timer.async_wait(proxy::use_nothrow);
    }
    out = fmt::format("HTTP/1.1 {} {}\r\nContent-Type: application/json\r\n"
                      "Content-Length: {}\r\nServer: demo-{}\r\n\r\n",
                      res.status, proxy::http::reason_phrase(res.status), res.body.size(),
                      preview ? "preview" : "live");
    if (req.method != "HEAD") out += res.body;
    const bool keep = req.frame.keep_alive;
    auto [ec, n] = co_await asio::async_write(socket, asio::buffer(out), proxy::use_nothrow);
    if (ec || !keep) co_return;
  }
}
} // namespace

struct demo_api::impl {
  explicit impl(bool preview)
      : server([preview](tcp::socket s) { return serve(preview, std::move(s)); }) {}
  loopback_server server;
};

demo_api::demo_api(bool preview) : impl_(std::make_unique<impl>(preview)) {}

demo_api::~demo_api() = default;

std::string demo_api::address() const {
  return impl_->server.address();
}

} // namespace parallax::demo
