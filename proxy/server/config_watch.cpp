#include "proxy/server/config_watch.hpp"

#include <spdlog/spdlog.h>

#include <fstream>
#include <optional>
#include <sstream>

namespace parallax::proxy::server {

bool read_whole_file(const std::string& path, std::string& out) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return false;
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) return false;
  out = std::move(text).str();
  return true;
}

config_watch::config_watch(std::string path, std::string baseline,
                           std::chrono::milliseconds interval, on_change callback)
    : path_(std::move(path)), interval_(interval), callback_(std::move(callback)),
      reported_(std::move(baseline)) {}

config_watch::~config_watch() {
  stop();
}

void config_watch::start() {
  thread_ = std::thread([this] { run(); });
}

void config_watch::stop() {
  {
    const std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void config_watch::run() {
  std::optional<std::string> pending; // a new content seen once, waiting to settle
  bool unreadable = false;
  for (;;) {
    {
      std::unique_lock lock(mutex_);
      if (wake_.wait_for(lock, interval_, [this] { return stopping_; })) return;
    }
    std::string content;
    if (!read_whole_file(path_, content)) {
      // Mid-swap of a ConfigMap, or removed: keep the running configuration, say so once.
      if (!unreadable)
        spdlog::warn("--watch: cannot read {}; keeping the running configuration", path_);
      unreadable = true;
      pending.reset();
      continue;
    }
    unreadable = false;
    if (content == reported_) {
      pending.reset();
      continue;
    }
    if (!pending || *pending != content) {
      pending = std::move(content); // changed: report it once it reads the same next time
      continue;
    }
    reported_ = std::move(*pending);
    pending.reset();
    spdlog::info("--watch: {} changed; reloading", path_);
    try {
      callback_(reported_);
    } catch (const std::exception& e) {
      spdlog::error("--watch: reload failed: {}", e.what());
    }
  }
}

} // namespace parallax::proxy::server
