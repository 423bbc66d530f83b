// daemon/connections_test.cc: echo connections on a real event loop, in this
// process, with socketpairs as clients.
#include "daemon/connections.h"

#include <errno.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "sdfd/unique_fd.h"

namespace foobard {
namespace {

class EchoConnectionsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    absl::StatusOr<std::unique_ptr<EventLoop>> loop =
        EventLoop::Create({SIGUSR2});
    ASSERT_TRUE(loop.ok()) << loop.status();
    loop_ = *std::move(loop);
  }

  void Start(size_t buffer_limit) {
    conns_ =
        std::make_unique<EchoConnections>(loop_.get(), &log_, buffer_limit);
  }

  // Connect adds one end of a new socketpair and returns the client's end.
  // With `small_buffers`, both ends' socket buffers are shrunk first, so a
  // few KiB fill them.
  sdfd::UniqueFd Connect(int type, absl::string_view unsent = {},
                         bool small_buffers = false) {
    int fds[2];
    EXPECT_EQ(::socketpair(AF_UNIX, type | SOCK_NONBLOCK, 0, fds), 0);
    if (small_buffers) {
      SmallBuffers(fds[0]);
      SmallBuffers(fds[1]);
    }
    EXPECT_TRUE(
        conns_->Add(sdfd::UniqueFd(fds[0]), type == SOCK_SEQPACKET, unsent)
            .ok());
    return sdfd::UniqueFd(fds[1]);
  }

  // RunUntil runs the loop (each wait at most 10 ms) until `done`.
  bool RunUntil(const std::function<bool()>& done) {
    for (int i = 0; i < 500; ++i) {
      if (done()) return true;
      if (!loop_->RunOnce(10).ok()) return false;
    }
    return done();
  }

  // ReadAll appends what `fd` has now; false once it reads the end.
  static bool ReadSome(int fd, std::string* out) {
    char buf[4096];
    for (;;) {
      const ssize_t n = ::recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
      if (n > 0) {
        out->append(buf, static_cast<size_t>(n));
        continue;
      }
      return n < 0;  // EAGAIN: open; 0: the end
    }
  }

  static void SmallBuffers(int fd) {
    const int size = 4096;  // the kernel doubles it, and has a floor
    ASSERT_EQ(::setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &size, sizeof(size)), 0);
    ASSERT_EQ(::setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof(size)), 0);
  }

  Logger log_{STDERR_FILENO, false};
  std::unique_ptr<EventLoop> loop_;
  std::unique_ptr<EchoConnections> conns_;
};

TEST_F(EchoConnectionsTest, EchoesWhatTheClientSends) {
  Start(256 * 1024);
  sdfd::UniqueFd client = Connect(SOCK_STREAM);
  ASSERT_EQ(::send(client.get(), "hello", 5, 0), 5);
  std::string got;
  ASSERT_TRUE(RunUntil([&] {
    ReadSome(client.get(), &got);
    return got.size() >= 5;
  }));
  EXPECT_EQ(got, "hello");
  EXPECT_EQ(conns_->bytes_echoed(), 5u);
  EXPECT_EQ(conns_->size(), 1u);
}

TEST_F(EchoConnectionsTest, ShortWriteKeepsTheRestPendingUntilWritable) {
  Start(256 * 1024);
  sdfd::UniqueFd client = Connect(SOCK_STREAM, {}, /*small_buffers=*/true);
  ASSERT_TRUE(client.valid());
  // More than the client's receive and the server's send buffers hold.
  std::string sent;
  std::string got;
  for (int i = 0; i < 64; ++i) {
    std::string chunk(1000, static_cast<char>('a' + i % 26));
    const ssize_t n = ::send(client.get(), chunk.data(), chunk.size(), 0);
    if (n > 0) sent.append(chunk, 0, static_cast<size_t>(n));
    ASSERT_TRUE(loop_->RunOnce(0).ok());
  }
  EXPECT_GT(conns_->CountUnsent().bytes, 0u);
  EXPECT_EQ(conns_->CountUnsent().connections, 1u);
  ASSERT_TRUE(RunUntil([&] {
    ReadSome(client.get(), &got);
    return got.size() >= sent.size();
  }));
  EXPECT_EQ(got, sent);
  EXPECT_EQ(conns_->CountUnsent().bytes, 0u);
}

