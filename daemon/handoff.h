// daemon/handoff.h: what is specific to foobard in passing live client
// connections to the next foobard through systemd's fd store. The mechanism
// is libsdfd's (sdfd/handoff.h): one fd-store entry named "sdfd-handoff"
// holds every connection, each with its unsent bytes as its state.
//
// Upgrades from foobar 0.1.0. 0.1.0 stored each connection as its own
// entry, with a memfd of its unsent bytes beside it when it had any:
//   conn.<pid>.<n>        the connected socket
//   conn-data.<pid>.<n>   a memfd holding its unsent bytes (only if any)
// A user's first upgrade happens while 0.1.0 serves: the postinst reloads the
// units and restarts the service, so 0.1.0 stores its connections that way
// and this version must take them. A plain "conn" (stored by another tool
// with FDNAME=conn) is accepted as a connection with no data. The data memfd
// was stored before its connection: a connection whose data could not be
// stored was closed, never resumed without its unsent bytes. Each of those
// names is removed from the store (FDSTOREREMOVE=1) once taken.
//
// Both directions are one straight path each: at start, TakeHandedOff() then
// RemoveTakenFromStore(); at stop, HandOff() with what Server::Run() returned.
//
// Example:
//
//   foobard::Logger log(STDERR_FILENO, false);
//   std::vector<sdfd::ListenFd> listen_fds;  // from sdfd::ReceiveActivation
//   foobard::HandedOffSet set =
//       foobard::TakeHandedOff(listen_fds, /*max_unsent=*/1 << 20);
//   for (const absl::Status& p : set.problems) log.Error(p.message());
//   for (foobard::HandedOff& c : set.connections) {
//     // serve c.fd, sending c.unsent first (Server::AdoptConnection)
//   }
//   foobard::RemoveTakenFromStore(set, log);  // FDSTOREREMOVE=1, each name
//   // ... and at stop, with Server::Run()'s outcome.handoff: the clients
//   // still connected, each with its unsent bytes (daemon/server.h).
//   int pair[2];
//   if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair) != 0) {
//     return 1;
//   }
//   std::vector<sdfd::HandoffEntry> live;
//   live.push_back({sdfd::UniqueFd(pair[0]), "not echoed yet\n"});
//   timespec now{};
//   ::clock_gettime(CLOCK_MONOTONIC, &now);  // foobar::MonotonicNanos()
//   const int64_t deadline_ns =  // stop + --drain_timeout (here 5 s)
//       (now.tv_sec + 5) * int64_t{1000000000} + now.tv_nsec;
//   foobard::HandOff(std::move(live), deadline_ns, /*stop_fd=*/-1, log);
//   // foobard calls it only when NOTIFY_SOCKET is set (Run() returns no
//   // connections otherwise). Without it, HandOff stores nothing, logs
//   // "<3>handing off 1 connections failed, they are closed: NOTIFY_SOCKET
//   // vanished" and closes them: pair[1] reads EOF.
//   ::close(pair[1]);
#ifndef DAEMON_HANDOFF_H_
#define DAEMON_HANDOFF_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "daemon/logger.h"
#include "sdfd/handoff.h"
#include "sdfd/listen_fds.h"
#include "sdfd/notify.h"
#include "sdfd/unique_fd.h"

