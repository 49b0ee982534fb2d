#include "proxy/http/serializer.hpp"

#include <algorithm>
#include <array>
#include <charconv>

namespace parallax::proxy::http {

namespace {
void append_number(std::string& out, std::uint64_t n) {
  std::array<char, 24> buf{};
  const auto r = std::to_chars(buf.data(), buf.data() + buf.size(), n);
  out.append(buf.data(), r.ptr);
}

void append_header(std::string& out, std::string_view name, std::string_view value) {
  out.append(name);
  out.append(": ");
  out.append(value);
  out.append("\r\n");
}

// Headers the proxy rewrites itself on every forwarded message.
bool is_framing(field id) noexcept {
  return id == field::content_length || id == field::transfer_encoding;
}

// `other_options`: names_other_options(headers), computed once per message.
bool skip_forwarded(const header_list& headers, const header& h, bool other_options) {
  return is_hop_by_hop(h.id) || is_framing(h.id) ||
         (other_options && named_in_connection(headers, h.name));
}

void append_framing(std::string& out, body_framing framing, std::uint64_t content_length) {
  switch (framing) {
  case body_framing::content_length:
    out.append("Content-Length: ");
    append_number(out, content_length);
    out.append("\r\n");
    break;
  case body_framing::chunked: out.append("Transfer-Encoding: chunked\r\n"); break;
  case body_framing::none:
  case body_framing::close_delimited: break;
  }
}
} // namespace

void write_request_head(std::string& out, const request_head& req, const forwarding_info& info,
                        body_framing framing, std::uint64_t content_length) {
  out.append(req.method);
  out.push_back(' ');
  // Absolute-form targets are sent in origin-form: only configured upstreams are contacted.
  const std::string_view target = origin_form(req.target);
  if (target.empty() || target.front() == '?') out.push_back('/');
  out.append(target);
  out.append(" HTTP/1.1\r\n");

  const bool req_other_options = names_other_options(req.headers);
  bool have_proto = false;
  bool have_fwd_host = false;
  std::string_view host;
  bool xff_written = false;
  for (const auto& h : req.headers) {
    if (skip_forwarded(req.headers, h, req_other_options)) continue;
    if (h.id == field::x_forwarded_for) {
      // Several X-Forwarded-For fields are merged into one, with the client appended.
      if (xff_written) continue;
      out.append(h.name);
      out.append(": ");
      bool first = true;
      for (const auto& x : req.headers) {
        if (x.id != field::x_forwarded_for) continue;
        if (!first) out.append(", ");
        out.append(x.value);
        first = false;
      }
      out.append(", ");
      out.append(info.client_ip);
      out.append("\r\n");
      xff_written = true;
      continue;
    }
    if (h.id == field::x_forwarded_proto) have_proto = true;
    if (h.id == field::x_forwarded_host) have_fwd_host = true;
    if (h.id == field::host) host = h.value;
    append_header(out, h.name, h.value);
  }
  if (!xff_written) append_header(out, "X-Forwarded-For", info.client_ip);
  if (!have_proto) append_header(out, "X-Forwarded-Proto", info.downstream_tls ? "https" : "http");
  if (!have_fwd_host && !host.empty()) append_header(out, "X-Forwarded-Host", host);
  if (req.frame.upgrade) {
    if (auto up = req.headers.find(field::upgrade)) {
      append_header(out, "Connection", "Upgrade");
      append_header(out, "Upgrade", *up);
    }
  }
  append_framing(out, framing, content_length);
  out.append("\r\n");
}

void forwarded_fields(std::vector<field_view>& out, std::string& scratch, const request_head& req,
                      const forwarding_info& info) {
  out.clear();
  scratch.clear();
  const bool other_options = names_other_options(req.headers);
  bool have_proto = false;
  bool have_fwd_host = false;
  std::string_view host;
  for (const auto& h : req.headers) {
    if (h.id == field::host) {
      host = h.value; // the :authority
      continue;
    }
    if (h.id == field::te) {
      // The one TE value HTTP/2 allows (RFC 9113 8.2.2): gRPC needs it.
      if (list_contains(h.value, "trailers")) out.push_back({"te", "trailers"});
      continue;
    }
    if (skip_forwarded(req.headers, h, other_options)) continue;
    if (h.id == field::x_forwarded_for) {
      scratch.append(h.value).append(", ");
      continue;
    }
    if (h.id == field::x_forwarded_proto) have_proto = true;
    if (h.id == field::x_forwarded_host) have_fwd_host = true;
    out.push_back({h.name, h.value});
  }
  if (scratch.empty()) {
    out.push_back({"x-forwarded-for", info.client_ip});
  } else {
    scratch.append(info.client_ip);
    out.push_back({"x-forwarded-for", scratch});
  }
  if (!have_proto) out.push_back({"x-forwarded-proto", info.downstream_tls ? "https" : "http"});
  if (!have_fwd_host && !host.empty()) out.push_back({"x-forwarded-host", host});
}

namespace {
void append_status_line(std::string& out, int status, std::string_view reason) {
  out.append("HTTP/1.1 ");
  append_number(out, static_cast<std::uint64_t>(status));
  out.push_back(' ');
  out.append(reason.empty() ? reason_phrase(status) : reason);
  out.append("\r\n");
}
} // namespace

void write_response_head(std::string& out, const response_head& res, body_framing framing,
                         std::uint64_t content_length, bool keep_alive, int client_minor) {
  append_status_line(out, res.status, res.reason);
  const bool switching = res.status == 101;
  const bool res_other_options = names_other_options(res.headers);
  for (const auto& h : res.headers) {
    // Responses without a body keep the upstream's Content-Length (HEAD, 304): it describes
    // the representation, not this message's framing.
    if (framing == body_framing::none && h.id == field::content_length) {
      append_header(out, h.name, h.value);
      continue;
    }
    if (skip_forwarded(res.headers, h, res_other_options)) continue;
    append_header(out, h.name, h.value);
  }
  if (switching) {
    if (auto up = res.headers.find(field::upgrade)) {
      append_header(out, "Connection", "Upgrade");
      append_header(out, "Upgrade", *up);
    }
  } else if (!keep_alive) {
    out.append("Connection: close\r\n");
  } else if (client_minor == 0) {
    out.append("Connection: keep-alive\r\n");
  }
  append_framing(out, framing, content_length);
  out.append("\r\n");
}

void write_interim_head(std::string& out, const response_head& res) {
  append_status_line(out, res.status, res.reason);
  const bool res_other_options = names_other_options(res.headers);
  for (const auto& h : res.headers) {
    if (skip_forwarded(res.headers, h, res_other_options)) continue;
    append_header(out, h.name, h.value);
  }
  out.append("\r\n");
}

void write_error_response(std::string& out, int status, std::string_view body, bool close) {
  append_status_line(out, status, {});
  out.append("Content-Type: text/plain; charset=utf-8\r\nContent-Length: ");
  append_number(out, body.size() + 1);
  out.append("\r\n");
  if (close) out.append("Connection: close\r\n");
  out.append("\r\n");
  out.append(body);
  out.push_back('\n');
}

void write_chunk_size(std::string& out, std::uint64_t size) {
  std::array<char, 24> buf{};
  const auto r = std::to_chars(buf.data(), buf.data() + buf.size(), size, 16);
  out.append(buf.data(), r.ptr);
  out.append("\r\n");
}

void write_last_chunk(std::string& out, const header_list& trailers) {
  out.append("0\r\n");
  for (const auto& f : trailers) {
    if (forwardable_trailer(f)) out.append(f.name).append(": ").append(f.value).append("\r\n");
  }
  out.append("\r\n");
}

std::string_view reason_phrase(int status) noexcept {
  switch (status) {
  case 100: return "Continue";
  case 101: return "Switching Protocols";
  case 103: return "Early Hints";
  case 200: return "OK";
  case 201: return "Created";
  case 202: return "Accepted";
  case 204: return "No Content";
  case 206: return "Partial Content";
  case 301: return "Moved Permanently";
  case 302: return "Found";
  case 303: return "See Other";
  case 304: return "Not Modified";
  case 307: return "Temporary Redirect";
  case 308: return "Permanent Redirect";
  case 400: return "Bad Request";
  case 401: return "Unauthorized";
  case 403: return "Forbidden";
  case 404: return "Not Found";
  case 405: return "Method Not Allowed";
  case 408: return "Request Timeout";
  case 409: return "Conflict";
  case 411: return "Length Required";
  case 413: return "Content Too Large";
  case 414: return "URI Too Long";
  case 415: return "Unsupported Media Type";
  case 417: return "Expectation Failed";
  case 422: return "Unprocessable Content";
  case 429: return "Too Many Requests";
  case 431: return "Request Header Fields Too Large";
  case 500: return "Internal Server Error";
  case 501: return "Not Implemented";
  case 502: return "Bad Gateway";
  case 503: return "Service Unavailable";
  case 504: return "Gateway Timeout";
  default: return "Unknown";
  }
}

} // namespace parallax::proxy::http
