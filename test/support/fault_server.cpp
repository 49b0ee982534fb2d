#include "test/support/fault_server.hpp"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <stdexcept>
#include <string_view>
#include <system_error>

#include "test/support/http_text.hpp"
#include "test/support/message_parser.hpp"

namespace parallax::test {
namespace {

using clock = socket_stream::clock;

constexpr std::size_t piece_size = std::size_t{64} * 1024;

// Bytes no HTTP/1.x parser accepts as a status line.
constexpr std::string_view garbage_bytes =
    "SSH-2.0-OpenSSH_9.6\r\n\x01\x02\x03 not http at all\r\n\r\n";

// The final response head of `plan`, with Content-Length framing.
std::string final_head(const fault_plan& plan) {
  return response_head(plan.status, {{"Content-Type", "text/plain"},
                                     {"Content-Length", std::to_string(plan.body_bytes)}});
}

// How a wait on the connection ended.
enum class wake { timeout, peer_closed, stopping, released };

} // namespace

const char* to_string(fault kind) {
  switch (kind) {
  case fault::respond: return "respond";
  case fault::never_read: return "never_read";
  case fault::never_answer: return "never_answer";
  case fault::slow_head: return "slow_head";
  case fault::stall_mid_body: return "stall_mid_body";
  case fault::reset_mid_head: return "reset_mid_head";
  case fault::reset_mid_body: return "reset_mid_body";
  case fault::garbage: return "garbage";
  case fault::oversized_head: return "oversized_head";
  case fault::short_body: return "short_body";
  case fault::extra_bytes: return "extra_bytes";
  case fault::close_delimited: return "close_delimited";
  case fault::interim_responses: return "interim_responses";
  case fault::early_final_response: return "early_final_response";
  }
  return "unknown";
}

// One connection running its plan on its own thread. Every wait ends at the plan's `hold`
// deadline at the latest, and at once when the server stops.
class fault_server::session {
public:
  session(fault_server& server, int fd, std::uint64_t id, fault_plan plan)
      : server_(server), stream_(fd), id_(id), plan_(std::move(plan)) {
    stream_.set_interrupt_fd(server_.stop_fd_);
  }

  void run() {
    switch (plan_.kind) {
    case fault::never_read:
      server_.count_fault(id_);
      hold();
      break;
    case fault::never_answer:
      if (!read_head()) break;
      server_.count_fault(id_);
      hold();
      break;
    case fault::early_final_response: {
      if (!read_head()) break;
      const std::string body = "request body too large\n";
      const std::string head =
          response_head(413, {{"Connection", "close"},
                              {"Content-Type", "text/plain"},
                              {"Content-Length", std::to_string(body.size())}});
      server_.count_fault(id_);
      if (!write(head + body)) break;
      if (!plan_.linger) break; // closed below, with the rest of the request unread
      // Lingering close (RFC 9112 9.6): stop sending, then read and drop what the client still
      // sends until it closes, so the answer is not destroyed by a reset.
      stream_.shutdown_write();
      drain_until_closed();
      break;
    }
    case fault::reset_mid_head: {
      if (!read_request()) break;
      const std::string head = final_head(plan_);
      write(head.substr(0, head.size() / 2));
      server_.count_fault(id_);
      stream_.reset();
      break;
    }
    case fault::reset_mid_body:
      if (!read_request()) break;
      if (!write(final_head(plan_)) || !write_body(0, plan_.partial_body)) break;
      if (plan_.wait_for_release && wait_released() != wake::released) break;
      server_.count_fault(id_);
      stream_.reset();
      break;
    case fault::stall_mid_body:
      if (!read_request()) break;
      if (!write(final_head(plan_)) || !write_body(0, plan_.partial_body)) break;
      server_.count_fault(id_);
      hold();
      break;
    case fault::short_body:
      if (!read_request()) break;
      if (!write(final_head(plan_)) || !write_body(0, plan_.partial_body)) break;
      server_.count_fault(id_);
      stream_.close();
      break;
    case fault::garbage:
      if (!read_request()) break;
      write(garbage_bytes);
      server_.count_fault(id_);
      stream_.close();
      break;
    case fault::oversized_head: {
      if (!read_request()) break;
      std::string head = "HTTP/1.1 200 OK\r\nX-Padding: ";
      head.append(plan_.head_bytes, 'p');
      head += "\r\nContent-Length: 0\r\n\r\n";
      server_.count_fault(id_);
      // The proxy stops reading at its limit: the write fails or stalls until it closes.
      if (write(head)) hold();
      break;
    }
    case fault::close_delimited:
      if (!read_request()) break;
      if (!write("HTTP/1.0 " + std::to_string(plan_.status) + " " +
                 std::string(reason_phrase(plan_.status)) +
                 "\r\nContent-Type: text/plain\r\n\r\n") ||
          !write_body(0, plan_.body_bytes)) {
        break;
      }
      server_.count_fault(id_);
      stream_.close();
      break;
    case fault::respond:
    case fault::slow_head:
    case fault::extra_bytes:
    case fault::interim_responses: serve_keep_alive(); break;
    }
    if (stream_.is_open()) stream_.close();
  }

private:
  // Answers request after request on this connection until the peer closes.
  void serve_keep_alive() {
    for (bool first = true; read_request(); first = false) {
      if (!answer()) return;
      if (first) server_.count_fault(id_);
    }
  }

