// daemon/connections.cc: see connections.h. The comments here say why the
// echo is shaped the way it is; foobard.8 says the same for operators.
#include "daemon/connections.h"

#include <errno.h>
#include <linux/sockios.h>
#include <poll.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>

#include <algorithm>
#include <cstring>
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "daemon/pending_buffer.h"
#include "daemon/read_buffer.h"

namespace foobard {
namespace {

// IsRetryLater says whether a failed non-blocking recv/send may simply be
// tried again later: the socket had no data or no room (EAGAIN), or a
// signal interrupted the call (EINTR; foobard's signals are blocked, but a
// debugger's are not).
bool IsRetryLater(int err) {
  return err == EAGAIN || err == EWOULDBLOCK || err == EINTR;
}

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

static_assert((EPOLLIN | EPOLLOUT) <= 0xff,
              "EchoConnection keeps its epoll interest in 8 bits");

}  // namespace

// EchoConnection is all a client costs while idle: this struct and the
// kernel's socket. `events` mirrors what epoll watches, so the hot path
// calls epoll_ctl only when the interest really changes. The flags are bit
// fields so that they share one word with the fd and the interest.
struct EchoConnection : EventLoop::Watch {
  EchoConnection()
      : seqpacket(false),
        read_eof(false),
        empty_record_pending(false),
        lingering(false) {}
  bool HasUnsent() const { return !pending.empty() || empty_record_pending; }

