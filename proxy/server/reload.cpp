// server's reloads (config.md "Reload"): what may not change, the new snapshot, publishing it to
// the workers, and the metrics of the result.

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <stdexcept>

#include "config/loader.hpp"
#include "proxy/server/logging.hpp"
#include "proxy/server/server.hpp"

namespace parallax::proxy::server {

namespace {

std::string workers_text(unsigned n) {
  return n == 0 ? "auto" : std::to_string(n);
}

// The keys a reload cannot change (their sockets and threads exist once per process).
std::vector<std::string> fixed_key_changes(const config::config& now, const config::config& next) {
  std::vector<std::string> errors;
  const auto& file = next.source_path;
  const auto restart = "; it cannot change on reload (restart parallax to apply it)";
  if (now.listeners.size() != next.listeners.size()) {
    errors.push_back(fmt::format("{}: listeners: {} listeners instead of {}; listeners cannot be "
                                 "added or removed on reload (restart parallax to apply it)",
                                 file, next.listeners.size(), now.listeners.size()));
  } else {
    for (std::size_t i = 0; i < now.listeners.size(); ++i) {
      const auto& a = now.listeners[i];
      const auto& b = next.listeners[i];
      if (a.name != b.name) {
        errors.push_back(fmt::format("{}: listeners[{}].name: \"{}\" instead of \"{}\"{}", file, i,
                                     b.name, a.name, restart));
      }
      if (!(a.addr == b.addr)) {
        errors.push_back(fmt::format("{}: listeners[{}].address: {} instead of {}{}", file, i,
                                     b.addr.text(), a.addr.text(), restart));
      }
    }
  }
  if (!(now.admin.addr == next.admin.addr)) {
    errors.push_back(fmt::format("{}: admin.address: {} instead of {}{}", file,
                                 next.admin.addr.text(), now.admin.addr.text(), restart));
  }
  if (now.workers != next.workers) {
    errors.push_back(fmt::format("{}: workers: {} instead of {}{}", file,
                                 workers_text(next.workers), workers_text(now.workers), restart));
  }
  return errors;
}

double unix_seconds(std::chrono::system_clock::time_point t) {
  return std::chrono::duration<double>(t.time_since_epoch()).count();
}

} // namespace

std::shared_ptr<const config::config> server::config() const {
  const std::lock_guard lock(reload_mutex_);
  return cfg_;
}

std::shared_ptr<const runtime> server::snapshot() const {
  const std::lock_guard lock(reload_mutex_);
  return rt_;
}

reload_result server::reject(std::vector<std::string> errors) {
  state_.metrics.count_reload(false);
  for (const auto& e : errors)
    spdlog::error("reload rejected: {}", e);
  reload_result r;
  r.generation = snapshot()->generation;
  r.errors = std::move(errors);
  return r;
}

void server::publish(std::shared_ptr<const runtime> rt) {
  // Called with reload_mutex_ held.
  rt_ = std::move(rt);
  cfg_ = rt_->cfg;
  for (auto& w : workers_)
    w->apply(rt_);
  state_.metrics.set_generation(rt_->generation, unix_seconds(rt_->loaded_at));
}

reload_result server::reload(std::shared_ptr<const config::config> next) {
  std::unique_lock lock(reload_mutex_);
  auto errors = fixed_key_changes(*cfg_, *next);
  std::shared_ptr<runtime> rt;
  if (errors.empty()) {
    try {
      // TLS files are read again here: that is how certificates rotate.
      rt = std::make_shared<runtime>(next, state_.metrics, rt_->generation + 1);
      if (generation_factory_) rt->observer = generation_factory_(next);
    } catch (const std::exception& e) {
      errors.push_back(fmt::format("{}: {}", next->source_path, e.what()));
    }
  }
  if (!errors.empty()) {
    lock.unlock();
    return reject(std::move(errors));
  }
  const bool logging_changed = !(cfg_->logging == next->logging);
  admin_.set_token(next->admin.token);
  publish(std::move(rt));
  const auto generation = rt_->generation;
  lock.unlock();
  if (logging_changed) configure_logging(next->logging);
  state_.metrics.count_reload(true);
  spdlog::info("configuration reloaded from {}: generation {}", next->source_path, generation);
  return {true, generation, {}};
}

namespace {
std::vector<std::string> error_texts(const config::load_result& loaded) {
  std::vector<std::string> out;
  out.reserve(loaded.errors.size());
  for (const auto& e : loaded.errors)
    out.push_back(e.text());
  return out;
}
} // namespace

reload_result server::reload_file() {
  const auto loaded = config::load_file(config()->source_path);
  if (!loaded.ok()) return reject(error_texts(loaded));
  return reload(loaded.cfg);
}

reload_result server::reload_text(const std::string& text) {
  const auto loaded = config::load_string(text, config()->source_path);
  if (!loaded.ok()) return reject(error_texts(loaded));
  return reload(loaded.cfg);
}

} // namespace parallax::proxy::server