  // One answer of a keep-alive plan; false if the connection is done.
  bool answer() {
    const std::string head = final_head(plan_);
    switch (plan_.kind) {
    case fault::slow_head:
      for (const char byte : head) {
        if (!write(std::string_view(&byte, 1))) return false;
        if (pause(plan_.byte_interval) != wake::timeout) return false;
      }
      return write_body(0, plan_.body_bytes);
    case fault::interim_responses:
      for (std::size_t i = 0; i < plan_.interim_count; ++i) {
        const bool hints = i % 2 == 0;
        if (!write(hints ? "HTTP/1.1 103 Early Hints\r\nLink: </style.css>; rel=preload\r\n\r\n"
                         : "HTTP/1.1 100 Continue\r\n\r\n")) {
          return false;
        }
      }
      return write(head) && write_body(0, plan_.body_bytes);
    case fault::extra_bytes:
      if (plan_.wait_for_release) {
        if (!write(head) || !write_body(0, plan_.body_bytes)) return false;
        if (wait_released() != wake::released) return false;
        return write_body(plan_.body_bytes, plan_.extra_bytes);
      }
      // Body and extra bytes in one write: they arrive together.
      return write(head + pattern_bytes(0, plan_.body_bytes + plan_.extra_bytes));
    default: return write(head) && write_body(0, plan_.body_bytes);
    }
  }

  clock::time_point deadline() const { return clock::now() + plan_.hold; }

  // Reads more bytes into buffer_; false when the peer closed, the server stops or `hold`
  // passes without a byte.
  bool fill() {
    char chunk[piece_size];
    const io_result got = stream_.read_some(chunk, sizeof chunk, deadline());
    if (got.status != io_status::ok) {
      if (got.status == io_status::closed || got.status == io_status::reset) {
        server_.count_peer_closed(id_);
      }
      return false;
    }
    server_.count_read(id_, got.bytes);
    buffer_.append(chunk, got.bytes);
    return true;
  }

  // Feeds buffer_ to the parser until `enough` holds; false on a parse error or end of input.
  template <class Enough>
  bool parse_until(Enough enough) {
    for (;;) {
      if (!buffer_.empty()) {
        std::size_t used = 0;
        const auto result = parser_.feed(buffer_, used);
        buffer_.erase(0, used);
        if (result == message_parser::result::failed) return false;
        if (parser_.headers_complete() && !head_counted_) {
          head_counted_ = true;
          server_.count_request(id_);
        }
        if (result == message_parser::result::complete || enough()) return true;
      }
      if (!fill()) return false;
    }
  }

  // Reads up to the end of the next request head (body bytes that come along are consumed).
  bool read_head() {
    start_message();
    return parse_until([this] { return parser_.headers_complete(); });
  }

  // Reads the next whole request, body included.
  bool read_request() {
    start_message();
    return parse_until([] { return false; });
  }

  void start_message() {
    parser_.start(false, 0); // bodies are only counted
    head_counted_ = false;
  }

  bool write(std::string_view bytes) {
    if (stream_.write_all(bytes, deadline()) != io_status::ok) return false;
    server_.count_written(id_, bytes.size());
    return true;
  }

  // Writes `size` pattern bytes starting at body offset `offset`, in pieces.
  bool write_body(std::uint64_t offset, std::uint64_t size) {
    while (size > 0) {
      const std::size_t n = static_cast<std::size_t>(std::min<std::uint64_t>(size, piece_size));
      if (!write(pattern_bytes(offset, n))) return false;
      offset += n;
      size -= n;
    }
    return true;
  }

