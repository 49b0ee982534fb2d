#include "proxy/server/logging.hpp"

#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <boost/json/serialize.hpp>
#include <boost/json/string.hpp>

namespace parallax::proxy::server {

namespace {
// `%*` in a pattern: the message as a JSON string literal (quotes included).
class json_message_flag final : public spdlog::custom_flag_formatter {
public:
  void format(const spdlog::details::log_msg& msg, const std::tm&,
              spdlog::memory_buf_t& dest) override {
    const std::string_view text(msg.payload.data(), msg.payload.size());
    const auto quoted = boost::json::serialize(boost::json::string(text));
    dest.append(quoted.data(), quoted.data() + quoted.size());
  }
  std::unique_ptr<custom_flag_formatter> clone() const override {
    return std::make_unique<json_message_flag>();
  }
};

spdlog::level::level_enum to_spdlog(config::logging::level l) {
  switch (l) {
  case config::logging::level::trace: return spdlog::level::trace;
  case config::logging::level::debug: return spdlog::level::debug;
  case config::logging::level::info: return spdlog::level::info;
  case config::logging::level::warn: return spdlog::level::warn;
  case config::logging::level::error: return spdlog::level::err;
  }
  return spdlog::level::info;
}
} // namespace

void configure_logging(const config::logging& cfg) {
  auto logger = spdlog::get("parallax");
  if (!logger) {
    logger = spdlog::stderr_logger_mt("parallax");
    spdlog::set_default_logger(logger);
  }
  auto formatter = std::make_unique<spdlog::pattern_formatter>(spdlog::pattern_time_type::utc,
                                                               std::string("\n"));
  if (cfg.fmt == config::logging::format::json) {
    formatter->add_flag<json_message_flag>('*').set_pattern(
        R"({"time":"%Y-%m-%dT%H:%M:%S.%eZ","level":"%l","thread":%t,"msg":%*})");
  } else {
    formatter->set_pattern("%Y-%m-%dT%H:%M:%S.%eZ %^%-5l%$ [%t] %v");
  }
  logger->set_formatter(std::move(formatter));
  logger->set_level(to_spdlog(cfg.lvl));
  logger->flush_on(spdlog::level::info);
}

void log_always(std::string_view text) {
  auto logger = spdlog::default_logger();
  // Straight to the sinks: the logger's level would drop an info line at `warn`.
  const spdlog::details::log_msg msg(logger->name(), spdlog::level::info,
                                     spdlog::string_view_t(text.data(), text.size()));
  for (const auto& sink : logger->sinks())
    sink->log(msg);
  logger->flush();
}

} // namespace parallax::proxy::server
