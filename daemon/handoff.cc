// daemon/handoff.cc: see handoff.h.
#include "daemon/handoff.h"

#include <errno.h>
#include <poll.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <map>
#include <optional>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "common/clock.h"
#include "sdfd/errno_status.h"
#include "sdfd/fd_store.h"
#include "sdfd/handoff.h"
#include "sdfd/notify.h"

namespace foobard {
namespace {

constexpr absl::string_view kConnPrefix = "conn";
constexpr absl::string_view kDataPrefix = "conn-data";

// kStoreRemoveLimit bounds how long start-up waits for a busy service
// manager to take one FDSTOREREMOVE=1 message.
constexpr absl::Duration kStoreRemoveLimit = absl::Seconds(1);

// SendWithin makes `send(options)` non-blocking and retries it every 10 ms
// while the service manager's notify queue is full, for at most `limit`;
// then it gives up with DeadlineExceeded rather than wait without bound.
template <typename Send>
absl::Status SendWithin(absl::Duration limit, Send send) {
  sdfd::NotifyOptions options;
  options.non_blocking = true;
  const absl::Time deadline = absl::Now() + limit;
  for (;;) {
    absl::StatusOr<bool> sent = send(options);
    if (sent.ok() || !sdfd::NotifyWouldBlock(sent.status())) {
      return sent.status();
    }
    if (absl::Now() >= deadline) {
      return absl::DeadlineExceededError(absl::StrCat(
          "the service manager's notify queue stayed full for ",
          absl::FormatDuration(limit), "; the entry stays in the store"));
    }
    absl::SleepFor(absl::Milliseconds(10));
  }
}

// WaitToRetryStore waits up to 10 ms before the next try of a store the
// service manager's full queue refused; false once `deadline_ns` has passed
// or `stop_fd` turned readable (a second SIGTERM/SIGINT: stop waiting).
bool WaitToRetryStore(int64_t deadline_ns, int stop_fd) {
  const int64_t now = foobar::MonotonicNanos();
  if (now >= deadline_ns) return false;
  pollfd p{stop_fd, POLLIN, 0};  // a negative fd is ignored by poll(2)
  const int ms = std::min(10, foobar::MillisUntil(deadline_ns, now));
  return ::poll(&p, 1, ms) == 0;
}

// StoreBundle packs `writer` and sends it with FDSTORE=1, retrying a full
// notify queue (see HandOff). False: NOTIFY_SOCKET is unset.
absl::StatusOr<bool> StoreBundle(const sdfd::HandoffWriter& writer,
                                 int64_t deadline_ns, int stop_fd) {
  if (std::getenv("NOTIFY_SOCKET") == nullptr) return false;
  absl::StatusOr<sdfd::UniqueFd> bundle = sdfd::PackHandoff(writer);
  if (!bundle.ok()) return bundle.status();
  // A busy PID 1 (its notify queue full) is retried until the drain
  // deadline or a second signal, never waited on without bound.
  sdfd::NotifyOptions options;
  options.non_blocking = true;
  absl::StatusOr<bool> stored =
      sdfd::StoreHandoffBundle(bundle->get(), options);
  while (!stored.ok() && sdfd::NotifyWouldBlock(stored.status()) &&
         WaitToRetryStore(deadline_ns, stop_fd)) {
    stored = sdfd::StoreHandoffBundle(bundle->get(), options);
  }
  if (!stored.ok() && sdfd::NotifyWouldBlock(stored.status())) {
    return absl::DeadlineExceededError(
        "the service manager's notify queue stayed full until "
        "--drain_timeout or a second signal");
  }
  return stored;
}

}  // namespace

StoredName ParseStoredName(absl::string_view name) {
  StoredName out;
  if (name == kConnPrefix) {
    out.kind = StoredKind::kConnection;
    return out;
  }
  if (absl::StartsWith(name, absl::StrCat(kDataPrefix, "."))) {
    out.kind = StoredKind::kData;
    out.key = std::string(name.substr(kDataPrefix.size() + 1));
    return out;
  }
  if (absl::StartsWith(name, absl::StrCat(kConnPrefix, "."))) {
    out.kind = StoredKind::kConnection;
    out.key = std::string(name.substr(kConnPrefix.size() + 1));
    return out;
  }
  return out;
}

std::string ConnectionName(absl::string_view key) {
  return absl::StrCat(kConnPrefix, ".", key);
}

std::string DataName(absl::string_view key) {
  return absl::StrCat(kDataPrefix, ".", key);
}

absl::StatusOr<sdfd::UniqueFd> WriteMemfd(absl::string_view data) {
  sdfd::UniqueFd fd(::memfd_create("foobard-unsent", MFD_CLOEXEC));
  if (!fd.valid())
    return sdfd::ErrnoError(errno, "memfd_create(foobard-unsent)");
  size_t done = 0;
  while (done < data.size()) {
    ssize_t n = ::write(fd.get(), data.data() + done, data.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      return sdfd::ErrnoError(
          errno, absl::StrCat("write(memfd, ", data.size(), " bytes)"));
    }
    done += static_cast<size_t>(n);
  }
  return fd;
}

absl::StatusOr<std::string> ReadMemfd(int fd, size_t max_size) {
  struct stat st;
  if (::fstat(fd, &st) != 0) {
    return sdfd::ErrnoError(errno, absl::StrCat("fstat(", fd, ")"));
  }
  if (!S_ISREG(st.st_mode)) {
    return absl::InvalidArgumentError(
        absl::StrCat("fd ", fd, " is not a memfd (not a regular file)"));
  }
  if (static_cast<uint64_t>(st.st_size) > max_size) {
    return absl::OutOfRangeError(absl::StrCat(
        "memfd ", fd, " holds ", st.st_size, " bytes, more than ", max_size));
  }
  std::string data(static_cast<size_t>(st.st_size), '\0');
  size_t done = 0;
  while (done < data.size()) {
    // pread: the file offset is shared with the instance that wrote it and
    // sits at the end.
    ssize_t n =
        ::pread(fd, &data[done], data.size() - done, static_cast<off_t>(done));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return sdfd::ErrnoError(errno, absl::StrCat("pread(", fd, ")"));
    if (n == 0) {
      return absl::DataLossError(absl::StrCat("memfd ", fd, " shrank to ", done,
                                              " bytes while reading"));
    }
    done += static_cast<size_t>(n);
  }
  return data;
}

std::vector<HandedOff> TakeLegacyHandedOff(
    std::vector<sdfd::ListenFd>& fds, size_t max_unsent,
    std::vector<std::string>* store_names,
    std::vector<absl::Status>* problems) {
  std::vector<HandedOff> conns;
  std::map<std::string, sdfd::ListenFd> data_by_key;
  std::vector<sdfd::ListenFd> rest;
  for (sdfd::ListenFd& fd : fds) {
    StoredName parsed = ParseStoredName(fd.name);
    switch (parsed.kind) {
      case StoredKind::kOther:
        rest.push_back(std::move(fd));
        break;
      case StoredKind::kConnection:
        store_names->push_back(fd.name);
        conns.push_back(HandedOff{std::move(fd.fd), fd.name, ""});
        break;
      case StoredKind::kData:
        store_names->push_back(fd.name);
        data_by_key[parsed.key] = std::move(fd);
        break;
    }
  }
  fds = std::move(rest);

  std::vector<HandedOff> ready;
  for (HandedOff& conn : conns) {
    StoredName parsed = ParseStoredName(conn.name);
    auto it =
        parsed.key.empty() ? data_by_key.end() : data_by_key.find(parsed.key);
    if (it != data_by_key.end()) {
      absl::StatusOr<std::string> unsent =
          ReadMemfd(it->second.fd.get(), max_unsent);
      const std::string data_name = it->second.name;
      data_by_key.erase(it);
      if (!unsent.ok()) {
        problems->push_back(absl::Status(
            unsent.status().code(),
            absl::StrCat("closing handed-off connection ", conn.name,
                         ": its unsent bytes in ", data_name,
                         " are unreadable: ", unsent.status().message())));
        continue;  // conn.fd closes here
      }
      conn.unsent = *std::move(unsent);
    }
    ready.push_back(std::move(conn));
  }
  for (auto& [key, data] : data_by_key) {
    problems->push_back(absl::NotFoundError(
        absl::StrCat("dropping ", data.name, ": no connection conn.", key,
                     " was passed with it")));
  }
  return ready;
}

HandedOffSet TakeHandedOff(std::vector<sdfd::ListenFd>& fds,
                           size_t max_unsent) {
  HandedOffSet set;
  for (sdfd::TakenHandoff& taken : sdfd::TakeHandoffs(fds)) {
    ++set.bundles;
    if (!taken.entries.ok()) {
      // All or nothing (sdfd/handoff.h): every fd received was closed.
      set.problems.push_back(
          absl::Status(taken.entries.status().code(),
                       absl::StrCat("fd store entry ", sdfd::kHandoffFdName,
                                    " (fd ", taken.fd_number,
                                    "): none of its connections is served: ",
                                    taken.entries.status().message())));
      continue;
    }
    for (sdfd::HandoffEntry& entry : *taken.entries) {
      if (entry.state.size() > max_unsent) {
        set.problems.push_back(absl::OutOfRangeError(absl::StrCat(
            "closing a handed-off connection: its ", entry.state.size(),
            " unsent bytes exceed ", max_unsent)));
        continue;  // entry.fd closes here
      }
      set.connections.push_back(HandedOff{
          std::move(entry.fd), sdfd::kHandoffFdName, std::move(entry.state)});
    }
  }
  std::vector<HandedOff> legacy =
      TakeLegacyHandedOff(fds, max_unsent, &set.legacy_names, &set.problems);
  for (HandedOff& conn : legacy) set.connections.push_back(std::move(conn));
  return set;
}

void RemoveTakenFromStore(const HandedOffSet& set, const Logger& log) {
  if (set.bundles > 0) {
    absl::Status s = SendWithin(kStoreRemoveLimit, [](const auto& options) {
      return sdfd::RemoveHandoffFromStore(options);
    });
    if (!s.ok()) {
      log.Warning(absl::StrCat("FDSTOREREMOVE ", sdfd::kHandoffFdName, ": ",
                               s.message()));
    }
  }
  for (const std::string& name : set.legacy_names) {
    absl::Status s =
        SendWithin(kStoreRemoveLimit, [&name](const auto& options) {
          return RemoveFromStore(name, options);
        });
    if (!s.ok()) {
      log.Warning(absl::StrCat("FDSTOREREMOVE ", name, ": ", s.message()));
    }
  }
}

void HandOff(std::vector<sdfd::HandoffEntry> connections, int64_t deadline_ns,
             int stop_fd, const Logger& log) {
  // Every live connection goes into one fd-store entry with its unsent
  // bytes (sdfd/handoff.h): linear work here and in PID 1, one stored fd.
  size_t live = connections.size();
  sdfd::HandoffWriter writer;
  for (sdfd::HandoffEntry& c : connections) {
    absl::Status s = writer.Add(c.fd.get(), c.state);
    if (!s.ok()) {
      log.Error(absl::StrCat("closing connection fd ", c.fd.get(),
                             " instead of handing it off: ", s.message()));
      --live;
      if (log.verbose()) {
        log.Debug(absl::StrCat("fd ", c.fd.get(), ": over the handoff cap (",
                               live, " live)"));
      }
      c.fd.reset();
    }
  }
  const size_t count = writer.size();
  const uint64_t unsent = writer.state_bytes();
  absl::StatusOr<bool> stored = StoreBundle(writer, deadline_ns, stop_fd);
  // The bundle holds its own copies: ours close either way.
  for (sdfd::HandoffEntry& c : connections) {
    if (!c.fd.valid()) continue;
    --live;
    if (stored.ok() && log.verbose()) {
      log.Debug(
          absl::StrCat("fd ", c.fd.get(), ": handed off (", live, " live)"));
    }
    c.fd.reset();
  }
  if (!stored.ok() || !*stored) {
    log.Error(absl::StrCat(
        "handing off ", count, " connections failed, they are closed: ",
        stored.ok() ? "NOTIFY_SOCKET vanished" : stored.status().message()));
    return;
  }
  // Blocking is fine now: serving has stopped. The barrier says PID 1 has
  // processed the FDSTORE=1 message, not that its store kept it.
  const absl::Duration left = absl::Nanoseconds(
      std::max<int64_t>(deadline_ns - foobar::MonotonicNanos(), 0));
  absl::StatusOr<bool> passed = sdfd::NotifyBarrier(left);
  // "handed off N connections to the fd store" starts the line on every
  // release, a stable text for operators who grep the journal (foobard.8);
  // foobar's own tests check handoffs through systemd and the kernel.
  const std::string what =
      absl::StrCat(count, " connections to the fd store (one entry, ", unsent,
                   " unsent bytes)");
  if (!passed.ok()) {
    log.Warning(absl::StrCat("sent ", what,
                             ", but systemd did not confirm processing it "
                             "(BARRIER=1): ",
                             passed.status().message()));
    return;
  }
  absl::StatusOr<std::optional<unsigned>> store_max = sdfd::FdStoreMax();
  if (store_max.ok() && store_max->has_value()) {
    log.Info(absl::StrCat("handed off ", what,
                          "; systemd processed it, its store is enabled "
                          "(FDSTORE=",
                          **store_max, ")"));
  } else {
    log.Info(absl::StrCat(
        "handed off ", what,
        "; systemd processed it, but whether its store kept it cannot be "
        "confirmed (",
        store_max.ok() ? "$FDSTORE is unset: systemd < 254, or "
                         "FileDescriptorStoreMax=0"
                       : store_max.status().message(),
        ")"));
  }
}

absl::StatusOr<bool> RemoveFromStore(absl::string_view name,
                                     const sdfd::NotifyOptions& options) {
  return sdfd::PidNotifyWithFds(absl::StrCat("FDSTOREREMOVE=1\nFDNAME=", name),
                                {}, options);
}

}  // namespace foobard
