// daemon/server.h: foobard's serving policy, which echoes on every socket it
// is given: when to accept, how many clients, when to exit idle, how to stop.
//
// Design (the why is in the .cc files and foobard.8):
//   * One thread, one event loop (daemon/event_loop.h): level-triggered
//     epoll, non-blocking sockets, timers and a signalfd. The loop never
//     blocks anywhere but epoll_wait.
//   * One object per passed socket, by kind (daemon/listeners.h,
//     daemon/connections.h): a listener (stream/seqpacket, accept4 in a
//     loop), a datagram socket (each datagram echoed to its sender), or a
//     connection (accepted, Accept=yes/inetd, or handed off by a previous
//     instance).
//   * The Server decides: accept back-off on EMFILE/ENFILE, the connection
//     limit, idle exit, and the drain at SIGTERM/SIGINT. It tells the
//     service manager through its ServiceNotifier (daemon/service_notifier.h).
//   * Nothing waits: log lines queue in the logger's LogSink, which the loop
//     flushes when its fd is writable, and sd_notify datagrams go with
//     MSG_DONTWAIT.
//   * Run() ends by returning the connections still alive when they are to
//     be handed off; the caller stores them (daemon/handoff.h, HandOff).
//
// Example:
//
//   foobard::Logger log(STDERR_FILENO, false);
//   foobard::ServerOptions options;
//   absl::StatusOr<std::unique_ptr<foobard::Server>> server =
//       foobard::Server::Create(options, &log);
//   if (!server.ok()) return 1;  // epoll_create1: Too many open files
//   // A connected socket is served as one client (Accept=yes, inetd):
//   int pair[2];
//   if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair) != 0) {
//     return 1;
//   }
//   absl::StatusOr<std::string> what =
//       (*server)->AddSocket(sdfd::UniqueFd(pair[0]), "client");
//   if (!what.ok()) return 1;  // "cannot watch ...": epoll_ctl failed
//   // *what: "unix:(unnamed) (stream) fd 5 \"client\"" (the fd varies)
//   if (::write(pair[1], "ping\n", 5) != 5) return 1;
//   ::shutdown(pair[1], SHUT_WR);  // the client has sent all it will
//   foobard::Server::Outcome outcome = (*server)->Run();  // echoes "ping\n"
//   // exit_message: "exiting: last connection closed; served 1
//   // connections, 5 bytes echoed"
//   log.Info(outcome.exit_message);
//   ::close(pair[1]);
//   return outcome.exit_code;  // 0
#ifndef DAEMON_SERVER_H_
#define DAEMON_SERVER_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "daemon/connections.h"
#include "daemon/event_loop.h"
#include "daemon/listeners.h"
#include "daemon/logger.h"
#include "daemon/server_options.h"
#include "daemon/service_notifier.h"
#include "sdfd/handoff.h"
#include "sdfd/unique_fd.h"

namespace foobard {

class Server {
 public:
  // Create sets up the event loop (blocking SIGTERM/SIGINT into its
  // signalfd) and ignores SIGPIPE for the whole process. `log` must outlive
  // the server. Errors carry the failing call's errno.
  static absl::StatusOr<std::unique_ptr<Server>> Create(
      const ServerOptions& options, const Logger* log);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // AddSocket serves `fd` (taken) according to its kind and returns its
  // description for the start line. A listening stream/seqpacket socket is
  // accepted on; a datagram socket is echoed on; a connected
  // stream/seqpacket socket is served as a client. Errors: not a socket, or
  // an unsupported type (InvalidArgument), or a failing call with its errno.
  absl::StatusOr<std::string> AddSocket(sdfd::UniqueFd fd,
                                        absl::string_view name);

  // AdoptConnection serves a client (`fd`, taken) accepted by a previous
  // instance; `unsent` goes out before any new echo.
  absl::Status AdoptConnection(sdfd::UniqueFd fd, absl::string_view unsent);

  // Outcome is how Run() ended.
  struct Outcome {
    // exit_code: 0 clean, 1 runtime failure (already logged).
    int exit_code = 0;
    // exit_message: the "exiting: ..." line, for the caller to log last.
    std::string exit_message;
    // handoff: the connections alive at stop, with their unsent bytes, when
    // they go to the fd store (--handoff, NOTIFY_SOCKET set); else empty.
    std::vector<sdfd::HandoffEntry> handoff;
    // drain_deadline bounds the handoff (MonotonicNanos): stop time plus
    // --drain_timeout.
    int64_t drain_deadline = 0;
  };

  // Run serves until SIGTERM/SIGINT, idle exit, or (with no listening or
  // datagram socket) the last connection closing. It sends READY=1 first.
  Outcome Run();

  // signal_fd is readable while SIGTERM/SIGINT is pending (borrowed): the
  // handoff's waits end on a second signal.
  int signal_fd() const { return loop_->signal_fd(); }

 private:
  Server(const ServerOptions& options, const Logger* log,
         std::unique_ptr<EventLoop> loop);

  // The accept policy (accept_policy_):
  bool MayAccept();
  void Accepted(sdfd::UniqueFd fd, bool seqpacket);
  void OutOfResources(int err);
  // OnLogWritable flushes the log sink once its fd is writable.
  void OnLogWritable(EventLoop::Watch* watch, uint32_t events);

  void OnSignal(int signo);
  void BeforeWait();
  void UpdateListeners();
  void UpdateIdleTimer();
  // DatagramsReceived sums DatagramEcho::received() over the datagram
  // sockets: activity that --idle_exit counts.
  uint64_t DatagramsReceived() const;
  void UpdateLogInterest();
  bool Draining();
  void BeginStop();
  void FinishStop();
  void Exit(std::string reason);
  ServiceCounts Counts() const;

  ServerOptions options_;
  const Logger* log_;
  // The loop is declared first: everything below registers with it, so it
  // is destroyed last.
  std::unique_ptr<EventLoop> loop_;
  EchoConnections connections_;
  ServiceNotifier notifier_;
  std::vector<std::unique_ptr<Listener>> listeners_;
  std::vector<std::unique_ptr<DatagramEcho>> datagrams_;
  EventLoop::Timer accept_resume_;
  EventLoop::Timer idle_timer_;
  EventLoop::Timer drain_timer_;
  AcceptPolicy accept_policy_;
  EventLoop::Handler log_handler_;
  EventLoop::Watch log_watch_;
  bool log_watched_ = false;  // the log sink's fd is in the epoll set
  bool listeners_watched_ = false;
  bool accept_paused_ = false;
  bool stop_requested_ = false;
  bool second_signal_ = false;
  bool stopping_ = false;
  int64_t drain_deadline_ = 0;
  uint64_t datagrams_seen_ = 0;  // DatagramEcho::received() at the last look
  std::string exit_reason_;
  std::vector<sdfd::HandoffEntry> handoff_;
};

}  // namespace foobard

#endif  // DAEMON_SERVER_H_
