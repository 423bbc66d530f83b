#include "client/bench.h"

#include <cstdlib>
#include <string>

#include "absl/strings/str_cat.h"
#include "client/test_server.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "sdfd/socket_spec.h"
#include "sdfd/testing/socket_dir.h"

namespace foobar::client {
namespace {

using ::testing::StartsWith;

// Served is a TestServer on a fresh unix socket (sdfd::test::NewSocketDir).
struct Served {
  sdfd::SocketSpec spec;
  std::unique_ptr<TestServer> server;
};

Served Serve(const std::string& name, TestServer::Behaviour behaviour) {
  static const std::string* const dir =
      new std::string(sdfd::test::NewSocketDir());  // lives for the test
  absl::StatusOr<sdfd::SocketSpec> spec =
      sdfd::ParseSocketSpec(absl::StrCat("unix:", *dir, "/", name));
  EXPECT_TRUE(spec.ok()) << spec.status();
  absl::StatusOr<sdfd::UniqueFd> listener = sdfd::Listen(*spec, 4096);
  EXPECT_TRUE(listener.ok()) << listener.status();
  return {*spec, std::make_unique<TestServer>(*std::move(listener), behaviour)};
}

TEST(RunBench, EveryMessageComesBackIntact) {
  Served s = Serve("echo.sk", TestServer::Behaviour::kEcho);
  absl::StatusOr<BenchResult> r =
      RunBench(s.spec, {.connections = 20, .messages = 2000, .size = 100});
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_TRUE(r->intact()) << r->first_error;
  EXPECT_EQ(r->connections, 20);
  EXPECT_EQ(r->messages, 2000u);
  EXPECT_EQ(r->bytes, 200000u);
  EXPECT_EQ(r->errors, 0u);
  EXPECT_EQ(r->mismatches, 0u);
  EXPECT_EQ(r->latency.count(), 2000u);
  EXPECT_GT(r->seconds, 0);
}

TEST(RunBench, MessagesLargerThanSocketBuffersFlow) {
  Served s = Serve("big.sk", TestServer::Behaviour::kEcho);
  absl::StatusOr<BenchResult> r =
      RunBench(s.spec, {.connections = 3, .messages = 12, .size = 1024 * 1024});
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_TRUE(r->intact()) << r->first_error;
  EXPECT_EQ(r->bytes, 12u * 1024 * 1024);
}

TEST(RunBench, FewerMessagesThanConnections) {
  Served s = Serve("few.sk", TestServer::Behaviour::kEcho);
  absl::StatusOr<BenchResult> r =
      RunBench(s.spec, {.connections = 10, .messages = 3, .size = 8});
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_TRUE(r->intact()) << r->first_error;
  EXPECT_EQ(r->messages, 3u);
}

TEST(RunBench, CorruptEchoesAreMismatches) {
  Served s = Serve("corrupt.sk", TestServer::Behaviour::kCorrupt);
  absl::StatusOr<BenchResult> r =
      RunBench(s.spec, {.connections = 1, .messages = 10, .size = 1000});
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_FALSE(r->intact());
  EXPECT_EQ(r->messages, 10u);
  EXPECT_EQ(r->mismatches, 10u);
  EXPECT_EQ(r->errors, 0u);
}

TEST(RunBench, SilentServerCountsOutstandingMessagesAsErrors) {
  Served s = Serve("silent.sk", TestServer::Behaviour::kSilent);
  absl::StatusOr<BenchResult> r =
      RunBench(s.spec, {.connections = 4,
                        .messages = 100,
                        .size = 16,
                        .timeout = absl::Milliseconds(100)});
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_FALSE(r->intact());
  EXPECT_EQ(r->messages, 0u);
  EXPECT_EQ(r->errors, 100u);  // 4 timed out, 96 never sent
  EXPECT_THAT(r->first_error, StartsWith("no echo from "));
}

TEST(RunBench, ResetConnectionsAreErrors) {
  Served s = Serve("reset.sk", TestServer::Behaviour::kReset);
  absl::StatusOr<BenchResult> r =
      RunBench(s.spec, {.connections = 2, .messages = 5, .size = 16});
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->errors, 5u);
  EXPECT_EQ(r->messages, 0u);
}

TEST(RunBench, MissingServerIsAnError) {
  absl::StatusOr<sdfd::SocketSpec> spec =
      sdfd::ParseSocketSpec("unix:@foobar-client-test-nobody-listens");
  ASSERT_TRUE(spec.ok());
  absl::StatusOr<BenchResult> r = RunBench(*spec, {.connections = 1});
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(
      std::string(r.status().message()),
      StartsWith("cannot connect to @foobar-client-test-nobody-listens: "
                 "Connection refused"));
}

TEST(FormatSummary, IsOneLineOfNumbers) {
  BenchResult r;
  r.connections = 2;
  r.messages = 1000;
  r.bytes = 64000;
  r.seconds = 0.5;
  r.latency.Record(100);
  EXPECT_EQ(FormatSummary(r),
            "connections=2 messages=1000 bytes=64000 seconds=0.500000 "
            "msgs_per_s=2000 mib_per_s=0.122 p50_us=0.1 p99_us=0.1 "
            "max_us=0.1 errors=0 mismatches=0");
}

}  // namespace
}  // namespace foobar::client
