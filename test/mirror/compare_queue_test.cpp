// The bounded queue between the I/O threads and the comparison thread.

#include "mirror/compare_queue.hpp"

#include <gtest/gtest.h>

namespace parallax::mirror {
namespace {

std::unique_ptr<compare_job> job_of(std::size_t body_bytes) {
  auto job = std::make_unique<compare_job>();
  job->live.kept.assign(body_bytes, 'l');
  return job;
}

TEST(CompareQueueTest, RefusesBeyondItsJobAndByteLimits) {
  compare_queue by_count({2, 1 << 30});
  EXPECT_TRUE(by_count.push(job_of(1)));
  EXPECT_TRUE(by_count.push(job_of(1)));
  EXPECT_FALSE(by_count.push(job_of(1)));
  EXPECT_NE(by_count.pop(std::chrono::steady_clock::now()), nullptr);
  EXPECT_TRUE(by_count.push(job_of(1))); // room again

  compare_queue by_bytes({100, 64 * 1024});
  EXPECT_TRUE(by_bytes.push(job_of(40 * 1024)));
  EXPECT_FALSE(by_bytes.push(job_of(40 * 1024)));
  EXPECT_TRUE(by_bytes.push(job_of(1024)));
}

TEST(CompareQueueTest, PopTimesOutWhenEmptyAndDrainsAfterClose) {
  compare_queue q({4, 1 << 20});
  EXPECT_EQ(q.pop(std::chrono::steady_clock::now() + std::chrono::milliseconds(1)), nullptr);
  EXPECT_TRUE(q.push(job_of(1)));
  q.close();
  EXPECT_FALSE(q.push(job_of(1)));
  EXPECT_NE(q.pop(std::chrono::steady_clock::time_point::max()), nullptr);
  EXPECT_EQ(q.pop(std::chrono::steady_clock::time_point::max()), nullptr); // closed and empty
}

} // namespace
} // namespace parallax::mirror
