// daemon/handoff.h: passing live client connections to the next foobard
// through systemd's fd store (man 5 systemd.service FileDescriptorStoreMax=,
// man 3 sd_pid_notify_with_fds FDSTORE=1, FDSTOREREMOVE=1, FDNAME=).
//
// Naming scheme. On SIGTERM with --handoff, each live connection is stored
// under a name unique to it, and the bytes it still owes its client (if any)
// are written to a memfd stored beside it:
//   conn.<pid>.<n>        the connected socket
//   conn-data.<pid>.<n>   a memfd holding its unsent bytes (only if any)
// <pid> is the storing instance and <n> counts its connections, so names
// never collide across restarts. fd names may use [A-Za-z0-9_.-] (':' is
// LISTEN_FDNAMES' separator and never appears). A plain "conn" (stored by
// another tool with FDNAME=conn) is accepted as a connection with no data.
//
// On start, systemd passes the stored fds after the socket unit's fds, with
// their names in LISTEN_FDNAMES. TakeHandedOff() takes every conn*/conn-data*
// fd out of that list and pairs them. The new instance then sends
// FDSTOREREMOVE=1 for each name it took: the store keeps its copies until
// told otherwise and would otherwise pass (and the next handoff would add)
// stale duplicates on every later start. The data memfd is stored before its
// connection: if storing the data fails the connection is not stored at all,
// because a connection resumed without its unsent bytes would silently
// corrupt the client's byte stream; closing it is the honest failure.
//
//   std::vector<absl::Status> problems;
//   std::vector<foobard::HandedOff> conns =
//       foobard::TakeHandedOff(listen_fds, &problems);
//   for (const absl::Status& p : problems) log.Warning(p.message());
//   for (foobard::HandedOff& c : conns) server.Adopt(std::move(c.fd),
//   c.unsent);
#ifndef DAEMON_HANDOFF_H_
#define DAEMON_HANDOFF_H_

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "sdfd/listen_fds.h"
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

// WriteMemfd returns a CLOEXEC memfd holding `data`.
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

// TakeHandedOff removes every conn*/conn-data* entry from `fds` and returns
// the connections with their unsent data. `store_names` receives every name
// taken (for FDSTOREREMOVE=1). A data memfd without its connection, or one
// that cannot be read (its connection is then closed, see above), is
// reported in `problems` and dropped. `max_unsent` bounds a memfd's size.
std::vector<HandedOff> TakeHandedOff(std::vector<sdfd::ListenFd>& fds,
                                     size_t max_unsent,
                                     std::vector<std::string>* store_names,
                                     std::vector<absl::Status>* problems);

// StoreConnection stores `conn_fd` (and, when `unsent` is not empty, a memfd
// with it, first) under pairing key `key`. NOTIFY_SOCKET unset is
// FailedPreconditionError: nothing was stored.
absl::Status StoreConnection(int conn_fd, absl::string_view unsent,
                             absl::string_view key);

// RemoveFromStore asks systemd to drop (and close) its stored fds named
// `name` (FDSTOREREMOVE=1). Unset NOTIFY_SOCKET is not an error.
absl::Status RemoveFromStore(absl::string_view name);

}  // namespace foobard

#endif  // DAEMON_HANDOFF_H_
