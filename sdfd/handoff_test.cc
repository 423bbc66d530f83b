// Tests of sdfd/handoff.h: the bundle round trip with real sockets, and every
// way a bundle can be wrong. A connection "travels" when bytes written by its
// client come out of the received fd; a received fd was "closed" when its
// client reads end of stream (the test closes every other copy first).
#include "sdfd/handoff.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "sdfd/fd_store.h"
#include "sdfd/listen_fds.h"
#include "sdfd/testing/notify_receiver.h"
#include "sdfd/testing/test_child.h"
#include "sdfd/unique_fd.h"

namespace sdfd {
namespace {

using ::testing::HasSubstr;

// Pair is one connection: the server end (handed off) and its client.
struct Pair {
  UniqueFd server;
  UniqueFd client;
};

std::vector<Pair> MakePairs(size_t n) {
  std::vector<Pair> pairs;
  for (size_t i = 0; i < n; ++i) {
    int fds[2];
    EXPECT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds), 0);
    pairs.push_back({UniqueFd(fds[0]), UniqueFd(fds[1])});
  }
  return pairs;
}

// Travels writes a tag from the client and reads it from `received`.
bool Travels(const Pair& pair, int received, size_t i) {
  const std::string tag = absl::StrCat("conn ", i);
  if (::write(pair.client.get(), tag.data(), tag.size()) !=
      static_cast<ssize_t>(tag.size())) {
    return false;
  }
  char buf[64];
  const ssize_t n = ::read(received, buf, sizeof(buf));
  return n == static_cast<ssize_t>(tag.size()) &&
         std::string(buf, static_cast<size_t>(n)) == tag;
}

// ClientSeesEof is true when every copy of the server end is closed.
bool ClientSeesEof(const Pair& pair) {
  char c;
  return ::recv(pair.client.get(), &c, 1, MSG_DONTWAIT) == 0;
}

std::string StateOf(size_t i) {
  // Empty, binary with NUL bytes, and one large state among them.
  if (i % 7 == 0) return "";
  if (i == 5) return std::string(300 * 1024, 'x');
  return absl::StrCat(std::string(1, '\0'), "unsent ", i, "\xff");
}

TEST(Handoff, RoundTripAcrossSeveralBatches) {
  constexpr size_t kCount = 600;  // three SCM_RIGHTS batches of <= 253
  std::vector<Pair> pairs = MakePairs(kCount);
  HandoffWriter writer;
  for (size_t i = 0; i < kCount; ++i) {
    ASSERT_TRUE(writer.Add(pairs[i].server.get(), StateOf(i)).ok());
  }
  absl::StatusOr<UniqueFd> bundle = PackHandoff(writer);
  ASSERT_TRUE(bundle.ok()) << bundle.status();
  // The old instance closes its copies; only the bundle holds them now.
  for (Pair& p : pairs) p.server.reset();

  absl::StatusOr<std::vector<HandoffEntry>> entries =
      UnpackHandoff(*std::move(bundle));
  ASSERT_TRUE(entries.ok()) << entries.status();
  ASSERT_EQ(entries->size(), kCount);
  for (size_t i = 0; i < kCount; ++i) {
    EXPECT_EQ((*entries)[i].state, StateOf(i)) << i;
    EXPECT_TRUE(Travels(pairs[i], (*entries)[i].fd.get(), i)) << i;
    EXPECT_EQ(::fcntl((*entries)[i].fd.get(), F_GETFD), FD_CLOEXEC) << i;
  }
}

TEST(Handoff, FdNameIsValidForTheStore) {
  EXPECT_TRUE(FdNameIsValid(kHandoffFdName));
}

TEST(Handoff, EmptyBundleRoundTrips) {
  HandoffWriter writer;
  absl::StatusOr<UniqueFd> bundle = PackHandoff(writer);
  ASSERT_TRUE(bundle.ok()) << bundle.status();
  absl::StatusOr<std::vector<HandoffEntry>> entries =
      UnpackHandoff(*std::move(bundle));
  ASSERT_TRUE(entries.ok()) << entries.status();
  EXPECT_TRUE(entries->empty());
}

