#include "mirror/report/summary_file.hpp"

#include "mirror/report/format.hpp"

#include <spdlog/spdlog.h>

#include <filesystem>
#include <fstream>
#include <system_error>

namespace parallax::mirror::report {

bool write_summary_file(const std::string& path, const boost::json::object& summary) {
  const auto text = render_json(summary, true);
  const auto tmp = path + ".tmp";
  {
    std::ofstream f(tmp, std::ios::binary | std::ios::trunc);
    f << text;
    if (!f) {
      spdlog::error("cannot write summary file {}", tmp);
      return false;
    }
  }
  std::error_code ec;
  std::filesystem::rename(tmp, path, ec);
  if (ec) {
    spdlog::error("cannot replace summary file {}: {}", path, ec.message());
    return false;
  }
  return true;
}

} // namespace parallax::mirror::report
