#pragma once
// The allocator the HTTP/2 codecs give their nghttp2 sessions (session_memory.cpp).

#include <nghttp2/nghttp2.h>

namespace parallax::proxy::h2 {

/// nghttp2's malloc/free/calloc/realloc from a bounded per-thread cache of small blocks
/// (plain malloc under AddressSanitizer).
nghttp2_mem* session_memory() noexcept;

} // namespace parallax::proxy::h2
