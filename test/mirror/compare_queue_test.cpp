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

TEST(CompareQueueTest, NotesAreBoundedTakenWholeAndWakeTheConsumerAtHalf) {
  compare_queue q({4, 1 << 20, 4});
  std::vector<uncompared_exchange> taken{{nullptr, "stale", "/", false}};
  q.take_notes(taken);
  EXPECT_TRUE(taken.empty()); // none: the list given is emptied
  for (int i = 0; i < 4; ++i)
    EXPECT_TRUE(q.note({nullptr, "GET", "/" + std::to_string(i), false}));
  EXPECT_FALSE(q.note({nullptr, "GET", "/full", false})); // max_notes
  // Half of max_notes waiting ends a wait with no job (the consumer then takes them).
  EXPECT_EQ(q.pop(std::chrono::steady_clock::time_point::max()), nullptr);
  q.take_notes(taken);
  ASSERT_EQ(taken.size(), 4u);
  EXPECT_EQ(taken[3].path, "/3");
  q.take_notes(taken);
  EXPECT_TRUE(taken.empty());
  EXPECT_TRUE(q.note({nullptr, "GET", "/again", false})); // room again
  q.close();
  EXPECT_FALSE(q.note({nullptr, "GET", "/closed", false}));
}

} // namespace
} // namespace parallax::mirror
