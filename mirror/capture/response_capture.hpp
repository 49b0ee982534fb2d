#pragma once
// A copy of one response (live or shadow) taken while it streams past: status, headers, the
// first `max_bytes` of the body, and the size and SHA-256 of the whole body. Copying is bounded
// (beyond max_bytes only the hash is updated), so capturing a huge download costs no memory.
// A body that fits in max_bytes is not hashed while it streams: body_sha256() hashes the kept
// copy when asked (on the comparison thread, and only for what a report needs).

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "proxy/http/message.hpp"

struct evp_md_ctx_st; // OpenSSL's EVP_MD_CTX, kept out of this header

namespace parallax::mirror {

/// Incremental SHA-256 (OpenSSL EVP), lower-case hex result.
class sha256 {
public:
  sha256();
  ~sha256();
  sha256(sha256&& other) noexcept;
  sha256& operator=(sha256&& other) noexcept;
  sha256(const sha256&) = delete;
  sha256& operator=(const sha256&) = delete;
  /// Hashes more bytes.
  void update(std::string_view bytes) noexcept;
  /// The digest of everything hashed so far, as 64 hex characters; the hasher is then spent.
  [[nodiscard]] std::string hex_digest();
  /// The hex SHA-256 of `bytes`.
  [[nodiscard]] static std::string of(std::string_view bytes);

private:
  evp_md_ctx_st* ctx_; // initialised for SHA-256; null once spent or moved from
};

/// Heap bytes held by the fields of `headers` (for bounding queues).
[[nodiscard]] std::size_t header_bytes(const proxy::http::header_list& headers) noexcept;

/// A captured response.
class response_capture {
public:
  /// A capture keeping at most `max_body_bytes` of the body (0: keep none, hash only); with
  /// `keep_body` false nothing of the body is kept or hashed (body comparison off).
  explicit response_capture(std::uint64_t max_body_bytes = 0, bool keep_body = true);

  /// Records the response head.
  void head(const proxy::http::response_head& h);
  /// Adds body bytes (chunk framing removed).
  void body(std::string_view piece);
  /// Adds several body pieces.
  void body(const std::vector<std::string_view>& pieces) {
    for (auto p : pieces)
      body(p);
  }
  /// Records the trailer fields.
  void trailers(const proxy::http::header_list& fields) { trailer_fields = fields; }
  /// Completes the streamed body hash, if one was started; call once, after the last body
  /// bytes (on the thread that captured them).
  void finish();
  /// The hex SHA-256 of the whole body (64 characters); empty when unknown (the body is not
  /// captured, or finish() has not been called on one that outgrew `kept`). When `kept` holds
  /// the whole body it is hashed on the first call and the digest kept (a capture is used by
  /// one thread at a time).
  [[nodiscard]] std::string body_sha256() const;

  int status = 0;
  proxy::http::header_list headers;
  proxy::http::header_list trailer_fields; // after the body (HTTP/2, chunked HTTP/1.1)
  std::string kept;             // the first max_body_bytes bytes of the body, as received
  std::uint64_t body_bytes = 0; // size of the whole body
  double latency_ms = 0;
  std::optional<std::string> error; // failure kind (`timeout`, `reset`, ...) instead of a response
  bool cut = false; // a gRPC shadow ended on purpose after mirror.grpc.max_messages messages

  /// Whether `kept` holds the whole body.
  [[nodiscard]] bool body_complete() const noexcept { return kept.size() == body_bytes; }
  /// All Content-Encoding values joined with ", " (empty when absent).
  [[nodiscard]] std::string content_encoding() const;
  /// The first Content-Type value (empty when absent).
  [[nodiscard]] std::string_view content_type() const noexcept;
  /// Bytes of memory this capture holds (for bounding queues).
  [[nodiscard]] std::size_t memory_bytes() const noexcept;

private:
  std::uint64_t max_body_bytes_;
  bool keep_body_;
  std::optional<sha256> hash_; // started once the body outgrew `kept`
  mutable std::string digest_; // hash_'s digest after finish(), or kept's once asked for
};

} // namespace parallax::mirror
