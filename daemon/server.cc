// daemon/server.cc: see server.h. The comments here say why the loop is
// shaped the way it is; foobard.8 says the same for operators.
#include "daemon/server.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/sockios.h>
#include <poll.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cstddef>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <utility>

#include "absl/strings/str_cat.h"
#include "common/clock.h"
#include "common/fd_util.h"
#include "daemon/log_sink.h"
#include "daemon/pending_buffer.h"
#include "sdfd/errno_status.h"
#include "sdfd/fd_store.h"
#include "sdfd/handoff.h"
#include "sdfd/notify.h"
#include "sdfd/socket_info.h"

namespace foobard {
namespace {

// kBufferSize is the one read buffer shared by every socket: the largest
// datagram/seqpacket message echoed whole, and the most read per recv().
constexpr size_t kBufferSize = 64 * 1024;
// The buffer lives in .bss: pages are touched only when used, and the hot
// path never allocates.
alignas(64) char g_buffer[kBufferSize];

// kMaxEvents bounds one epoll_wait batch; kAcceptBatch and kDatagramBatch
// bound the work done for one ready socket so that a flood on one socket
// cannot starve the others (level-triggered epoll reports it again).
constexpr int kMaxEvents = 256;
constexpr int kAcceptBatch = 256;
constexpr int kDatagramBatch = 64;

using foobar::kNanosPerMilli;
using foobar::kNanosPerSecond;
// STATUS= is sent at most this often: systemd parses every message.
constexpr int64_t kStatusPeriod = kNanosPerSecond;
// kNotifyRetry is how long a notification the manager's full queue refused
// waits before the next try (a datagram socket gives no readiness for the
// peer's queue, so this is a timer). Meanwhile newer STATUS= and WATCHDOG=1
// replace the waiting ones.
constexpr int64_t kNotifyRetry = 50 * kNanosPerMilli;

std::string ErrnoText(absl::string_view call, int err) {
  return absl::StrCat(call, ": ", std::strerror(err));
}

absl::Status ErrnoStatus(absl::string_view call, int err) {
  return sdfd::ErrnoError(err, call);
}

bool WouldBlock(int err) {
  return err == EAGAIN || err == EWOULDBLOCK || err == EINTR;
}

int64_t ToNanos(absl::Duration d) { return absl::ToInt64Nanoseconds(d); }

// RecordNotEnd says whether a 0 just read from the seqpacket socket `fd`
// was an empty record rather than the end. On an AF_UNIX seqpacket socket
// recv() returns 0 both for an empty record and at the end, and MSG_EOR is
// never set there. The end is reported only once the peer has shut down its
// sending side (closed, or shutdown(SHUT_WR)) and nothing is queued, so a 0
// is a record while the peer can still send, or while bytes of later records
// still wait (SIOCINQ sums the queued records' lengths on seqpacket). Both
// are asked for at the moment of the read, not taken from the epoll batch,
// which may predate a close. What stays ambiguous is an empty record queued
// after the last non-empty one when the peer shuts down: it reads as the end
// (foobard.8, SOCKETS).
bool RecordNotEnd(int fd) {
  pollfd p{fd, POLLRDHUP, 0};
  if (::poll(&p, 1, 0) < 0) return false;  // cannot tell: end the connection
  if ((p.revents & (POLLRDHUP | POLLHUP | POLLERR)) == 0) return true;
  int queued = 0;
  return ::ioctl(fd, SIOCINQ, &queued) == 0 && queued > 0;
}

}  // namespace

enum class SourceKind : uint8_t {
  kSignal,
  kListener,
  kDatagram,
  kConnection,
  kLogSink,
};

// Source is what epoll's data.ptr points at; the kind selects the handler
// with a switch (no virtual call on the hot path).
struct Server::Source {
  explicit Source(SourceKind k) : kind(k) {}
  SourceKind kind;
};

struct Server::Listener : Source {
  Listener() : Source(SourceKind::kListener) {}
  sdfd::UniqueFd fd;
  bool seqpacket = false;
};

struct Server::Datagram : Source {
  Datagram() : Source(SourceKind::kDatagram) {}
  sdfd::UniqueFd fd;
  int family = 0;
};

// Connection is all a client costs while idle: this struct (~56 bytes) and
// the kernel's socket. `events` mirrors what epoll watches, so the hot path
// calls epoll_ctl only when the interest really changes.
struct Server::Connection : Source {
  Connection() : Source(SourceKind::kConnection) {}
  bool HasUnsent() const { return !pending.empty() || empty_record_pending; }
  sdfd::UniqueFd fd;
  uint32_t events = 0;  // 0: not in the epoll set
  bool seqpacket = false;
  bool read_eof = false;
  // empty_record_pending: a seqpacket connection owes its client a
  // zero-length record (the echo of an empty one), which `pending` cannot
  // hold. Like a non-empty pending message, it stops reading until sent.
  bool empty_record_pending = false;
  // lingering: stopping, everything echoed and FIN sent; input is read and
  // discarded until the client closes (see StartLinger).
  bool lingering = false;
  PendingBuffer pending;
  Connection* prev = nullptr;
  Connection* next = nullptr;
};

Server::Server(const ServerOptions& options, const Logger* log)
    : options_(options), log_(log) {}

Server::~Server() {
  while (connections_head_ != nullptr) {
    CloseConnection(connections_head_, "");
  }
}

absl::StatusOr<std::unique_ptr<Server>> Server::Create(
    const ServerOptions& options, const Logger* log) {
  std::unique_ptr<Server> server(new Server(options, log));
  absl::Status s = server->Init();
  if (!s.ok()) return s;
  return server;
}

absl::Status Server::Init() {
  epoll_.reset(::epoll_create1(EPOLL_CLOEXEC));
  if (!epoll_.valid()) return ErrnoStatus("epoll_create1", errno);

  // Every send uses MSG_NOSIGNAL, but a log line to a closed stderr pipe
  // would still raise SIGPIPE; a daemon must never die of that.
  if (::signal(SIGPIPE, SIG_IGN) == SIG_ERR) {
    return ErrnoStatus("signal(SIGPIPE, SIG_IGN)", errno);
  }
  // SIGTERM/SIGINT are read from a signalfd inside the loop, so stopping is
  // ordinary loop work instead of async-signal-safe juggling.
  sigset_t mask;
  sigemptyset(&mask);
  sigaddset(&mask, SIGTERM);
  sigaddset(&mask, SIGINT);
  if (::sigprocmask(SIG_BLOCK, &mask, nullptr) != 0) {
    return ErrnoStatus("sigprocmask(SIG_BLOCK, SIGTERM|SIGINT)", errno);
  }
  signal_fd_.reset(::signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC));
  if (!signal_fd_.valid()) return ErrnoStatus("signalfd", errno);
  signal_source_ = std::make_unique<Source>(SourceKind::kSignal);
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.ptr = signal_source_.get();
  if (::epoll_ctl(epoll_.get(), EPOLL_CTL_ADD, signal_fd_.get(), &ev) != 0) {
    return ErrnoStatus("epoll_ctl(ADD, signalfd)", errno);
  }
  log_source_ = std::make_unique<Source>(SourceKind::kLogSink);
  const char* notify_socket = ::getenv("NOTIFY_SOCKET");
  notify_ = notify_socket != nullptr && notify_socket[0] != '\0';
  return absl::OkStatus();
}

