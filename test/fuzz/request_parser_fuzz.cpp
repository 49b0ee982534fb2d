// Fuzzes the request parser (proxy/http/parser.cpp over llhttp) as a downstream session drives
// it, input = the bytes a client sends on one connection (pipelined requests included).
// Oracles:
// - the outcome does not depend on how the bytes arrive: one piece, one byte at a time and
//   pieces derived from the input give the same heads, bodies, message ends and errors (also
//   with a small head limit, where 431 must not turn into 400 or the reverse);
// - every accepted head follows RFC 9112's framing rules, the ones request smuggling abuses:
//   no bare CR, NUL or obs-fold; one Host; not both Content-Length and Transfer-Encoding;
//   Transfer-Encoding ends in chunked (HTTP/1.1 only); repeated Content-Lengths agree; field
//   names are tokens and values hold no control characters; a body has its declared length.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "proxy/http/message.hpp"
#include "test/fuzz/message_transcript.hpp"
#include "test/fuzz/oracle.hpp"

namespace {

using namespace parallax;
using proxy::http::field;

bool is_tchar(char c) {
  if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')) return true;
  return std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

bool is_token(std::string_view s) {
  if (s.empty()) return false;
  for (const char c : s)
    if (!is_tchar(c)) return false;
  return true;
}

bool clean_value(std::string_view v) {
  for (const char c : v) {
    const auto u = static_cast<unsigned char>(c);
    if (u == 0x7f || (u < 0x20 && u != '\t')) return false;
  }
  return true;
}

bool all_digits(std::string_view s) {
  if (s.empty()) return false;
  for (const char c : s)
    if (c < '0' || c > '9') return false;
  return true;
}

/// The RFC 9112 rules every head the parser accepted must follow.
void require_framing_rules(const fuzz::parse_run& run) {
  for (const auto& m : run.messages) {
    const auto& r = m.request;
    const std::string shown = fuzz::printable(r.method + ' ' + r.target);
    fuzz::require(is_token(r.method), "accepted a method that is not a token", shown);
    const auto& h = r.headers;
    for (const auto& f : h) {
      fuzz::require(is_token(f.name), "accepted a field name that is not a token",
                    fuzz::printable(f.name));
      fuzz::require(clean_value(f.value), "accepted a field value with a control character",
                    fuzz::printable(f.value));
      fuzz::require(f.id == proxy::http::field_of(f.name), "field id differs from its name",
                    fuzz::printable(f.name));
    }
    const std::size_t hosts = h.count(field::host);
    fuzz::require(hosts <= 1, "accepted more than one Host", shown);
    fuzz::require(hosts == 1 || r.version_minor == 0, "accepted HTTP/1.1 without Host", shown);
    const std::size_t te = h.count(field::transfer_encoding);
    const std::size_t cl = h.count(field::content_length);
    fuzz::require(te == 0 || cl == 0, "accepted Content-Length with Transfer-Encoding", shown);
    if (te > 0) {
      fuzz::require(r.version_minor == 1, "accepted Transfer-Encoding in HTTP/1.0", shown);
      fuzz::require(r.frame.chunked, "accepted Transfer-Encoding without a final chunked", shown);
    }
    fuzz::require(!r.frame.chunked || te > 0, "chunked framing without Transfer-Encoding", shown);
    if (cl > 0) {
      const std::string_view first = *h.find(field::content_length);
      for (const auto& f : h) {
        if (f.id != field::content_length) continue;
        fuzz::require(f.value == first, "accepted differing Content-Length values", shown);
        fuzz::require(all_digits(f.value), "accepted a Content-Length that is not digits",
                      fuzz::printable(f.value));
      }
      fuzz::require(r.frame.content_length.has_value(), "Content-Length not in the framing", shown);
      // Compare digit strings: the value may have leading zeros but must not overflow.
      std::string digits(first.substr(std::min(first.find_first_not_of('0'), first.size())));
      if (digits.empty()) digits = "0";
      fuzz::require(digits == std::to_string(*r.frame.content_length),
                    "framing length differs from Content-Length", fuzz::printable(first));
    } else {
      fuzz::require(!r.frame.content_length.has_value(), "a length without Content-Length", shown);
    }
    // A CONNECT has no content (RFC 9110 9.3.6): what follows its head is a tunnel's, never
    // parsed as a body, whatever Content-Length says; the session answers 405 and closes.
    if (m.complete && !r.frame.chunked && r.method != "CONNECT") {
      fuzz::require(m.body.size() == r.frame.content_length.value_or(0),
                    "a request body differs from its Content-Length", shown);
    }
  }
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  fuzz::run_options options; // request mode, the default 64 KiB head limit
  const auto whole = fuzz::run_in_any_split(input, options);
  fuzz::require_clean_heads(input, whole);
  require_framing_rules(whole);

  options.max_head = 128; // the 431 path: the limit falls inside most heads
  const auto limited = fuzz::run_parser(input, fuzz::one_piece(input), options);
  fuzz::require_same(limited, fuzz::run_parser(input, fuzz::random_pieces(input, 1), options),
                     "with a 128-byte head limit, a split gave another result");
  for (const auto& m : limited.messages)
    fuzz::require(m.head_end - m.begin <= options.max_head, "a head above the limit passed");
  return 0;
}
