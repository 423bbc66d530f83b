// daemon/event_loop.h: foobard's one-threaded event loop: an epoll set, a
// signalfd, timers and deferred deletion, kept in one place. It knows nothing
// of clients (the Redis ae.c model): whatever it watches is a Watch whose
// Handler it calls, and the Handler knows what the Watch is.
//
//   * Level-triggered epoll. Whoever registers an fd keeps its current
//     interest and calls Update() only when it really changes, so the hot
//     path makes no epoll_ctl call.
//   * Timers are the only deadlines: epoll_wait's timeout is derived from the
//     same armed timers that fire, so no second list of deadlines exists.
//   * Deferred deletion (Envoy's dispatcher model): an object closed during a
//     batch of events is Detach()ed, which drops the events still queued for
//     it in that batch, and handed to DeleteLater(), which destroys it after
//     the batch. A callback never touches freed memory.
//   * SIGTERM and SIGINT (or the signals given to Create) arrive through a
//     signalfd as ordinary events, so stopping is loop work, not
//     async-signal-safe juggling.
//
// Example:
//
//   absl::StatusOr<std::unique_ptr<foobard::EventLoop>> loop =
//       foobard::EventLoop::Create({SIGTERM, SIGINT});
//   if (!loop.ok()) return 1;  // epoll_create1: Too many open files
//   foobard::EventLoop::Timer stop(loop->get(), [&loop] { (*loop)->Exit(); });
//   stop.ArmAt((*loop)->now() + 1000);  // nanoseconds (MonotonicNanos)
//   (*loop)->OnSignal([&loop](int /*signo*/) { (*loop)->Exit(); });
//   absl::Status s = (*loop)->Run();
//   if (!s.ok()) return 1;  // epoll_wait failed: s carries its errno
#ifndef DAEMON_EVENT_LOOP_H_
#define DAEMON_EVENT_LOOP_H_

#include <signal.h>

#include <cstdint>
#include <functional>
#include <initializer_list>
#include <memory>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "sdfd/unique_fd.h"

namespace foobard {

class EventLoop {
 public:
  // Watch is what epoll's data.ptr points at. Objects the loop watches embed
  // (or derive from) one; it holds only the Handler to call, so a watched
  // object pays 8 bytes for it. A Watch whose handler is null is detached:
  // events still queued for it are dropped.
  struct Handler;
  struct Watch {
    const Handler* handler = nullptr;
  };

  // Handler receives the readiness of the Watches registered with it: its
  // function is called with its context, the Watch and epoll's events
  // (EPOLLIN, EPOLLOUT, EPOLLERR, EPOLLHUP). The function may close any
  // object, this one included: see Detach() and DeleteLater(). One Handler
  // may serve many Watches (all of foobard's connections share one), so no
  // watched object needs a virtual table of its own. It is a plain function
  // pointer, not a virtual method: the dispatch is one indirect call, and
  // UBSan's vptr check, which needs a pipe(2) to inspect an object it has
  // not seen yet, has nothing to check when fds are exhausted (EMFILE is
  // exactly when foobard must keep dispatching).
  struct Handler {
    void (*on_ready)(void* context, Watch* watch, uint32_t events) = nullptr;
    void* context = nullptr;
  };
  // HandlerFor makes a Handler that calls `object->*Method(watch, events)`.
  template <typename T, void (T::*Method)(Watch*, uint32_t)>
  static Handler HandlerFor(T* object) {
    return Handler{[](void* context, Watch* watch, uint32_t events) {
                     (static_cast<T*>(context)->*Method)(watch, events);
                   },
                   object};
  }

  // Timer is a deadline on the loop's monotonic clock (MonotonicNanos). An
  // armed timer shortens epoll_wait's timeout and, once due, is disarmed and
  // its callback runs at the start of the next iteration. Due timers fire in
  // deadline order (ties: the order the timers were created); one armed again
  // by a callback fires no earlier than the next iteration. A Timer must not
  // outlive its loop. It may be destroyed at any time except from its own
  // callback (another timer's callback, or any event handler, may).
  class Timer {
   public:
    Timer(EventLoop* loop, std::function<void()> on_fire);
    ~Timer();
    Timer(const Timer&) = delete;
    Timer& operator=(const Timer&) = delete;

