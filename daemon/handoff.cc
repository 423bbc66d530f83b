// daemon/handoff.cc: see handoff.h.
#include "daemon/handoff.h"

#include <errno.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>
#include <map>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "sdfd/errno_status.h"
#include "sdfd/handoff.h"
#include "sdfd/notify.h"

namespace foobard {
namespace {

constexpr absl::string_view kConnPrefix = "conn";
constexpr absl::string_view kDataPrefix = "conn-data";

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

absl::StatusOr<bool> RemoveFromStore(absl::string_view name,
                                     const sdfd::NotifyOptions& options) {
  return sdfd::PidNotifyWithFds(absl::StrCat("FDSTOREREMOVE=1\nFDNAME=", name),
                                {}, options);
}

}  // namespace foobard
