#include "demo/demo.hpp"

#include <boost/asio/buffer.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <atomic>
#include <chrono>
#include <thread>
#include <vector>
#include <filesystem>
#include <fstream>
#include <iostream>

#include "config/loader.hpp"
#include "demo/demo_api.hpp"
#include "demo/demo_steps.hpp"
#include "mirror/engine.hpp"
#include "mirror/report/format.hpp"
#include "proxy/http/parser.hpp"
#include "proxy/server/server.hpp"

namespace parallax::demo {

namespace asio = proxy::asio;
using proxy::tcp;
using clock = std::chrono::steady_clock;

namespace {

// The demo's configuration: everything on loopback, 100% of safe requests mirrored.
constexpr std::string_view demo_yaml = R"(version: 1
listeners: [{ name: public, address: "127.0.0.1:0" }]
admin: { address: "127.0.0.1:0" }
workers: 1
upstreams:
  live: { endpoints: ["{live}"] }
  preview: { endpoints: ["{preview}"], request_timeout: 5s }
routes:
  - name: shop
    match: { path_prefix: /api/ }
    upstream: live
    mirror:
      upstream: preview
      percent: 100
      compare:
        body:
          ignore: [/**/generated_at]
          unordered_arrays: [/items]
        latency: { regression_ratio: 1.5 }
reports:
  discrepancies: { path: "{log}" }
  endpoints: ["/api/products/{id}", "/api/users/{id}", "/api/orders/{id}"]
logging: { level: warn }
)";

// A blocking keep-alive HTTP/1.1 client for the generated traffic.
class client {
public:
  explicit client(std::uint16_t port) : socket_(io_) {
    socket_.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port));
    socket_.set_option(tcp::no_delay(true));
  }

  // Sends one request and reads its response; returns the status.
  int exchange(std::string_view method, std::string_view target, std::string_view body = {}) {
    out_ = fmt::format("{} {} HTTP/1.1\r\nHost: shop.example\r\nAccept: application/json\r\n"
                       "Authorization: Bearer demo-secret-token\r\n",
                       method, target);
    if (!body.empty()) {
      out_ += fmt::format("Content-Type: application/json\r\nContent-Length: {}\r\n", body.size());
    }
    out_ += "\r\n";
    out_ += body;
    asio::write(socket_, asio::buffer(out_));
    parser_.reset();
    parser_.set_head_request(method == "HEAD");
    for (;;) {
      if (begin_ == end_) {
        begin_ = 0;
        end_ = socket_.read_some(asio::buffer(buf_));
      }
      parser_.clear_body();
      const auto r = parser_.feed({buf_.data() + begin_, end_ - begin_});
      if (r.status == proxy::http::parse_status::error) {
        throw std::runtime_error("malformed response from the proxy");
      }
      begin_ += r.consumed;
      if (r.status == proxy::http::parse_status::message_complete) {
        return parser_.response().status;
      }
    }
  }

private:
  asio::io_context io_;
  tcp::socket socket_;
  proxy::http::parser parser_{proxy::http::parser::mode::response};
  std::array<char, 16384> buf_{};
  std::size_t begin_ = 0;
  std::size_t end_ = 0;
  std::string out_;
};

} // namespace

std::string substitute(std::string text, std::string_view key, const std::string& value) {
  const std::string needle = "{" + std::string(key) + "}";
  for (auto pos = text.find(needle); pos != std::string::npos; pos = text.find(needle))
    text.replace(pos, needle.size(), value);
  return text;
}

run_files prepare_files(const demo_options& options) {
  run_files files;
  files.temp = std::filesystem::temp_directory_path() /
               fmt::format("parallax-demo-{}",
                           std::chrono::system_clock::now().time_since_epoch().count());
  std::filesystem::create_directories(files.temp);
  if (options.log_path.empty()) {
    files.log_path = (files.temp / "discrepancies.jsonl").string();
  } else {
    files.log_path = options.log_path;
    std::error_code ec;
    std::filesystem::remove(files.log_path, ec); // a fresh log for this run
  }
  return files;
}

std::shared_ptr<const config::config> load_demo_config(const std::string& yaml) {
  auto loaded = config::load_string(yaml, "demo.yaml");
  if (!loaded.ok()) {
    for (const auto& e : loaded.errors)
      std::cerr << e.text() << '\n';
    return nullptr;
  }
  spdlog::set_level(spdlog::level::warn);
  return loaded.cfg;
}

