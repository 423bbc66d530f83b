#include "client/raw_mode.h"

#include <sys/socket.h>
#include <unistd.h>

#include <random>
#include <string>

#include "absl/status/status.h"
#include "client/io.h"
#include "client/test_memfd.h"
#include "client/test_server.h"
#include "gtest/gtest.h"

namespace foobar::client {
namespace {

absl::Status RunRaw(TestServer::Behaviour behaviour, const std::string& input,
                    std::string* output,
                    absl::Duration timeout = absl::Seconds(20)) {
  int pair[2];
  EXPECT_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair), 0);
  sdfd::UniqueFd client(pair[0]);
  TestServer server(sdfd::UniqueFd(pair[1]), behaviour);
  sdfd::UniqueFd in = MemFdWith(input);
  sdfd::UniqueFd out = MemFdWith("");
  absl::Status status = RunRawMode(client.get(), {.target = "/test.sk",
                                                  .timeout = timeout,
                                                  .in_fd = in.get(),
                                                  .out_fd = out.get()});
  *output = ReadAllFromStart(out.get());
  return status;
}

TEST(RawMode, CopiesBinaryBytesBothWaysAtOnce) {
  // 8 MiB of every byte value, much more than the server is willing to
  // buffer: only a full-duplex pipe gets it through.
  std::string input(8 * 1024 * 1024, '\0');
  std::mt19937 random(42);
  for (char& c : input) c = static_cast<char>(random());
  std::string output;
  absl::Status status = RunRaw(TestServer::Behaviour::kEcho, input, &output);
  ASSERT_TRUE(status.ok()) << status;
  EXPECT_TRUE(output == input)
      << "sizes " << output.size() << " vs " << input.size();
}

TEST(RawMode, EmptyInputEndsCleanly) {
  std::string output;
  absl::Status status = RunRaw(TestServer::Behaviour::kEcho, "", &output);
  ASSERT_TRUE(status.ok()) << status;
  EXPECT_EQ(output, "");
}

TEST(RawMode, SilentServerTimesOut) {
  std::string output;
  absl::Status status = RunRaw(TestServer::Behaviour::kSilent, "x", &output,
                               absl::Milliseconds(100));
  EXPECT_EQ(status.code(), absl::StatusCode::kDeadlineExceeded);
  EXPECT_EQ(output, "");
}

TEST(RawMode, ResetIsReported) {
  std::string output;
  absl::Status status = RunRaw(TestServer::Behaviour::kReset, "x", &output);
  EXPECT_EQ(status.message(),
            "connection to /test.sk was reset by the server (recv: "
            "Connection reset by peer); check its log: journalctl -u "
            "foobar.service");
}

}  // namespace
}  // namespace foobar::client
