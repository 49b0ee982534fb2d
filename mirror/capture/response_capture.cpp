#include "mirror/capture/response_capture.hpp"

#include <openssl/evp.h>

#include <array>
#include <stdexcept>

namespace parallax::mirror {

namespace {
// Fetched once: EVP_sha256() would make every EVP_DigestInit_ex look the implementation up in
// the provider store again (OpenSSL 3), which costs more than hashing a small body.
const EVP_MD* sha256_md() {
  static EVP_MD* const md = EVP_MD_fetch(nullptr, "SHA256", nullptr);
  return md;
}
} // namespace

struct sha256::state {
  EVP_MD_CTX* ctx = nullptr;
  state() : ctx(EVP_MD_CTX_new()) {
    if (ctx == nullptr || sha256_md() == nullptr ||
        EVP_DigestInit_ex(ctx, sha256_md(), nullptr) != 1) {
      EVP_MD_CTX_free(ctx);
      throw std::runtime_error("SHA-256 unavailable");
    }
  }
  ~state() { EVP_MD_CTX_free(ctx); }
  state(const state&) = delete;
  state& operator=(const state&) = delete;
};

sha256::sha256() : state_(std::make_unique<state>()) {}
sha256::~sha256() = default;
sha256::sha256(sha256&& other) noexcept = default;
sha256& sha256::operator=(sha256&& other) noexcept = default;

void sha256::update(std::string_view bytes) noexcept {
  if (state_ && !bytes.empty()) EVP_DigestUpdate(state_->ctx, bytes.data(), bytes.size());
}

std::string sha256::hex_digest() {
  if (!state_) return {};
  std::array<unsigned char, EVP_MAX_MD_SIZE> md{};
  unsigned int len = 0;
  EVP_DigestFinal_ex(state_->ctx, md.data(), &len);
  state_.reset();
  static constexpr std::string_view digits = "0123456789abcdef";
  std::string out;
  out.reserve(static_cast<std::size_t>(len) * 2);
  for (unsigned int i = 0; i < len; ++i) {
    out.push_back(digits[md[i] >> 4U]);
    out.push_back(digits[md[i] & 0x0fU]);
  }
  return out;
}

std::string sha256::of(std::string_view bytes) {
  sha256 h;
  h.update(bytes);
  return h.hex_digest();
}

response_capture::response_capture(std::uint64_t max_body_bytes, bool keep_body)
    : max_body_bytes_(max_body_bytes), keep_body_(keep_body) {}

void response_capture::head(const proxy::http::response_head& h) {
  status = h.status;
  headers.clear();
  for (const auto& field : h.headers)
    headers.add(field.name, field.value);
}

void response_capture::body(std::string_view piece) {
  body_bytes += piece.size();
  if (!keep_body_) return;
  hash_.update(piece);
  if (kept.size() < max_body_bytes_) {
    const auto room = static_cast<std::size_t>(max_body_bytes_ - kept.size());
    kept.append(piece.substr(0, room));
  }
}

void response_capture::finish() {
  if (keep_body_ && body_sha256.empty()) body_sha256 = hash_.hex_digest();
}

std::string response_capture::content_encoding() const {
  std::string out;
  for (const auto& h : headers) {
    if (!proxy::http::iequals(h.name, "content-encoding")) continue;
    if (!out.empty()) out.append(", ");
    out.append(h.value);
  }
  return out;
}

std::string_view response_capture::content_type() const noexcept {
  return headers.find("content-type").value_or(std::string_view{});
}

std::size_t header_bytes(const proxy::http::header_list& headers) noexcept {
  std::size_t n = 0;
  for (const auto& h : headers)
    n += sizeof(h) + h.name.capacity() + h.value.capacity();
  return n;
}

std::size_t response_capture::memory_bytes() const noexcept {
  return sizeof(*this) + kept.capacity() + header_bytes(headers);
}

} // namespace parallax::mirror
