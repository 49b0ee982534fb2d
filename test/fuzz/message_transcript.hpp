#pragma once
// Runs proxy::http::parser over some input the way the proxy's sessions drive it (a read
// buffer of unconsumed bytes, fed again after every head and message; body views copied
// before the buffer moves on) and writes down everything a session acts on: every head,
// every body byte, where each message starts and ends, and how the input ended. Two runs over
// the same bytes split differently must write the same transcript.

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "proxy/http/parser.hpp"
#include "test/fuzz/oracle.hpp"

namespace parallax::fuzz {

/// One message as the parser delimited it (offsets into the whole input).
struct parsed_message {
  std::size_t begin = 0;    // first byte (empty lines before a request included)
  std::size_t head_end = 0; // just past the head, once head_done
  std::size_t end = 0;      // just past the message, once complete
  bool head_done = false;
  bool complete = false;
  bool upgrade = false;
  bool by_close = false;               // completed by finish(): the peer closed
  std::string body;                    // chunk framing removed
  proxy::http::request_head request;   // request mode: the head as parsed
  proxy::http::response_head response; // response mode: the head as parsed
};

/// Everything one run over an input produced.
struct parse_run {
  std::string transcript; // heads, bodies and outcomes as text: what runs are compared by
  std::vector<parsed_message> messages;
  bool error = false;          // the parser refused the input
  bool head_too_large = false; // ... because of the head limit (431, not 400)
};

/// How a run ends the way a session does.
struct run_options {
  proxy::http::parser::mode mode = proxy::http::parser::mode::request;
  bool head_request = false;             // response mode: the responses answer HEAD
  std::uint64_t max_head = 64ULL * 1024; // the parser's head limit
};

namespace detail {

inline void append_headers(std::string& out, const proxy::http::header_list& headers) {
  for (const auto& h : headers) {
    out += "  ";
    out += printable(h.name);
    out += ": ";
    out += printable(h.value);
    out += '\n';
  }
}

inline void append_framing(std::string& out, const proxy::http::framing& f) {
  out += "  framing chunked=" + std::to_string(f.chunked) +
         " length=" + (f.content_length ? std::to_string(*f.content_length) : std::string("none")) +
         " keep_alive=" + std::to_string(f.keep_alive) + " upgrade=" + std::to_string(f.upgrade) +
         '\n';
}

inline void append_head(std::string& out, const proxy::http::parser& p,
                        proxy::http::parser::mode mode) {
  if (mode == proxy::http::parser::mode::request) {
    const auto& r = p.request();
    out += "head " + printable(r.method) + ' ' + printable(r.target) + " HTTP/1." +
           std::to_string(r.version_minor) +
           " expect_continue=" + std::to_string(r.expect_continue) + '\n';
    append_headers(out, r.headers);
    append_framing(out, r.frame);
  } else {
    const auto& r = p.response();
    out += "head " + std::to_string(r.status) + ' ' + printable(r.reason) + " HTTP/1." +
           std::to_string(r.version_minor) + '\n';
    append_headers(out, r.headers);
    append_framing(out, r.frame);
  }
}

} // namespace detail

/// Feeds `input` to a fresh parser in pieces of the given lengths (summing to input.size()),
/// then tells it the peer closed, unless the session would have stopped reading before: after
/// an error, an upgrade, or (response mode) the final response.
inline parse_run run_parser(std::string_view input, std::span<const std::size_t> pieces,
                            const run_options& options) {
  using proxy::http::parse_status;
  using mode = proxy::http::parser::mode;
  proxy::http::parser p(options.mode, options.max_head);
  p.set_head_request(options.head_request);
  parse_run run;
  std::string pending;     // the session's read buffer: received, not yet consumed
  std::size_t offset = 0;  // input bytes consumed so far
  bool feed_empty = false; // right after a head: feed even without bytes (body-less messages)
  bool stopped = false;
  parsed_message current;

  const auto keep_head = [&] {
    if (options.mode == mode::request) {
      current.request = p.request();
    } else {
      current.response = p.response();
    }
    detail::append_head(run.transcript, p, options.mode);
  };

  const auto message_done = [&](std::size_t at, bool by_close) {
    current.complete = true;
    current.by_close = by_close;
    current.end = at;
    if (!current.head_done) { // no pause at the head (a response to HEAD)
      current.head_done = true;
      current.head_end = at;
      keep_head();
    }
    current.upgrade = p.upgrade();
    run.transcript += "body " + std::to_string(current.body.size()) +
                      " bytes: " + printable(current.body) +
                      "\ncomplete upgrade=" + std::to_string(p.upgrade()) + " fields=" +
                      std::to_string(options.mode == mode::request ? p.request().headers.size()
                                                                   : p.response().headers.size()) +
                      '\n';
    run.messages.push_back(std::move(current));
    current = parsed_message{};
    current.begin = at;
    if (p.upgrade()) stopped = true; // the bytes that follow are tunnelled, not parsed
    if (options.mode == mode::response) {
      const int status = p.response().status;
      if (status < 100 || status > 199 || status == 101) stopped = true; // the final response
    }
  };

  const auto pump = [&] {
    while (!stopped && !run.error) {
      if (pending.empty() && !feed_empty) return;
      feed_empty = false;
      const auto r = p.feed(pending);
      for (const auto piece : p.body())
        current.body.append(piece);
      p.clear_body();
      require(r.consumed <= pending.size(), "feed() consumed more bytes than it was given");
      pending.erase(0, r.consumed);
      offset += r.consumed;
      switch (r.status) {
      case parse_status::error:
        require(r.consumed == 0, "an error consumed bytes");
        run.error = true;
        run.head_too_large = p.head_too_large();
        run.transcript += "error head_too_large=" + std::to_string(p.head_too_large()) + '\n';
        return;
      case parse_status::head_complete:
        current.head_done = true;
        current.head_end = offset;
        keep_head();
        feed_empty = true;
        break;
      case parse_status::message_complete: message_done(offset, false); break;
      case parse_status::need_more:
        // A session drops its buffer after need_more: every byte must have been taken.
        require(pending.empty(), "need_more left bytes unconsumed");
        return;
      }
    }
  };

  std::size_t at = 0;
  for (const std::size_t n : pieces) {
    pending.append(input.substr(at, n));
    at += n;
    pump();
    if (stopped || run.error) break;
  }
  if (!stopped && !run.error) {
    const auto r = p.finish();
    for (const auto piece : p.body())
      current.body.append(piece);
    p.clear_body();
    run.transcript += "finish " + std::to_string(static_cast<int>(r.status)) + '\n';
    if (r.status == parse_status::message_complete) message_done(offset, true);
    if (r.status == parse_status::error) run.error = true;
  }
  if (current.head_done) run.messages.push_back(std::move(current)); // incomplete
  return run;
}

/// The input as one piece.
inline std::vector<std::size_t> one_piece(std::string_view input) {
  return {input.size()};
}

/// The input one byte at a time.
inline std::vector<std::size_t> byte_pieces(std::string_view input) {
  return std::vector<std::size_t>(input.size(), 1);
}

/// Pieces of 1 to 128 bytes whose lengths are derived from the input's bytes (FNV-1a seeds a
/// splitmix64 sequence): the fuzzer changes the split by changing the input.
inline std::vector<std::size_t> random_pieces(std::string_view input, std::uint64_t salt = 0) {
  std::uint64_t state = 14695981039346656037ULL ^ salt;
  for (const char c : input)
    state = (state ^ static_cast<unsigned char>(c)) * 1099511628211ULL;
  const auto next = [&state] {
    std::uint64_t z = (state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  };
  std::vector<std::size_t> pieces;
  for (std::size_t left = input.size(); left > 0;) {
    const std::size_t cap = std::size_t{1} << (next() % 8);
    const std::size_t n = std::min<std::size_t>(left, 1 + next() % cap);
    pieces.push_back(n);
    left -= n;
  }
  return pieces;
}

/// Traps unless the two runs wrote the same transcript.
inline void require_same(const parse_run& a, const parse_run& b, std::string_view what) {
  if (a.transcript == b.transcript) return;
  violated(what, "--- one piece:\n" + a.transcript + "--- split:\n" + b.transcript);
}

/// The run of `input` fed in one piece, after trapping unless feeding it one byte at a time and
/// in pieces derived from the input gives the same transcript (the parser must not care where
/// reads split a message).
inline parse_run run_in_any_split(std::string_view input, const run_options& options) {
  auto whole = run_parser(input, one_piece(input), options);
  require_same(whole, run_parser(input, byte_pieces(input), options),
               "one byte at a time gave another result than one piece");
  require_same(whole, run_parser(input, random_pieces(input), options),
               "pieces derived from the input gave another result than one piece");
  return whole;
}

/// Traps when a head the parser accepted holds what RFC 9112 forbids and the parser claims
/// to refuse: a bare CR (CR not followed by LF; 2.2), a NUL byte, or obs-fold (a line starting
/// with SP or HTAB; 5.2). Another parser could see other headers there: request smuggling.
/// CR and LF bytes before the start line are skipped (2.2 lets a recipient ignore them).
inline void require_clean_heads(std::string_view input, const parse_run& run) {
  for (const auto& m : run.messages) {
    if (!m.head_done || m.head_end <= m.begin) continue;
    std::string_view head = input.substr(m.begin, m.head_end - m.begin);
    head.remove_prefix(std::min(head.find_first_not_of("\r\n"), head.size()));
    for (std::size_t i = 0; i < head.size(); ++i) {
      const char c = head[i];
      if (c == '\r' && (i + 1 == head.size() || head[i + 1] != '\n')) {
        violated("a head with a bare CR was accepted (RFC 9112 2.2: must be refused)",
                 printable(head));
      }
      if (c == '\0') violated("a head with a NUL byte was accepted", printable(head));
      if (c == '\n' && i + 1 < head.size() && (head[i + 1] == ' ' || head[i + 1] == '\t')) {
        violated("a head with obs-fold was accepted", printable(head));
      }
    }
  }
}

} // namespace parallax::fuzz