namespace foobard {

// StoredKind says what a fd name means in the handoff scheme.
enum class StoredKind { kOther, kConnection, kData };

// StoredName is a parsed fd name: its kind and the pairing key after the
// prefix ("1234.7" for "conn.1234.7", "" for a plain "conn").
struct StoredName {
  StoredKind kind = StoredKind::kOther;
  std::string key;
};

// ParseStoredName classifies one LISTEN_FDNAMES entry.
StoredName ParseStoredName(absl::string_view name);

// ConnectionName and DataName build the names for pairing key `key`.
std::string ConnectionName(absl::string_view key);
std::string DataName(absl::string_view key);

// WriteMemfd returns a CLOEXEC memfd holding `data`: how 0.1.0 stored
// unsent bytes (tests use it to play 0.1.0).
absl::StatusOr<sdfd::UniqueFd> WriteMemfd(absl::string_view data);

// ReadMemfd returns the whole content of a memfd (from offset 0, whatever
// its file offset), refusing more than `max_size` bytes.
absl::StatusOr<std::string> ReadMemfd(int fd, size_t max_size);

// HandedOff is one connection taken over from a previous instance.
struct HandedOff {
  sdfd::UniqueFd fd;
  std::string name;    // its fd store name, for messages
  std::string unsent;  // bytes to send before anything else
};

// TakeLegacyHandedOff removes every conn*/conn-data* entry (0.1.0's, see
// above) from `fds` and returns the connections with their unsent data.
// `store_names` receives every name taken (for FDSTOREREMOVE=1). A data
// memfd without its connection, or one that cannot be read (its connection
// is then closed, see above), is reported in `problems` and dropped.
// `max_unsent` bounds a memfd's size.
std::vector<HandedOff> TakeLegacyHandedOff(
    std::vector<sdfd::ListenFd>& fds, size_t max_unsent,
    std::vector<std::string>* store_names, std::vector<absl::Status>* problems);

// HandedOffSet is everything the fd store passed back at start.
struct HandedOffSet {
  std::vector<HandedOff> connections;
  // legacy_names: 0.1.0 entries taken, each to be removed from the store.
  std::vector<std::string> legacy_names;
  // bundles: how many "sdfd-handoff" entries came (each to be removed by
  // that one name, whether taken or refused).
  size_t bundles = 0;
  // problems: one line each, e.g. a corrupt bundle whose connections were
  // all closed.
  std::vector<absl::Status> problems;
};

// TakeHandedOff takes both kinds out of `fds`: bundles (sdfd/handoff.h) all
// or nothing each, then 0.1.0's entries. A state longer than `max_unsent`
// closes that connection with a problem line.
HandedOffSet TakeHandedOff(std::vector<sdfd::ListenFd>& fds, size_t max_unsent);

// RemoveFromStore asks systemd to drop (and close) its stored fds named
// `name` (FDSTOREREMOVE=1). False when NOTIFY_SOCKET is unset; `options` as
// for sdfd::PidNotifyWithFds() (non_blocking: NotifyWouldBlock()).
absl::StatusOr<bool> RemoveFromStore(absl::string_view name,
                                     const sdfd::NotifyOptions& options = {});

// RemoveTakenFromStore asks systemd to drop what `set` took: the bundle
// entry (once, whether taken or refused) and each 0.1.0 name; otherwise
// every later start would get them again. A busy manager's full notify
// queue is retried every 10 ms for at most 1 s per message, so start-up
// never waits without bound. Failures are logged as warnings
// ("FDSTOREREMOVE <name>: ..."); the entry then stays in the store.
void RemoveTakenFromStore(const HandedOffSet& set, const Logger& log);

// HandOff stores `connections` (taken; each with its unsent bytes) in
// systemd's fd store as one entry (sdfd/handoff.h), then closes them (the
// bundle holds its own copies) and waits for NotifyBarrier until
// `deadline_ns` (MonotonicNanos). A full notify queue is retried every
// 10 ms until `deadline_ns`, or until `stop_fd` (borrowed; foobard's
// signalfd, -1 for none) turns readable: a second SIGTERM/SIGINT means
// stop waiting. Every outcome is logged; on success the line starts with
// "handed off N connections to the fd store (one entry, U unsent bytes)",
// a text kept stable for operators who grep the journal. A connection over the
// bundle's caps is closed with an error line instead.
void HandOff(std::vector<sdfd::HandoffEntry> connections, int64_t deadline_ns,
             int stop_fd, const Logger& log);

}  // namespace foobard

#endif  // DAEMON_HANDOFF_H_
