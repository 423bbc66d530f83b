#include "client/target.h"

#include <grp.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "sdfd/errno_status.h"

namespace foobar::client {
namespace {

// GroupName returns the name of group `gid`, or "" when it has none.
std::string GroupName(gid_t gid) {
  std::vector<char> buffer(16384);
  group entry;
  group* result = nullptr;
  if (getgrgid_r(gid, &entry, buffer.data(), buffer.size(), &result) != 0 ||
      result == nullptr) {
    return "";
  }
  return result->gr_name;
}

std::string PermissionHint(const sdfd::SocketSpec& spec) {
  if (spec.path.empty() || spec.path[0] == '@') return "";
  struct stat st;
  if (stat(spec.path.c_str(), &st) != 0) {
    // connect() and stat() both walk the path: when stat() is refused too,
    // a directory on the way is not searchable, not the socket itself.
    return " (a directory on the way to the socket is not accessible to you;"
           " ask an administrator to check its permissions)";
  }
  const std::string group = GroupName(st.st_gid);
  if (group.empty()) {
    return absl::StrFormat(
        " (the socket belongs to group id %u, which has no name; ask an "
        "administrator for access)",
        st.st_gid);
  }
  return absl::StrFormat(
      " (the socket belongs to group %s; try: sudo adduser $USER %s, then log "
      "in again)",
      group, group);
}

// IsOwnSocketFailure tells, from the kind of a failed sdfd::Connect, whether
// the client could not make its own socket (socket(), setsockopt()) rather
// than reach the server: it ran out of descriptors or memory (EMFILE,
// ENFILE, ENOBUFS, ENOMEM: kResourceExhausted) or the kernel lacks the
// address family (EAFNOSUPPORT, EPROTONOSUPPORT: kUnimplemented). Those
// keep sdfd's words, which name the call; "cannot connect to" and a hint
// about the server would mislead. connect() itself fails that way only on
// the same shortage, which sdfd's words describe as well.
bool IsOwnSocketFailure(const absl::Status& status) {
  return status.code() == absl::StatusCode::kResourceExhausted ||
         status.code() == absl::StatusCode::kUnimplemented;
}

}  // namespace

std::string DisplayName(const sdfd::SocketSpec& spec) {
  if (spec.family == AF_UNIX) return spec.path;
  if (spec.family == AF_INET6) {
    return absl::StrCat("[", spec.host, "]:", spec.port);
  }
  return absl::StrCat(spec.host, ":", spec.port);
}

absl::Status ConnectError(const sdfd::SocketSpec& spec, int error) {
  const std::string prefix = absl::StrCat(
      "cannot connect to ", DisplayName(spec), ": ", std::strerror(error));
  const bool unix_socket = spec.family == AF_UNIX;
  std::string hint;
  switch (error) {
    case ENOENT:
      hint =
          " (is foobar.socket running? try: systemctl enable --now "
          "foobar.socket)";
      break;
    case EACCES:
    case EPERM:
      hint = PermissionHint(spec);
      break;
    case ECONNREFUSED:
      hint = unix_socket
                 ? " (the socket exists but no server is listening on it; "
                   "try: systemctl restart foobar.socket)"
                 : " (no server is listening on that port)";
      break;
    default:
      break;
  }
  return sdfd::WithErrno(
      absl::Status(absl::ErrnoToStatusCode(error), prefix + hint), error);
}

absl::Status ConnectTimeoutError(const sdfd::SocketSpec& spec,
                                 absl::Duration timeout) {
  return absl::DeadlineExceededError(absl::StrCat(
      "cannot connect to ", DisplayName(spec), ": timed out after ",
      absl::FormatDuration(timeout),
      " (the server is not accepting connections; check: systemctl status "
      "foobar.service, or raise --timeout)"));
}

absl::Status EchoTimeoutError(absl::string_view target,
                              absl::Duration timeout) {
  return absl::DeadlineExceededError(absl::StrCat(
      "no echo from ", target, " within ", absl::FormatDuration(timeout),
      " (the server accepted the connection but does not answer; check: "
      "systemctl status foobar.service, or raise --timeout)"));
}

absl::Status TransferError(absl::string_view target, absl::string_view call,
                           int error) {
  std::string what;
  switch (error) {
    case ECONNRESET:
      what =
          absl::StrCat("connection to ", target, " was reset by the server (",
                       call, ": ", std::strerror(error),
                       "); check its log: journalctl -u foobar.service");
      break;
    case EPIPE:
      what = absl::StrCat("connection to ", target,
                          " was closed by the server while sending (", call,
                          ": ", std::strerror(error),
                          "); check its log: journalctl -u foobar.service");
      break;
    default:
      what = absl::StrCat(call, " on the connection to ", target, ": ",
                          std::strerror(error));
      break;
  }
  return sdfd::WithErrno(absl::Status(absl::ErrnoToStatusCode(error), what),
                         error);
}

absl::Status ServerClosedError(absl::string_view target) {
  return absl::UnavailableError(
      absl::StrCat("connection to ", target,
                   " was closed by the server; check its log: journalctl -u "
                   "foobar.service"));
}

absl::Status ClosedEarlyError(absl::string_view target, uint64_t received,
                              uint64_t expected) {
  return absl::UnavailableError(absl::StrCat(
      "connection to ", target,
      " was closed by the server before the echo was complete (", received,
      " of ", expected,
      " bytes came back); check its log: journalctl -u foobar.service"));
}

absl::StatusOr<sdfd::UniqueFd> ConnectWithTimeout(const sdfd::SocketSpec& spec,
                                                  absl::Duration timeout) {
  absl::StatusOr<sdfd::UniqueFd> fd = sdfd::Connect(spec, timeout);
  if (!fd.ok()) {
    const int error = sdfd::ErrnoOf(fd.status());
    if (error == ETIMEDOUT) return ConnectTimeoutError(spec, timeout);
    if (error == 0 || IsOwnSocketFailure(fd.status())) return fd.status();
    return ConnectError(spec, error);
  }
  if (spec.family != AF_UNIX) {
    const int one = 1;
    if (setsockopt(fd->get(), IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)) !=
        0) {
      return sdfd::ErrnoError(
          errno, absl::StrCat("setsockopt(", spec.text, ", TCP_NODELAY)"));
    }
  }
  return fd;
}

}  // namespace foobar::client
