#pragma once
// Header field bytes handed to nghttp2 without a copy (NGHTTP2_NV_FLAG_NO_COPY_NAME and
// _VALUE): nghttp2 then neither copies nor lower-cases them, but reads them when it packs the
// frame, so they must stay as they are until the frame was sent or dropped (its
// on_frame_send or on_frame_not_send callback). A store copies each submitted header block's
// names (folded to lower case) and values into blocks of its own that never move, and frees a
// block's bytes when every header block in it has gone (release()). Memory is bounded by the
// header blocks nghttp2 still holds: at most the streams in flight, each a head and trailers.

#include <cstddef>
#include <memory>
#include <string_view>
#include <vector>

#include <nghttp2/nghttp2.h>

namespace parallax::proxy::h2 {

class field_store {
public:
  /// Starts a header block of at most `count` fields whose names and values take at most
  /// `bytes` together.
  void begin(std::size_t bytes, std::size_t count);
  /// Adds a field with a name that is a lower-case literal (static storage; not copied) and a
  /// copied value. Within begin()'s bytes and count.
  void literal(std::string_view name, std::string_view value);
  /// Adds a field with a copied name (folded to lower case) and value. Within begin()'s bytes
  /// and count.
  void copy(std::string_view name, std::string_view value);
  /// The fields of the header block begun last, for nghttp2's submit functions.
  [[nodiscard]] const nghttp2_nv* fields() const noexcept { return fields_.get(); }
  [[nodiscard]] std::size_t count() const noexcept { return count_; }
  /// nghttp2 took the block begun last (the submit succeeded): it is held until release(). A
  /// block not committed (the submit failed) is freed with the others of its storage block.
  void commit();
  /// nghttp2 sent or dropped `frame`: if it is a HEADERS frame of ours, its bytes are freed.
  void release(const nghttp2_frame& frame);

  /// Storage blocks (for tests).
  [[nodiscard]] std::size_t blocks() const noexcept { return blocks_.size(); }
  /// Header blocks held for nghttp2 (for tests).
  [[nodiscard]] std::size_t held() const noexcept { return held_.size(); }

private:
  struct block {
    std::unique_ptr<char[]> bytes;
    std::size_t size = 0;
    std::size_t used = 0;
    std::size_t held = 0; // header blocks in it that nghttp2 still holds
  };
  // A committed header block: [start, end) within `in` (never empty: a tag byte ends it).
  struct held_block {
    const char* start;
    const char* end;
    block* in;
  };
  char* take(std::size_t n);
  // Gives back free storage blocks beyond a few spares.
  void trim();

  std::vector<std::unique_ptr<block>> blocks_;
  block* current_ = nullptr;
  const char* start_ = nullptr; // of the header block begun last
  std::vector<held_block> held_;
  // The fields of the header block begun last (nghttp2 copies the array itself when it takes
  // the block): reused, grown when a block has more.
  std::unique_ptr<nghttp2_nv[]> fields_;
  std::size_t capacity_ = 0;
  std::size_t count_ = 0;
};

} // namespace parallax::proxy::h2
