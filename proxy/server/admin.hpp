#pragma once
// The admin HTTP listener (proxy.md "Admin listener"): health, readiness, metrics, config.
// It runs on its own thread so it answers even when the workers are saturated.

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <thread>

#include "proxy/net/asio.hpp"

namespace parallax::proxy::server {

/// A response produced by an admin handler.
struct admin_response {
  int status = 200;
  std::string content_type = "text/plain; charset=utf-8";
  std::string body;
};

/// Handler of one admin path; receives the request method and body.
using admin_handler = std::function<admin_response(std::string_view method, std::string_view body)>;

/// Small HTTP/1.1 server for operators.
class admin_server {
public:
  admin_server();
  ~admin_server();
  admin_server(const admin_server&) = delete;
  admin_server& operator=(const admin_server&) = delete;

  /// Serves `path` (exact match, query ignored) with `handler`; call before start().
  void handle(std::string path, admin_handler handler);
  /// Binds `ep`; returns the bound endpoint. Throws system_error when it cannot bind.
  tcp::endpoint listen(const tcp::endpoint& ep);
  /// Starts the admin thread.
  void start();
  /// Stops and joins the admin thread.
  void stop();

private:
  awaitable<void> accept_loop();
  awaitable<void> serve(tcp::socket socket);

  std::unique_ptr<asio::io_context> io_;
  std::unique_ptr<tcp::acceptor> acceptor_;
  std::map<std::string, admin_handler, std::less<>> handlers_;
  std::thread thread_;
};

} // namespace parallax::proxy::server