int64_t Server::Now() const { return foobar::MonotonicNanos(); }

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
  switch (info->type) {
    case SOCK_STREAM:
    case SOCK_SEQPACKET:
      if (info->listening) {
        auto listener = std::make_unique<Listener>();
        listener->fd = std::move(fd);
        listener->seqpacket = info->type == SOCK_SEQPACKET;
        listeners_.push_back(std::move(listener));
      } else if (NewConnection(fd.release(), info->type == SOCK_SEQPACKET) ==
                 nullptr) {
        return absl::ResourceExhaustedError(
            absl::StrCat("cannot watch ", description));
      }
      return description;
    case SOCK_DGRAM: {
      auto datagram = std::make_unique<Datagram>();
      datagram->fd = std::move(fd);
      datagram->family = info->family;
      epoll_event ev{};
      ev.events = EPOLLIN;
      ev.data.ptr = datagram.get();
      if (::epoll_ctl(epoll_.get(), EPOLL_CTL_ADD, raw, &ev) != 0) {
        return ErrnoStatus(absl::StrCat("epoll_ctl(ADD, ", description, ")"),
                           errno);
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
    return ErrnoStatus(absl::StrCat("getsockopt(", raw, ", SO_TYPE)"), errno);
  }
  if (absl::Status s = foobar::SetNonBlocking(raw); !s.ok()) return s;
  Connection* c = NewConnection(fd.release(), type == SOCK_SEQPACKET);
  if (c == nullptr) {
    return absl::ResourceExhaustedError(
        absl::StrCat("cannot watch handed-off fd ", raw));
  }
  if (!unsent.empty()) {
    c->pending.Append(unsent.data(), unsent.size());
    UpdateInterest(c);
  }
  return absl::OkStatus();
}

Server::Connection* Server::NewConnection(int fd, bool seqpacket) {
  auto* c = new Connection;
  c->fd.reset(fd);
  c->seqpacket = seqpacket;
  c->next = connections_head_;
  if (connections_head_ != nullptr) connections_head_->prev = c;
  connections_head_ = c;
  ++connection_count_;
  ++accepted_total_;
  UpdateInterest(c);
  if (c->events == 0) {
    // UpdateInterest could not add it (epoll_ctl failed, logged there).
    CloseConnection(c, "");
    return nullptr;
  }
  if (log_->verbose()) {
    log_->Debug(absl::StrCat("fd ", fd, ": connection opened (",
                             connection_count_, " live)"));
  }
  if (connection_count_ >= options_.max_connections) UpdateListeners();
  return c;
}

void Server::UpdateInterest(Connection* c) {
  uint32_t want = 0;
  if (c->HasUnsent()) want |= EPOLLOUT;
  // Backpressure: a connection whose unsent bytes reached --buffer_limit is
  // not read until its client reads. A seqpacket connection holds at most
  // one message, so its boundaries survive.
  const bool room = c->seqpacket ? !c->HasUnsent()
                                 : c->pending.size() < options_.buffer_limit;
  if (c->lingering || (!stopping_ && !c->read_eof && room)) want |= EPOLLIN;
  if (want == c->events) return;
  epoll_event ev{};
  ev.events = want;
  ev.data.ptr = c;
  // A connection with no interest leaves the set: a level-triggered
  // EPOLLHUP would otherwise be reported forever for a socket nobody reads.
  const int op = want == 0        ? EPOLL_CTL_DEL
                 : c->events == 0 ? EPOLL_CTL_ADD
                                  : EPOLL_CTL_MOD;
  if (::epoll_ctl(epoll_.get(), op, c->fd.get(), &ev) != 0) {
    log_->Error(
        ErrnoText(absl::StrCat("epoll_ctl(fd ", c->fd.get(), ")"), errno));
    return;
  }
  c->events = want;
}

void Server::CloseConnection(Connection* c, absl::string_view why) {
  if (c->events != 0) {
    // Removed explicitly: the same open socket may live on elsewhere (in
    // systemd's fd store after a handoff), and epoll forgets a registration
    // only when every fd of that socket is closed.
    (void)::epoll_ctl(epoll_.get(), EPOLL_CTL_DEL, c->fd.get(), nullptr);
  }
  if (!why.empty() && log_->verbose()) {
    log_->Debug(absl::StrCat("fd ", c->fd.get(), ": ", why, " (",
                             connection_count_ - 1, " live)"));
  }
  if (c->prev != nullptr) c->prev->next = c->next;
  if (c->next != nullptr) c->next->prev = c->prev;
  if (connections_head_ == c) connections_head_ = c->next;
  const bool was_full = connection_count_ >= options_.max_connections;
  --connection_count_;
  delete c;
  if (connection_count_ == 0) idle_since_ = Now();
  if (was_full && !stopping_) UpdateListeners();
}

void Server::UpdateListeners() {
  const bool want = !stopping_ &&
                    connection_count_ < options_.max_connections &&
                    accept_paused_until_ == 0;
  if (want == listeners_watched_) return;
  for (const std::unique_ptr<Listener>& l : listeners_) {
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.ptr = l.get();
    // Unwatched listeners are removed rather than left with no events, so
    // connections simply wait in the kernel backlog meanwhile.
    if (::epoll_ctl(epoll_.get(), want ? EPOLL_CTL_ADD : EPOLL_CTL_DEL,
                    l->fd.get(), &ev) != 0) {
      log_->Error(ErrnoText(
          absl::StrCat("epoll_ctl(listener fd ", l->fd.get(), ")"), errno));
    }
  }
  listeners_watched_ = want;
}

void Server::OnListener(Listener* l) {
  for (int i = 0; i < kAcceptBatch; ++i) {
    if (connection_count_ >= options_.max_connections) {
      UpdateListeners();
      return;
    }
    const int fd =
        ::accept4(l->fd.get(), nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd >= 0) {
      NewConnection(fd, l->seqpacket);
      continue;
    }
    const int err = errno;
    switch (err) {
      case EAGAIN:
        return;
      case EINTR:
      case ECONNABORTED:
      case EPROTO:
      case ENETDOWN:
      case ENOPROTOOPT:
      case EHOSTDOWN:
      case ENONET:
      case EHOSTUNREACH:
      case EOPNOTSUPP:
      case ENETUNREACH:
        // accept(2): errors of the pending connection, not of the listener;
        // the next one may be fine.
        continue;
      default:
        // EMFILE/ENFILE/ENOBUFS/ENOMEM (and anything unexpected): the
        // listener stays readable, so retrying now would spin at 100% CPU.
        // Rest the listeners briefly and keep serving existing clients.
        // The waiting connections stay in the backlog: accepting and
        // closing them (the "spare fd" trick) would drop clients.
        log_->Warning(
            absl::StrCat(ErrnoText("accept4", err), "; pausing accepts for ",
                         absl::FormatDuration(options_.accept_backoff),
                         " with ", connection_count_, " connections"));
        accept_paused_until_ = Now() + ToNanos(options_.accept_backoff);
        UpdateListeners();
        return;
    }
  }
}

void Server::OnDatagram(Datagram* d) {
  for (int i = 0; i < kDatagramBatch; ++i) {
    sockaddr_storage from;
    socklen_t from_len = sizeof(from);
    // MSG_TRUNC makes recvfrom return the real length of a datagram larger
    // than the buffer; only the first 64 KiB are echoed.
    const ssize_t r = ::recvfrom(d->fd.get(), g_buffer, kBufferSize, MSG_TRUNC,
                                 reinterpret_cast<sockaddr*>(&from), &from_len);
    if (r < 0) {
      if (WouldBlock(errno)) return;
      // ECONNREFUSED etc. report an earlier send's ICMP error; the socket
      // is still fine.
      if (log_->verbose()) log_->Debug(ErrnoText("recvfrom", errno));
      continue;
    }
    idle_since_ = Now();
    const size_t n = std::min(static_cast<size_t>(r), kBufferSize);
    if (d->family == AF_UNIX && from_len <= offsetof(sockaddr_un, sun_path)) {
      // An unbound unix datagram sender has no address to answer to.
      if (log_->verbose()) log_->Debug("datagram from an unbound sender");
      continue;
    }
    if (::sendto(d->fd.get(), g_buffer, n, MSG_NOSIGNAL | MSG_DONTWAIT,
                 reinterpret_cast<sockaddr*>(&from), from_len) < 0) {
      // Datagrams are best effort: a full or vanished receiver loses this
      // one reply, exactly as the network could.
      if (log_->verbose()) log_->Debug(ErrnoText("sendto", errno));
      continue;
    }
    ++datagrams_echoed_;
    bytes_echoed_ += n;
  }
}

bool Server::ReadSome(Connection* c) {
  if (c->lingering) {
    // Discard: foobard is stopping and will echo nothing more.
    const ssize_t r = ::recv(c->fd.get(), g_buffer, kBufferSize, 0);
    if (r > 0 || (r < 0 && WouldBlock(errno))) return true;
    if (r == 0 && c->seqpacket && RecordNotEnd(c->fd.get())) return true;
    CloseConnection(c, r == 0 ? "closed by client after stop" : "reset");
    return false;
  }
  size_t room = kBufferSize;
  if (!c->seqpacket) {
    room = std::min(room, options_.buffer_limit - c->pending.size());
  }
  const ssize_t r =
      ::recv(c->fd.get(), g_buffer, room, c->seqpacket ? MSG_TRUNC : 0);
  if (r < 0) {
    if (WouldBlock(errno)) return true;
    CloseConnection(c, ErrnoText("recv", errno));
    return false;
  }
  if (r == 0) {
    if (c->seqpacket && RecordNotEnd(c->fd.get())) {
      // A zero-length record is a message like any other: echo it.
      return SendEmptyRecord(c);
    }
    // Half-close: the client sent everything. Finish the echo, then close.
    c->read_eof = true;
    if (!c->HasUnsent()) {
      CloseConnection(c, "closed by client");
      return false;
    }
    return true;
  }
  const size_t n = std::min(static_cast<size_t>(r), room);
  if (!c->pending.empty()) {
    c->pending.Append(g_buffer, n);
    return Flush(c);
  }
  // The hot path: echo straight from the read buffer; only a short write
  // allocates.
  const ssize_t w =
      ::send(c->fd.get(), g_buffer, n, MSG_NOSIGNAL | MSG_DONTWAIT);
  size_t sent = 0;
  if (w < 0) {
    if (!WouldBlock(errno)) {
      CloseConnection(c, ErrnoText("send", errno));
      return false;
    }
  } else {
    sent = static_cast<size_t>(w);
  }
  bytes_echoed_ += sent;
  if (sent < n) c->pending.Append(g_buffer + sent, n - sent);
  return true;
}

bool Server::SendEmptyRecord(Connection* c) {
  // send() of 0 bytes on a seqpacket socket queues one empty record.
  if (::send(c->fd.get(), g_buffer, 0, MSG_NOSIGNAL | MSG_DONTWAIT) < 0) {
    if (!WouldBlock(errno)) {
      CloseConnection(c, ErrnoText("send", errno));
      return false;
    }
    // The client's queue is full: send it when the socket is writable.
    c->empty_record_pending = true;
    return true;
  }
  c->empty_record_pending = false;
  return true;
}

bool Server::Flush(Connection* c) {
  if (!c->pending.empty()) {
    const ssize_t w = ::send(c->fd.get(), c->pending.data(), c->pending.size(),
                             MSG_NOSIGNAL | MSG_DONTWAIT);
    if (w < 0) {
      if (WouldBlock(errno)) return true;
      CloseConnection(c, ErrnoText("send", errno));
      return false;
    }
    bytes_echoed_ += static_cast<size_t>(w);
    c->pending.Consume(static_cast<size_t>(w));
  } else if (c->empty_record_pending) {
    if (!SendEmptyRecord(c)) return false;
  }
  if (!c->HasUnsent() && c->read_eof) {
    CloseConnection(c, "echoed all, closed");
    return false;
  }
  if (!c->HasUnsent() && stopping_ && !options_.handoff) StartLinger(c);
  return true;
}

void Server::StartLinger(Connection* c) {
  // A lingering close, as web servers do: closing a socket whose receive
  // queue still holds client bytes makes the kernel reset the connection,
  // and a TCP reset can destroy echoed bytes still in flight to the client.
  // So once everything is echoed: send FIN (the client reads EOF after the
  // last byte), discard what the client still sends, and close when it
  // closes or --drain_timeout ends.
  if (c->lingering) return;
  c->lingering = true;
  (void)::shutdown(c->fd.get(), SHUT_WR);  // a failure means it is gone
  UpdateInterest(c);
}

void Server::OnConnection(Connection* c, uint32_t events) {
  if ((events & (EPOLLOUT | EPOLLERR | EPOLLHUP)) && c->HasUnsent()) {
    if (!Flush(c)) return;
  }
  if ((events & (EPOLLIN | EPOLLERR | EPOLLHUP)) && (c->events & EPOLLIN)) {
    if (!ReadSome(c)) return;
  }
  UpdateInterest(c);
}

bool Server::OnSignal() {
  signalfd_siginfo info;
  bool finish_now = false;
  while (::read(signal_fd_.get(), &info, sizeof(info)) ==
         static_cast<ssize_t>(sizeof(info))) {
    const char* abbrev = ::sigabbrev_np(static_cast<int>(info.ssi_signo));
    log_->Info(absl::StrCat("received SIG", abbrev != nullptr ? abbrev : "?"));
    // A second signal while draining means "stop waiting".
    if (stopping_) finish_now = true;
    stop_requested_ = true;
  }
  return finish_now;
}

void Server::BeginStop() {
  stopping_ = true;
  stopping_pending_ = notify_;
  SendNotifications(Now());  // retried from the loop if the queue is full
  UpdateListeners();
  for (const std::unique_ptr<Datagram>& d : datagrams_) {
    (void)::epoll_ctl(epoll_.get(), EPOLL_CTL_DEL, d->fd.get(), nullptr);
  }
  drain_deadline_ = Now() + ToNanos(options_.drain_timeout);
  size_t draining = 0;
  for (Connection* c = connections_head_; c != nullptr;) {
    Connection* next = c->next;
    if (c->HasUnsent()) ++draining;
    if (!c->HasUnsent() && !options_.handoff) {
      StartLinger(c);
    } else {
      UpdateInterest(c);  // stops reading; keeps writing what is pending
    }
    c = next;
  }
  if (options_.handoff && notify_) {
    log_->Info(absl::StrCat("stopping: handing off ", connection_count_,
                            " connections, ", draining, " with unsent bytes"));
    return;
  }
  log_->Info(absl::StrCat("stopping: ", draining,
                          " connections have unsent bytes, waiting up to ",
                          absl::FormatDuration(options_.drain_timeout)));
}

void Server::FinishStop() {
  if (options_.handoff && notify_) {
    // No connection, no entry: an empty bundle would only cost PID 1 work.
    if (connection_count_ > 0) HandOff();
    return;
  }
  size_t dropped = 0;
  uint64_t dropped_bytes = 0;
  if (options_.handoff && connection_count_ > 0) {
    log_->Warning(
        absl::StrCat("--handoff: NOTIFY_SOCKET is not set, so "
                     "there is no fd store; closing ",
                     connection_count_, " connections"));
  }
  while (connections_head_ != nullptr) {
    Connection* c = connections_head_;
    if (!c->pending.empty()) {
      ++dropped;
      dropped_bytes += c->pending.size();
    }
    CloseConnection(c, "closed at stop");
  }
  if (dropped > 0) {
    log_->Warning(absl::StrCat("--drain_timeout expired: ", dropped,
                               " connections closed with ", dropped_bytes,
                               " unsent bytes"));
  }
}

bool Server::WaitToRetryStore() {
  const int64_t left = drain_deadline_ - Now();
  if (left <= 0) return false;
  // The signalfd turning readable is a second SIGTERM/SIGINT: stop waiting.
  pollfd p{signal_fd_.get(), POLLIN, 0};
  const int64_t ms = std::min<int64_t>(10, (left + 999999) / 1000000);
  return ::poll(&p, 1, static_cast<int>(ms)) == 0;
}

void Server::HandOff() {
  // Every live connection goes into one fd-store entry with its unsent
  // bytes (sdfd/handoff.h): linear work here and in PID 1, one stored fd.
  sdfd::HandoffWriter writer;
  for (Connection* c = connections_head_; c != nullptr;) {
    Connection* next = c->next;
    absl::Status s = writer.Add(
        c->fd.get(), absl::string_view(c->pending.data(), c->pending.size()));
    if (!s.ok()) {
      log_->Error(absl::StrCat("closing connection fd ", c->fd.get(),
                               " instead of handing it off: ", s.message()));
      CloseConnection(c, "over the handoff cap");
    }
    c = next;
  }
  const size_t count = writer.size();
  const uint64_t unsent = writer.state_bytes();
  absl::StatusOr<bool> stored = false;
  if (std::getenv("NOTIFY_SOCKET") != nullptr) {
    absl::StatusOr<sdfd::UniqueFd> bundle = sdfd::PackHandoff(writer);
    if (bundle.ok()) {
      // A busy PID 1 (its notify queue full) is retried until the drain
      // deadline or a second signal, never waited on without bound.
      sdfd::NotifyOptions options;
      options.non_blocking = true;
      stored = sdfd::StoreHandoffBundle(bundle->get(), options);
      while (!stored.ok() && sdfd::NotifyWouldBlock(stored.status()) &&
             WaitToRetryStore()) {
        stored = sdfd::StoreHandoffBundle(bundle->get(), options);
      }
      if (!stored.ok() && sdfd::NotifyWouldBlock(stored.status())) {
        stored = absl::DeadlineExceededError(
            "the service manager's notify queue stayed full until "
            "--drain_timeout or a second signal");
      }
    } else {
      stored = bundle.status();
    }
  }
  // The bundle holds its own copies: ours close either way.
  while (connections_head_ != nullptr) {
    CloseConnection(connections_head_, stored.ok() ? "handed off" : "");
  }
  if (!stored.ok() || !*stored) {
    log_->Error(absl::StrCat(
        "handing off ", count, " connections failed, they are closed: ",
        stored.ok() ? "NOTIFY_SOCKET vanished" : stored.status().message()));
    return;
  }
  // Blocking is fine now: serving has stopped. The barrier says PID 1 has
  // processed the FDSTORE=1 message, not that its store kept it.
  const absl::Duration left =
      absl::Nanoseconds(std::max<int64_t>(drain_deadline_ - Now(), 0));
  absl::StatusOr<bool> passed = sdfd::NotifyBarrier(left);
  // "handed off N connections to the fd store" starts the line on every
  // release: scripts count restarts by it.
  const std::string what =
      absl::StrCat(count, " connections to the fd store (one entry, ", unsent,
                   " unsent bytes)");
  if (!passed.ok()) {
    log_->Warning(absl::StrCat("sent ", what,
                               ", but systemd did not confirm processing it "
                               "(BARRIER=1): ",
                               passed.status().message()));
    return;
  }
  absl::StatusOr<std::optional<unsigned>> store_max = sdfd::FdStoreMax();
  if (store_max.ok() && store_max->has_value()) {
    log_->Info(absl::StrCat("handed off ", what,
                            "; systemd processed it, its store is enabled "
                            "(FDSTORE=",
                            **store_max, ")"));
  } else {
    log_->Info(absl::StrCat(
        "handed off ", what,
        "; systemd processed it, but whether its store kept it cannot be "
        "confirmed (",
        store_max.ok() ? "$FDSTORE is unset: systemd < 254, or "
                         "FileDescriptorStoreMax=0"
                       : store_max.status().message(),
        ")"));
  }
}

void Server::MaybeSendStatus(int64_t now, bool force) {
  if (!notify_) return;
  if (!force &&
      (now < next_status_ || (bytes_echoed_ == status_bytes_ &&
                              connection_count_ == status_connections_))) {
    return;
  }
  status_bytes_ = bytes_echoed_;
  status_connections_ = connection_count_;
  next_status_ = now + kStatusPeriod;
  status_pending_ = true;
}

void Server::SendNotifications(int64_t now) {
  if (!ready_pending_ && !stopping_pending_ && !watchdog_pending_ &&
      !status_pending_) {
    return;
  }
  if (notify_retry_at_ != 0 && now < notify_retry_at_) return;
  // One datagram with everything due, READY=1 before STOPPING=1 as they
  // happened; STATUS= carries the counts as of now, not as of when the
  // first try failed.
  std::string state;
  if (ready_pending_) state += "READY=1\n";
  if (stopping_pending_) state += "STOPPING=1\n";
  if (watchdog_pending_) state += "WATCHDOG=1\n";
  if (status_pending_) {
    absl::StrAppend(&state, "STATUS=", connection_count_, " connections, ",
                    accepted_total_, " accepted, ", bytes_echoed_,
                    " bytes echoed\n");
  }
  state.pop_back();  // the last '\n'
  sdfd::NotifyOptions options;
  options.non_blocking = true;
  absl::StatusOr<bool> sent = sdfd::PidNotifyWithFds(state, {}, options);
  if (!sent.ok() && sdfd::NotifyWouldBlock(sent.status())) {
    // The manager is busy and its queue is full: try again soon rather
    // than wait here with every client.
    notify_retry_at_ = now + kNotifyRetry;
    return;
  }
  if (!sent.ok()) {
    log_->Warning(absl::StrCat("sd_notify: ", sent.status().message()));
  }
  // Sent, or failed for good (the manager is gone): either way not retried.
  ready_pending_ = stopping_pending_ = watchdog_pending_ = status_pending_ =
      false;
  notify_retry_at_ = 0;
}

void Server::UpdateLogInterest() {
  LogSink* sink = log_->sink();
  const bool want = sink->WantsWritable();
  if (want == log_watched_) return;
  epoll_event ev{};
  ev.events = EPOLLOUT;
  ev.data.ptr = log_source_.get();
  if (::epoll_ctl(epoll_.get(), want ? EPOLL_CTL_ADD : EPOLL_CTL_DEL,
                  sink->fd(), &ev) != 0) {
    // Not logged: the log is what cannot be written. Lines then go out
    // whenever a later one is logged, and are dropped while it is full.
    return;
  }
  log_watched_ = want;
}

int Server::Run() {
  int64_t now = Now();
  idle_since_ = now;
  const int64_t watchdog_period = ToNanos(options_.watchdog_interval) / 2;
  if (watchdog_period > 0) next_watchdog_ = now;
  const int64_t idle_exit = ToNanos(options_.idle_exit);
  UpdateListeners();
  ready_pending_ = notify_;
  MaybeSendStatus(now, /*force=*/true);  // READY=1 with the first STATUS=

  epoll_event events[kMaxEvents];
  // Read once: the loop's one blocking call then belongs to this function
  // alone, which is where a core dump of a waiting foobard should point.
  const int epoll_fd = epoll_.get();
  std::string exit_reason;
  for (;;) {
    now = Now();
    if (watchdog_period > 0 && now >= next_watchdog_) {
      // Pinged from the loop itself: a stuck loop stops the pings and
      // systemd restarts the service.
      watchdog_pending_ = notify_;
      next_watchdog_ = now + watchdog_period;
    }
    if (accept_paused_until_ != 0 && now >= accept_paused_until_) {
      accept_paused_until_ = 0;
      UpdateListeners();
    }
    MaybeSendStatus(now, /*force=*/false);
    if (stopping_) {
      // Done when nothing is left to deliver. With --handoff and an fd
      // store: at once, since unsent bytes travel with their connection
      // and every client waits meanwhile. With --handoff but no store:
      // when no connection has unsent bytes. Else when every client has
      // closed after its lingering close.
      bool busy = false;
      if (options_.handoff && notify_) {
        busy = false;
      } else if (options_.handoff) {
        for (Connection* c = connections_head_; c != nullptr; c = c->next) {
          if (c->HasUnsent()) {
            busy = true;
            break;
          }
        }
      } else {
        busy = connection_count_ > 0;
      }
      if (!busy || now >= drain_deadline_) {
        FinishStop();
        exit_reason = "stopped by signal";
        break;
      }
    } else if (listeners_.empty() && datagrams_.empty() &&
               connection_count_ == 0) {
      // Accept=yes or inetd: the one client is done.
      exit_reason = "last connection closed";
      break;
    } else if (idle_exit > 0 && connection_count_ == 0 &&
               now >= idle_since_ + idle_exit) {
      // Exit without touching the listeners: a client connecting right now
      // waits in the backlog of systemd's socket for the next instance.
      // Never accept-then-close.
      stopping_pending_ = notify_;  // sent on the way out, below
      exit_reason =
          absl::StrCat("idle for ", absl::FormatDuration(options_.idle_exit));
      break;
    }

    int64_t deadline = INT64_MAX;
    if (watchdog_period > 0) deadline = std::min(deadline, next_watchdog_);
    if (accept_paused_until_ != 0) {
      deadline = std::min(deadline, accept_paused_until_);
    }
    if (notify_ && (bytes_echoed_ != status_bytes_ ||
                    connection_count_ != status_connections_)) {
      deadline = std::min(deadline, next_status_);
    }
    if (stopping_) deadline = std::min(deadline, drain_deadline_);
    SendNotifications(now);
    if (notify_retry_at_ != 0) deadline = std::min(deadline, notify_retry_at_);
    UpdateLogInterest();
    if (!stopping_ && idle_exit > 0 && connection_count_ == 0) {
      deadline = std::min(deadline, idle_since_ + idle_exit);
    }
    int timeout_ms = -1;
    if (deadline != INT64_MAX) {
      const int64_t wait = deadline - now;
      timeout_ms =
          wait <= 0
              ? 0
              : static_cast<int>(std::min<int64_t>(
                    (wait + kNanosPerMilli - 1) / kNanosPerMilli, INT32_MAX));
    }

    const int n = ::epoll_wait(epoll_fd, events, kMaxEvents, timeout_ms);
    if (n < 0) {
      if (errno == EINTR) continue;
      log_->Error(ErrnoText("epoll_wait", errno));
      return 1;
    }
    bool finish_now = false;
    for (int i = 0; i < n; ++i) {
      auto* source = static_cast<Source*>(events[i].data.ptr);
      switch (source->kind) {
        case SourceKind::kConnection:
          OnConnection(static_cast<Connection*>(source), events[i].events);
          break;
        case SourceKind::kListener:
          if (listeners_watched_) OnListener(static_cast<Listener*>(source));
          break;
        case SourceKind::kDatagram:
          if (!stopping_) OnDatagram(static_cast<Datagram*>(source));
          break;
        case SourceKind::kSignal:
          finish_now = OnSignal() || finish_now;
          break;
        case SourceKind::kLogSink:
          log_->sink()->Flush();
          break;
      }
    }
    // Stopping may close connections, so it happens after the batch: a
    // later event of the same batch may still point at one of them.
    if (finish_now) {
      FinishStop();
      exit_reason = "stopped by second signal";
      break;
    }
    if (stop_requested_ && !stopping_) BeginStop();
  }
  // A last try for what the manager's full queue refused (STOPPING=1), but
  // no wait: systemd learns of the exit from the process itself.
  notify_retry_at_ = 0;
  SendNotifications(Now());
  log_->Info(absl::StrCat("exiting: ", exit_reason, "; served ",
                          accepted_total_, " connections, ", bytes_echoed_,
                          " bytes echoed"));
  return 0;
}

}  // namespace foobard
