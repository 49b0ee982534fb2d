#pragma once

#include <string>
#include <string_view>

namespace parallax::test {

// Creates a new, uniquely named, private directory under $TMPDIR (or /tmp); returns its path.
std::string make_temp_dir(std::string_view prefix = "parallax-test");

// A fresh temporary directory that is removed, with everything in it, when this object dies.
class temp_dir {
public:
  // Creates the directory (see make_temp_dir); throws std::system_error on failure.
  explicit temp_dir(std::string_view prefix = "parallax-test");
  ~temp_dir();
  temp_dir(temp_dir&& other) noexcept;
  temp_dir& operator=(temp_dir&& other) noexcept;
  temp_dir(const temp_dir&) = delete;
  temp_dir& operator=(const temp_dir&) = delete;

  // Absolute path of the directory.
  const std::string& path() const { return path_; }
  // Path of `name` inside the directory (nothing is created).
  std::string file(std::string_view name) const;

private:
  std::string path_;
};

} // namespace parallax::test
