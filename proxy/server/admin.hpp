#pragma once
// The admin HTTP listener (proxy.md "Admin listener"): health, readiness, metrics, config.
// It runs on its own thread so it answers even when the workers are saturated.

#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "proxy/net/asio.hpp"

namespace parallax::proxy::server {

/// A response produced by an admin handler.
struct admin_response {
  int status = 200;
  std::string content_type = "text/plain; charset=utf-8";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers{}; // more fields (WWW-Authenticate, Allow)
};

/// Handler of one admin path; receives the request method and body.
using admin_handler = std::function<admin_response(std::string_view method, std::string_view body)>;
/// Handler of the paths under a prefix; also receives the rest of the path after the prefix.
using admin_prefix_handler = std::function<admin_response(
    std::string_view method, std::string_view rest, std::string_view body)>;

/// Small HTTP/1.1 server for operators.
class admin_server {
public:
  admin_server();
  ~admin_server();
  admin_server(const admin_server&) = delete;
  admin_server& operator=(const admin_server&) = delete;

  /// Serves `method` on `path` (exact match, query ignored) with `handler`; call before
  /// start(). HEAD is served by the GET handler. Another method on a known path gets 405.
  /// POST and DELETE handlers run only for callers admin_access allows (401/403 otherwise).
  void handle(std::string method, std::string path, admin_handler handler);
  /// Serves `method` on every path that starts with `prefix` (which ends with '/') and has
  /// more after it, unless an exact path matches; call before start().
  void handle_prefix(std::string method, std::string prefix, admin_prefix_handler handler);
  /// The admin.token mutating requests need (empty: loopback peers only). Any thread.
  void set_token(std::string token);
  /// Binds `ep`; returns the bound endpoint. Throws system_error when it cannot bind.
  tcp::endpoint listen(const tcp::endpoint& ep);
  /// Starts the admin thread.
  void start();
  /// Stops and joins the admin thread.
  void stop();

private:
  awaitable<void> accept_loop();
  awaitable<void> serve(tcp::socket socket);

  admin_response dispatch(std::string_view method, std::string_view path,
                          std::optional<std::string_view> authorization, bool loopback_peer,
                          std::string_view body);
  std::string token() const;

  std::unique_ptr<asio::io_context> io_;
  std::unique_ptr<tcp::acceptor> acceptor_;
  // path -> method -> handler
  std::map<std::string, std::map<std::string, admin_handler, std::less<>>, std::less<>> handlers_;
  // prefix -> method -> handler
  std::map<std::string, std::map<std::string, admin_prefix_handler, std::less<>>, std::less<>>
      prefix_handlers_;
  mutable std::mutex token_mutex_;
  std::string token_; // guarded by token_mutex_
  std::thread thread_;
};

} // namespace parallax::proxy::server
