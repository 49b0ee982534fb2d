// Fuzzes chunked framing (RFC 9112 7.1) in the request parser: input = the body bytes of a
// `Transfer-Encoding: chunked` request, after a fixed head. Oracles:
// - the outcome does not depend on how the bytes arrive (one piece, one byte at a time,
//   pieces derived from the input);
// - a strict reference decoder written from the RFC grammar agrees with the parser: when the
//   parser completes the message, the reference accepts the same bytes, ends the message at
//   the same byte and yields the same body; when the reference completes it, the parser does
//   not wait for more. Where the message ends is what request smuggling attacks, so a chunked
//   body the two read differently is a finding.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "test/fuzz/message_transcript.hpp"
#include "test/fuzz/oracle.hpp"

namespace {

using namespace parallax;

constexpr std::string_view head =
    "POST /upload HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n";

/// What the reference decoder made of a chunked body.
struct reference_result {
  enum class verdict { complete, incomplete, invalid } outcome = verdict::incomplete;
  std::size_t end = 0; // just past the body (complete only)
  std::string body;
  std::string why; // what was invalid
};

bool is_tchar(char c) {
  if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')) return true;
  return std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

/// A strict RFC 9112 7.1 chunked-body decoder over `in`:
///   chunked-body = *chunk last-chunk trailer-section CRLF
///   chunk = chunk-size [ chunk-ext ] CRLF chunk-data CRLF;  last-chunk = 1*"0" [ chunk-ext ] CRLF
///   chunk-ext = *( BWS ";" BWS name [ BWS "=" BWS ( token / quoted-string ) ] )  (loosely)
///   trailer-section = *( field-line CRLF )
/// where CRLF may be a single LF (2.2).
class reference_decoder {
public:
  explicit reference_decoder(std::string_view in) : in_(in) {}

  reference_result run() {
    for (;;) {
      std::uint64_t size = 0;
      std::size_t digits = 0;
      while (pos_ < in_.size() && hex_value(in_[pos_]) >= 0) {
        if (size > (UINT64_MAX >> 4)) return invalid("chunk size overflows 64 bits");
        size = size * 16 + static_cast<std::uint64_t>(hex_value(in_[pos_]));
        ++pos_;
        ++digits;
      }
      if (pos_ == in_.size()) return incomplete();
      if (digits == 0) return invalid("chunk size without hex digits");
      if (auto bad = extensions()) return *bad;
      if (auto bad = crlf()) return *bad;
      if (size == 0) break;
      if (in_.size() - pos_ < size) return incomplete();
      result_.body.append(in_.substr(pos_, static_cast<std::size_t>(size)));
      pos_ += static_cast<std::size_t>(size);
      if (auto bad = crlf()) return *bad;
    }
    // trailer-section CRLF
    for (;;) {
      if (pos_ == in_.size()) return incomplete();
      if (in_[pos_] == '\r' || in_[pos_] == '\n') {
        if (auto bad = crlf()) return *bad;
        result_.outcome = reference_result::verdict::complete;
        result_.end = pos_;
        return result_;
      }
      if (auto bad = field_line()) return *bad;
    }
  }

private:
  reference_result invalid(std::string why) {
    result_.outcome = reference_result::verdict::invalid;
    result_.why = std::move(why);
    return result_;
  }
  reference_result incomplete() {
    result_.outcome = reference_result::verdict::incomplete;
    return result_;
  }

  /// A line end at pos_: CRLF, or LF alone (2.2: a recipient may take a single LF as a line
  /// terminator); a CR without LF is invalid. Incomplete at the end of input.
  std::optional<reference_result> crlf() {
    if (pos_ == in_.size()) return incomplete();
    if (in_[pos_] == '\r') {
      if (++pos_ == in_.size()) return incomplete();
      if (in_[pos_] != '\n') return invalid("expected LF after CR");
    } else if (in_[pos_] != '\n') {
      return invalid("expected CRLF");
    }
    ++pos_;
    return std::nullopt;
  }

  void skip_bws() {
    while (pos_ < in_.size() && (in_[pos_] == ' ' || in_[pos_] == '\t'))
      ++pos_;
  }

  std::optional<reference_result> token(const char* what) {
    const std::size_t start = pos_;
    while (pos_ < in_.size() && is_tchar(in_[pos_]))
      ++pos_;
    if (pos_ == in_.size()) return incomplete();
    if (pos_ == start) return invalid(std::string("empty ") + what);
    return std::nullopt;
  }

  /// Chunk extensions, read loosely: any text up to the line end (HTAB, SP, VCHAR, obs-text).
  /// The proxy drops extensions when it re-frames a body, so only where the line ends matters
  /// (a quoted-string cannot hold CR or LF); the grammar's details are not checked.
  std::optional<reference_result> extensions() {
    skip_bws();
    if (pos_ == in_.size()) return incomplete();
    if (in_[pos_] == '\r' || in_[pos_] == '\n') return std::nullopt;
    if (in_[pos_] != ';') return invalid("junk after the chunk size");
    for (; pos_ < in_.size(); ++pos_) {
      const auto u = static_cast<unsigned char>(in_[pos_]);
      if (u == '\r' || u == '\n') return std::nullopt;
      if (!(u == '\t' || (u >= 0x20 && u != 0x7f))) return invalid("bad byte in a chunk line");
    }
    return incomplete();
  }

  /// field-line CRLF: name ":" OWS value OWS, value of VCHAR / obs-text / SP / HTAB.
  std::optional<reference_result> field_line() {
    if (auto bad = token("trailer field name")) return bad;
    if (in_[pos_] != ':') return invalid("trailer field name not followed by ':'");
    ++pos_;
    for (;;) {
      if (pos_ == in_.size()) return incomplete();
      const auto u = static_cast<unsigned char>(in_[pos_]);
      if (u == '\r' || u == '\n') return crlf();
      if (!(u == '\t' || (u >= 0x20 && u != 0x7f))) return invalid("bad byte in a trailer");
      ++pos_;
    }
  }

  std::string_view in_;
  std::size_t pos_ = 0;
  reference_result result_;
};

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view body(reinterpret_cast<const char*>(data), size);
  std::string input(head);
  input.append(body);
  fuzz::run_options options; // request mode
  const auto whole = fuzz::run_in_any_split(input, options);

  fuzz::require(!whole.messages.empty() && whole.messages.front().head_done,
                "the fixed head was not accepted");
  const auto& m = whole.messages.front();
  const auto ref = reference_decoder(body).run();
  using verdict = reference_result::verdict;
  const std::string shown = fuzz::printable(body);
  if (m.complete) {
    if (ref.outcome != verdict::complete) {
      fuzz::violated(ref.outcome == verdict::invalid
                         ? "the parser accepted a chunked body the RFC grammar refuses (" +
                               ref.why + ")"
                         : std::string("the parser ended a chunked body the RFC grammar "
                                       "says is incomplete"),
                     shown);
    }
    fuzz::require(m.end == head.size() + ref.end,
                  "the parser and the RFC grammar end the chunked body at different bytes", shown);
    fuzz::require(m.body == ref.body, "the parser and the RFC grammar decode different bodies",
                  shown);
  } else if (ref.outcome == verdict::complete) {
    // Refusing a valid body is safe (a 400); waiting for more after its end is not.
    fuzz::require(whole.error, "the parser waits for more after a complete chunked body", shown);
  }
  return 0;
}
