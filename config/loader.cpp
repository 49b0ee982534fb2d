// YAML -> config: the public entry points of loader.hpp. The file is parsed here; the value
// grammar (value_grammar.cpp), the walk over YAML nodes (yaml_walker.cpp) and the schema
// (schema_*.cpp) do the rest. Errors are collected (never thrown) so one run of
// `parallax check` reports everything wrong with a file at once.

#include "config/loader.hpp"

#include <yaml-cpp/depthguard.h>
#include <yaml-cpp/eventhandler.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <system_error>

#include "config/schema_builder.hpp"

namespace parallax::config {

using detail::field;
using detail::position_of;

std::string load_error::text() const {
  std::string out = file + ":" + std::to_string(line) + ":" + std::to_string(column) + ": ";
  if (!key_path.empty()) out += key_path + ": ";
  return out + message;
}

namespace {

// Records where each document starts and nothing else.
class document_starts final : public YAML::EventHandler {
public:
  std::vector<YAML::Mark> marks;

  void OnDocumentStart(const YAML::Mark& mark) override { marks.push_back(mark); }
  void OnDocumentEnd() override {}
  void OnNull(const YAML::Mark&, YAML::anchor_t) override {}
  void OnAlias(const YAML::Mark&, YAML::anchor_t) override {}
  void OnScalar(const YAML::Mark&, const std::string&, YAML::anchor_t,
                const std::string&) override {}
  void OnSequenceStart(const YAML::Mark&, const std::string&, YAML::anchor_t,
                       YAML::EmitterStyle::value) override {}
  void OnSequenceEnd() override {}
  void OnMapStart(const YAML::Mark&, const std::string&, YAML::anchor_t,
                  YAML::EmitterStyle::value) override {}
  void OnMapEnd() override {}
};

// The first document, and where a second one starts if there is one. Never YAML::LoadAll:
// yaml-cpp 0.7 loops for ever on a stray ',' there (issue #1040), adding a null document per
// turn; asking for at most two documents bounds it.
YAML::Node first_document(const std::string& text, std::optional<YAML::Mark>& second) {
  YAML::Node document = YAML::Load(text);
  std::istringstream in(text);
  YAML::Parser parser(in);
  document_starts starts;
  if (parser.HandleNextDocument(starts) && parser.HandleNextDocument(starts) &&
      starts.marks.size() > 1) {
    second = starts.marks[1];
  }
  return document;
}

} // namespace

load_result load_string(std::string_view yaml, const std::string& file_name) {
  load_result result;
  detail::schema_builder b(file_name);
  std::optional<YAML::Node> document; // YAML::Node's operator= assigns content, not the node
  std::optional<YAML::Mark> second;
  try {
    document.emplace(first_document(std::string(yaml), second));
  } catch (const YAML::DeepRecursion& e) {
    // yaml-cpp words this one as "bad file".
    b.fail(position_of(e.mark), "", "the YAML nesting is too deep");
    result.errors = std::move(b.errors());
    return result;
  } catch (const YAML::Exception& e) {
    b.fail(position_of(e.mark), "", e.msg);
    result.errors = std::move(b.errors());
    return result;
  }
  if (!document->IsDefined() || document->IsNull()) {
    b.fail({}, "",
           "the file is empty (expected a map with version, listeners, upstreams and routes)");
    result.errors = std::move(b.errors());
    return result;
  }
  if (second) b.fail(position_of(*second), "", "only one YAML document is allowed");

  auto cfg = std::make_shared<config>();
  cfg->source_path = file_name;
  b.build(field{*document, "", position_of(document->Mark())}, *cfg);
  auto& errors = b.errors();
  if (!errors.empty()) {
    std::stable_sort(errors.begin(), errors.end(), [](const load_error& a, const load_error& c) {
      return a.line != c.line ? a.line < c.line : a.column < c.column;
    });
    result.errors = std::move(errors);
    return result;
  }
  result.cfg = std::move(cfg);
  return result;
}

load_result load_file(const std::string& path) {
  std::error_code ignored;
  if (std::filesystem::is_directory(path, ignored)) {
    load_result result;
    result.errors.push_back(load_error{path, 1, 1, "", "cannot read file: it is a directory"});
    return result;
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    load_result result;
    const int error = errno;
    result.errors.push_back(load_error{path, 1, 1, "",
                                       std::string("cannot read file: ") +
                                           (error != 0 ? std::strerror(error) : "open failed")});
    return result;
  }
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) {
    load_result result;
    result.errors.push_back(load_error{path, 1, 1, "", "cannot read file"});
    return result;
  }
  return load_string(text.str(), path);
}

} // namespace parallax::config
