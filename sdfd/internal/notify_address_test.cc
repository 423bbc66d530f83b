// ParseNotifySocket: every NOTIFY_SOCKET form of systemd v257's
// socket_address_parse_unix() and socket_address_parse_vsock(), with the
// exact address bytes and errno. These run everywhere: no socket is opened.
#include "sdfd/internal/notify_address.h"

#include <cerrno>
#include <cstddef>
#include <cstring>
#include <string>

#include "gtest/gtest.h"
#include "sdfd/errno_status.h"

namespace sdfd::internal {
namespace {

int ErrnoOfParse(const std::string& value) {
  absl::StatusOr<NotifyAddress> address = ParseNotifySocket(value);
  if (address.ok()) return 0;
  EXPECT_EQ(address.status().code(), absl::StatusCode::kInvalidArgument)
      << value;
  return ErrnoOf(address.status());
}

TEST(ParseNotifySocket, PathKeepsItsNulInTheLength) {
  absl::StatusOr<NotifyAddress> a = ParseNotifySocket("/run/systemd/notify");
  ASSERT_TRUE(a.ok()) << a.status();
  EXPECT_EQ(a->un.sun_family, AF_UNIX);
  EXPECT_STREQ(a->un.sun_path, "/run/systemd/notify");
  EXPECT_EQ(a->size, offsetof(sockaddr_un, sun_path) + 20);
  EXPECT_EQ(a->type, 0);
}

TEST(ParseNotifySocket, AbstractNameHasNoNul) {
  absl::StatusOr<NotifyAddress> a = ParseNotifySocket("@sd-notify");
  ASSERT_TRUE(a.ok()) << a.status();
  EXPECT_EQ(a->un.sun_path[0], '\0');
  EXPECT_EQ(std::string(a->un.sun_path + 1, 9), "sd-notify");
  EXPECT_EQ(a->size, offsetof(sockaddr_un, sun_path) + 10);
}

TEST(ParseNotifySocket, UnixLengthLimits) {
  EXPECT_EQ(ErrnoOfParse("/" + std::string(106, 'p')), 0);  // 107 + NUL
  EXPECT_EQ(ErrnoOfParse("/" + std::string(107, 'p')), ENAMETOOLONG);
  EXPECT_EQ(ErrnoOfParse("@" + std::string(106, 'p')), 0);
  EXPECT_EQ(ErrnoOfParse("@" + std::string(107, 'p')), EINVAL);
  EXPECT_EQ(ErrnoOfParse("/"), EINVAL);
  EXPECT_EQ(ErrnoOfParse("@"), EINVAL);
}

// "If the string starts with vsock: then the string is understood as an
// AF_VSOCK address ... vsock-stream, vsock-dgram and vsock-seqpacket can be
// used instead of vsock to force usage of the corresponding socket type"
// (sd_notify(3), systemd 257).
TEST(ParseNotifySocket, VsockForms) {
  struct Case {
    const char* value;
    int type;
    unsigned cid;
    unsigned port;
  };
  const Case cases[] = {
      {"vsock:2:1234", 0, 2, 1234},
      {"vsock-stream:3:1", SOCK_STREAM, 3, 1},
      {"vsock-dgram:4:0", SOCK_DGRAM, 4, 0},
      {"vsock-seqpacket:5:4294967294", SOCK_SEQPACKET, 5, 4294967294u},
      {"vsock:hypervisor:7", 0, VMADDR_CID_HYPERVISOR, 7},
      {"vsock:local:7", 0, VMADDR_CID_LOCAL, 7},
      {"vsock:host:7", 0, VMADDR_CID_HOST, 7},
      {"vsock:0x10:0b101", 0, 16, 5},  // systemd's number rules
      {"vsock: 9:+8", 0, 9, 8},
  };
  for (const Case& c : cases) {
    absl::StatusOr<NotifyAddress> a = ParseNotifySocket(c.value);
    ASSERT_TRUE(a.ok()) << c.value << ": " << a.status();
    EXPECT_EQ(a->type, c.type) << c.value;
    EXPECT_EQ(a->size, sizeof(sockaddr_vm)) << c.value;
    EXPECT_EQ(a->vm.svm_family, AF_VSOCK) << c.value;
    EXPECT_EQ(a->vm.svm_cid, c.cid) << c.value;
    EXPECT_EQ(a->vm.svm_port, c.port) << c.value;
    EXPECT_EQ(a->vm.svm_reserved1, 0) << c.value;
    EXPECT_EQ(a->vm.svm_flags, 0) << c.value;
  }
}

TEST(ParseNotifySocket, VsockErrors) {
  EXPECT_EQ(ErrnoOfParse("vsock"), EPROTO);
  EXPECT_EQ(ErrnoOfParse("vsock-bogus:2:1"), EPROTO);
  EXPECT_EQ(ErrnoOfParse("VSOCK:2:1"), EPROTO);
  EXPECT_EQ(ErrnoOfParse("vsock:2"), EINVAL);   // no ":PORT"
  EXPECT_EQ(ErrnoOfParse("vsock:2:"), EINVAL);  // empty port
  EXPECT_EQ(ErrnoOfParse("vsock:2:x"), EINVAL);
  EXPECT_EQ(ErrnoOfParse("vsock:2:1:2"), EINVAL);         // trailing ":2"
  EXPECT_EQ(ErrnoOfParse("vsock:2:4294967295"), EINVAL);  // VMADDR_PORT_ANY
  EXPECT_EQ(ErrnoOfParse("vsock:2:4294967296"), ERANGE);
  EXPECT_EQ(ErrnoOfParse("vsock:2:-1"), ERANGE);
  EXPECT_EQ(ErrnoOfParse("vsock::1234"), EINVAL);  // VMADDR_CID_ANY
  EXPECT_EQ(ErrnoOfParse("vsock:4294967295:1"), EINVAL);
  EXPECT_EQ(ErrnoOfParse("vsock:-1:1"), ERANGE);
  EXPECT_EQ(ErrnoOfParse("vsock:guest:1"), EINVAL);
  EXPECT_EQ(ErrnoOfParse("vsock:x:4294967295"), EINVAL);  // port first
}

TEST(ParseNotifySocket, NeitherUnixNorVsockIsEproto) {
  EXPECT_EQ(ErrnoOfParse(""), EPROTO);
  EXPECT_EQ(ErrnoOfParse("relative"), EPROTO);
  EXPECT_EQ(ErrnoOfParse("run/notify"), EPROTO);
}

}  // namespace
}  // namespace sdfd::internal