    // ArmAt sets the deadline, in MonotonicNanos; a past one fires at once.
    void ArmAt(int64_t deadline_ns);
    void Disarm() { armed_ = false; }
    bool armed() const { return armed_; }
    int64_t deadline() const { return deadline_; }

   private:
    friend class EventLoop;
    EventLoop* loop_;
    std::function<void()> on_fire_;
    int64_t deadline_ = 0;
    uint64_t serial_ = 0;  // when it was armed, see FireDueTimers
    bool armed_ = false;
  };

  // Create makes the epoll set and a signalfd for `signals`, which it blocks
  // for the whole process (sigprocmask). Errors carry the failing call's
  // errno (sdfd::ErrnoOf).
  static absl::StatusOr<std::unique_ptr<EventLoop>> Create(
      std::initializer_list<int> signals);
  ~EventLoop();
  EventLoop(const EventLoop&) = delete;
  EventLoop& operator=(const EventLoop&) = delete;

  // Update changes what epoll watches `fd` (borrowed) for, from
  // `old_events` to `new_events`: EPOLL_CTL_ADD from 0, EPOLL_CTL_DEL to 0,
  // EPOLL_CTL_MOD otherwise; nothing when they are equal. `watch` must stay
  // valid while watched. The caller keeps the current interest (that is how
  // the hot path avoids epoll_ctl) and stores `new_events` only on success.
  // Errors: epoll_ctl's errno.
  absl::Status Update(int fd, Watch* watch, uint32_t old_events,
                      uint32_t new_events);

  // Detach removes `fd` from the set when `events` (its current interest)
  // is not 0, and detaches `watch`: events of this batch still queued for
  // it are dropped. Removal is explicit because the same open socket may
  // live on elsewhere (in systemd's fd store after a handoff), and epoll
  // forgets a registration only when every fd of that socket is closed.
  void Detach(int fd, Watch* watch, uint32_t events);

  // DeleteLater takes `object` and destroys it after the current batch of
  // events (or when Run() returns, or with the loop). Callbacks may still be
  // handed a pointer to it in this batch; Detach() it first so they are not.
  template <typename T>
  void DeleteLater(std::unique_ptr<T> object) {
    deferred_.emplace_back(object.release(),
                           [](void* p) { delete static_cast<T*>(p); });
  }

  // OnSignal sets what runs for each signal read from the signalfd.
  void OnSignal(std::function<void(int signo)> on_signal) {
    on_signal_ = std::move(on_signal);
  }
  // signal_fd is the signalfd (owned by the loop): readable while one of the
  // signals is pending. For code that waits outside the loop (the handoff)
  // and must notice one.
  int signal_fd() const { return signal_fd_.get(); }

  // BeforeWait sets what runs once per iteration after the due timers fired
  // and before the loop waits (ae.c's beforesleep): level checks such as
  // "nothing left to serve", and sending what the batch made due.
  void BeforeWait(std::function<void()> before_wait) {
    before_wait_ = std::move(before_wait);
  }

  // now is MonotonicNanos as read at the start of this iteration.
  int64_t now() const { return now_; }

  // Run iterates until Exit(). Errors: epoll_wait's errno (EINTR is
  // retried).
  absl::Status Run();
  // RunOnce is one iteration (fire due timers, BeforeWait, wait, dispatch,
  // delete what was closed) waiting at most `max_wait_ms` (-1: until an
  // event or a timer). For tests, and what Run() repeats.
  absl::Status RunOnce(int max_wait_ms);
  // Exit makes Run() return after the current callback's iteration.
  void Exit() { exit_ = true; }
  bool exiting() const { return exit_; }

  // NextDeadline is the earliest armed timer's deadline (INT64_MAX: none).
  int64_t NextDeadline() const;

 private:
  EventLoop() = default;
  void FireDueTimers();
  void ReadSignals(Watch* watch, uint32_t events);

  sdfd::UniqueFd epoll_;
  sdfd::UniqueFd signal_fd_;
  Handler signal_handler_;
  Watch signal_watch_;
  std::function<void(int)> on_signal_;
  std::function<void()> before_wait_;
  std::vector<Timer*> timers_;
  uint64_t arm_serial_ = 0;
  std::vector<std::unique_ptr<void, void (*)(void*)>> deferred_;
  int64_t now_ = 0;
  bool exit_ = false;
};

}  // namespace foobard

#endif  // DAEMON_EVENT_LOOP_H_
