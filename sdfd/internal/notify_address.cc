#include "sdfd/internal/notify_address.h"

#include <cerrno>
#include <cstddef>
#include <cstring>
#include <string>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "sdfd/errno_status.h"
#include "sdfd/internal/env_parse.h"

namespace sdfd::internal {
namespace {

absl::Status Invalid(int errno_value, absl::string_view value,
                     absl::string_view why) {
  return InvalidArgumentWithErrno(
      errno_value,
      absl::StrCat("NOTIFY_SOCKET=\"", absl::CHexEscape(value), "\" ", why));
}

// ParseUnix is socket_address_parse_unix() with sockaddr_un_set_path().
absl::StatusOr<NotifyAddress> ParseUnix(absl::string_view value) {
  NotifyAddress address;
  std::memset(&address.un, 0, sizeof(address.un));
  if (value.size() < 2) {
    return Invalid(EINVAL, value, "names no socket");
  }
  if (value.size() + 1 > sizeof(address.un.sun_path)) {
    // A long file system path is ENAMETOOLONG (it could still be reached
    // through O_PATH), a long abstract name EINVAL.
    return Invalid(value[0] == '@' ? EINVAL : ENAMETOOLONG, value,
                   "does not fit sockaddr_un");
  }
  address.un.sun_family = AF_UNIX;
  if (value[0] == '@') {
    std::memcpy(address.un.sun_path + 1, value.data() + 1, value.size() - 1);
    address.size = offsetof(sockaddr_un, sun_path) + value.size();
  } else {
    std::memcpy(address.un.sun_path, value.data(), value.size());
    address.size = offsetof(sockaddr_un, sun_path) + value.size() + 1;
  }
  return address;
}

// ParseVsockCid is vsock_parse_cid().
int ParseVsockCid(const std::string& text, unsigned* cid) {
  if (text == "hypervisor") {
    *cid = VMADDR_CID_HYPERVISOR;
  } else if (text == "local") {
    *cid = VMADDR_CID_LOCAL;
  } else if (text == "host") {
    *cid = VMADDR_CID_HOST;
  } else {
    return SafeAtou(text.c_str(), cid);
  }
  return 0;
}

// ParseVsock is socket_address_parse_vsock(), plus sd-daemon.c's refusal of
// VMADDR_CID_ANY.
absl::StatusOr<NotifyAddress> ParseVsock(absl::string_view value) {
  NotifyAddress address;
  absl::string_view rest = value;
  if (absl::ConsumePrefix(&rest, "vsock:")) {
    address.type = 0;
  } else if (absl::ConsumePrefix(&rest, "vsock-dgram:")) {
    address.type = SOCK_DGRAM;
  } else if (absl::ConsumePrefix(&rest, "vsock-seqpacket:")) {
    address.type = SOCK_SEQPACKET;
  } else if (absl::ConsumePrefix(&rest, "vsock-stream:")) {
    address.type = SOCK_STREAM;
  } else {
    return Invalid(EPROTO, value,
                   "is neither an AF_UNIX path or @name nor vsock:CID:PORT");
  }
  const size_t colon = rest.find(':');
  if (colon == absl::string_view::npos) {
    return Invalid(EINVAL, value, "has no :PORT after the vsock CID");
  }
  unsigned port = 0;
  const std::string port_text(rest.substr(colon + 1));
  if (int r = SafeAtou(port_text.c_str(), &port); r < 0) {
    return Invalid(-r, value, "has no valid vsock port");
  }
  // Port 0 is an ordinary AF_VSOCK port; VMADDR_PORT_ANY is not a peer.
  if (port == VMADDR_PORT_ANY) {
    return Invalid(EINVAL, value, "names VMADDR_PORT_ANY as the port");
  }
  unsigned cid = VMADDR_CID_ANY;
  const std::string cid_text(rest.substr(0, colon));
  if (!cid_text.empty()) {
    if (int r = ParseVsockCid(cid_text, &cid); r < 0) {
      return Invalid(-r, value, "has no valid vsock CID");
    }
  }
  if (cid == VMADDR_CID_ANY) {
    return Invalid(EINVAL, value, "names no vsock CID to send to");
  }
  std::memset(&address.vm, 0, sizeof(address.vm));
  address.vm.svm_family = AF_VSOCK;
  address.vm.svm_cid = cid;
  address.vm.svm_port = port;
  address.size = sizeof(address.vm);
  return address;
}

}  // namespace

absl::StatusOr<NotifyAddress> ParseNotifySocket(absl::string_view value) {
  if (!value.empty() && (value[0] == '/' || value[0] == '@')) {
    return ParseUnix(value);
  }
  return ParseVsock(value);
}

}  // namespace sdfd::internal
