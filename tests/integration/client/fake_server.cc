// fake_server: misbehaving servers for foobar's error-path integration
// tests, each at a unix socket path. It prints "ready" on stdout once the
// socket is in place (tests wait for that line), then runs until killed.
//
// Usage: fake_server bind|silent|reset|full PATH
//   bind    a socket file that nobody listens on (connect: ECONNREFUSED,
//           or EACCES once the test restricts its mode)
//   silent  accepts and reads, never answers (the client's echo timeout)
//   reset   accepts, and closes as soon as data arrives without reading it,
//           so the kernel reports ECONNRESET to the client
//   full    listens with a full backlog and never accepts (connect timeout)
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "sdfd/unique_fd.h"

namespace {

int Die(const char* what) {
  std::fprintf(stderr, "fake_server: %s: %s\n", what, std::strerror(errno));
  return 1;
}

sockaddr_un Address(const std::string& path) {
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  path.copy(addr.sun_path, sizeof(addr.sun_path) - 1);
  return addr;
}

void Ready() {
  std::printf("ready\n");
  std::fflush(stdout);
}

// Serve accepts clients and handles their data as `mode` says, forever.
int Serve(int listener, const std::string& mode) {
  std::vector<sdfd::UniqueFd> clients;
  // Silent clients that half-closed: kept open (never answered, never
  // closed) but no longer polled.
  std::vector<sdfd::UniqueFd> half_closed;
  for (;;) {
    std::vector<pollfd> polls{{listener, POLLIN, 0}};
    for (const sdfd::UniqueFd& c : clients) {
      polls.push_back({c.valid() ? c.get() : -1, POLLIN, 0});
    }
    if (poll(polls.data(), polls.size(), -1) < 0) {
      if (errno == EINTR) continue;
      return Die("poll");
    }
    for (size_t i = 1; i < polls.size(); ++i) {
      if (polls[i].revents == 0) continue;
      sdfd::UniqueFd& c = clients[i - 1];
      if (mode == "reset") {
        c.reset();  // unread data in our queue: the peer gets ECONNRESET
        continue;
      }
      char buffer[65536];
      const ssize_t n = read(c.get(), buffer, sizeof(buffer));
      if (n == 0) half_closed.push_back(std::move(c));
      if (n < 0) c.reset();
    }
    if (polls[0].revents & POLLIN) {
      const int c = accept4(listener, nullptr, nullptr, SOCK_CLOEXEC);
      if (c < 0) return Die("accept4");
      clients.emplace_back(c);
    }
  }
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: fake_server bind|silent|reset|full PATH\n");
    return 2;
  }
  const std::string mode = argv[1];
  const sockaddr_un addr = Address(argv[2]);
  sdfd::UniqueFd fd(socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!fd.valid()) return Die("socket");
  if (bind(fd.get(), reinterpret_cast<const sockaddr*>(&addr), sizeof(addr)) !=
      0) {
    return Die("bind");
  }
  if (mode == "bind") {
    Ready();
    pause();
    return 0;
  }
  if (mode == "full") {
    // Backlog 0 holds one pending connection; ours fills it, so a client's
    // connect() waits for an accept() that never comes.
    if (listen(fd.get(), 0) != 0) return Die("listen");
    sdfd::UniqueFd filler(socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
    if (connect(filler.get(), reinterpret_cast<const sockaddr*>(&addr),
                sizeof(addr)) != 0) {
      return Die("connect");
    }
    Ready();
    pause();
    return 0;
  }
  if (mode != "silent" && mode != "reset") {
    std::fprintf(stderr, "fake_server: unknown mode %s\n", mode.c_str());
    return 2;
  }
  if (listen(fd.get(), 16) != 0) return Die("listen");
  Ready();
  return Serve(fd.get(), mode);
}
