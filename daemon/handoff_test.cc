// daemon/handoff_test.cc: a bundle and 0.1.0's per-connection entries are
// both taken back; 0.1.0's names pair connections with their unsent bytes,
// memfds round-trip, and a connection whose bytes are lost is never resumed.
#include "daemon/handoff.h"

#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include <string>
#include <utility>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "sdfd/handoff.h"

namespace foobard {
namespace {

using ::testing::ElementsAre;
using ::testing::UnorderedElementsAre;

sdfd::ListenFd Named(sdfd::UniqueFd fd, std::string name) {
  sdfd::ListenFd out;
  out.fd = std::move(fd);
  out.name = std::move(name);
  return out;
}

sdfd::UniqueFd SocketFd() {
  int sv[2];
  EXPECT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
  ::close(sv[1]);
  return sdfd::UniqueFd(sv[0]);
}

TEST(ParseStoredName, ClassifiesTheScheme) {
  EXPECT_EQ(ParseStoredName("conn").kind, StoredKind::kConnection);
  EXPECT_EQ(ParseStoredName("conn.12.3").kind, StoredKind::kConnection);
  EXPECT_EQ(ParseStoredName("conn.12.3").key, "12.3");
  EXPECT_EQ(ParseStoredName("conn-data.12.3").kind, StoredKind::kData);
  EXPECT_EQ(ParseStoredName("conn-data.12.3").key, "12.3");
  EXPECT_EQ(ParseStoredName("foobar.socket").kind, StoredKind::kOther);
  EXPECT_EQ(ParseStoredName("connection").kind, StoredKind::kOther);
  EXPECT_EQ(ParseStoredName("conn-data").kind, StoredKind::kOther);
}

TEST(ParseStoredName, BuildsNamesItParses) {
  EXPECT_EQ(ConnectionName("7.1"), "conn.7.1");
  EXPECT_EQ(DataName("7.1"), "conn-data.7.1");
  EXPECT_EQ(ParseStoredName(DataName("7.1")).key, "7.1");
}

TEST(Memfd, RoundTripsBinaryData) {
  std::string data("a\0b\xff", 4);
  data += std::string(100000, 'z');
  absl::StatusOr<sdfd::UniqueFd> fd = WriteMemfd(data);
  ASSERT_TRUE(fd.ok()) << fd.status();
  absl::StatusOr<std::string> back = ReadMemfd(fd->get(), data.size());
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(*back, data);
}

TEST(Memfd, RefusesMoreThanTheLimit) {
  absl::StatusOr<sdfd::UniqueFd> fd = WriteMemfd("0123456789");
  ASSERT_TRUE(fd.ok());
  EXPECT_EQ(ReadMemfd(fd->get(), 9).status().code(),
            absl::StatusCode::kOutOfRange);
}

TEST(Memfd, RejectsASocket) {
  sdfd::UniqueFd s = SocketFd();
  EXPECT_EQ(ReadMemfd(s.get(), 100).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(TakeHandedOff, PairsConnectionsWithTheirDataAndLeavesTheRest) {
  std::vector<sdfd::ListenFd> fds;
  fds.push_back(Named(SocketFd(), "foobar.socket"));
  fds.push_back(Named(SocketFd(), "conn.1.1"));
  fds.push_back(Named(SocketFd(), "conn.1.2"));
  fds.push_back(Named(*WriteMemfd("unsent"), "conn-data.1.2"));
  fds.push_back(Named(SocketFd(), "conn"));
  std::vector<std::string> names;
  std::vector<absl::Status> problems;
  std::vector<HandedOff> conns =
      TakeLegacyHandedOff(fds, 1024, &names, &problems);
  EXPECT_TRUE(problems.empty());
  ASSERT_EQ(fds.size(), 1u);
  EXPECT_EQ(fds[0].name, "foobar.socket");
  ASSERT_EQ(conns.size(), 3u);
  EXPECT_EQ(conns[0].name, "conn.1.1");
  EXPECT_EQ(conns[0].unsent, "");
  EXPECT_EQ(conns[1].name, "conn.1.2");
  EXPECT_EQ(conns[1].unsent, "unsent");
  EXPECT_EQ(conns[2].name, "conn");
  EXPECT_TRUE(conns[2].fd.valid());
  EXPECT_THAT(names, UnorderedElementsAre("conn.1.1", "conn.1.2",
                                          "conn-data.1.2", "conn"));
}

TEST(TakeHandedOff, DataWithoutItsConnectionIsAProblem) {
  std::vector<sdfd::ListenFd> fds;
  fds.push_back(Named(*WriteMemfd("orphan"), "conn-data.9.9"));
  std::vector<std::string> names;
  std::vector<absl::Status> problems;
  EXPECT_TRUE(TakeLegacyHandedOff(fds, 1024, &names, &problems).empty());
  ASSERT_EQ(problems.size(), 1u);
  EXPECT_EQ(
      problems[0].message(),
      "dropping conn-data.9.9: no connection conn.9.9 was passed with it");
  EXPECT_THAT(names, ElementsAre("conn-data.9.9"));
}

TEST(TakeHandedOff, ConnectionWithUnreadableDataIsClosedNotResumed) {
  std::vector<sdfd::ListenFd> fds;
  fds.push_back(Named(SocketFd(), "conn.5.1"));
  fds.push_back(Named(SocketFd(), "conn-data.5.1"));  // not a memfd
  std::vector<std::string> names;
  std::vector<absl::Status> problems;
  EXPECT_TRUE(TakeLegacyHandedOff(fds, 1024, &names, &problems).empty());
  ASSERT_EQ(problems.size(), 1u);
  EXPECT_THAT(std::string(problems[0].message()),
              ::testing::StartsWith("closing handed-off connection conn.5.1: "
                                    "its unsent bytes in conn-data.5.1 are "
                                    "unreadable"));
}

// Bundle packs `states.size()` fresh connections; their clients go to
// `clients`.
sdfd::UniqueFd Bundle(const std::vector<std::string>& states,
                      std::vector<sdfd::UniqueFd>* clients) {
  std::vector<sdfd::UniqueFd> servers;
  sdfd::HandoffWriter writer;
  for (const std::string& state : states) {
    int sv[2];
    EXPECT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
    servers.emplace_back(sv[0]);
    clients->emplace_back(sv[1]);
    EXPECT_TRUE(writer.Add(sv[0], state).ok());
  }
  absl::StatusOr<sdfd::UniqueFd> bundle = sdfd::PackHandoff(writer);
  EXPECT_TRUE(bundle.ok()) << bundle.status();
  return bundle.ok() ? *std::move(bundle) : sdfd::UniqueFd();
}

TEST(TakeHandedOff, TakesBundleAndLegacyEntriesAndLeavesTheRest) {
  std::vector<sdfd::UniqueFd> clients;
  std::vector<sdfd::ListenFd> fds;
  fds.push_back(Named(SocketFd(), "foobar.socket"));
  fds.push_back(Named(Bundle({"ab", ""}, &clients), "sdfd-handoff"));
  fds.push_back(Named(SocketFd(), "conn.1.1"));
  fds.push_back(Named(*WriteMemfd("xyz"), "conn-data.1.1"));
  HandedOffSet set = TakeHandedOff(fds, 1024);
  EXPECT_TRUE(set.problems.empty());
  EXPECT_EQ(set.bundles, 1u);
  EXPECT_THAT(set.legacy_names,
              UnorderedElementsAre("conn.1.1", "conn-data.1.1"));
  ASSERT_EQ(set.connections.size(), 3u);
  EXPECT_EQ(set.connections[0].unsent, "ab");
  EXPECT_EQ(set.connections[1].unsent, "");
  EXPECT_EQ(set.connections[2].unsent, "xyz");
  EXPECT_EQ(set.connections[2].name, "conn.1.1");
  ASSERT_EQ(fds.size(), 1u);
  EXPECT_EQ(fds[0].name, "foobar.socket");
}

TEST(TakeHandedOff, StateBeyondTheBufferCapClosesThatConnectionOnly) {
  std::vector<sdfd::UniqueFd> clients;
  std::vector<sdfd::ListenFd> fds;
  fds.push_back(
      Named(Bundle({"ok", std::string(5, 'x')}, &clients), "sdfd-handoff"));
  HandedOffSet set = TakeHandedOff(fds, 4);
  ASSERT_EQ(set.connections.size(), 1u);
  EXPECT_EQ(set.connections[0].unsent, "ok");
  ASSERT_EQ(set.problems.size(), 1u);
  EXPECT_EQ(set.problems[0].message(),
            "closing a handed-off connection: its 5 unsent bytes exceed 4");
  char c;
  EXPECT_EQ(::recv(clients[1].get(), &c, 1, MSG_DONTWAIT), 0)
      << "its client sees the connection closed";
}

TEST(TakeHandedOff, CorruptBundleServesNoneAndIsStillCounted) {
  std::vector<sdfd::ListenFd> fds;
  fds.push_back(Named(SocketFd(), "sdfd-handoff"));  // empty: no header
  HandedOffSet set = TakeHandedOff(fds, 1024);
  EXPECT_TRUE(set.connections.empty());
  EXPECT_EQ(set.bundles, 1u);
  ASSERT_EQ(set.problems.size(), 1u);
  EXPECT_THAT(std::string(set.problems[0].message()),
              ::testing::HasSubstr("none of its connections is served: "
                                   "corrupt handoff bundle"));
  EXPECT_TRUE(fds.empty());
}

}  // namespace
}  // namespace foobard