TEST(Handoff, WriterRefusesStateBeyondTheCap) {
  std::vector<Pair> pairs = MakePairs(2);
  HandoffWriter writer;
  ASSERT_TRUE(writer.Add(pairs[0].server.get(), "abc").ok());
  // Never read: Add refuses on the size alone, before copying.
  const char dummy = 0;
  const absl::string_view huge(&dummy, kHandoffMaxStateBytes);
  absl::Status s = writer.Add(pairs[1].server.get(), huge);
  EXPECT_EQ(s.code(), absl::StatusCode::kResourceExhausted);
  EXPECT_THAT(s.message(), HasSubstr("do not fit the handoff cap"));
  EXPECT_EQ(writer.size(), 1u);
  EXPECT_EQ(writer.state_bytes(), 3u);
}

// --- the manifest ---------------------------------------------------------

std::vector<std::string> SomeStates() {
  return {"", "a", std::string(9, '\0')};
}

TEST(HandoffManifest, DecodesWhatWasEncoded) {
  absl::StatusOr<HandoffManifest> m =
      DecodeHandoffManifest(EncodeHandoffManifest(SomeStates()));
  ASSERT_TRUE(m.ok()) << m.status();
  EXPECT_EQ(m->states, SomeStates());
}

TEST(HandoffManifest, EveryTruncationIsDataLoss) {
  const std::string bytes = EncodeHandoffManifest(SomeStates());
  for (size_t size = 0; size < bytes.size(); ++size) {
    absl::StatusOr<HandoffManifest> m =
        DecodeHandoffManifest(absl::string_view(bytes).substr(0, size));
    EXPECT_EQ(m.status().code(), absl::StatusCode::kDataLoss) << size;
  }
}

TEST(HandoffManifest, EveryFlippedBitIsDataLoss) {
  const std::string bytes = EncodeHandoffManifest(SomeStates());
  for (size_t bit = 0; bit < 8 * bytes.size(); ++bit) {
    std::string bad = bytes;
    bad[bit / 8] = static_cast<char>(bad[bit / 8] ^ (1 << (bit % 8)));
    EXPECT_EQ(DecodeHandoffManifest(bad).status().code(),
              absl::StatusCode::kDataLoss)
        << "bit " << bit;
  }
}

// Reseal recomputes the checksum (FNV-1a 64, as the encoder does), so a test
// can change a field and reach the check behind the checksum.
std::string Reseal(std::string bytes) {
  bytes.resize(bytes.size() - 8);
  uint64_t h = 0xcbf29ce484222325ULL;
  for (char c : bytes) {
    h ^= static_cast<unsigned char>(c);
    h *= 0x100000001b3ULL;
  }
  for (int i = 0; i < 8; ++i) bytes.push_back(static_cast<char>(h >> (8 * i)));
  return bytes;
}

