// daemon/server.h: foobard's event loop, which echoes on every socket it is
// given.
//
// Design (the why is in server.cc and foobard.8):
//   * One thread, one epoll set, level-triggered, non-blocking sockets. The
//     loop never blocks anywhere but epoll_wait.
//   * One object per passed socket, by kind: a listener (stream/seqpacket,
//     accept4 in a loop), a datagram socket (each datagram echoed to its
//     sender), or a connection (accepted, Accept=yes/inetd, or handed off by
//     a previous instance).
//   * Memory is bounded by design: one shared 64 KiB read buffer; a
//     connection is a ~64-byte struct plus a pending buffer that exists only
//     while unsent bytes exist and never exceeds --buffer_limit (the
//     connection is not read from while it is full).
//   * Timers (STATUS once a second, watchdog, idle exit, accept backoff,
//     drain deadline, notify retry) are deadlines folded into epoll_wait's
//     timeout; signals arrive through a signalfd.
//   * Nothing else waits either: log lines queue in the logger's LogSink,
//     which the loop flushes when its fd is writable, and sd_notify
//     datagrams go with MSG_DONTWAIT; a busy manager's full queue
//     (net.unix.max_dgram_qlen) makes the loop retry later, with STATUS= and
//     WATCHDOG=1 coalesced, instead of wait.
//
//   absl::StatusOr<std::unique_ptr<foobard::Server>> server =
//       foobard::Server::Create(options, &log);
//   if (!server.ok()) return Fail(server.status());      // epoll_create1: ...
//   absl::StatusOr<std::string> what = (*server)->AddSocket(std::move(fd),
//   name); if (!what.ok()) return Usage(what.status());         // not a socket
//   return (*server)->Run();                             // exit code
#ifndef DAEMON_SERVER_H_
#define DAEMON_SERVER_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "daemon/logger.h"
#include "daemon/server_options.h"
#include "sdfd/unique_fd.h"

namespace foobard {

class Server {
 public:
  // Create sets up epoll and the signalfd (blocking SIGTERM/SIGINT and
  // ignoring SIGPIPE for the whole process). `log` must outlive the server.
  static absl::StatusOr<std::unique_ptr<Server>> Create(
      const ServerOptions& options, const Logger* log);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // AddSocket serves `fd` according to its kind and returns its description
  // for the start line. A listening stream/seqpacket socket is accepted on;
  // a datagram socket is echoed on; a connected stream/seqpacket socket is
  // served as a client. Errors: not a socket, or an unsupported type.
  absl::StatusOr<std::string> AddSocket(sdfd::UniqueFd fd,
                                        absl::string_view name);

  // AdoptConnection serves a client accepted by a previous instance;
  // `unsent` goes out before any new echo.
  absl::Status AdoptConnection(sdfd::UniqueFd fd, absl::string_view unsent);

  // Run serves until SIGTERM/SIGINT, idle exit, or (with no listening or
  // datagram socket) the last connection closing. It sends READY=1 first.
  // It returns the process exit code: 0 clean, 1 runtime failure.
  int Run();

 private:
  struct Source;
  struct Listener;
  struct Datagram;
  struct Connection;

  Server(const ServerOptions& options, const Logger* log);
  absl::Status Init();
  int64_t Now() const;

  void OnListener(Listener* l);
  void OnDatagram(Datagram* d);
  void OnConnection(Connection* c, uint32_t events);
  bool OnSignal();  // true when the loop must finish now

  Connection* NewConnection(int fd, bool seqpacket);
  bool ReadSome(Connection* c);         // false when c was closed
  bool Flush(Connection* c);            // false when c was closed
  bool SendEmptyRecord(Connection* c);  // false when c was closed
  void UpdateInterest(Connection* c);
  void StartLinger(Connection* c);
  void CloseConnection(Connection* c, absl::string_view why);
  void UpdateListeners();
  void BeginStop();
  void FinishStop();
  // WaitToRetryStore waits up to 10 ms before the next try of a store the
  // service manager's full queue refused; false once the drain deadline has
  // passed or a second signal arrived.
  bool WaitToRetryStore();
  void HandOff();
  void MaybeSendStatus(int64_t now, bool force);
  void SendNotifications(int64_t now);
  void UpdateLogInterest();

  ServerOptions options_;
  const Logger* log_;
  sdfd::UniqueFd epoll_;
  sdfd::UniqueFd signal_fd_;
  std::unique_ptr<Source> signal_source_;
  std::unique_ptr<Source> log_source_;
  bool log_watched_ = false;  // the log sink's fd is in the epoll set
  std::vector<std::unique_ptr<Listener>> listeners_;
  std::vector<std::unique_ptr<Datagram>> datagrams_;
  Connection* connections_head_ = nullptr;  // intrusive list of live ones
  size_t connection_count_ = 0;
  bool listeners_watched_ = false;
  bool notify_ = false;  // NOTIFY_SOCKET set: worth formatting STATUS=

  bool stop_requested_ = false;
  bool stopping_ = false;
  int64_t drain_deadline_ = 0;
  int64_t accept_paused_until_ = 0;
  int64_t idle_since_ = 0;
  int64_t next_watchdog_ = 0;
  int64_t next_status_ = 0;

  // sd_notify states not yet delivered: a full notify queue (EAGAIN) keeps
  // them for the next try at notify_retry_at_ (0: none scheduled).
  bool ready_pending_ = false;
  bool stopping_pending_ = false;
  bool watchdog_pending_ = false;
  bool status_pending_ = false;
  int64_t notify_retry_at_ = 0;

  uint64_t accepted_total_ = 0;
  uint64_t bytes_echoed_ = 0;
  uint64_t datagrams_echoed_ = 0;
  uint64_t status_bytes_ = ~uint64_t{0};
  size_t status_connections_ = ~size_t{0};
};

}  // namespace foobard

#endif  // DAEMON_SERVER_H_
