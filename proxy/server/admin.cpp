#include "proxy/server/admin.hpp"

#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/write.hpp>

#include <spdlog/spdlog.h>

#include "proxy/http/parser.hpp"
#include "proxy/http/serializer.hpp"
#include "proxy/server/admin_access.hpp"

namespace parallax::proxy::server {

using namespace asio::experimental::awaitable_operators;

namespace {
constexpr std::size_t max_admin_body = 1024UL * 1024UL;
constexpr auto admin_timeout = std::chrono::seconds(10);

// 127.0.0.0/8, ::1, and IPv4 loopback mapped into IPv6 (a dual-stack admin listener).
bool is_loopback(const asio::ip::address& a) {
  if (a.is_loopback()) return true;
  if (!a.is_v6() || !a.to_v6().is_v4_mapped()) return false;
  return asio::ip::make_address_v4(asio::ip::v4_mapped, a.to_v6()).is_loopback();
}
} // namespace

admin_server::admin_server() : io_(std::make_unique<asio::io_context>(1)) {}

admin_server::~admin_server() {
  stop();
  acceptor_.reset();
  io_.reset();
}

void admin_server::handle(std::string method, std::string path, admin_handler handler) {
  handlers_[std::move(path)][std::move(method)] = std::move(handler);
}

void admin_server::handle_prefix(std::string method, std::string prefix,
                                 admin_prefix_handler handler) {
  prefix_handlers_[std::move(prefix)][std::move(method)] = std::move(handler);
}

void admin_server::set_token(std::string token) {
  std::lock_guard lock(token_mutex_);
  token_ = std::move(token);
}

std::string admin_server::token() const {
  std::lock_guard lock(token_mutex_);
  return token_;
}

// Access first (a refused caller learns nothing about paths), then the path, then the method.
admin_response admin_server::dispatch(std::string_view method, std::string_view path,
                                      std::optional<std::string_view> authorization,
                                      bool loopback_peer, std::string_view body) {
  if (method == "HEAD") method = "GET";
  if (is_mutating(method)) {
    switch (mutation_refusal(token(), authorization, loopback_peer)) {
    case 401:
      return {401, "text/plain; charset=utf-8", "unauthorized: Authorization: Bearer TOKEN\n",
              {{"WWW-Authenticate", "Bearer realm=\"parallax admin\""}}};
    case 403:
      return {403, "text/plain; charset=utf-8",
              "forbidden: without admin.token, changes are accepted from loopback only\n"};
    default: break;
    }
  }
  const auto not_allowed = [](const auto& methods) {
    std::string allow;
    for (const auto& [m, h] : methods)
      allow += (allow.empty() ? "" : ", ") + m + (m == "GET" ? ", HEAD" : "");
    return admin_response{405, "text/plain; charset=utf-8", "method not allowed\n",
                          {{"Allow", allow}}};
  };
  try {
    if (const auto at_path = handlers_.find(path); at_path != handlers_.end()) {
      const auto it = at_path->second.find(method);
      if (it == at_path->second.end()) return not_allowed(at_path->second);
      return it->second(method, body);
    }
    for (const auto& [prefix, methods] : prefix_handlers_) {
      if (path.size() <= prefix.size() || path.substr(0, prefix.size()) != prefix) continue;
      const auto it = methods.find(method);
      if (it == methods.end()) return not_allowed(methods);
      return it->second(method, path.substr(prefix.size()), body);
    }
  } catch (const std::exception& e) {
    return {500, "text/plain; charset=utf-8", std::string("error: ") + e.what() + "\n"};
  }
  return {404, "text/plain; charset=utf-8", "not found\n"};
}

tcp::endpoint admin_server::listen(const tcp::endpoint& ep) {
  acceptor_ = std::make_unique<tcp::acceptor>(*io_);
  acceptor_->open(ep.protocol());
  acceptor_->set_option(tcp::acceptor::reuse_address(true));
  acceptor_->bind(ep);
  acceptor_->listen();
  return acceptor_->local_endpoint();
}

void admin_server::start() {
  asio::co_spawn(*io_, accept_loop(), [](const std::exception_ptr& e) {
    if (e) spdlog::error("admin accept loop ended by an exception");
  });
  thread_ = std::thread([this] { io_->run(); });
}

void admin_server::stop() {
  if (!thread_.joinable()) return;
  io_->stop();
  thread_.join();
}

awaitable<void> admin_server::accept_loop() {
  for (;;) {
    auto [ec, socket] = co_await acceptor_->async_accept(use_nothrow);
    if (ec) {
      if (ec == asio::error::operation_aborted) co_return;
      asio::steady_timer backoff(*io_, std::chrono::milliseconds(50));
      co_await backoff.async_wait(use_nothrow);
      continue;
    }
    asio::co_spawn(*io_, serve(std::move(socket)), [](const std::exception_ptr& e) {
      if (e) spdlog::warn("admin connection ended by an exception");
    });
  }
}

awaitable<void> admin_server::serve(tcp::socket socket) {
  http::parser parser(http::parser::mode::request, 64ULL * 1024ULL);
  std::string buf(16UL * 1024UL, '\0');
  std::string body;
  std::size_t begin = 0;
  std::size_t end = 0;
  asio::steady_timer timer(*io_);
  for (;;) {
    // One request: head and body, all within admin_timeout.
    body.clear();
    bool complete = false;
    bool failed = false;
    timer.expires_after(admin_timeout);
    while (!complete && !failed) {
      // After a head, feed even with no bytes left: a body-less message completes then.
      if (begin < end || (parser.head_done() && !parser.message_done())) {
        const auto r = parser.feed({buf.data() + begin, end - begin});
        if (r.status == http::parse_status::error) {
          failed = true;
          break;
        }
        begin += r.consumed;
        for (auto piece : parser.body())
          body.append(piece);
        parser.clear_body();
        if (body.size() > max_admin_body) failed = true;
        if (r.status == http::parse_status::message_complete) complete = true;
        if (r.status != http::parse_status::need_more) continue;
      }
      begin = 0;
      auto outcome = co_await (socket.async_read_some(asio::buffer(buf), use_nothrow) ||
                               timer.async_wait(use_nothrow));
      if (outcome.index() == 1) co_return;
      auto [ec, n] = std::get<0>(outcome);
      if (ec) co_return;
      end = n;
    }
    admin_response resp;
    bool close = failed;
    if (failed) {
      resp = {400, "text/plain; charset=utf-8", "bad request\n"};
    } else {
      const auto& req = parser.request();
      close = !req.frame.keep_alive;
      error_code ignored;
      const auto peer = socket.remote_endpoint(ignored).address();
      resp = dispatch(req.method, req.path(), req.headers.find("authorization"),
                      is_loopback(peer), body);
      if (req.method == "HEAD") resp.body.clear();
    }
    std::string out = "HTTP/1.1 " + std::to_string(resp.status) + " ";
    out += http::reason_phrase(resp.status);
    out += "\r\nContent-Type: " + resp.content_type;
    out += "\r\nContent-Length: " + std::to_string(resp.body.size());
    out += "\r\nCache-Control: no-store\r\n";
    for (const auto& [name, value] : resp.headers)
      out += name + ": " + value + "\r\n";
    if (close) out += "Connection: close\r\n";
    out += "\r\n";
    out += resp.body;
    auto [wec, wn] = co_await asio::async_write(socket, asio::buffer(out), use_nothrow);
    if (wec || close) co_return;
  }
}

} // namespace parallax::proxy::server