TEST(HandoffManifest, UnknownVersionIsRefusedByName) {
  std::string bytes = EncodeHandoffManifest(SomeStates());
  bytes[8] = 2;  // version, little-endian u32 at offset 8
  absl::StatusOr<HandoffManifest> m = DecodeHandoffManifest(Reseal(bytes));
  EXPECT_EQ(m.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(m.status().message(),
              HasSubstr("manifest format version 2, this build reads only 1"));
}

TEST(HandoffManifest, LengthsThatDoNotAddUpAreRefused) {
  std::string bytes = EncodeHandoffManifest(SomeStates());
  // Entry 1 claims 2 bytes instead of 1, entry 2 eight instead of nine: the
  // total and size still match, the split does not... and entry 0 claims
  // what is left over.
  bytes[32 + 8] = 2;
  bytes[32 + 16] = 9;
  absl::StatusOr<HandoffManifest> m = DecodeHandoffManifest(Reseal(bytes));
  EXPECT_EQ(m.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(m.status().message(), HasSubstr("overrun the total"));
}

TEST(HandoffManifest, HugeCountsAreRefusedBeforeAllocating) {
  std::string bytes = EncodeHandoffManifest(SomeStates());
  bytes[16 + 7] = 0x7f;  // N near 2^63
  absl::StatusOr<HandoffManifest> m = DecodeHandoffManifest(Reseal(bytes));
  EXPECT_EQ(m.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(m.status().message(), HasSubstr("beyond the caps"));
}

// --- corrupt bundles, hand-built ------------------------------------------

void PutU32(std::string* out, uint32_t v) {
  for (int i = 0; i < 4; ++i) out->push_back(static_cast<char>(v >> (8 * i)));
}
void PutU64(std::string* out, uint64_t v) {
  for (int i = 0; i < 8; ++i) out->push_back(static_cast<char>(v >> (8 * i)));
}

void Send(int fd, const std::string& payload, const std::vector<int>& fds) {
  std::vector<char> control(CMSG_SPACE(sizeof(int) * fds.size()) + 8, 0);
  iovec iov = {const_cast<char*>(payload.data()), payload.size()};
  msghdr m = {};
  m.msg_iov = &iov;
  m.msg_iovlen = 1;
  if (!fds.empty()) {
    m.msg_control = control.data();
    m.msg_controllen = CMSG_SPACE(sizeof(int) * fds.size());
    cmsghdr* c = CMSG_FIRSTHDR(&m);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof(int) * fds.size());
    std::memcpy(CMSG_DATA(c), fds.data(), sizeof(int) * fds.size());
  }
  ASSERT_EQ(::sendmsg(fd, &m, MSG_NOSIGNAL),
            static_cast<ssize_t>(payload.size()));
}

UniqueFd Manifest(const std::vector<std::string>& states, bool seal = true) {
  UniqueFd fd(::memfd_create("test-manifest", MFD_ALLOW_SEALING));
  const std::string bytes = EncodeHandoffManifest(states);
  EXPECT_EQ(::write(fd.get(), bytes.data(), bytes.size()),
            static_cast<ssize_t>(bytes.size()));
  if (seal) {
    EXPECT_EQ(::fcntl(fd.get(), F_ADD_SEALS,
                      F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE),
              0);
  }
  return fd;
}

std::string Header(uint64_t n, uint32_t version = kHandoffFormatVersion) {
  std::string h = "SDFDHOFF";
  PutU32(&h, version);
  PutU32(&h, 0);
  PutU64(&h, n);
  return h;
}

std::string Batch(uint32_t index, uint32_t count) {
  std::string b;
  PutU32(&b, index);
  PutU32(&b, count);
  return b;
}

// Bundle is a hand-built bundle: its reader, and the writer the test fills.
struct Bundle {
  UniqueFd reader;
  UniqueFd writer;
};

Bundle NewBundle() {
  int fds[2];
  EXPECT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds), 0);
  return {UniqueFd(fds[0]), UniqueFd(fds[1])};
}

std::vector<int> ServerFds(const std::vector<Pair>& pairs, size_t from,
                           size_t to) {
  std::vector<int> fds;
  for (size_t i = from; i < to; ++i) fds.push_back(pairs[i].server.get());
  return fds;
}

// ExpectCorruptAndClosed unpacks and checks: DataLoss naming `what`, and
// every connection's client sees end of stream (no copy survived).
void ExpectCorruptAndClosed(Bundle b, std::vector<Pair>& pairs,
                            const std::string& what) {
  b.writer.reset();
  for (Pair& p : pairs) p.server.reset();
  absl::StatusOr<std::vector<HandoffEntry>> entries =
      UnpackHandoff(std::move(b.reader));
  EXPECT_EQ(entries.status().code(), absl::StatusCode::kDataLoss)
      << entries.status();
  EXPECT_THAT(entries.status().message(), HasSubstr(what));
  for (size_t i = 0; i < pairs.size(); ++i) {
    EXPECT_TRUE(ClientSeesEof(pairs[i])) << "connection " << i;
  }
}

std::vector<std::string> States(size_t n) {
  return std::vector<std::string>(n, "s");
}

TEST(HandoffCorrupt, NothingAtAll) {
  std::vector<Pair> pairs;
  ExpectCorruptAndClosed(NewBundle(), pairs, "its first message has 0 bytes");
}