  sdfd::UniqueFd fd;
  uint8_t events = 0;  // EPOLLIN|EPOLLOUT; 0: not in the epoll set
  bool seqpacket : 1;
  bool read_eof : 1;
  // empty_record_pending: a seqpacket connection owes its client a
  // zero-length record (the echo of an empty one), which `pending` cannot
  // hold. Like a non-empty pending message, it stops reading until sent.
  bool empty_record_pending : 1;
  // lingering: stopping, everything echoed and FIN sent; input is read and
  // discarded until the client closes (see StartLinger).
  bool lingering : 1;
  PendingBuffer pending;
  std::unique_ptr<EchoConnection> next;  // the list owns its entries
  EchoConnection* prev = nullptr;
};

static_assert(sizeof(EchoConnection) <= 56,
              "an idle connection must stay this small (docs/BENCHMARKS.md)");

EchoConnections::EchoConnections(EventLoop* loop, const Logger* log,
                                 size_t buffer_limit)
    : loop_(loop),
      log_(log),
      handler_(
          EventLoop::HandlerFor<EchoConnections, &EchoConnections::OnReady>(
              this)),
      buffer_limit_(buffer_limit) {}

EchoConnections::~EchoConnections() {
  // One at a time: letting head_ destroy the chain would recurse once per
  // connection, and 16,384 frames can overflow the stack.
  while (head_ != nullptr) {
    std::unique_ptr<EchoConnection> c = std::move(head_);
    head_ = std::move(c->next);
  }
}

absl::Status EchoConnections::Add(sdfd::UniqueFd fd, bool seqpacket,
                                  absl::string_view unsent) {
  auto owned = std::make_unique<EchoConnection>();
  EchoConnection* c = owned.get();
  c->handler = &handler_;
  c->fd = std::move(fd);
  c->seqpacket = seqpacket;
  if (!unsent.empty()) c->pending.Append(unsent.data(), unsent.size());
  if (head_ != nullptr) head_->prev = c;
  c->next = std::move(head_);
  head_ = std::move(owned);
  ++size_;
  ++accepted_;
  const int raw = c->fd.get();
  const uint32_t want = c->HasUnsent() ? EPOLLIN | EPOLLOUT : EPOLLIN;
  if (absl::Status s = loop_->Update(raw, c, 0, want); !s.ok()) {
    log_->Error(s.message());
    Close(c, CloseReason{});
    return s;
  }
  c->events = static_cast<uint8_t>(want);
  UpdateInterest(c);  // a seqpacket connection with unsent bytes: no EPOLLIN
  if (log_->verbose()) {
    log_->Debug(
        absl::StrCat("fd ", raw, ": connection opened (", size_, " live)"));
  }
  return absl::OkStatus();
}

EchoConnections::Unsent EchoConnections::CountUnsent() const {
  Unsent unsent;
  for (const EchoConnection* c = head_.get(); c != nullptr; c = c->next.get()) {
    if (c->HasUnsent()) ++unsent.connections;
    if (!c->pending.empty()) ++unsent.with_bytes;
    unsent.bytes += c->pending.size();
  }
  return unsent;
}

void EchoConnections::Stop(bool linger) {
  stopping_ = true;
  linger_ = linger;
  for (EchoConnection* c = head_.get(); c != nullptr; c = c->next.get()) {
    if (!c->HasUnsent() && linger_) {
      StartLinger(c);
    } else {
      UpdateInterest(c);  // stops reading; keeps writing what is pending
    }
  }
}

void EchoConnections::CloseAll(const char* why) {
  while (head_ != nullptr) Close(head_.get(), CloseReason{why, 0});
}

std::vector<sdfd::HandoffEntry> EchoConnections::TakeAll() {
  std::vector<sdfd::HandoffEntry> taken;
  taken.reserve(size_);
  while (head_ != nullptr) {
    EchoConnection* c = head_.get();
    loop_->Detach(c->fd.get(), c, c->events);
    c->events = 0;
    taken.push_back(sdfd::HandoffEntry{
        std::move(c->fd), std::string(c->pending.data(), c->pending.size())});
    --size_;
    loop_->DeleteLater(Unlink(c));
  }
  return taken;
}

std::unique_ptr<EchoConnection> EchoConnections::Unlink(EchoConnection* c) {
  std::unique_ptr<EchoConnection>& owner =
      c->prev != nullptr ? c->prev->next : head_;
  std::unique_ptr<EchoConnection> self = std::move(owner);
  owner = std::move(c->next);
  if (owner != nullptr) owner->prev = c->prev;
  c->prev = nullptr;
  return self;
}

void EchoConnections::Close(EchoConnection* c, CloseReason why) {
  // The loop drops this batch's later events for it, and frees it after
  // the batch; the socket itself closes now.
  loop_->Detach(c->fd.get(), c, c->events);
  c->events = 0;
  if (why.text != nullptr && log_->verbose()) {
    log_->Debug(absl::StrCat(
        "fd ", c->fd.get(), ": ", why.text, why.err != 0 ? ": " : "",
        why.err != 0 ? std::strerror(why.err) : "", " (", size_ - 1, " live)"));
  }
  c->fd.reset();
  --size_;
  loop_->DeleteLater(Unlink(c));
}

void EchoConnections::UpdateInterest(EchoConnection* c) {
  uint32_t want = 0;
  if (c->HasUnsent()) want |= EPOLLOUT;
  // Backpressure: a connection whose unsent bytes reached --buffer_limit is
  // not read until its client reads. A seqpacket connection holds at most
  // one message, so its boundaries survive.
  const bool room =
      c->seqpacket ? !c->HasUnsent() : c->pending.size() < buffer_limit_;
  if (c->lingering || (!stopping_ && !c->read_eof && room)) want |= EPOLLIN;
  // A connection with no interest leaves the set (Update: EPOLL_CTL_DEL): a
  // level-triggered EPOLLHUP would otherwise be reported forever for a
  // socket nobody reads.
  if (absl::Status s = loop_->Update(c->fd.get(), c, c->events, want);
      !s.ok()) {
    log_->Error(s.message());
    return;
  }
  c->events = static_cast<uint8_t>(want);
}

void EchoConnections::OnReady(EventLoop::Watch* watch, uint32_t events) {
  auto* c = static_cast<EchoConnection*>(watch);
  Verdict verdict = Keep();
  if ((events & (EPOLLOUT | EPOLLERR | EPOLLHUP)) && c->HasUnsent()) {
    verdict = Flush(c);
  }
  if (!verdict.close && (events & (EPOLLIN | EPOLLERR | EPOLLHUP)) &&
      (c->events & EPOLLIN)) {
    verdict = ReadSome(c);
  }
  if (verdict.close) {
    Close(c, verdict.why);
    return;
  }
  UpdateInterest(c);
}

EchoConnections::Verdict EchoConnections::ReadSome(EchoConnection* c) {
  if (c->lingering) {
    // Discard: foobard is stopping and will echo nothing more.
    const ssize_t r = ::recv(c->fd.get(), g_read_buffer, kReadBufferSize, 0);
    if (r > 0 || (r < 0 && IsRetryLater(errno))) return Keep();
    if (r == 0 && c->seqpacket && RecordNotEnd(c->fd.get())) return Keep();
    return CloseFor(r == 0 ? "closed by client after stop" : "reset");
  }
  size_t room = kReadBufferSize;
  if (!c->seqpacket) room = std::min(room, buffer_limit_ - c->pending.size());
  const ssize_t r =
      ::recv(c->fd.get(), g_read_buffer, room, c->seqpacket ? MSG_TRUNC : 0);
  if (r < 0) {
    if (IsRetryLater(errno)) return Keep();
    return CloseFor("recv", errno);
  }
  if (r == 0) {
    if (c->seqpacket && RecordNotEnd(c->fd.get())) {
      // A zero-length record is a message like any other: echo it.
      return SendEmptyRecord(c);
    }
    // Half-close: the client sent everything. Finish the echo, then close.
    c->read_eof = true;
    if (!c->HasUnsent()) return CloseFor("closed by client");
    return Keep();
  }
  const size_t n = std::min(static_cast<size_t>(r), room);
  if (!c->pending.empty()) {
    c->pending.Append(g_read_buffer, n);
    return Flush(c);
  }
  // The hot path: echo straight from the read buffer; only a short write
  // allocates.
  const ssize_t w =
      ::send(c->fd.get(), g_read_buffer, n, MSG_NOSIGNAL | MSG_DONTWAIT);
  size_t sent = 0;
  if (w < 0) {
    if (!IsRetryLater(errno)) return CloseFor("send", errno);
  } else {
    sent = static_cast<size_t>(w);
  }
  bytes_echoed_ += sent;
  if (sent < n) c->pending.Append(g_read_buffer + sent, n - sent);
  return Keep();
}

EchoConnections::Verdict EchoConnections::SendEmptyRecord(EchoConnection* c) {
  // send() of 0 bytes on a seqpacket socket queues one empty record.
  if (::send(c->fd.get(), g_read_buffer, 0, MSG_NOSIGNAL | MSG_DONTWAIT) < 0) {
    if (!IsRetryLater(errno)) return CloseFor("send", errno);
    // The client's queue is full: send it when the socket is writable.
    c->empty_record_pending = true;
    return Keep();
  }
  c->empty_record_pending = false;
  return Keep();
}

EchoConnections::Verdict EchoConnections::Flush(EchoConnection* c) {
  if (!c->pending.empty()) {
    const ssize_t w = ::send(c->fd.get(), c->pending.data(), c->pending.size(),
                             MSG_NOSIGNAL | MSG_DONTWAIT);
    if (w < 0) {
      if (IsRetryLater(errno)) return Keep();
      return CloseFor("send", errno);
    }
    bytes_echoed_ += static_cast<size_t>(w);
    c->pending.Consume(static_cast<size_t>(w));
  } else if (c->empty_record_pending) {
    if (Verdict v = SendEmptyRecord(c); v.close) return v;
  }
  if (!c->HasUnsent() && c->read_eof) return CloseFor("echoed all, closed");
  if (!c->HasUnsent() && linger_) StartLinger(c);
  return Keep();
}

void EchoConnections::StartLinger(EchoConnection* c) {
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

}  // namespace foobard
