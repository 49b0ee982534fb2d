#pragma once
// `parallax run --watch`: polls the configuration file's content through its path and reports a
// change once it has settled. Reading through the path follows symlinks, so a Kubernetes
// ConfigMap volume (the file is a symlink through `..data`, swapped atomically on update) works;
// a change is reported only when two reads one interval apart agree, so a file caught half-way
// through a write is not reported (and what does not load is rejected by the reload anyway).

#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <string>
#include <thread>

namespace parallax::proxy::server {

/// Watches one file's content on its own thread.
class config_watch {
public:
  /// Called on the watch thread with the new, settled content.
  using on_change = std::function<void(const std::string& content)>;

  /// Watches `path`, reading it every `interval`; `baseline` is the content in force (the one
  /// the running configuration was loaded from).
  config_watch(std::string path, std::string baseline, std::chrono::milliseconds interval,
               on_change callback);
  /// Stops the thread.
  ~config_watch();
  config_watch(const config_watch&) = delete;
  config_watch& operator=(const config_watch&) = delete;

  /// Starts polling.
  void start();
  /// Stops polling and joins the thread (idempotent).
  void stop();

private:
  void run();

  std::string path_;
  std::chrono::milliseconds interval_;
  on_change callback_;
  std::string reported_; // the content last reported (or the baseline)
  std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false; // guarded by mutex_
  std::thread thread_;
};

/// Reads the whole content of `path` into `out`; false when it cannot be read.
[[nodiscard]] bool read_whole_file(const std::string& path, std::string& out);

} // namespace parallax::proxy::server
