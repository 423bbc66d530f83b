// daemon/event_loop_test.cc: the event loop alone, in this process: timers,
// the timeout they give epoll_wait, deferred deletion and signals.
#include "daemon/event_loop.h"

#include <signal.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <memory>
#include <vector>

#include "common/clock.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "sdfd/unique_fd.h"

namespace foobard {
namespace {

using ::testing::ElementsAre;

std::unique_ptr<EventLoop> NewLoop(std::initializer_list<int> signals = {
                                       SIGUSR1}) {
  absl::StatusOr<std::unique_ptr<EventLoop>> loop = EventLoop::Create(signals);
  EXPECT_TRUE(loop.ok()) << loop.status();
  return loop.ok() ? *std::move(loop) : nullptr;
}

TEST(EventLoop, DueTimersFireInDeadlineOrder) {
  std::unique_ptr<EventLoop> loop = NewLoop();
  std::vector<int> fired;
  EventLoop::Timer a(loop.get(), [&] { fired.push_back(1); });
  EventLoop::Timer b(loop.get(), [&] { fired.push_back(2); });
  EventLoop::Timer c(loop.get(), [&] { fired.push_back(3); });
  const int64_t now = foobar::MonotonicNanos();
  // Created in another order than their deadlines, and all due at once.
  c.ArmAt(now - 1);
  a.ArmAt(now - 3);
  b.ArmAt(now - 2);
  ASSERT_TRUE(loop->RunOnce(0).ok());
  EXPECT_THAT(fired, ElementsAre(1, 2, 3));
  EXPECT_FALSE(a.armed());
  EXPECT_EQ(loop->NextDeadline(), INT64_MAX);
}

TEST(EventLoop, WaitEndsAtTheEarliestTimer) {
  std::unique_ptr<EventLoop> loop = NewLoop();
  int fired = 0;
  EventLoop::Timer late(loop.get(), [&] { fired += 10; });
  EventLoop::Timer soon(loop.get(), [&] { fired += 1; });
  const int64_t start = foobar::MonotonicNanos();
  late.ArmAt(start + 3600 * foobar::kNanosPerSecond);
  soon.ArmAt(start + 30 * foobar::kNanosPerMilli);
  EXPECT_EQ(loop->NextDeadline(), soon.deadline());
  // No fd is ready: only the timer can end this wait (-1: no other bound).
  // Timers fire at the start of an iteration, so the next one fires it.
  ASSERT_TRUE(loop->RunOnce(-1).ok());
  EXPECT_GE(foobar::MonotonicNanos() - start, 30 * foobar::kNanosPerMilli);
  EXPECT_EQ(fired, 0);
  ASSERT_TRUE(loop->RunOnce(0).ok());
  EXPECT_EQ(fired, 1);
  EXPECT_EQ(loop->NextDeadline(), late.deadline());
}

TEST(EventLoop, TimerArmedByItsCallbackFiresNextIteration) {
  std::unique_ptr<EventLoop> loop = NewLoop();
  int fired = 0;
  EventLoop::Timer* self = nullptr;
  EventLoop::Timer t(loop.get(), [&] {
    ++fired;
    self->ArmAt(0);  // long past: due again at once
  });
  self = &t;
  t.ArmAt(0);
  ASSERT_TRUE(loop->RunOnce(0).ok());
  EXPECT_EQ(fired, 1);
  ASSERT_TRUE(loop->RunOnce(0).ok());
  EXPECT_EQ(fired, 2);
}

// Item is a watched socket whose callback closes another Item.
struct Item {
  EventLoop::Watch watch;
  sdfd::UniqueFd fd;
  sdfd::UniqueFd peer;
  bool* destroyed = nullptr;
  ~Item() {
    if (destroyed != nullptr) *destroyed = true;
  }
};

class Closer {
 public:
  explicit Closer(EventLoop* loop)
      : handler(EventLoop::HandlerFor<Closer, &Closer::OnReady>(this)),
        loop_(loop) {}
  void OnReady(EventLoop::Watch* watch, uint32_t) {
    ++calls;
    std::unique_ptr<Item>& other = watch == &a->watch ? b : a;
    Item* raw = other.get();
    loop_->Detach(raw->fd.get(), &raw->watch, EPOLLIN);
    loop_->DeleteLater(std::move(other));
    // Deferred: the other one is still allocated during this batch.
    other_alive_in_callback = !*raw->destroyed;
  }
  EventLoop::Handler handler;
  std::unique_ptr<Item> a, b;
  int calls = 0;
  bool other_alive_in_callback = false;

 private:
  EventLoop* loop_;
};

std::unique_ptr<Item> ReadableItem(EventLoop* loop, Closer* closer,
                                   bool* destroyed) {
  int fds[2];
  EXPECT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, fds), 0);
  auto item = std::make_unique<Item>();
  item->fd.reset(fds[0]);
  item->peer.reset(fds[1]);
  item->destroyed = destroyed;
  item->watch.handler = &closer->handler;
  EXPECT_EQ(::write(fds[1], "x", 1), 1);
  EXPECT_TRUE(loop->Update(fds[0], &item->watch, 0, EPOLLIN).ok());
  return item;
}

TEST(EventLoop, ObjectClosedByAnotherCallbackOfTheBatchIsSkippedThenFreed) {
  std::unique_ptr<EventLoop> loop = NewLoop();
  Closer closer(loop.get());
  bool a_destroyed = false;
  bool b_destroyed = false;
  closer.a = ReadableItem(loop.get(), &closer, &a_destroyed);
  closer.b = ReadableItem(loop.get(), &closer, &b_destroyed);
  // Both are readable, so both are in the one batch; whichever comes first
  // closes the other, whose queued event must then be dropped.
  ASSERT_TRUE(loop->RunOnce(1000).ok());
  EXPECT_EQ(closer.calls, 1);
  EXPECT_TRUE(closer.other_alive_in_callback);
  EXPECT_NE(a_destroyed, b_destroyed);  // freed after the batch, not before
}

TEST(EventLoop, SignalsArriveThroughTheSignalfd) {
  std::unique_ptr<EventLoop> loop = NewLoop({SIGUSR1});
  std::vector<int> seen;
  loop->OnSignal([&](int signo) {
    seen.push_back(signo);
    loop->Exit();
  });
  ASSERT_EQ(::raise(SIGUSR1), 0);  // blocked by Create: pending, not fatal
  ASSERT_TRUE(loop->Run().ok());
  EXPECT_THAT(seen, ElementsAre(SIGUSR1));
}

TEST(EventLoop, BeforeWaitRunsOncePerIterationAndMayExit) {
  std::unique_ptr<EventLoop> loop = NewLoop();
  int iterations = 0;
  EventLoop::Timer tick(loop.get(), [] {});
  // Each iteration arms a timer for now, so the loop never blocks.
  loop->BeforeWait([&] {
    if (++iterations == 3) loop->Exit();
    tick.ArmAt(0);
  });
  ASSERT_TRUE(loop->Run().ok());
  EXPECT_EQ(iterations, 3);
}

}  // namespace
}  // namespace foobard
