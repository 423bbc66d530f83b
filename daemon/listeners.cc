// daemon/listeners.cc: see listeners.h.
#include "daemon/listeners.h"

#include <errno.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <algorithm>
#include <cstddef>
#include <utility>

#include "absl/strings/str_cat.h"
#include "daemon/read_buffer.h"
#include "sdfd/errno_status.h"

namespace foobard {
namespace {

constexpr int kAcceptBatch = 256;
constexpr int kDatagramBatch = 64;

}  // namespace

Listener::Listener(EventLoop* loop, const AcceptPolicy* policy,
                   sdfd::UniqueFd fd, bool seqpacket)
    : loop_(loop),
      policy_(policy),
      fd_(std::move(fd)),
      handler_(EventLoop::HandlerFor<Listener, &Listener::OnReady>(this)),
      seqpacket_(seqpacket) {
  watch_.handler = &handler_;
}

Listener::~Listener() { loop_->Detach(fd_.get(), &watch_, events_); }

absl::Status Listener::Watch(bool watch) {
  const uint32_t want = watch ? static_cast<uint32_t>(EPOLLIN) : 0;
  if (absl::Status s = loop_->Update(fd_.get(), &watch_, events_, want);
      !s.ok()) {
    return s;
  }
  events_ = want;
  return absl::OkStatus();
}

void Listener::OnReady(EventLoop::Watch*, uint32_t) {
  // Unwatched earlier in this batch (the limit was reached): leave the
  // waiting connections in the backlog.
  if (events_ == 0) return;
  for (int i = 0; i < kAcceptBatch; ++i) {
    if (!policy_->may_accept()) return;
    sdfd::UniqueFd fd(
        ::accept4(fd_.get(), nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC));
    if (fd.valid()) {
      policy_->accepted(std::move(fd), seqpacket_);
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
        // The waiting connections stay in the backlog: accepting and
        // closing them (the "spare fd" trick) would drop clients.
        policy_->out_of_resources(err);
        return;
    }
  }
}

DatagramEcho::DatagramEcho(EventLoop* loop, const Logger* log,
                           sdfd::UniqueFd fd, int family)
    : loop_(loop),
      log_(log),
      fd_(std::move(fd)),
      handler_(
          EventLoop::HandlerFor<DatagramEcho, &DatagramEcho::OnReady>(this)),
      family_(family) {
  watch_.handler = &handler_;
}

DatagramEcho::~DatagramEcho() { loop_->Detach(fd_.get(), &watch_, events_); }

absl::Status DatagramEcho::Start() {
  if (absl::Status s = loop_->Update(fd_.get(), &watch_, events_, EPOLLIN);
      !s.ok()) {
    return s;
  }
  events_ = EPOLLIN;
  return absl::OkStatus();
}

void DatagramEcho::Stop() {
  loop_->Detach(fd_.get(), &watch_, events_);
  events_ = 0;
}

void DatagramEcho::OnReady(EventLoop::Watch*, uint32_t) {
  for (int i = 0; i < kDatagramBatch; ++i) {
    sockaddr_storage from;
    socklen_t from_len = sizeof(from);
    // MSG_TRUNC makes recvfrom return the real length of a datagram larger
    // than the buffer; only the first 64 KiB are echoed.
    const ssize_t r =
        ::recvfrom(fd_.get(), g_read_buffer, kReadBufferSize, MSG_TRUNC,
                   reinterpret_cast<sockaddr*>(&from), &from_len);
    if (r < 0) {
      const int err = errno;
      if (err == EAGAIN || err == EWOULDBLOCK || err == EINTR) return;
      // ECONNREFUSED etc. report an earlier send's ICMP error; the socket
      // is still fine.
      if (log_->verbose()) {
        log_->Debug(sdfd::ErrnoError(err, "recvfrom").message());
      }
      continue;
    }
    ++received_;
    const size_t n = std::min(static_cast<size_t>(r), kReadBufferSize);
    if (family_ == AF_UNIX && from_len <= offsetof(sockaddr_un, sun_path)) {
      // An unbound unix datagram sender has no address to answer to.
      if (log_->verbose()) log_->Debug("datagram from an unbound sender");
      continue;
    }
    if (::sendto(fd_.get(), g_read_buffer, n, MSG_NOSIGNAL | MSG_DONTWAIT,
                 reinterpret_cast<sockaddr*>(&from), from_len) < 0) {
      // Datagrams are best effort: a full or vanished receiver loses this
      // one reply, exactly as the network could.
      if (log_->verbose()) {
        log_->Debug(sdfd::ErrnoError(errno, "sendto").message());
      }
      continue;
    }
    ++echoed_;
    bytes_echoed_ += n;
  }
}

}  // namespace foobard