TEST_F(EchoConnectionsTest, StopsReadingAtTheBufferLimit) {
  constexpr size_t kLimit = 8192;
  Start(kLimit);
  sdfd::UniqueFd client = Connect(SOCK_STREAM, {}, /*small_buffers=*/true);
  ASSERT_TRUE(client.valid());
  // The client writes without reading until nothing more is taken.
  std::string sent;
  int refused_in_a_row = 0;
  for (int i = 0; i < 10000 && refused_in_a_row < 5; ++i) {
    const std::string chunk(512, static_cast<char>('A' + i % 26));
    const ssize_t n = ::send(client.get(), chunk.data(), chunk.size(), 0);
    if (n > 0) {
      sent.append(chunk, 0, static_cast<size_t>(n));
      refused_in_a_row = 0;
    } else {
      ASSERT_EQ(errno, EAGAIN);
      ++refused_in_a_row;
    }
    ASSERT_TRUE(loop_->RunOnce(0).ok());
  }
  ASSERT_EQ(refused_in_a_row, 5) << "the server never pushed back";
  EXPECT_EQ(conns_->CountUnsent().bytes, kLimit);
  std::string got;
  ASSERT_TRUE(RunUntil([&] {
    ReadSome(client.get(), &got);
    return got.size() >= sent.size();
  }));
  EXPECT_EQ(got, sent);
}

TEST_F(EchoConnectionsTest, HalfCloseEchoesEverythingThenCloses) {
  Start(256 * 1024);
  sdfd::UniqueFd client = Connect(SOCK_STREAM);
  ASSERT_EQ(::send(client.get(), "abc", 3, 0), 3);
  ASSERT_EQ(::shutdown(client.get(), SHUT_WR), 0);
  std::string got;
  bool open = true;
  ASSERT_TRUE(RunUntil([&] {
    open = ReadSome(client.get(), &got);
    return !open;
  }));
  EXPECT_EQ(got, "abc");
  EXPECT_EQ(conns_->size(), 0u);
}

TEST_F(EchoConnectionsTest, SeqpacketEmptyRecordIsEchoedAndKeepsTheConnection) {
  Start(256 * 1024);
  sdfd::UniqueFd client = Connect(SOCK_SEQPACKET);
  ASSERT_EQ(::send(client.get(), "", 0, 0), 0);
  ASSERT_EQ(::send(client.get(), "xy", 2, 0), 2);
  std::vector<std::string> records;
  ASSERT_TRUE(RunUntil([&] {
    char buf[16];
    const ssize_t n = ::recv(client.get(), buf, sizeof(buf), MSG_DONTWAIT);
    if (n >= 0) records.emplace_back(buf, static_cast<size_t>(n));
    return records.size() == 2;
  }));
  EXPECT_EQ(records[0], "");
  EXPECT_EQ(records[1], "xy");
  EXPECT_EQ(conns_->size(), 1u);
}

TEST_F(EchoConnectionsTest, LingeringCloseSendsFinDiscardsInputAndWaits) {
  Start(256 * 1024);
  sdfd::UniqueFd client = Connect(SOCK_STREAM);
  conns_->Stop(/*linger=*/true);
  std::string got;
  ASSERT_TRUE(RunUntil([&] { return !ReadSome(client.get(), &got); }));
  EXPECT_EQ(got, "");  // FIN, nothing echoed
  // What the client still sends is read and dropped, not echoed, and the
  // connection waits for the client's close.
  ASSERT_EQ(::send(client.get(), "late", 4, 0), 4);
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(loop_->RunOnce(0).ok());
  EXPECT_EQ(conns_->size(), 1u);
  EXPECT_EQ(conns_->bytes_echoed(), 0u);
  client.reset();
  ASSERT_TRUE(RunUntil([&] { return conns_->empty(); }));
}

TEST_F(EchoConnectionsTest, TakeAllReturnsEachConnectionWithItsUnsentBytes) {
  Start(256 * 1024);
  sdfd::UniqueFd client = Connect(SOCK_STREAM, "owed");
  std::vector<sdfd::HandoffEntry> taken = conns_->TakeAll();
  ASSERT_EQ(taken.size(), 1u);
  EXPECT_TRUE(taken[0].fd.valid());
  EXPECT_EQ(taken[0].state, "owed");
  EXPECT_EQ(conns_->size(), 0u);
  // Out of the loop: nothing is sent on it any more.
  ASSERT_TRUE(loop_->RunOnce(0).ok());
  std::string got;
  EXPECT_TRUE(ReadSome(client.get(), &got));
  EXPECT_EQ(got, "");
}

}  // namespace
}  // namespace foobard
