// daemon/server.cc: see server.h. The comments here say why the policy is
// what it is; foobard.8 says the same for operators.
#include "daemon/server.h"

#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>

#include <cstring>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "common/clock.h"
#include "common/fd_util.h"
#include "daemon/log_sink.h"
#include "sdfd/errno_status.h"
#include "sdfd/socket_info.h"

namespace foobard {

Server::Server(const ServerOptions& options, const Logger* log,
               std::unique_ptr<EventLoop> loop)
    : options_(options),
      log_(log),
      loop_(std::move(loop)),
      connections_(loop_.get(), log, options.buffer_limit),
      notifier_(loop_.get(), log),
      accept_resume_(loop_.get(),
                     [this] {
                       accept_paused_ = false;
                       UpdateListeners();
                     }),
      idle_timer_(loop_.get(),
                  [this] {
                    // Exit without touching the listeners: a client
                    // connecting right now waits in the backlog of
                    // systemd's socket for the next instance. Never
                    // accept-then-close.
                    if (stopping_ || !connections_.empty()) return;
                    // A datagram that came in the last batch is activity:
                    // BeforeWait's UpdateIdleTimer arms the timer again.
                    if (DatagramsReceived() != datagrams_seen_) return;
                    notifier_.Stopping();  // sent on the way out
                    Exit(absl::StrCat(
                        "idle for ", absl::FormatDuration(options_.idle_exit)));
                  }),
      drain_timer_(loop_.get(),
                   [this] {
                     if (!stopping_) return;
                     FinishStop();
                     Exit("stopped by signal");
                   }),
      log_handler_(
          EventLoop::HandlerFor<Server, &Server::OnLogWritable>(this)) {
  accept_policy_.may_accept = [this] { return MayAccept(); };
  accept_policy_.accepted = [this](sdfd::UniqueFd fd, bool seqpacket) {
    Accepted(std::move(fd), seqpacket);
  };
  accept_policy_.out_of_resources = [this](int err) { OutOfResources(err); };
  log_watch_.handler = &log_handler_;
}

Server::~Server() = default;

absl::StatusOr<std::unique_ptr<Server>> Server::Create(
    const ServerOptions& options, const Logger* log) {
  // Every send uses MSG_NOSIGNAL, but a log line to a closed stderr pipe
  // would still raise SIGPIPE; a daemon must never die of that.
  if (::signal(SIGPIPE, SIG_IGN) == SIG_ERR) {
    return sdfd::ErrnoError(errno, "signal(SIGPIPE, SIG_IGN)");
  }
  // SIGTERM/SIGINT are read from a signalfd inside the loop, so stopping is
  // ordinary loop work instead of async-signal-safe juggling.
  absl::StatusOr<std::unique_ptr<EventLoop>> loop =
      EventLoop::Create({SIGTERM, SIGINT});
  if (!loop.ok()) return loop.status();
  std::unique_ptr<Server> server(new Server(options, log, *std::move(loop)));
  server->loop_->OnSignal(
      [s = server.get()](int signo) { s->OnSignal(signo); });
  server->loop_->BeforeWait([s = server.get()] { s->BeforeWait(); });
  return server;
}

absl::StatusOr<std::string> Server::AddSocket(sdfd::UniqueFd fd,
                                              absl::string_view name) {
  const int raw = fd.get();
  absl::StatusOr<sdfd::SocketInfo> info = sdfd::InspectSocket(raw);
  if (!info.ok()) {
    return absl::Status(
        info.status().code(),
        absl::StrCat("fd ", raw, " (", name, "): ", info.status().message()));
  }
  if (!info->is_socket) {
    return absl::InvalidArgumentError(
        absl::StrCat("fd ", raw, " (", name, ") is not a socket"));
  }
  std::string description =
      absl::StrCat(sdfd::Describe(*info), " fd ", raw, " \"", name, "\"");
  if (absl::Status s = foobar::SetNonBlocking(raw); !s.ok()) return s;
  const bool seqpacket = info->type == SOCK_SEQPACKET;
  switch (info->type) {
    case SOCK_STREAM:
    case SOCK_SEQPACKET:
      if (info->listening) {
        // Watched from Run() on, while the policy allows (UpdateListeners).
        listeners_.push_back(std::make_unique<Listener>(
            loop_.get(), &accept_policy_, std::move(fd), seqpacket));
      } else if (!connections_.Add(std::move(fd), seqpacket).ok()) {
        return absl::ResourceExhaustedError(
            absl::StrCat("cannot watch ", description));
      }
      return description;
    case SOCK_DGRAM: {
      auto datagram = std::make_unique<DatagramEcho>(
          loop_.get(), log_, std::move(fd), info->family);
      if (absl::Status s = datagram->Start(); !s.ok()) {
        return sdfd::ErrnoError(
            sdfd::ErrnoOf(s),
            absl::StrCat("epoll_ctl(ADD, ", description, ")"));
      }
      datagrams_.push_back(std::move(datagram));
      return description;
    }
    default:
      return absl::InvalidArgumentError(
          absl::StrCat("fd ", raw, " (", name, ") has unsupported socket type ",
                       info->type));
  }
}

absl::Status Server::AdoptConnection(sdfd::UniqueFd fd,
                                     absl::string_view unsent) {
  const int raw = fd.get();
  int type = 0;
  socklen_t len = sizeof(type);
  if (::getsockopt(raw, SOL_SOCKET, SO_TYPE, &type, &len) != 0) {
    return sdfd::ErrnoError(errno,
                            absl::StrCat("getsockopt(", raw, ", SO_TYPE)"));
  }
  if (absl::Status s = foobar::SetNonBlocking(raw); !s.ok()) return s;
  if (!connections_.Add(std::move(fd), type == SOCK_SEQPACKET, unsent).ok()) {
    return absl::ResourceExhaustedError(
        absl::StrCat("cannot watch handed-off fd ", raw));
  }
  return absl::OkStatus();
}

bool Server::MayAccept() {
  if (connections_.size() < options_.max_connections) return true;
  UpdateListeners();
  return false;
}

void Server::Accepted(sdfd::UniqueFd fd, bool seqpacket) {
  // A failure was logged by Add, and the fd is closed: the client sees its
  // connection end, and the next one may be fine.
  (void)connections_.Add(std::move(fd), seqpacket);
  if (connections_.size() >= options_.max_connections) UpdateListeners();
}

void Server::OutOfResources(int err) {
  // Rest the listeners briefly and keep serving existing clients.
  log_->Warning(absl::StrCat(sdfd::ErrnoError(err, "accept4").message(),
                             "; pausing accepts for ",
                             absl::FormatDuration(options_.accept_backoff),
                             " with ", connections_.size(), " connections"));
  accept_paused_ = true;
  accept_resume_.ArmAt(foobar::MonotonicNanos() +
                       absl::ToInt64Nanoseconds(options_.accept_backoff));
  UpdateListeners();
}

void Server::OnLogWritable(EventLoop::Watch*, uint32_t) {
  log_->sink()->Flush();
}

void Server::UpdateListeners() {
  const bool want = !stopping_ &&
                    connections_.size() < options_.max_connections &&
                    !accept_paused_;
  if (want == listeners_watched_) return;
  for (const std::unique_ptr<Listener>& l : listeners_) {
    if (absl::Status s = l->Watch(want); !s.ok()) {
      log_->Error(absl::StrCat("epoll_ctl(listener fd ", l->fd(),
                               "): ", std::strerror(sdfd::ErrnoOf(s))));
    }
  }
  listeners_watched_ = want;
}

uint64_t Server::DatagramsReceived() const {
  uint64_t received = 0;
  for (const std::unique_ptr<DatagramEcho>& d : datagrams_) {
    received += d->received();
  }
  return received;
}

void Server::UpdateIdleTimer() {
  const int64_t idle_exit = absl::ToInt64Nanoseconds(options_.idle_exit);
  if (idle_exit <= 0 || stopping_ || !connections_.empty()) {
    idle_timer_.Disarm();
    return;
  }
  // A datagram received is activity too: the idle time starts again.
  const uint64_t received = DatagramsReceived();
  if (received != datagrams_seen_ || !idle_timer_.armed()) {
    datagrams_seen_ = received;
    idle_timer_.ArmAt(loop_->now() + idle_exit);
  }
}

void Server::UpdateLogInterest() {
  constexpr uint32_t kOut = EPOLLOUT;
  LogSink* sink = log_->sink();
  const bool want = sink->WantsWritable();
  if (want == log_watched_) return;
  if (!loop_
           ->Update(sink->fd(), &log_watch_, log_watched_ ? kOut : 0,
                    want ? kOut : 0)
           .ok()) {
    // Not logged: the log is what cannot be written. Lines then go out
    // whenever a later one is logged, and are dropped while it is full.
    return;
  }
  log_watched_ = want;
}

ServiceCounts Server::Counts() const {
  uint64_t bytes = connections_.bytes_echoed();
  for (const std::unique_ptr<DatagramEcho>& d : datagrams_) {
    bytes += d->bytes_echoed();
  }
  return ServiceCounts{connections_.size(), connections_.accepted(), bytes};
}

void Server::OnSignal(int signo) {
  const char* abbrev = ::sigabbrev_np(signo);
  log_->Info(absl::StrCat("received SIG", abbrev != nullptr ? abbrev : "?"));
  // A second signal while draining means "stop waiting".
  if (stopping_) second_signal_ = true;
  stop_requested_ = true;
}

void Server::BeforeWait() {
  // Stopping may close connections, so the signals of the last batch are
  // acted on here, between batches.
  if (second_signal_) {
    FinishStop();
    Exit("stopped by second signal");
    return;
  }
  if (stop_requested_ && !stopping_) BeginStop();
  if (stopping_) {
    if (!Draining()) {
      FinishStop();
      Exit("stopped by signal");
      return;
    }
  } else if (listeners_.empty() && datagrams_.empty() && connections_.empty()) {
    // Accept=yes or inetd: the one client is done.
    Exit("last connection closed");
    return;
  }
  // A closed connection may bring the count back under the limit.
  UpdateListeners();
  UpdateIdleTimer();
  notifier_.UpdateCounts(Counts());
  notifier_.Flush();
  UpdateLogInterest();
}

bool Server::Draining() {
  // Done when nothing is left to deliver. With --handoff and an fd store:
  // at once, since unsent bytes travel with their connection and every
  // client waits meanwhile. With --handoff but no store: when no connection
  // has unsent bytes. Else when every client has closed after its
  // lingering close. The drain timer ends the wait in any case.
  if (options_.handoff && notifier_.enabled()) return false;
  if (options_.handoff) return connections_.CountUnsent().connections > 0;
  return !connections_.empty();
}

void Server::BeginStop() {
  stopping_ = true;
  notifier_.Stopping();
  notifier_.Flush();  // retried from the loop if the queue is full
  UpdateListeners();
  for (const std::unique_ptr<DatagramEcho>& d : datagrams_) d->Stop();
  drain_deadline_ = foobar::MonotonicNanos() +
                    absl::ToInt64Nanoseconds(options_.drain_timeout);
  drain_timer_.ArmAt(drain_deadline_);
  idle_timer_.Disarm();
  const size_t draining = connections_.CountUnsent().connections;
  connections_.Stop(/*linger=*/!options_.handoff);
  if (options_.handoff && notifier_.enabled()) {
    log_->Info(absl::StrCat("stopping: handing off ", connections_.size(),
                            " connections, ", draining, " with unsent bytes"));
    return;
  }
  log_->Info(absl::StrCat("stopping: ", draining,
                          " connections have unsent bytes, waiting up to ",
                          absl::FormatDuration(options_.drain_timeout)));
}

void Server::FinishStop() {
  drain_timer_.Disarm();
  if (options_.handoff && notifier_.enabled()) {
    // No connection, no entry: an empty bundle would only cost PID 1 work.
    handoff_ = connections_.TakeAll();
    return;
  }
  if (options_.handoff && !connections_.empty()) {
    log_->Warning(
        absl::StrCat("--handoff: NOTIFY_SOCKET is not set, so "
                     "there is no fd store; closing ",
                     connections_.size(), " connections"));
  }
  const EchoConnections::Unsent dropped = connections_.CountUnsent();
  connections_.CloseAll("closed at stop");
  if (dropped.with_bytes > 0) {
    log_->Warning(absl::StrCat("--drain_timeout expired: ", dropped.with_bytes,
                               " connections closed with ", dropped.bytes,
                               " unsent bytes"));
  }
}

void Server::Exit(std::string reason) {
  exit_reason_ = std::move(reason);
  loop_->Exit();
}

Server::Outcome Server::Run() {
  UpdateListeners();
  notifier_.Ready();
  notifier_.StartWatchdog(options_.watchdog_interval);
  notifier_.UpdateCounts(Counts(), /*force=*/true);  // READY=1 + STATUS=
  Outcome outcome;
  if (absl::Status s = loop_->Run(); !s.ok()) {
    log_->Error(s.message());
    outcome.exit_code = 1;
    return outcome;
  }
  // A last try for what the manager's full queue refused (STOPPING=1), but
  // no wait: systemd learns of the exit from the process itself.
  notifier_.FlushLastTime();
  const ServiceCounts counts = Counts();
  outcome.exit_message =
      absl::StrCat("exiting: ", exit_reason_, "; served ", counts.accepted,
                   " connections, ", counts.bytes_echoed, " bytes echoed");
  outcome.handoff = std::move(handoff_);
  outcome.drain_deadline = drain_deadline_;
  return outcome;
}

}  // namespace foobard
