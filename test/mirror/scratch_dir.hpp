#pragma once
// A fresh directory for one mirror test's files (logs, summaries), removed with everything in it
// at the end of the test. (mirror_tests does not link test/support, whose temp_dir does the same
// for the integration tests.)

#include <filesystem>
#include <random>
#include <string>
#include <string_view>
#include <system_error>

namespace parallax::mirror {

/// A uniquely named directory under the system's temporary directory.
class scratch_dir {
public:
  /// Creates `<tmp>/<prefix>-<random>`.
  explicit scratch_dir(std::string_view prefix) {
    std::random_device device;
    path_ = std::filesystem::temp_directory_path() /
            (std::string(prefix) + "-" + std::to_string(device()));
    std::filesystem::create_directories(path_);
  }
  ~scratch_dir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  scratch_dir(const scratch_dir&) = delete;
  scratch_dir& operator=(const scratch_dir&) = delete;

  /// The directory.
  [[nodiscard]] const std::filesystem::path& path() const noexcept { return path_; }
  /// The path of `name` inside it (nothing is created).
  [[nodiscard]] std::string file(std::string_view name) const { return (path_ / name).string(); }

private:
  std::filesystem::path path_;
};

} // namespace parallax::mirror
