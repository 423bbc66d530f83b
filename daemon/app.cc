// daemon/app.cc: see app.h.
#include "daemon/app.h"

#include <unistd.h>

#include <string>
#include <utility>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/fd_util.h"
#include "daemon/flags.h"
#include "daemon/handoff.h"
#include "daemon/logger.h"
#include "daemon/server.h"
#include "sdfd/activation.h"
#include "sdfd/handoff.h"
#include "sdfd/socket_spec.h"
#include "sdfd/watchdog.h"

namespace foobard {
namespace {

constexpr char kHowToRun[] =
    "no sockets to serve: not socket-activated and no --listen; run it with "
    "`systemctl start foobar.socket`, or `foobard "
    "--listen=unix:/tmp/foobar.sk`";

// kBacklog is the listen() backlog for --listen sockets: the kernel caps it
// at net.core.somaxconn.
constexpr int kBacklog = 4096;

// RaiseFdLimit lifts RLIMIT_NOFILE's soft limit to the hard one: every
// client is an fd, and the default soft limit (1024) would cap foobard far
// below 10,000 clients. Failure is not fatal; EMFILE handling copes.
void RaiseFdLimit(const Logger& log) {
  absl::StatusOr<foobar::FdLimit> limit = foobar::RaiseFdLimit();
  if (!limit.ok()) log.Warning(limit.status().message());
}

// ListenOn serves a socket of its own for each --listen (no socket
// activation); `served` receives their descriptions. 0, or the exit code.
int ListenOn(const std::vector<std::string>& listen, Server& server,
             const Logger& log, std::vector<std::string>* served) {
  if (listen.empty()) {
    log.Error(kHowToRun);
    return 2;
  }
  for (const std::string& text : listen) {
    absl::StatusOr<sdfd::SocketSpec> spec = sdfd::ParseSocketSpec(text);
    if (!spec.ok()) {
      log.Error(absl::StrCat("--listen: ", spec.status().message()));
      return 2;
    }
    absl::StatusOr<sdfd::UniqueFd> fd = sdfd::Listen(*spec, kBacklog);
    if (!fd.ok()) {
      log.Error(absl::StrCat("--listen: ", fd.status().message()));
      return 1;
    }
    absl::StatusOr<std::string> what = server.AddSocket(*std::move(fd), text);
    if (!what.ok()) {
      log.Error(what.status().message());
      return 1;
    }
    served->push_back(*std::move(what));
  }
  return 0;
}

// ServePassed serves the sockets systemd passed and takes back the
// connections a previous instance handed off (daemon/handoff.h); `served`
// receives their descriptions. 0, or the exit code.
int ServePassed(std::vector<sdfd::ListenFd>& fds, Server& server,
                const Logger& log, std::vector<std::string>* served) {
  HandedOffSet handed_off = TakeHandedOff(fds, kMaxBufferLimit);
  for (const absl::Status& problem : handed_off.problems) {
    log.Error(problem.message());
  }
  for (sdfd::ListenFd& fd : fds) {
    absl::StatusOr<std::string> what =
        server.AddSocket(std::move(fd.fd), fd.name);
    if (!what.ok()) {
      log.Error(what.status().message());
      return 2;
    }
    served->push_back(*std::move(what));
  }
  size_t unsent = 0;
  for (HandedOff& conn : handed_off.connections) {
    unsent += conn.unsent.size();
    absl::Status s = server.AdoptConnection(std::move(conn.fd), conn.unsent);
    if (!s.ok()) {
      log.Error(absl::StrCat("handed-off ", conn.name, ": ", s.message()));
    }
  }
  if (!handed_off.connections.empty()) {
    served->push_back(absl::StrCat(handed_off.connections.size(),
                                   " handed-off connections with ", unsent,
                                   " unsent bytes"));
  }
  // Taken over (or refused): systemd's copies go, or every later start
  // would get them again (see handoff.h).
  RemoveTakenFromStore(handed_off, log);
  return 0;
}

}  // namespace

int Main(int argc, char** argv) {
  absl::StatusOr<foobar::CommandLineRequest> request = ParseFlags(argc, argv);
  if (request.ok() && *request != foobar::CommandLineRequest::kRun) {
    return WriteHelpOrVersion(*request);
  }
  absl::StatusOr<Config> config =
      request.ok() ? ConfigFromFlags()
                   : absl::StatusOr<Config>(request.status());
  // The sockets are taken before the logger opens anything, so that a socket
  // on stdin moves to fd 3 (its errors are logged below, once there is a
  // logger).
  absl::StatusOr<sdfd::Activation> activation = sdfd::ReceiveActivation();
  const Logger log(STDERR_FILENO, config.ok() && config->verbose);
  if (!config.ok()) {
    log.Error(config.status().message());
    return 2;
  }
  if (!log.sink()->reopen_error().empty()) {
    log.Debug(absl::StrCat("log lines go through a writer thread: ",
                           log.sink()->reopen_error()));
  }
  RaiseFdLimit(log);

  if (!activation.ok()) {
    log.Error(activation.status().message());
    return 2;
  }
  absl::StatusOr<absl::Duration> watchdog = sdfd::WatchdogInterval();
  if (!watchdog.ok()) {
    log.Error(watchdog.status().message());
    return 2;
  }
  config->server.watchdog_interval = *watchdog;
  if (activation->kind == sdfd::ActivationKind::kInetd &&
      config->server.handoff) {
    // With StandardInput=socket systemd passes no LISTEN_FDS and no fd-store
    // fds, so connections stored at stop would never come back: they would
    // only pile up in the store. Closing them at stop is the honest choice.
    log.Warning(
        "--handoff ignored: the socket came on standard input "
        "(StandardInput=socket), where systemd passes no LISTEN_FDS and no "
        "fd-store fds; connections are closed at stop");
    config->server.handoff = false;
  }

  absl::StatusOr<std::unique_ptr<Server>> server =
      Server::Create(config->server, &log);
  if (!server.ok()) {
    log.Error(server.status().message());
    return 1;
  }

  std::vector<std::string> served;
  if (activation->kind == sdfd::ActivationKind::kNone) {
    if (int code = ListenOn(config->listen, **server, log, &served);
        code != 0) {
      return code;
    }
  } else {
    if (!config->listen.empty()) {
      log.Info("--listen ignored: systemd passed the sockets");
    }
    if (int code = ServePassed(activation->fds, **server, log, &served);
        code != 0) {
      return code;
    }
  }
  log.Info(absl::StrCat("serving ", absl::StrJoin(served, ", ")));
  Server::Outcome outcome = (*server)->Run();
  if (!outcome.handoff.empty()) {
    HandOff(std::move(outcome.handoff), outcome.drain_deadline,
            (*server)->signal_fd(), log);
  }
  if (outcome.exit_code == 0) log.Info(outcome.exit_message);
  return outcome.exit_code;
}

}  // namespace foobard
