// daemon/event_loop.cc: see event_loop.h.
#include "daemon/event_loop.h"

#include <errno.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "common/clock.h"
#include "sdfd/errno_status.h"

namespace foobard {
namespace {

// kMaxEvents bounds one epoll_wait batch.
constexpr int kMaxEvents = 256;

}  // namespace

EventLoop::Timer::Timer(EventLoop* loop, std::function<void()> on_fire)
    : loop_(loop), on_fire_(std::move(on_fire)) {
  loop_->timers_.push_back(this);
}

EventLoop::Timer::~Timer() {
  auto& timers = loop_->timers_;
  timers.erase(std::find(timers.begin(), timers.end(), this));
}

void EventLoop::Timer::ArmAt(int64_t deadline_ns) {
  deadline_ = deadline_ns;
  serial_ = ++loop_->arm_serial_;
  armed_ = true;
}

absl::StatusOr<std::unique_ptr<EventLoop>> EventLoop::Create(
    std::initializer_list<int> signals) {
  std::unique_ptr<EventLoop> loop(new EventLoop);
  loop->now_ = foobar::MonotonicNanos();
  loop->epoll_.reset(::epoll_create1(EPOLL_CLOEXEC));
  if (!loop->epoll_.valid()) return sdfd::ErrnoError(errno, "epoll_create1");

  sigset_t mask;
  sigemptyset(&mask);
  std::string names;  // "SIGTERM|SIGINT", for the error message
  for (int signo : signals) {
    sigaddset(&mask, signo);
    const char* abbrev = ::sigabbrev_np(signo);
    absl::StrAppend(&names, names.empty() ? "" : "|", "SIG",
                    abbrev != nullptr ? abbrev : "?");
  }
  if (::sigprocmask(SIG_BLOCK, &mask, nullptr) != 0) {
    return sdfd::ErrnoError(
        errno, absl::StrCat("sigprocmask(SIG_BLOCK, ", names, ")"));
  }
  loop->signal_fd_.reset(::signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC));
  if (!loop->signal_fd_.valid()) return sdfd::ErrnoError(errno, "signalfd");
  loop->signal_handler_ =
      HandlerFor<EventLoop, &EventLoop::ReadSignals>(loop.get());
  loop->signal_watch_.handler = &loop->signal_handler_;
  if (absl::Status s = loop->Update(loop->signal_fd_.get(),
                                    &loop->signal_watch_, 0, EPOLLIN);
      !s.ok()) {
    return s;
  }
  return loop;
}

EventLoop::~EventLoop() { deferred_.clear(); }

absl::Status EventLoop::Update(int fd, Watch* watch, uint32_t old_events,
                               uint32_t new_events) {
  if (old_events == new_events) return absl::OkStatus();
  epoll_event ev{};
  ev.events = new_events;
  ev.data.ptr = watch;
  const int op = new_events == 0   ? EPOLL_CTL_DEL
                 : old_events == 0 ? EPOLL_CTL_ADD
                                   : EPOLL_CTL_MOD;
  if (::epoll_ctl(epoll_.get(), op, fd, &ev) != 0) {
    return sdfd::ErrnoError(errno, absl::StrCat("epoll_ctl(fd ", fd, ")"));
  }
  return absl::OkStatus();
}

void EventLoop::Detach(int fd, Watch* watch, uint32_t events) {
  if (events != 0) {
    // A failure means the fd is already gone from the set: nothing to undo.
    (void)::epoll_ctl(epoll_.get(), EPOLL_CTL_DEL, fd, nullptr);
  }
  watch->handler = nullptr;
}

int64_t EventLoop::NextDeadline() const {
  int64_t deadline = INT64_MAX;
  for (const Timer* t : timers_) {
    if (t->armed_) deadline = std::min(deadline, t->deadline_);
  }
  return deadline;
}

void EventLoop::FireDueTimers() {
  // Only timers armed before this pass fire in it: a callback that arms a
  // timer for "now" (or the past) cannot make this loop spin. Timers are
  // few (six in foobard), so each round simply looks for the earliest due
  // one again; callbacks may arm or disarm any timer meanwhile, and destroy any
  // but the one running.
  const uint64_t last_serial = arm_serial_;
  for (;;) {
    Timer* due = nullptr;
    for (Timer* t : timers_) {
      if (!t->armed_ || t->serial_ > last_serial || t->deadline_ > now_) {
        continue;
      }
      if (due == nullptr || t->deadline_ < due->deadline_) due = t;
    }
    if (due == nullptr) return;
    due->armed_ = false;
    due->on_fire_();
  }
}

void EventLoop::ReadSignals(Watch*, uint32_t) {
  signalfd_siginfo info;
  while (::read(signal_fd_.get(), &info, sizeof(info)) ==
         static_cast<ssize_t>(sizeof(info))) {
    if (on_signal_) on_signal_(static_cast<int>(info.ssi_signo));
  }
}

absl::Status EventLoop::RunOnce(int max_wait_ms) {
  now_ = foobar::MonotonicNanos();
  FireDueTimers();
  if (exit_) return absl::OkStatus();
  if (before_wait_) before_wait_();
  if (exit_) return absl::OkStatus();

  int timeout_ms = max_wait_ms;
  if (const int64_t deadline = NextDeadline(); deadline != INT64_MAX) {
    const int until = foobar::MillisUntil(deadline, now_);
    if (timeout_ms < 0 || until < timeout_ms) timeout_ms = until;
  }
  epoll_event events[kMaxEvents];
  const int n = ::epoll_wait(epoll_.get(), events, kMaxEvents, timeout_ms);
  if (n < 0) {
    if (errno == EINTR) return absl::OkStatus();
    return sdfd::ErrnoError(errno, "epoll_wait");
  }
  for (int i = 0; i < n; ++i) {
    auto* watch = static_cast<Watch*>(events[i].data.ptr);
    // Null: closed earlier in this batch; the object is still allocated
    // (DeleteLater) but wants no more events.
    if (const Handler* h = watch->handler; h != nullptr) {
      h->on_ready(h->context, watch, events[i].events);
    }
  }
  deferred_.clear();
  return absl::OkStatus();
}

absl::Status EventLoop::Run() {
  absl::Status status;
  while (!exit_ && status.ok()) status = RunOnce(-1);
  deferred_.clear();
  return status;
}

}  // namespace foobard