std::optional<boost::json::object> run_proxy(const std::shared_ptr<const config::config>& cfg,
                                             std::uint64_t mirrored, const std::string& banner,
                                             const std::function<bool(std::uint16_t)>& traffic) {
  mirror::engine engine(cfg);
  proxy::server::server srv(cfg);
  engine.attach(srv);
  srv.start();
  const auto port = srv.listeners().front().endpoint.port();
  std::cout << substitute(banner, "port", std::to_string(port)) << std::flush;
  const bool ok = traffic(port);
  if (ok && !engine.wait_settled(mirrored, std::chrono::seconds(10))) {
    std::cerr << "demo: some comparisons did not finish in time\n";
  }
  srv.drain(std::chrono::milliseconds(0), std::chrono::milliseconds(500));
  srv.stop();
  engine.shutdown();
  if (!ok) return std::nullopt;
  return engine.summary_json();
}

int finish_demo(const boost::json::object& summary, const demo_options& options,
                mirror::report::report_format format, std::uint64_t sent, std::uint64_t mirrored,
                clock::time_point started, run_files& files) {
  auto text = mirror::report::render(summary, format);
  if (!text.empty() && text.back() != '\n') text.push_back('\n');
  int code = 0;
  if (options.out_path.empty()) {
    std::cout << text;
  } else {
    std::ofstream out(options.out_path, std::ios::binary | std::ios::trunc);
    out << text;
    if (!out) {
      std::cerr << "demo: cannot write " << options.out_path << '\n';
      code = 1;
    }
  }
  const auto elapsed = std::chrono::duration<double>(clock::now() - started).count();
  std::cout << fmt::format(
      "\n{} requests through the proxy, {} mirrored and compared, in {:.1f} s.\n", sent, mirrored,
      elapsed);
  if (!options.log_path.empty()) {
    std::cout << "Discrepancy log: " << files.log_path << "  (try: parallax report "
              << files.log_path << ")\n";
  } else {
    std::cout << "Keep the discrepancy log with --log FILE, then: parallax report FILE\n";
  }
  std::error_code ec;
  std::filesystem::remove_all(files.temp, ec);
  return code;
}

int run_demo(const demo_options& options) {
  if (options.grpc) return run_grpc_demo(options);
  const auto started = clock::now();
  const auto format = mirror::report::parse_report_format(options.format);
  if (!format) {
    std::cerr << "demo: unknown --format " << options.format << " (text, markdown, html or json)\n";
    return 2;
  }
  auto files = prepare_files(options);
  demo_api live(false);
  demo_api preview(true);
  auto yaml = substitute(std::string(demo_yaml), "live", live.address());
  yaml = substitute(yaml, "preview", preview.address());
  yaml = substitute(yaml, "log", files.log_path);
  const auto cfg = load_demo_config(yaml);
  if (!cfg) return 1;

  const std::uint64_t sent = options.requests;
  // Every request but the POSTs (i % 8 == 6) is a safe method and mirrored.
  const std::uint64_t mirrored = sent - (sent + 1) / 8;
  const auto banner = fmt::format("parallax demo: live API at {}, preview API at {}, proxy at "
                                  "127.0.0.1:{{port}}, mirroring 100% of safe requests\n\n",
                                  live.address(), preview.address());
  const auto summary = run_proxy(cfg, mirrored, banner, [&](std::uint16_t port) {
    // Four keep-alive connections, each taking every fourth request of one sequence.
    return run_clients<client>(port, options.requests, [](client& c, std::uint32_t i) {
      const auto id = 1 + i % 24;
      switch (i % 8) {
      case 0: c.exchange("GET", "/api/products"); break;
      case 1: c.exchange("GET", fmt::format("/api/products/{}", 1 + i % 6)); break;
      case 2: c.exchange("GET", fmt::format("/api/users/{}?token=t{}", id, i)); break;
      case 3: c.exchange("GET", fmt::format("/api/orders/{}", 1 + (i / 8) % 24)); break;
      case 4: c.exchange("GET", fmt::format("/api/search?q=lamp{}", i % 5)); break;
      case 5: c.exchange("GET", "/api/health"); break;
      case 6: c.exchange("POST", "/api/orders", R"({"product":3,"quantity":1})"); break;
      default: c.exchange("GET", fmt::format("/api/users/{}", id)); break;
      }
    });
  });
  if (!summary) return 1;
  return finish_demo(*summary, options, *format, sent, mirrored, started, files);
}

} // namespace parallax::demo
