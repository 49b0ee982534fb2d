#include "proxy/http/message.hpp"

#include <algorithm>
#include <cassert>

namespace parallax::proxy::http {

std::string_view trim_ows(std::string_view s) noexcept {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t'))
    s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t'))
    s.remove_suffix(1);
  return s;
}

bool list_contains(std::string_view list, std::string_view token) noexcept {
  return any_list_item(list, [token](std::string_view item) { return iequals(item, token); });
}

field field_of(std::string_view n) noexcept {
  // The first byte tells most names of one length apart before a whole comparison.
  const auto is = [n](std::string_view known) {
    return to_lower(n.front()) == known.front() && iequals(n, known);
  };
  switch (n.size()) {
  case 2: return is("te") ? field::te : field::other;
  case 4: return is("host") ? field::host : field::other;
  case 6: return is("expect") ? field::expect : field::other;
  case 7: return is("upgrade") ? field::upgrade : is("trailer") ? field::trailer : field::other;
  case 10:
    return is("connection")   ? field::connection
           : is("keep-alive") ? field::keep_alive
                              : field::other;
  case 14: return is("content-length") ? field::content_length : field::other;
  case 15: return is("x-forwarded-for") ? field::x_forwarded_for : field::other;
  case 16:
    return is("proxy-connection")   ? field::proxy_connection
           : is("x-forwarded-host") ? field::x_forwarded_host
                                    : field::other;
  case 17:
    return is("transfer-encoding")   ? field::transfer_encoding
           : is("x-forwarded-proto") ? field::x_forwarded_proto
                                     : field::other;
  default: return field::other;
  }
}

header& header_list::append() {
  if (size_ == items_.size()) items_.emplace_back();
  header& h = items_[size_++];
  h.name.clear();
  h.value.clear();
  h.id = field::other;
  return h;
}

void header_list::add(std::string_view name, std::string_view value) {
  header& h = append();
  // Appended to the emptied strings: std::string::append is a plain copy when the capacity
  // is there, where assign goes through a general replace (about three times the work).
  h.name.append(name);
  h.value.append(value);
  h.id = field_of(name);
}

void header_list::add(const header& from) {
  header& h = append();
  h.name.append(from.name);
  h.value.append(from.value);
  h.id = from.id;
}

namespace {
// Whether `h` is named `name`, whose field is `id`: known names compare by id.
bool named(const header& h, std::string_view name, field id) noexcept {
  return id != field::other ? h.id == id : iequals(h.name, name);
}
} // namespace

std::optional<std::string_view> header_list::find(std::string_view name) const noexcept {
  const auto id = field_of(name);
  for (std::size_t i = 0; i < size_; ++i) {
    if (named(items_[i], name, id)) return std::string_view(items_[i].value);
  }
  return std::nullopt;
}

std::optional<std::string_view> header_list::find(field id) const noexcept {
  assert(id != field::other); // would match every unrecognised field
  for (std::size_t i = 0; i < size_; ++i) {
    if (items_[i].id == id) return std::string_view(items_[i].value);
  }
  return std::nullopt;
}

std::size_t header_list::count(std::string_view name) const noexcept {
  const auto id = field_of(name);
  return static_cast<std::size_t>(
      std::count_if(items_.begin(), items_.begin() + static_cast<std::ptrdiff_t>(size_),
                    [&](const header& h) { return named(h, name, id); }));
}

std::size_t header_list::count(field id) const noexcept {
  assert(id != field::other); // would match every unrecognised field
  return static_cast<std::size_t>(std::count_if(items_.begin(),
                                                items_.begin() + static_cast<std::ptrdiff_t>(size_),
                                                [&](const header& h) { return h.id == id; }));
}

void header_list::remove(std::string_view name) noexcept {
  const auto id = field_of(name);
  std::size_t out = 0;
  for (std::size_t i = 0; i < size_; ++i) {
    if (named(items_[i], name, id)) continue;
    if (out != i) std::swap(items_[out], items_[i]);
    ++out;
  }
  size_ = out;
}

void header_list::remove(field id) noexcept {
  assert(id != field::other); // would match every unrecognised field
  std::size_t out = 0;
  for (std::size_t i = 0; i < size_; ++i) {
    if (items_[i].id == id) continue;
    if (out != i) std::swap(items_[out], items_[i]);
    ++out;
  }
  size_ = out;
}

void header_list::set(std::string_view name, std::string_view value) {
  remove(name);
  add(name, value);
}

void request_head::clear() noexcept {
  method.clear();
  target.clear();
  version_minor = 1;
  headers.clear();
  frame = framing{};
  expect_continue = false;
}

std::string_view request_head::path() const noexcept {
  std::string_view t = target;
  if (!t.empty() && t.front() != '/') {
    // absolute-form: scheme://authority/path?query
    const auto scheme_end = t.find("://");
    if (scheme_end != std::string_view::npos) {
      t.remove_prefix(scheme_end + 3);
      const auto slash = t.find_first_of("/?");
      if (slash == std::string_view::npos) return "/";
      t.remove_prefix(slash);
      if (t.front() == '?') return "/";
    }
  }
  const auto q = t.find('?');
  return q == std::string_view::npos ? t : t.substr(0, q);
}

std::string_view request_head::host() const noexcept {
  std::string_view h;
  if (auto v = headers.find(field::host)) h = *v;
  if (h.empty()) return h;
  if (h.front() == '[') {
    const auto close = h.find(']');
    return close == std::string_view::npos ? h : h.substr(0, close + 1);
  }
  const auto colon = h.rfind(':');
  return colon == std::string_view::npos ? h : h.substr(0, colon);
}

void response_head::clear() noexcept {
  status = 0;
  reason.clear();
  version_minor = 1;
  headers.clear();
  frame = framing{};
}

bool is_hop_by_hop(field id) noexcept {
  switch (id) {
  case field::connection:
  case field::keep_alive:
  case field::proxy_connection:
  case field::te:
  case field::trailer:
  case field::transfer_encoding:
  case field::upgrade: return true;
  default: return false;
  }
}

bool forwardable_trailer(const header& h) noexcept {
  return !is_hop_by_hop(h.id) && h.id != field::content_length && h.id != field::host;
}

bool is_hop_by_hop(std::string_view name) noexcept {
  return is_hop_by_hop(field_of(name));
}

bool names_other_options(const header_list& headers) noexcept {
  const auto other = [](std::string_view item) {
    return !item.empty() && !iequals(item, "close") && !iequals(item, "keep-alive") &&
           !iequals(item, "upgrade");
  };
  return std::any_of(headers.begin(), headers.end(), [&](const header& h) {
    return h.id == field::connection && any_list_item(h.value, other);
  });
}

bool named_in_connection(const header_list& headers, std::string_view name) noexcept {
  for (const auto& h : headers) {
    if (h.id == field::connection && list_contains(h.value, name)) return true;
  }
  return false;
}

std::string_view origin_form(std::string_view target) noexcept {
  if (target.empty() || target.front() == '/' || target == "*") return target;
  const auto scheme_end = target.find("://");
  if (scheme_end == std::string_view::npos) return target;
  target.remove_prefix(scheme_end + 3);
  const auto rest = target.find_first_of("/?");
  return rest == std::string_view::npos ? std::string_view{} : target.substr(rest);
}

} // namespace parallax::proxy::http
