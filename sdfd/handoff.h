// sdfd/handoff.h: hand any number of live connections, each with opaque state
// bytes, to the next instance of a service through ONE entry of systemd's fd
// store (man 5 systemd.service FileDescriptorStoreMax=, man 3 sd_notify
// FDSTORE=1, FDNAME=, FDPOLL=0, FDSTOREREMOVE=1).
//
// Why one entry: storing each connection as its own FDSTORE=1 entry makes
// PID 1 compare every new fd with every stored one (quadratic), puts every
// name into one LISTEN_FDNAMES string (the kernel's 128 KiB MAX_ARG_STRLEN:
// exec fails beyond ~7,000 names, "Argument list too long"), and from
// systemd 255 on passes every fd through a serialization set bounded by
// PID 1's own fd limit. Here PID 1 holds one fd whatever N is.
//
// The bundle is an AF_UNIX SOCK_STREAM socketpair whose receive queue holds
// everything; the store keeps its read end, the writer end is closed:
//   message 0:  24-byte header {"SDFDHOFF", version, 0, N} + 1 fd: a sealed
//               memfd holding the manifest (see EncodeHandoffManifest);
//   message k:  8-byte header {k, n_k} + n_k fds (SCM_RIGHTS, n_k <= 253,
//               SCM_MAX_FD), k = 1.., the connections in manifest order.
// Every message has a payload: a zero-byte send on a stream socket carries
// no fds. Each batch is sent with MSG_DONTWAIT: the queue is charged to the
// writer's send buffer (about 768 bytes per batch), so EAGAIN means "bundle
// too large" and is returned as ResourceExhausted, never a hang. The entry is
// stored with FDPOLL=0: PID 1 drops a stream socket whose peer hung up
// otherwise, which is exactly the state of a bundle.
//
// Receiving is all or nothing: the manifest's N is checked against
// RLIMIT_NOFILE (the soft limit is raised to the hard one if needed) before a
// single connection fd is taken; every recvmsg uses MSG_CMSG_CLOEXEC; a
// truncated control message (MSG_CTRUNC), a batch out of order, a count that
// differs from the manifest, trailing data, a bad magic, version or checksum
// all make the whole bundle corrupt: every fd received so far is closed and
// nothing is returned. Limits (per-user in-flight fds, buffers, the state
// cap) are in sdfd/README.md.
//
// Ownership: StoreHandoff() and PackHandoff() only read the caller's fds
// (the kernel duplicates them into the bundle); the caller still closes its
// own. TakeHandoffs() moves the bundle entries out of the ListenFd list, and
// the returned HandoffEntry values own the received connections.
//
// Example:
//   // The old instance, on SIGTERM, once it stopped serving:
//   std::vector<std::pair<sdfd::UniqueFd, std::string>> conns;  // fd, unsent
//   sdfd::HandoffWriter writer;
//   for (auto& [fd, unsent] : conns) {
//     absl::Status s = writer.Add(fd.get(), unsent);
//     if (!s.ok()) fd.reset();  // over the cap: this client is dropped
//   }
//   absl::StatusOr<bool> stored = sdfd::StoreHandoff(writer);
//   if (!stored.ok()) return 1;  // e.g. ResourceExhausted: too large
//   absl::StatusOr<bool> seen = sdfd::NotifyBarrier(absl::Seconds(5));
//   if (!seen.ok()) return 1;  // PID 1 may not have the bundle yet
//
// Example:
//   // The new instance, at start:
//   absl::StatusOr<std::vector<sdfd::ListenFd>> fds = sdfd::ListenFds();
//   if (!fds.ok()) return 2;
//   std::vector<sdfd::HandoffEntry> resumed;
//   for (sdfd::TakenHandoff& t : sdfd::TakeHandoffs(*fds)) {
//     if (!t.entries.ok()) continue;  // a corrupt bundle: none is served
//     for (sdfd::HandoffEntry& e : *t.entries) resumed.push_back(std::move(e));
//   }
//   // Best effort: a stale entry is only replaced by the next handoff.
//   (void)sdfd::RemoveHandoffFromStore();  // FDSTOREREMOVE=1
#ifndef SDFD_HANDOFF_H_
#define SDFD_HANDOFF_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "sdfd/listen_fds.h"
#include "sdfd/notify.h"
#include "sdfd/unique_fd.h"

