#include "client/test_server.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstdlib>
#include <map>
#include <string>
#include <vector>

#include "common/fd_util.h"

namespace foobar::client {
namespace {

// Connection is one accepted client with the echo it still owes.
struct Connection {
  sdfd::UniqueFd fd;
  std::string pending;
  uint64_t position = 0;  // bytes received so far, for kCorrupt
  bool read_eof = false;
};

bool IsListening(int fd) {
  int listening = 0;
  socklen_t length = sizeof(listening);
  return getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &listening, &length) == 0 &&
         listening != 0;
}

void SetNonBlocking(int fd) {
  // Test scaffolding: a failure here shows up as a hung or failing test.
  (void)foobar::SetNonBlocking(fd);
}

}  // namespace

bool TestServer::ParseBehaviour(const std::string& name, Behaviour* behaviour) {
  static const std::map<std::string, Behaviour> kNames = {
      {"echo", Behaviour::kEcho},
      {"corrupt", Behaviour::kCorrupt},
      {"silent", Behaviour::kSilent},
      {"reset", Behaviour::kReset}};
  const auto it = kNames.find(name);
  if (it == kNames.end()) return false;
  *behaviour = it->second;
  return true;
}

TestServer::TestServer(sdfd::UniqueFd fd, Behaviour behaviour)
    : fd_(std::move(fd)), behaviour_(behaviour) {
  int pipe_fds[2];
  if (pipe2(pipe_fds, O_CLOEXEC) != 0) std::abort();
  stop_read_.reset(pipe_fds[0]);
  stop_write_.reset(pipe_fds[1]);
  thread_ = std::thread([this] { Serve(); });
}

TestServer::~TestServer() {
  stop_write_.reset();  // the thread sees POLLHUP on stop_read_
  thread_.join();
}

void TestServer::Serve() {
  const bool listening = IsListening(fd_.get());
  std::vector<Connection> connections;
  if (!listening) {
    SetNonBlocking(fd_.get());
    connections.emplace_back();
    connections.back().fd = std::move(fd_);
  }
  std::vector<char> buffer(256 * 1024);
  for (;;) {
    std::vector<pollfd> polls;
    polls.push_back({stop_read_.get(), POLLIN, 0});
    if (listening) polls.push_back({fd_.get(), POLLIN, 0});
    const size_t first = polls.size();
    for (Connection& c : connections) {
      short events = 0;
      if (c.fd.valid() && !c.read_eof) events |= POLLIN;
      if (c.fd.valid() && !c.pending.empty()) events |= POLLOUT;
      polls.push_back({c.fd.valid() ? c.fd.get() : -1, events, 0});
    }
    if (poll(polls.data(), polls.size(), -1) < 0) {
      if (errno == EINTR) continue;
      std::abort();
    }
    if (polls[0].revents != 0) return;
    if (listening && polls[1].revents != 0) {
      const int client =
          accept4(fd_.get(), nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
      if (client >= 0) {
        connections.emplace_back();
        connections.back().fd.reset(client);
      }
    }
    for (size_t i = 0; i < connections.size() && first + i < polls.size();
         ++i) {
      Connection& c = connections[i];
      const short revents = polls[first + i].revents;
      if (!c.fd.valid() || revents == 0) continue;
      if (behaviour_ == Behaviour::kReset && (revents & POLLIN)) {
        c.fd.reset();  // unread data in our queue makes the peer see a reset
        continue;
      }
      if (revents & (POLLIN | POLLHUP | POLLERR)) {
        const ssize_t n = recv(c.fd.get(), buffer.data(), buffer.size(), 0);
        if (n > 0 && behaviour_ != Behaviour::kSilent) {
          for (ssize_t j = 0; j < n; ++j) {
            char byte = buffer[j];
            if (behaviour_ == Behaviour::kCorrupt &&
                (c.position + j) % 1000 == 999) {
              byte ^= 1;
            }
            c.pending.push_back(byte);
          }
        }
        if (n > 0) c.position += static_cast<uint64_t>(n);
        if (n == 0) c.read_eof = true;
        if (n < 0 && errno != EAGAIN) c.fd.reset();
      }
      if (c.fd.valid() && !c.pending.empty()) {
        const ssize_t n = send(c.fd.get(), c.pending.data(), c.pending.size(),
                               MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n > 0) c.pending.erase(0, static_cast<size_t>(n));
        if (n < 0 && errno != EAGAIN) c.fd.reset();
      }
      // Like foobard: once the client has half-closed and everything is
      // echoed, close. A silent server keeps the connection open.
      if (c.fd.valid() && c.read_eof && c.pending.empty() &&
          behaviour_ != Behaviour::kSilent) {
        c.fd.reset();
      }
    }
  }
}

}  // namespace foobar::client