TEST(HandoffCorrupt, NotASocket) {
  UniqueFd memfd = Manifest({});
  absl::StatusOr<std::vector<HandoffEntry>> entries =
      UnpackHandoff(std::move(memfd));
  EXPECT_EQ(entries.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(entries.status().message(), HasSubstr("not a socket"));
}

TEST(HandoffCorrupt, TruncatedAfterOneBatch) {
  std::vector<Pair> pairs = MakePairs(300);
  Bundle b = NewBundle();
  UniqueFd m = Manifest(States(300));
  Send(b.writer.get(), Header(300), {m.get()});
  Send(b.writer.get(), Batch(1, 253), ServerFds(pairs, 0, 253));
  ExpectCorruptAndClosed(std::move(b), pairs, "it ends after 253 of 300");
}

TEST(HandoffCorrupt, MoreConnectionsThanTheManifest) {
  std::vector<Pair> pairs = MakePairs(3);
  Bundle b = NewBundle();
  UniqueFd m = Manifest(States(2));
  Send(b.writer.get(), Header(2), {m.get()});
  Send(b.writer.get(), Batch(1, 2), ServerFds(pairs, 0, 2));
  Send(b.writer.get(), Batch(2, 1), ServerFds(pairs, 2, 3));
  ExpectCorruptAndClosed(std::move(b), pairs, "more follows its 2 connections");
}

TEST(HandoffCorrupt, BatchCountDiffersFromItsFds) {
  std::vector<Pair> pairs = MakePairs(4);
  Bundle b = NewBundle();
  UniqueFd m = Manifest(States(4));
  Send(b.writer.get(), Header(4), {m.get()});
  Send(b.writer.get(), Batch(1, 4), ServerFds(pairs, 0, 3));
  Send(b.writer.get(), Batch(2, 1), ServerFds(pairs, 3, 4));
  ExpectCorruptAndClosed(std::move(b), pairs,
                         "batch 1 has 8 header bytes and 3");
}

TEST(HandoffCorrupt, BatchesOutOfOrder) {
  std::vector<Pair> pairs = MakePairs(2);
  Bundle b = NewBundle();
  UniqueFd m = Manifest(States(2));
  Send(b.writer.get(), Header(2), {m.get()});
  Send(b.writer.get(), Batch(2, 1), ServerFds(pairs, 0, 1));
  Send(b.writer.get(), Batch(1, 1), ServerFds(pairs, 1, 2));
  ExpectCorruptAndClosed(std::move(b), pairs, "batch 1 has");
}

TEST(HandoffCorrupt, HeaderAndManifestDisagree) {
  std::vector<Pair> pairs = MakePairs(2);
  Bundle b = NewBundle();
  UniqueFd m = Manifest(States(1));
  Send(b.writer.get(), Header(2), {m.get()});
  Send(b.writer.get(), Batch(1, 2), ServerFds(pairs, 0, 2));
  ExpectCorruptAndClosed(std::move(b), pairs,
                         "its header says 2 connections, its manifest 1");
}

TEST(HandoffCorrupt, WrongFormatVersion) {
  std::vector<Pair> pairs = MakePairs(1);
  Bundle b = NewBundle();
  UniqueFd m = Manifest(States(1));
  Send(b.writer.get(), Header(1, 7), {m.get()});
  Send(b.writer.get(), Batch(1, 1), ServerFds(pairs, 0, 1));
  ExpectCorruptAndClosed(std::move(b), pairs,
                         "format version 7, this build reads only 1");
}

TEST(HandoffCorrupt, UnsealedManifest) {
  std::vector<Pair> pairs = MakePairs(1);
  Bundle b = NewBundle();
  UniqueFd m = Manifest(States(1), /*seal=*/false);
  Send(b.writer.get(), Header(1), {m.get()});
  Send(b.writer.get(), Batch(1, 1), ServerFds(pairs, 0, 1));
  ExpectCorruptAndClosed(std::move(b), pairs, "not sealed");
}

TEST(HandoffCorrupt, CorruptedManifest) {
  std::vector<Pair> pairs = MakePairs(1);
  Bundle b = NewBundle();
  std::string bytes = EncodeHandoffManifest(States(1));
  bytes[33] ^= 1;
  UniqueFd m(::memfd_create("test-manifest", MFD_ALLOW_SEALING));
  ASSERT_EQ(::write(m.get(), bytes.data(), bytes.size()),
            static_cast<ssize_t>(bytes.size()));
  ASSERT_EQ(
      ::fcntl(m.get(), F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE),
      0);
  Send(b.writer.get(), Header(1), {m.get()});
  Send(b.writer.get(), Batch(1, 1), ServerFds(pairs, 0, 1));
  ExpectCorruptAndClosed(std::move(b), pairs, "checksum");
}

// --- RLIMIT_NOFILE --------------------------------------------------------

// OpenFds counts this process's open fds.
int OpenFds() {
  int count = 0;
  for (int fd = 0; fd < 4096; ++fd) {
    if (::fcntl(fd, F_GETFD) >= 0) ++count;
  }
  return count;
}

// In a child whose hard limit leaves room for 40 more fds, a batch of 253
// arrives truncated (MSG_CTRUNC): the manifest promised 10, so the limit
// check passed, and the sender lied. Nothing is served, nothing leaks.
TEST(HandoffLimit, TruncatedControlMessageIsCorruptAndLeaksNothing) {
  absl::StatusOr<std::string> out = test::RunInChild({}, {}, [] {
    std::vector<Pair> pairs = MakePairs(253);
    Bundle b = NewBundle();
    UniqueFd m = Manifest(States(10));
    Send(b.writer.get(), Header(10), {m.get()});
    Send(b.writer.get(), Batch(1, 253), ServerFds(pairs, 0, 253));
    m.reset();
    b.writer.reset();
    for (Pair& p : pairs) p.server.reset();
    const int before = OpenFds();
    rlimit low = {static_cast<rlim_t>(before + 100),
                  static_cast<rlim_t>(before + 100)};
    if (::setrlimit(RLIMIT_NOFILE, &low) != 0) return std::string("setrlimit");
    absl::StatusOr<std::vector<HandoffEntry>> entries =
        UnpackHandoff(std::move(b.reader));
    int eof = 0;
    for (const Pair& p : pairs) eof += ClientSeesEof(p) ? 1 : 0;
    return absl::StrCat(entries.status().ToString(), " | open ",
                        OpenFds() - (before - 1), " | eof ", eof);
  });
  ASSERT_TRUE(out.ok()) << out.status();
  EXPECT_THAT(*out, HasSubstr("DATA_LOSS: corrupt handoff bundle: fds were "
                              "dropped (MSG_CTRUNC)"));
  // The reader went too, so one fewer fd than before; every client saw EOF.
  EXPECT_THAT(*out, HasSubstr(" | open 0 | eof 253"));
}

TEST(HandoffLimit, RefusedBeforeTakingAnyConnectionWhenTheHardLimitIsLow) {
  absl::StatusOr<std::string> out = test::RunInChild({}, {}, [] {
    std::vector<Pair> pairs = MakePairs(300);
    HandoffWriter writer;
    for (Pair& p : pairs) (void)writer.Add(p.server.get(), "");
    absl::StatusOr<UniqueFd> bundle = PackHandoff(writer);
    if (!bundle.ok()) return bundle.status().ToString();
    for (Pair& p : pairs) p.server.reset();
    const int before = OpenFds();
    rlimit low = {static_cast<rlim_t>(before + 200),
                  static_cast<rlim_t>(before + 200)};
    if (::setrlimit(RLIMIT_NOFILE, &low) != 0) return std::string("setrlimit");
    absl::StatusOr<std::vector<HandoffEntry>> entries =
        UnpackHandoff(*std::move(bundle));
    int eof = 0;
    for (const Pair& p : pairs) eof += ClientSeesEof(p) ? 1 : 0;
    return absl::StrCat(entries.status().ToString(), " | eof ", eof);
  });
  ASSERT_TRUE(out.ok()) << out.status();
  EXPECT_THAT(*out, HasSubstr("RESOURCE_EXHAUSTED: refusing the handoff "
                              "bundle: it holds 300 connections"));
  EXPECT_THAT(*out, HasSubstr(" | eof 300"));
}

TEST(HandoffLimit, SoftLimitIsRaisedToTheHardOne) {
  absl::StatusOr<std::string> out = test::RunInChild({}, {}, [] {
    std::vector<Pair> pairs = MakePairs(300);
    HandoffWriter writer;
    for (Pair& p : pairs) (void)writer.Add(p.server.get(), "");
    absl::StatusOr<UniqueFd> bundle = PackHandoff(writer);
    if (!bundle.ok()) return bundle.status().ToString();
    for (Pair& p : pairs) p.server.reset();
    rlimit limit = {static_cast<rlim_t>(OpenFds() + 10), 4096};
    if (::setrlimit(RLIMIT_NOFILE, &limit) != 0)
      return std::string("setrlimit");
    absl::StatusOr<std::vector<HandoffEntry>> entries =
        UnpackHandoff(*std::move(bundle));
    ::getrlimit(RLIMIT_NOFILE, &limit);
    return absl::StrCat(entries.ok() ? entries->size() : 0, " entries, soft ",
                        limit.rlim_cur);
  });
  ASSERT_TRUE(out.ok()) << out.status();
  EXPECT_EQ(*out, "300 entries, soft 4096");
}

// The kernel counts every fd inside a queued SCM_RIGHTS message against the
// sending user until it is received, and refuses more than the sender's
// RLIMIT_NOFILE (ETOOMANYREFS): a bundle already in flight counts. Root is
// exempt, so the child becomes nobody first.
TEST(HandoffLimit, UsersFdsInFlightAreCappedByRlimitNofile) {
  if (::geteuid() != 0) GTEST_SKIP() << "changing to nobody needs root";
  absl::StatusOr<std::string> out = test::RunInChild({}, {}, [] {
    auto pack = [](size_t n) {
      std::vector<UniqueFd> servers;  // clients closed: only n fds open
      HandoffWriter writer;
      for (size_t i = 0; i < n; ++i) {
        int fds[2];
        if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) != 0) {
          return absl::StatusOr<UniqueFd>(absl::InternalError("socketpair"));
        }
        ::close(fds[1]);
        servers.emplace_back(fds[0]);
        (void)writer.Add(fds[0], "");
      }
      return PackHandoff(writer);  // ours close; the bundle holds them
    };
    rlimit limit = {1000, 1000};
    if (::setrlimit(RLIMIT_NOFILE, &limit) != 0 ||
        ::setresgid(65534, 65534, 65534) != 0 ||
        ::setresuid(65534, 65534, 65534) != 0) {
      return std::string("cannot become nobody");
    }
    absl::StatusOr<UniqueFd> first = pack(600);
    if (!first.ok()) return first.status().ToString();
    absl::StatusOr<UniqueFd> second = pack(600);
    return second.status().ToString();
  });
  ASSERT_TRUE(out.ok()) << out.status();
  EXPECT_THAT(*out, HasSubstr("RESOURCE_EXHAUSTED: handoff bundle: sendmsg: "
                              "Too many references"));
  EXPECT_THAT(*out, HasSubstr("counted over every process of the user"));
}

