// daemon/pending_buffer_test.cc: the pending buffer holds memory only while
// bytes are pending, and keeps them in order.
#include "daemon/pending_buffer.h"

#include <string>

#include "gtest/gtest.h"

namespace foobard {
namespace {

std::string Contents(const PendingBuffer& b) {
  return std::string(b.data(), b.size());
}

TEST(PendingBuffer, EmptyHoldsNoMemory) {
  PendingBuffer b;
  EXPECT_TRUE(b.empty());
  EXPECT_EQ(b.capacity(), 0u);
}

TEST(PendingBuffer, FreesItsBlockWhenDrained) {
  PendingBuffer b;
  b.Append("hello", 5);
  EXPECT_GT(b.capacity(), 0u);
  b.Consume(2);
  EXPECT_EQ(Contents(b), "llo");
  b.Consume(3);
  EXPECT_TRUE(b.empty());
  EXPECT_EQ(b.capacity(), 0u);
}

TEST(PendingBuffer, KeepsOrderAcrossGrowthAndCompaction) {
  PendingBuffer b;
  std::string expected;
  for (int i = 0; i < 2000; ++i) {
    std::string chunk(static_cast<size_t>(i % 97) + 1, static_cast<char>(i));
    b.Append(chunk.data(), chunk.size());
    expected += chunk;
    if (i % 3 == 0) {
      const size_t n = std::min<size_t>(expected.size(), 50);
      b.Consume(n);
      expected.erase(0, n);
    }
    ASSERT_EQ(Contents(b), expected) << "after step " << i;
  }
}

TEST(PendingBuffer, ReusesConsumedPrefixInsteadOfGrowing) {
  PendingBuffer b;
  std::string block(4096, 'a');
  b.Append(block.data(), block.size());
  const size_t capacity = b.capacity();
  b.Consume(4000);
  b.Append(block.data(), 4000);
  EXPECT_EQ(b.capacity(), capacity);
  EXPECT_EQ(b.size(), 4096u);
}

TEST(PendingBuffer, MoveTransfersTheBytes) {
  PendingBuffer a;
  a.Append("xyz", 3);
  PendingBuffer b(std::move(a));
  EXPECT_TRUE(
      a.empty());  // NOLINT(bugprone-use-after-move): moved-from is empty
  EXPECT_EQ(Contents(b), "xyz");
  PendingBuffer c;
  c.Append("old", 3);
  c = std::move(b);
  EXPECT_EQ(Contents(c), "xyz");
}

}  // namespace
}  // namespace foobard