  // Waits up to `timeout` for the peer to close, the server to stop or (with `on_release`)
  // release(); reads nothing.
  wake wait_event(clock::time_point until, bool on_release) {
    for (;;) {
      pollfd fds[3] = {{stream_.native_handle(), POLLRDHUP, 0},
                       {server_.stop_fd_, POLLIN, 0},
                       {server_.release_fd_, POLLIN, 0}};
      const auto left = std::chrono::ceil<std::chrono::milliseconds>(until - clock::now());
      if (left.count() <= 0) return wake::timeout;
      const int ready = ::poll(fds, on_release ? 3 : 2, static_cast<int>(left.count()));
      if (ready < 0) {
        if (errno == EINTR) continue;
        return wake::stopping;
      }
      if (ready == 0) return wake::timeout;
      if (fds[1].revents != 0) return wake::stopping;
      if ((fds[0].revents & (POLLRDHUP | POLLHUP | POLLERR)) != 0) {
        server_.count_peer_closed(id_);
        return wake::peer_closed;
      }
      if (on_release && fds[2].revents != 0) return wake::released;
    }
  }

  // An intentional pause of the script; ends early if the peer closes or the server stops.
  wake pause(std::chrono::milliseconds interval) {
    return wait_event(clock::now() + interval, false);
  }

  wake wait_released() { return wait_event(deadline(), true); }

  // Holds the stalled connection without reading until the peer closes it, the server stops
  // or `hold` passes; after release() it reads and drops bytes until the peer closes.
  void hold() {
    if (wait_released() == wake::released) drain_until_closed();
  }

  // Reads and drops everything until the peer closes (or `hold` passes without a byte).
  void drain_until_closed() {
    while (fill())
      buffer_.clear();
  }

  fault_server& server_;
  socket_stream stream_;
  std::uint64_t id_;
  fault_plan plan_;
  message_parser parser_{HTTP_REQUEST};
  std::string buffer_; // received bytes not parsed yet
  bool head_counted_ = false;
};

fault_server::fault_server(fault_plan plan)
    : choose_([plan = std::move(plan)](std::uint64_t) { return plan; }) {
  start();
}

fault_server::fault_server(chooser choose) : choose_(std::move(choose)) {
  if (!choose_) throw std::invalid_argument("fault_server needs a chooser");
  start();
}

void fault_server::start() {
  stop_fd_ = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  release_fd_ = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (stop_fd_ < 0 || release_fd_ < 0) {
    const int saved = errno;
    if (stop_fd_ >= 0) ::close(stop_fd_);
    if (release_fd_ >= 0) ::close(release_fd_);
    throw std::system_error(saved, std::generic_category(), "eventfd");
  }
  try {
    listen_fd_ = listen_loopback(SOMAXCONN, port_);
    accept_thread_ = std::thread([this] { accept_loop(); });
  } catch (...) {
    if (listen_fd_ >= 0) ::close(listen_fd_);
    ::close(stop_fd_);
    ::close(release_fd_);
    throw;
  }
}

fault_server::~fault_server() {
  stop();
  ::close(stop_fd_);
  ::close(release_fd_);
}

void fault_server::stop() {
  std::lock_guard stop_lock(stop_mutex_);
  if (stopped_) return;
  stopped_ = true;
  const std::uint64_t one = 1;
  [[maybe_unused]] const auto written = ::write(stop_fd_, &one, sizeof one);
  if (accept_thread_.joinable()) accept_thread_.join();
  ::close(listen_fd_);
  listen_fd_ = -1;
  std::list<std::unique_ptr<connection_slot>> slots;
  {
    std::lock_guard lock(slots_mutex_);
    slots.swap(slots_);
  }
  for (auto& slot : slots) {
    if (slot->thread.joinable()) slot->thread.join();
  }
}

void fault_server::release() {
  const std::uint64_t one = 1;
  [[maybe_unused]] const auto written = ::write(release_fd_, &one, sizeof one);
}

std::string fault_server::address() const {
  return "127.0.0.1:" + std::to_string(port_);
}

void fault_server::accept_loop() {
  pollfd fds[2] = {{listen_fd_, POLLIN, 0}, {stop_fd_, POLLIN, 0}};
  for (;;) {
    // No timeout needed: stop() makes stop_fd_ readable.
    if (::poll(fds, 2, -1) < 0) {
      if (errno == EINTR) continue;
      return;
    }
    if (fds[1].revents != 0) return;
    if ((fds[0].revents & POLLIN) == 0) continue;
    const int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) {
      if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
        pollfd stop_only{stop_fd_, POLLIN, 0};
        ::poll(&stop_only, 1, 10); // out of descriptors: back off instead of spinning
      }
      continue;
    }
    const int on = 1;
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof on);
    std::uint64_t id = 0;
    {
      std::lock_guard lock(state_mutex_);
      id = connections_.size() + 1;
      fault_connection_stats entry;
      entry.id = id;
      connections_.push_back(entry);
      ++open_;
    }
    state_changed_.notify_all();
    reap_finished_connections();
    std::lock_guard lock(slots_mutex_);
    auto slot = std::make_unique<connection_slot>();
    connection_slot* raw_slot = slot.get();
    try {
      slot->thread = std::thread([this, fd, id, raw_slot] { serve(fd, id, raw_slot); });
      slots_.push_back(std::move(slot));
    } catch (const std::system_error&) {
      ::close(fd);
      std::lock_guard state_lock(state_mutex_);
      connections_[id - 1].open = false;
      --open_;
    }
  }
}

