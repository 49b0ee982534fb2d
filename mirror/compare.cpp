#include "mirror/compare.hpp"

#include <boost/json/monotonic_resource.hpp>
#include <boost/json/parse.hpp>

#include <algorithm>
#include <array>
#include <stdexcept>
#include <unordered_set>

#include "mirror/diff/body_decode.hpp"
#include "mirror/diff/header_diff.hpp"
#include "mirror/diff/text_diff.hpp"
#include "mirror/grpc/call_document.hpp"
#include "mirror/grpc/proto_json.hpp"
#include "proxy/http/ascii.hpp"

namespace parallax::mirror {

namespace {
// A capture's body without its Content-Encoding: `kept` itself when it has none (no copy),
// else decoded into `storage`; `storage.status` tells whether that worked.
std::string_view decoded(const response_capture& c, std::size_t max, diff::decode_result& storage) {
  const auto encoding = c.content_encoding();
  if (encoding.empty() && c.kept.size() <= max) return c.kept;
  storage = diff::decode_body(c.kept, encoding, max);
  return storage.body;
}

diff::difference bytes_difference(std::string live_sha, std::string shadow_sha) {
  diff::difference d;
  d.kind = diff::difference_kind::body_bytes;
  d.live = boost::json::value(live_sha);
  d.shadow = boost::json::value(shadow_sha);
  return d;
}
} // namespace

body_kind classify_content_type(std::string_view content_type) noexcept {
  const auto semi = content_type.find(';');
  const auto media = proxy::http::trim_ows(content_type.substr(0, semi));
  if (media.empty()) return body_kind::bytes;
  if (proxy::http::iequals(media, "application/json")) return body_kind::json;
  // "+json" alone is no media type; a structured syntax suffix needs a subtype before it.
  if (media.size() > 5 && proxy::http::iends_with(media, "+json")) return body_kind::json;
  if (proxy::http::istarts_with(media, "text/")) return body_kind::text;
  for (std::string_view t :
       {"xml", "javascript", "x-www-form-urlencoded", "yaml", "csv", "graphql", "x-ndjson"}) {
    if (proxy::http::icontains(media, t)) return body_kind::text;
  }
  return body_kind::bytes;
}

comparer::comparer(const config::compare_policy& policy) : policy_(policy) {
  auto opts = diff::make_json_diff_options(policy.body);
  if (!opts) throw std::invalid_argument("malformed JSON pointer pattern in compare.body");
  json_ = std::move(*opts);
}

void comparer::compare(const response_capture& live, const response_capture& shadow,
                       const response_capture* secondary, report::record& r,
                       std::string_view request_path) const {
  r.differences.clear();
  r.noise.clear();
  r.noise_suppressed = 0;
  r.differences_coarsened = false;
  if (shadow.error) {
    r.outcome = report::outcome::shadow_error;
    return;
  }
  tally counts;
  auto found = differences(live, shadow, counts, request_path);
  if (secondary != nullptr && !secondary->error && !found.empty()) {
    tally ignored;
    std::unordered_set<std::string> noise;
    for (const auto& d : differences(live, *secondary, ignored, request_path))
      noise.insert(noise_key(d));
    const auto real = std::stable_partition(
        found.begin(), found.end(), [&](const auto& d) { return !noise.contains(noise_key(d)); });
    counts.suppressed += static_cast<std::uint64_t>(found.end() - real);
    r.noise.assign(std::make_move_iterator(real), std::make_move_iterator(found.end()));
    found.erase(real, found.end());
  }
  r.differences = std::move(found);
  r.noise_suppressed = counts.suppressed;
  r.differences_coarsened = counts.coarse;
  r.outcome = r.differences.empty() ? report::outcome::match : report::outcome::differ;
}

std::vector<diff::difference> comparer::differences(const response_capture& a,
                                                    const response_capture& b, tally& counts,
                                                    std::string_view request_path) const {
  std::vector<diff::difference> out;
  if (policy_.status && a.status != b.status) {
    diff::difference d;
    d.kind = diff::difference_kind::status;
    d.live = boost::json::value(a.status);
    d.shadow = boost::json::value(b.status);
    out.push_back(std::move(d));
  }
  if (grpc::is_grpc_content_type(a.content_type())) {
    grpc_differences(a, b, request_path, out, counts);
    return out;
  }
  auto headers = diff::diff_headers(a.headers, b.headers, policy_.headers, &counts.suppressed);
  std::move(headers.begin(), headers.end(), std::back_inserter(out));
  if (policy_.body.enabled) body_differences(a, b, out, counts);
  return out;
}

void comparer::body_differences(const response_capture& a, const response_capture& b,
                                std::vector<diff::difference>& out, tally& counts) const {
  const auto by_hash = [&] {
    auto ha = a.body_sha256();
    auto hb = b.body_sha256();
    if (ha != hb || a.body_bytes != b.body_bytes) {
      out.push_back(bytes_difference(std::move(ha), std::move(hb)));
    }
  };
  if (!a.body_complete() || !b.body_complete()) return by_hash();
  const auto max = static_cast<std::size_t>(policy_.body.max_bytes);
  diff::decode_result da;
  diff::decode_result db;
  const auto ba = decoded(a, max, da);
  const auto bb = decoded(b, max, db);
  if (da.status != diff::decode_status::ok || db.status != diff::decode_status::ok) {
    return by_hash();
  }
  if (ba == bb) return;
  auto kind = classify_content_type(a.content_type());
  if (kind == body_kind::json) {
    boost::system::error_code ea;
    boost::system::error_code eb;
    // Both documents live in one scratch resource (a stack block first), freed at once
    // instead of node by node: the differences copy what they keep.
    std::array<unsigned char, 16 * 1024> scratch; // NOLINT: filled by the resource
    boost::json::monotonic_resource mr(scratch.data(), scratch.size());
    const boost::json::storage_ptr sp(&mr);
    const auto ja = boost::json::parse(ba, ea, sp);
    const auto jb = boost::json::parse(bb, eb, sp);
    if (!ea && !eb) {
      auto result = diff::diff_json(ja, jb, json_);
      counts.suppressed += result.suppressed;
      counts.coarse = counts.coarse || result.coarse;
      std::move(result.differences.begin(), result.differences.end(), std::back_inserter(out));
      return;
    }
    kind = body_kind::text; // not JSON after all (an error page, a truncated body)
  }
  if (kind == body_kind::text) {
    auto result = diff::diff_text(ba, bb);
    std::move(result.differences.begin(), result.differences.end(), std::back_inserter(out));
    return;
  }
  // The decoded bodies' digests; a body compared in place is its capture's (kept for the record).
  const auto digest = [](const response_capture& c, std::string_view body) {
    return body.data() == c.kept.data() ? c.body_sha256() : sha256::of(body);
  };
  out.push_back(bytes_difference(digest(a, ba), digest(b, bb)));
}

void comparer::grpc_differences(const response_capture& a, const response_capture& b,
                                std::string_view request_path, std::vector<diff::difference>& out,
                                tally& counts) const {
  const auto fields = [&](const proxy::http::header_list& x, const proxy::http::header_list& y,
                          diff::difference_kind kind) {
    for (auto& d : diff::diff_headers(x, y, policy_.headers, &counts.suppressed)) {
      if (grpc::is_status_field(d.name)) continue; // in the document
      d.kind = kind;
      out.push_back(std::move(d));
    }
  };
  fields(a.headers, b.headers, diff::difference_kind::header);
  // A shadow cancelled after max_messages never sent its status or trailers.
  const bool cut = a.cut || b.cut;
  const auto sa = grpc::status_of(a.headers, a.trailer_fields);
  const auto sb = grpc::status_of(b.headers, b.trailer_fields);
  if (!cut) {
    // The call's status, compared as the document's /grpc_status (reports.md) and, like an
    // HTTP status, only with compare.status: an ignore pattern that matches /grpc_status drops
    // (and counts) it as it would a body field.
    if (policy_.status && sa.code != sb.code) {
      if (std::any_of(json_.ignore.begin(), json_.ignore.end(),
                      [](const auto& p) { return p.matches_pointer("/grpc_status"); })) {
        ++counts.suppressed;
      } else {
        diff::difference d;
        d.kind = diff::difference_kind::grpc_status;
        const auto code = [](const grpc::call_status& s) {
          return s.code ? boost::json::value(*s.code) : boost::json::value(nullptr);
        };
        d.live = code(sa);
        d.shadow = code(sb);
        out.push_back(std::move(d));
      }
    }
    fields(a.trailer_fields, b.trailer_fields, diff::difference_kind::trailer);
  }
  if (!policy_.body.enabled) return;
  const auto* method = descriptors_ == nullptr ? nullptr : descriptors_->method(request_path);
  grpc::document_options options;
  options.descriptors = descriptors_;
  if (method != nullptr) options.response_type = method->response;
  options.max_messages = max_messages_;
  options.max_bytes = static_cast<std::size_t>(policy_.body.max_bytes);
  const auto document = [&](const response_capture& c, const grpc::call_status& s) {
    options.prefix = !c.body_complete() || c.cut;
    return grpc::call_document(s, c.kept, c.headers.find("grpc-encoding").value_or(""), options);
  };
  auto da = document(a, sa);
  auto db = document(b, sb);
  if (cut) {
    da.erase("grpc_message");
    db.erase("grpc_message");
  }
  if (!a.body_complete() || !b.body_complete()) {
    // Only the messages both kept prefixes hold are comparable.
    auto& ma = da["messages"].as_array();
    auto& mb = db["messages"].as_array();
    const auto n = std::min(ma.size(), mb.size());
    ma.resize(n);
    mb.resize(n);
  }
  auto result =
      diff::diff_json(boost::json::value(std::move(da)), boost::json::value(std::move(db)), json_);
  counts.suppressed += result.suppressed;
  counts.coarse = counts.coarse || result.coarse;
  std::move(result.differences.begin(), result.differences.end(), std::back_inserter(out));
}

std::string noise_key(const diff::difference& d) {
  std::string key(diff::to_string(d.kind));
  key.push_back('\n');
  switch (d.kind) {
  case diff::difference_kind::status:
  case diff::difference_kind::grpc_status:
  case diff::difference_kind::body_bytes: break;
  case diff::difference_kind::header:
  case diff::difference_kind::trailer: key.append(d.name); break;
  case diff::difference_kind::body: key.append(d.path); break;
  case diff::difference_kind::body_text: key.append(std::to_string(d.line)); break;
  }
  return key;
}

} // namespace parallax::mirror