namespace sdfd {

// kHandoffFdName is the FDNAME= of the bundle entry. Valid per the fd-name
// rules of sd_notify(3): at most 255 printable ASCII characters, no ':'.
inline constexpr char kHandoffFdName[] = "sdfd-handoff";

// kHandoffFormatVersion is written into, and required of, every bundle.
inline constexpr uint32_t kHandoffFormatVersion = 1;

// kHandoffMaxStateBytes caps the sum of all entries' state bytes (1 GiB):
// the manifest is a memfd, i.e. memory, held while the service restarts.
inline constexpr uint64_t kHandoffMaxStateBytes = uint64_t{1} << 30;

// kHandoffMaxEntries caps N (2^20, the kernel's default fs.nr_open).
inline constexpr uint64_t kHandoffMaxEntries = uint64_t{1} << 20;

// HandoffEntry is one received connection and its state.
struct HandoffEntry {
  UniqueFd fd;
  std::string state;
};

// HandoffManifest is the decoded manifest: one state string per connection.
struct HandoffManifest {
  std::vector<std::string> states;
};

// EncodeHandoffManifest renders the manifest, little-endian:
//   "SDFDMANI" | u32 version | u32 0 | u64 N | u64 total state bytes |
//   N x u64 state length | the state bytes | u64 FNV-1a of all before.
std::string EncodeHandoffManifest(const std::vector<std::string>& states);

// DecodeHandoffManifest parses and checks a manifest (magic, version,
// bounds, lengths adding up exactly, checksum). Every failure is
// DataLossError naming what is wrong; it never reads outside `bytes` and
// allocates no more than `bytes` implies.
absl::StatusOr<HandoffManifest> DecodeHandoffManifest(absl::string_view bytes);

// HandoffWriter collects connections for one bundle.
class HandoffWriter {
 public:
  // Add records `fd` (not owned, must stay open until Pack/StoreHandoff)
  // with its state. ResourceExhaustedError when the state would take the
  // total past kHandoffMaxStateBytes or N past kHandoffMaxEntries: the caller
  // should close that connection and say so; the writer is unchanged.
  absl::Status Add(int fd, absl::string_view state);
  size_t size() const { return fds_.size(); }
  uint64_t state_bytes() const { return state_bytes_; }

 private:
  friend absl::StatusOr<UniqueFd> PackHandoff(const HandoffWriter& writer);
  std::vector<int> fds_;
  std::vector<std::string> states_;
  uint64_t state_bytes_ = 0;
};

// PackHandoff builds the bundle and returns the read end that holds it (the
// writer end is closed). Errors: ResourceExhausted for EAGAIN (the send
// buffer cannot hold the bundle) and ETOOMANYREFS (the user's in-flight fd
// limit, RLIMIT_NOFILE, is reached), otherwise the failing call with errno.
absl::StatusOr<UniqueFd> PackHandoff(const HandoffWriter& writer);

// StoreHandoff packs the bundle and sends it to the service manager with
// FDSTORE=1, FDNAME=kHandoffFdName, FDPOLL=0. Returns false (nothing sent)
// when NOTIFY_SOCKET is unset. Sending does not prove PID 1 kept the entry:
// call NotifyBarrier() (sdfd/notify.h) to know it was processed. With
// options.non_blocking a full notify queue (PID 1 busy) is
// NotifyWouldBlock() and nothing was sent; the caller may pack and try
// again.
absl::StatusOr<bool> StoreHandoff(const HandoffWriter& writer,
                                  const NotifyOptions& options = {});

// StoreHandoffBundle sends a bundle PackHandoff() made (the read end it
// returned, which the caller keeps owning) as StoreHandoff() does. A caller
// that retries a non_blocking send packs once and sends this again.
absl::StatusOr<bool> StoreHandoffBundle(int bundle,
                                        const NotifyOptions& options = {});

// UnpackHandoff receives a whole bundle from `bundle` (taken). All or
// nothing: on any error every fd received has been closed. Errors:
// DataLossError for a corrupt bundle, ResourceExhaustedError when
// RLIMIT_NOFILE cannot be raised enough for N more fds (refused before any
// connection fd is taken), errno errors of the failing call otherwise.
absl::StatusOr<std::vector<HandoffEntry>> UnpackHandoff(UniqueFd bundle);

// TakenHandoff is the result for one bundle entry found in LISTEN_FDNAMES.
struct TakenHandoff {
  int fd_number = -1;  // the passed fd it came in, for messages
  absl::StatusOr<std::vector<HandoffEntry>> entries;
};

// TakeHandoffs removes every fd named kHandoffFdName from `fds` and unpacks
// each. Usually there is none or one.
std::vector<TakenHandoff> TakeHandoffs(std::vector<ListenFd>& fds);

// RemoveHandoffFromStore sends FDSTOREREMOVE=1 for kHandoffFdName, so PID 1
// closes its copy once the bundle was taken (or refused). False when
// NOTIFY_SOCKET is unset. `options` as for PidNotifyWithFds().
absl::StatusOr<bool> RemoveHandoffFromStore(const NotifyOptions& options = {});

}  // namespace sdfd

#endif  // SDFD_HANDOFF_H_