void fault_server::reap_finished_connections() {
  std::lock_guard lock(slots_mutex_);
  for (auto it = slots_.begin(); it != slots_.end();) {
    if ((*it)->done.load(std::memory_order_acquire)) {
      (*it)->thread.join();
      it = slots_.erase(it);
    } else {
      ++it;
    }
  }
}

void fault_server::serve(int fd, std::uint64_t id, connection_slot* slot) {
  try {
    fault_plan plan = choose_(id);
    {
      std::lock_guard lock(state_mutex_);
      connections_[id - 1].kind = plan.kind;
    }
    session s(*this, fd, id, std::move(plan));
    s.run();
  } catch (...) {
    // Nothing may escape a thread; the socket is closed by the session's destructor (or was
    // never wrapped, if the chooser threw).
  }
  {
    std::lock_guard lock(state_mutex_);
    connections_[id - 1].open = false;
    --open_;
  }
  state_changed_.notify_all();
  slot->done.store(true, std::memory_order_release);
}

void fault_server::count_read(std::uint64_t id, std::uint64_t n) {
  {
    std::lock_guard lock(state_mutex_);
    connections_[id - 1].bytes_read += n;
    bytes_read_ += n;
  }
  state_changed_.notify_all();
}

void fault_server::count_written(std::uint64_t id, std::uint64_t n) {
  {
    std::lock_guard lock(state_mutex_);
    connections_[id - 1].bytes_written += n;
    bytes_written_ += n;
  }
  state_changed_.notify_all();
}

void fault_server::count_request(std::uint64_t id) {
  {
    std::lock_guard lock(state_mutex_);
    ++connections_[id - 1].requests;
    ++requests_;
  }
  state_changed_.notify_all();
}

void fault_server::count_fault(std::uint64_t) {
  {
    std::lock_guard lock(state_mutex_);
    ++faults_done_;
  }
  state_changed_.notify_all();
}

void fault_server::count_peer_closed(std::uint64_t id) {
  {
    std::lock_guard lock(state_mutex_);
    connections_[id - 1].peer_closed = true;
  }
  state_changed_.notify_all();
}

template <class Predicate>
bool fault_server::wait_until(std::chrono::milliseconds timeout, Predicate predicate) const {
  std::unique_lock lock(state_mutex_);
  return state_changed_.wait_for(lock, timeout, predicate);
}

fault_stats fault_server::stats_locked() const {
  fault_stats out;
  out.connections_accepted = connections_.size();
  out.open_connections = open_;
  out.requests_seen = requests_;
  out.bytes_read = bytes_read_;
  out.bytes_written = bytes_written_;
  out.faults_done = faults_done_;
  return out;
}

fault_stats fault_server::stats() const {
  std::lock_guard lock(state_mutex_);
  return stats_locked();
}

std::vector<fault_connection_stats> fault_server::connections() const {
  std::lock_guard lock(state_mutex_);
  return connections_;
}

std::size_t fault_server::connections_accepted() const {
  std::lock_guard lock(state_mutex_);
  return connections_.size();
}

std::size_t fault_server::open_connections() const {
  std::lock_guard lock(state_mutex_);
  return open_;
}

std::size_t fault_server::requests_seen() const {
  std::lock_guard lock(state_mutex_);
  return requests_;
}

bool fault_server::wait_for(const std::function<bool(const fault_stats&)>& predicate,
                            std::chrono::milliseconds timeout) const {
  return wait_until(timeout, [&] { return predicate(stats_locked()); });
}

bool fault_server::wait_for_connections(std::size_t n, std::chrono::milliseconds timeout) const {
  return wait_until(timeout, [&] { return connections_.size() >= n; });
}

bool fault_server::wait_for_open_at_most(std::size_t n, std::chrono::milliseconds timeout) const {
  return wait_until(timeout, [&] { return open_ <= n; });
}

bool fault_server::wait_for_requests(std::size_t n, std::chrono::milliseconds timeout) const {
  return wait_until(timeout, [&] { return requests_ >= n; });
}

bool fault_server::wait_for_faults(std::size_t n, std::chrono::milliseconds timeout) const {
  return wait_until(timeout, [&] { return faults_done_ >= n; });
}

} // namespace parallax::test
