#include "mirror/compare_queue.hpp"

#include <algorithm>

namespace parallax::mirror {

std::size_t compare_job::memory_bytes() const noexcept {
  return sizeof(*this) + request.method.capacity() + request.target.capacity() +
         header_bytes(request.headers) + live.memory_bytes() + shadow.memory_bytes() +
         (secondary ? secondary->memory_bytes() : 0);
}

bool compare_queue::push(std::unique_ptr<compare_job>&& job) {
  const auto bytes = job->memory_bytes();
  bool wake = false;
  {
    const std::lock_guard lock(mutex_);
    if (closed_ || jobs_.size() >= limits_.max_jobs || bytes_ + bytes > limits_.max_bytes) {
      return false;
    }
    jobs_.push_back(std::move(job));
    bytes_ += bytes;
    wake = deep_sleep_ || jobs_.size() == wake_batch;
  }
  if (wake) cv_.notify_one();
  return true;
}

bool compare_queue::note(uncompared_exchange note) {
  bool wake = false;
  {
    const std::lock_guard lock(mutex_);
    if (closed_ || notes_.size() >= limits_.max_notes) return false;
    notes_.push_back(std::move(note));
    has_notes_.store(true, std::memory_order_release);
    wake = notes_.size() == limits_.max_notes / 2;
  }
  if (wake) cv_.notify_one();
  return true;
}

void compare_queue::take_notes(std::vector<uncompared_exchange>& out) {
  out.clear();
  if (!has_notes_.load(std::memory_order_acquire)) return; // the common case: no lock
  const std::lock_guard lock(mutex_);
  out.swap(notes_);
  has_notes_.store(false, std::memory_order_relaxed);
}

std::unique_ptr<compare_job> compare_queue::pop(std::chrono::steady_clock::time_point until,
                                                bool deep) {
  std::unique_lock lock(mutex_);
  if (jobs_.empty() && !closed_) {
    deep_sleep_ = deep;
    cv_.wait_until(lock, until, [&] {
      return !jobs_.empty() || closed_ || notes_.size() >= limits_.max_notes / 2;
    });
    deep_sleep_ = false;
  }
  if (jobs_.empty()) return nullptr;
  auto job = std::move(jobs_.front());
  jobs_.pop_front();
  bytes_ -= std::min(bytes_, job->memory_bytes());
  return job;
}

void compare_queue::close() {
  {
    const std::lock_guard lock(mutex_);
    closed_ = true;
  }
  cv_.notify_all();
}

} // namespace parallax::mirror
