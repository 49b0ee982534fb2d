// Fuzzes the response parser (proxy/http/parser.cpp over llhttp) as the downstream session and
// the shadow dispatcher drive it: input = the bytes an upstream sends after one request,
// interim 1xx responses first, the final response last, the connection possibly closed to end
// a body without framing. The first input byte says whether the request was HEAD (odd) or not;
// the rest is the response bytes.
// Oracles:
// - the outcome does not depend on how the bytes arrive (one piece, one byte at a time, pieces
//   derived from the input);
// - accepted heads hold no bare CR, NUL or obs-fold;
// - 1xx, 204, 304 and responses to HEAD have no body; a Content-Length body has that length;
// - a close-delimited response is complete only once the peer closed.

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "test/fuzz/message_transcript.hpp"
#include "test/fuzz/oracle.hpp"

namespace {

using namespace parallax;

void require_response_rules(const fuzz::parse_run& run, bool head_request) {
  for (const auto& m : run.messages) {
    if (!m.complete) continue;
    const auto& r = m.response;
    const std::string shown = std::to_string(r.status) + ' ' + fuzz::printable(r.reason);
    fuzz::require(r.status >= 100 && r.status <= 999, "accepted a status outside 100-999", shown);
    const bool bodiless =
        head_request || (r.status >= 100 && r.status < 200) || r.status == 204 || r.status == 304;
    const bool delimited = r.frame.chunked || r.frame.content_length.has_value();
    if (bodiless) {
      fuzz::require(m.body.empty(), "a response that has no body got body bytes", shown);
    } else if (r.frame.content_length && !r.frame.chunked) {
      fuzz::require(m.body.size() == *r.frame.content_length,
                    "a response body differs from its Content-Length", shown);
    }
    fuzz::require(m.by_close == (!bodiless && !delimited),
                  m.by_close ? "a delimited response was completed by the close"
                             : "a close-delimited response completed before the close",
                  shown);
  }
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const bool head_request = (data[0] & 1) != 0;
  const std::string_view input(reinterpret_cast<const char*>(data) + 1, size - 1);
  fuzz::run_options options;
  options.mode = proxy::http::parser::mode::response;
  options.head_request = head_request;
  const auto whole = fuzz::run_in_any_split(input, options);
  fuzz::require_clean_heads(input, whole);
  require_response_rules(whole, head_request);
  return 0;
}
