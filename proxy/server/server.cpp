#include "proxy/server/server.hpp"

#include <boost/asio/ip/address.hpp>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <stdexcept>
#include <thread>

#include "config/json.hpp"
#include "proxy/http/timestamp.hpp"

#include <boost/json/serialize.hpp>

namespace parallax::proxy::server {

tcp::endpoint resolve_bind_address(const config::address& addr) {
  error_code ec;
  const auto ip = asio::ip::make_address(addr.host, ec);
  if (!ec) return {ip, addr.port};
  asio::io_context io;
  tcp::resolver resolver(io);
  const auto results = resolver.resolve(addr.host, std::to_string(addr.port), ec);
  if (ec || results.empty()) {
    throw std::runtime_error("cannot resolve listen address " + addr.text() + ": " + ec.message());
  }
  return results.begin()->endpoint();
}

server::server(std::shared_ptr<const config::config> cfg) : cfg_(std::move(cfg)) {
  rt_ = std::make_shared<const runtime>(cfg_, state_.metrics);
  for (std::size_t i = 0; i < cfg_->listeners.size(); ++i) {
    auto binding = std::make_unique<listener_binding>();
    binding->name = cfg_->listeners[i].name;
    binding->index = i;
    binding->stats = &state_.metrics.listener(binding->name);
    bindings_.push_back(std::move(binding));
  }
  unsigned n = cfg_->workers;
  if (n == 0) n = std::max(1u, std::thread::hardware_concurrency());
  for (unsigned i = 0; i < n; ++i)
    workers_.push_back(std::make_unique<worker>(i, state_, rt_));

  admin_.set_token(cfg_->admin.token);
  admin_.handle("GET", "/healthz", [](std::string_view, std::string_view) {
    return admin_response{200, "text/plain; charset=utf-8", "ok\n"};
  });
  admin_.handle("GET", "/readyz", [this](std::string_view, std::string_view) {
    if (state_.draining.load())
      return admin_response{503, "text/plain; charset=utf-8", "draining\n"};
    return admin_response{200, "text/plain; charset=utf-8", "ready\n"};
  });
  admin_.handle("GET", "/metrics", [this](std::string_view, std::string_view) {
    return admin_response{200, "text/plain; version=0.0.4; charset=utf-8", state_.metrics.render()};
  });
  admin_.handle("GET", "/config", [this](std::string_view, std::string_view) {
    const auto rt = snapshot();
    auto doc = config::to_json(*rt->cfg);
    if (auto* obj = doc.if_object()) {
      (*obj)["generation"] = rt->generation;
      (*obj)["loaded_at"] = http::format_time(rt->loaded_at, false);
    }
    return admin_response{200, "application/json", boost::json::serialize(doc) + "\n"};
  });
  admin_.handle("POST", "/reload", [this](std::string_view, std::string_view) {
    const auto r = reload_file();
    boost::json::object body;
    if (r.ok) {
      body["result"] = "ok";
      body["generation"] = r.generation;
    } else {
      body["result"] = "rejected";
      body["generation"] = r.generation;
      boost::json::array errors;
      for (const auto& e : r.errors)
        errors.emplace_back(e);
      body["errors"] = std::move(errors);
    }
    return admin_response{r.ok ? 200 : 400, "application/json",
                          boost::json::serialize(body) + "\n"};
  });
}

server::~server() {
  stop();
}

void server::start() {
  for (std::size_t i = 0; i < cfg_->listeners.size(); ++i) {
    const auto& l = cfg_->listeners[i];
    auto ep = resolve_bind_address(l.addr);
    try {
      // The first worker binds (resolving port 0); the others join the same port.
      for (auto& w : workers_)
        ep = w->listen(*bindings_[i], ep);
    } catch (const boost::system::system_error& e) {
      throw std::runtime_error("cannot listen on " + l.addr.text() + " (listener " + l.name +
                               "): " + e.code().message());
    }
    listeners_.push_back({l.name, ep, l.tls.has_value()});
  }
  try {
    admin_ep_ = admin_.listen(resolve_bind_address(cfg_->admin.addr));
  } catch (const boost::system::system_error& e) {
    throw std::runtime_error("cannot listen on " + cfg_->admin.addr.text() +
                             " (admin): " + e.code().message());
  }
  if (observer_factory_) {
    for (auto& w : workers_)
      w->set_observer(observer_factory_(*w));
  }
  // The first generation, with the observer's part (its factory was set after construction).
  auto rt = std::make_shared<runtime>(*rt_);
  if (generation_factory_) rt->observer = generation_factory_(cfg_);
  {
    const std::lock_guard lock(reload_mutex_);
    publish(std::move(rt));
  }
  for (auto& w : workers_)
    w->start();
  admin_.start();
}

namespace {
std::string endpoint_text(const tcp::endpoint& ep) {
  const auto a = ep.address();
  if (a.is_v6()) return fmt::format("[{}]:{}", a.to_string(), ep.port());
  return fmt::format("{}:{}", a.to_string(), ep.port());
}
} // namespace

std::string server::ready_line() const {
  std::string line = "ready:";
  for (const auto& l : listeners_) {
    line += fmt::format(" listener {}={}://{}", l.name, l.tls ? "https" : "http",
                        endpoint_text(l.endpoint));
  }
  line += fmt::format(" admin=http://{} workers={}", endpoint_text(admin_ep_), workers_.size());
  return line;
}

bool server::drain(std::chrono::milliseconds delay, std::chrono::milliseconds timeout) {
  state_.draining.store(true);
  if (delay.count() > 0) {
    spdlog::info("draining: not ready; serving {} ms more (drain_delay)", delay.count());
    std::this_thread::sleep_for(delay); // the workers serve as before meanwhile
  }
  for (auto& w : workers_)
    w->begin_drain();
  std::unique_lock lock(state_.drain_mutex);
  const bool clean = state_.drain_cv.wait_for(
      lock, timeout, [&] { return state_.workers_drained == workers_.size(); });
  lock.unlock();
  if (!clean) {
    spdlog::warn("drain_timeout elapsed: closing the remaining connections");
    for (auto& w : workers_)
      w->force_close();
    lock.lock();
    state_.drain_cv.wait_for(lock, std::chrono::seconds(2),
                             [&] { return state_.workers_drained == workers_.size(); });
  }
  return clean;
}

void server::stop() {
  admin_.stop();
  for (auto& w : workers_)
    w->stop();
}

} // namespace parallax::proxy::server