// --- through NOTIFY_SOCKET ------------------------------------------------

TEST(HandoffStore, SendsOneEntryWithFdpollZeroThatUnpacks) {
  test::Receiver receiver(/*abstract=*/false);
  ASSERT_TRUE(receiver.ok());
  std::vector<Pair> pairs = MakePairs(3);
  HandoffWriter writer;
  for (size_t i = 0; i < pairs.size(); ++i) {
    ASSERT_TRUE(writer.Add(pairs[i].server.get(), StateOf(i + 1)).ok());
  }
  // In this process (RunInChild would close the pairs): the environment is
  // restored right after.
  ASSERT_EQ(::setenv("NOTIFY_SOCKET", receiver.address().c_str(), 1), 0);
  absl::StatusOr<bool> sent = StoreHandoff(writer);
  ASSERT_EQ(::unsetenv("NOTIFY_SOCKET"), 0);
  ASSERT_TRUE(sent.ok()) << sent.status();
  EXPECT_TRUE(*sent);
  for (Pair& p : pairs) p.server.reset();
  std::optional<test::Datagram> d = receiver.Receive();
  ASSERT_TRUE(d.has_value());
  EXPECT_EQ(d->payload, "FDSTORE=1\nFDNAME=sdfd-handoff\nFDPOLL=0");
  ASSERT_EQ(d->fds.size(), 1u);
  std::vector<ListenFd> listen;
  listen.push_back({UniqueFd(::dup(d->fds[0].get())), "listener"});
  listen.push_back({std::move(d->fds[0]), kHandoffFdName});
  std::vector<TakenHandoff> taken = TakeHandoffs(listen);
  ASSERT_EQ(listen.size(), 1u);
  EXPECT_EQ(listen[0].name, "listener");
  ASSERT_EQ(taken.size(), 1u);
  ASSERT_TRUE(taken[0].entries.ok()) << taken[0].entries.status();
  ASSERT_EQ(taken[0].entries->size(), 3u);
  for (size_t i = 0; i < 3; ++i) {
    EXPECT_EQ((*taken[0].entries)[i].state, StateOf(i + 1));
    EXPECT_TRUE(Travels(pairs[i], (*taken[0].entries)[i].fd.get(), i));
  }
}

TEST(HandoffStore, NothingSentWithoutNotifySocket) {
  absl::StatusOr<std::string> out =
      test::RunInChild({}, {{"NOTIFY_SOCKET", std::nullopt}}, [] {
        HandoffWriter writer;
        absl::StatusOr<bool> sent = StoreHandoff(writer);
        return sent.ok() ? std::string(*sent ? "true" : "false")
                         : sent.status().ToString();
      });
  ASSERT_TRUE(out.ok()) << out.status();
  EXPECT_EQ(*out, "false");
}

}  // namespace
}  // namespace sdfd
