#include "mirror/capture/response_capture.hpp"

#include <openssl/evp.h>

#include <array>
#include <stdexcept>
#include <utility>
#include <vector>

namespace parallax::mirror {

namespace {
// Fetched once: EVP_sha256() would make every EVP_DigestInit_ex look the implementation up in
// the provider store again (OpenSSL 3), which costs more than hashing a small body.
const EVP_MD* sha256_md() {
  static EVP_MD* const md = EVP_MD_fetch(nullptr, "SHA256", nullptr);
  return md;
}

// Digest contexts reused by each thread: a new one costs two allocations (the context and the
// provider's state) and an init; a spent or abandoned one is re-initialised and kept here.
struct ctx_cache {
  static constexpr std::size_t max_kept = 64;
  std::vector<EVP_MD_CTX*> kept;
  ctx_cache() = default;
  ctx_cache(const ctx_cache&) = delete;
  ctx_cache& operator=(const ctx_cache&) = delete;
  ~ctx_cache() {
    for (auto* c : kept)
      EVP_MD_CTX_free(c);
  }
};
thread_local ctx_cache ctx_cache_of_thread;

EVP_MD_CTX* acquire_ctx() {
  auto& cache = ctx_cache_of_thread.kept;
  if (!cache.empty()) {
    auto* c = cache.back();
    cache.pop_back();
    return c;
  }
  EVP_MD_CTX* c = EVP_MD_CTX_new();
  if (c == nullptr || sha256_md() == nullptr || EVP_DigestInit_ex(c, sha256_md(), nullptr) != 1) {
    EVP_MD_CTX_free(c);
    throw std::runtime_error("SHA-256 unavailable");
  }
  return c;
}

void release_ctx(EVP_MD_CTX* c) noexcept {
  if (c == nullptr) return;
  auto& cache = ctx_cache_of_thread.kept;
  if (cache.size() < ctx_cache::max_kept && EVP_DigestInit_ex(c, sha256_md(), nullptr) == 1) {
    try {
      cache.push_back(c);
      return;
    } catch (const std::exception&) { // no memory for the list: free it instead
    }
  }
  EVP_MD_CTX_free(c);
}
} // namespace

sha256::sha256() : ctx_(acquire_ctx()) {}
sha256::~sha256() {
  release_ctx(ctx_);
}
sha256::sha256(sha256&& other) noexcept : ctx_(std::exchange(other.ctx_, nullptr)) {}
sha256& sha256::operator=(sha256&& other) noexcept {
  if (this != &other) {
    release_ctx(ctx_);
    ctx_ = std::exchange(other.ctx_, nullptr);
  }
  return *this;
}

void sha256::update(std::string_view bytes) noexcept {
  if (ctx_ != nullptr && !bytes.empty()) EVP_DigestUpdate(ctx_, bytes.data(), bytes.size());
}

std::string sha256::hex_digest() {
  if (ctx_ == nullptr) return {};
  std::array<unsigned char, EVP_MAX_MD_SIZE> md{};
  unsigned int len = 0;
  EVP_DigestFinal_ex(ctx_, md.data(), &len);
  release_ctx(std::exchange(ctx_, nullptr));
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
  headers.reserve(h.headers.size());
  for (const auto& field : h.headers)
    headers.add(field);
}

void response_capture::body(std::string_view piece) {
  const auto before = body_bytes;
  body_bytes += piece.size();
  if (!keep_body_) return;
  if (kept.size() < max_body_bytes_) {
    const auto room = static_cast<std::size_t>(max_body_bytes_ - kept.size());
    kept.append(piece.substr(0, room));
  }
  if (body_bytes == kept.size()) return; // all kept: hashed later, off the I/O thread, if needed
  // The body outgrew what is kept: hash it as it streams past. Every earlier byte was kept.
  if (!hash_) {
    hash_.emplace();
    hash_->update(kept);
    hash_->update(piece.substr(static_cast<std::size_t>(kept.size() - before)));
  } else {
    hash_->update(piece);
  }
}

void response_capture::finish() {
  if (hash_ && digest_.empty()) digest_ = hash_->hex_digest();
  hash_.reset();
}

std::string response_capture::body_sha256() const {
  if (!keep_body_) return {};
  if (!digest_.empty()) return digest_;
  if (hash_ || !body_complete()) return {}; // still streaming
  digest_ = sha256::of(kept);
  return digest_;
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
  return sizeof(*this) + kept.capacity() + header_bytes(headers) + header_bytes(trailer_fields);
}

} // namespace parallax::mirror
