#include "client/line_mode.h"

#include <sys/socket.h>
#include <unistd.h>

#include <string>
#include <utility>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "client/io.h"
#include "client/test_memfd.h"
#include "client/test_server.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace foobar::client {
namespace {

struct Session {
  absl::Status status;
  std::string output;
};

// Run runs line mode (or --message when `message` is set) against a
// TestServer with `behaviour` over a socketpair.
Session RunSession(TestServer::Behaviour behaviour, const std::string& input,
                   absl::Duration timeout = absl::Seconds(20),
                   const char* message = nullptr) {
  int pair[2];
  EXPECT_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair), 0);
  sdfd::UniqueFd client(pair[0]);
  TestServer server(sdfd::UniqueFd(pair[1]), behaviour);
  sdfd::UniqueFd in = MemFdWith(input);
  sdfd::UniqueFd out = MemFdWith("");
  LineModeOptions options{.target = "/test.sk",
                          .timeout = timeout,
                          .in_fd = in.get(),
                          .out_fd = out.get()};
  Session session;
  session.status = message == nullptr
                       ? RunLineMode(client.get(), options)
                       : RunMessage(client.get(), message, options);
  session.output = ReadAllFromStart(out.get());
  return session;
}

TEST(LineMode, PrintsEachLineExactly) {
  Session s = RunSession(TestServer::Behaviour::kEcho, "a\nb\n");
  ASSERT_TRUE(s.status.ok()) << s.status;
  EXPECT_EQ(s.output, "a\nb\n");
}

TEST(LineMode, EmptyInputPrintsNothing) {
  Session s = RunSession(TestServer::Behaviour::kEcho, "");
  ASSERT_TRUE(s.status.ok()) << s.status;
  EXPECT_EQ(s.output, "");
}

TEST(LineMode, SendsLastLineWithoutNewline) {
  Session s = RunSession(TestServer::Behaviour::kEcho, "first\nlast");
  ASSERT_TRUE(s.status.ok()) << s.status;
  EXPECT_EQ(s.output, "first\nlast");
}

TEST(LineMode, OneMebibyteLinesAreNeitherTruncatedNorMerged) {
  // Far more than the socket buffers: sending must interleave with reading.
  std::string input;
  for (char c : {'x', 'y', 'z'}) {
    input += std::string(1024 * 1024 - 1, c) + "\n";
  }
  input += "\n\n";  // empty lines are lines too
  Session s = RunSession(TestServer::Behaviour::kEcho, input);
  ASSERT_TRUE(s.status.ok()) << s.status;
  EXPECT_EQ(s.output, input);
}

TEST(LineMode, PrintsWhatCameBackWhenTheEchoDiffers) {
  const std::string line = std::string(1999, 'a') + "\n";
  Session s = RunSession(TestServer::Behaviour::kCorrupt, line);
  ASSERT_TRUE(s.status.ok()) << s.status;
  std::string expected = line;
  expected[999] ^= 1;
  expected[1999] ^= 1;
  EXPECT_EQ(s.output, expected);
}

TEST(LineMode, SilentServerTimesOut) {
  Session s = RunSession(TestServer::Behaviour::kSilent, "hello\n",
                         absl::Milliseconds(100));
  EXPECT_EQ(s.status.code(), absl::StatusCode::kDeadlineExceeded);
  EXPECT_EQ(s.status.message(),
            "no echo from /test.sk within 100ms (the server accepted the "
            "connection but does not answer; check: systemctl status "
            "foobar.service, or raise --timeout)");
  EXPECT_EQ(s.output, "");
}

TEST(LineMode, ResetIsReported) {
  Session s = RunSession(TestServer::Behaviour::kReset, "hello\n");
  EXPECT_EQ(s.status.message(),
            "connection to /test.sk was reset by the server (recv: "
            "Connection reset by peer); check its log: journalctl -u "
            "foobar.service");
  EXPECT_EQ(s.output, "");
}

TEST(LineMode, PromptsBeforeEachLineWhenInteractive) {
  int pair[2];
  ASSERT_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair), 0);
  sdfd::UniqueFd client(pair[0]);
  TestServer server(sdfd::UniqueFd(pair[1]), TestServer::Behaviour::kEcho);
  sdfd::UniqueFd in = MemFdWith("a\n");
  sdfd::UniqueFd out = MemFdWith("");
  sdfd::UniqueFd prompt = MemFdWith("");
  absl::Status status = RunLineMode(client.get(), {.target = "/test.sk",
                                                   .in_fd = in.get(),
                                                   .out_fd = out.get(),
                                                   .prompt_fd = prompt.get()});
  ASSERT_TRUE(status.ok()) << status;
  EXPECT_EQ(ReadAllFromStart(out.get()), "a\n");
  // One prompt per line read, and a newline at the end of input (Ctrl-D).
  EXPECT_EQ(ReadAllFromStart(prompt.get()), "foobar> foobar> \n");
}

TEST(MessageMode, SendsTextAndNewline) {
  Session s = RunSession(TestServer::Behaviour::kEcho, "ignored\n",
                         absl::Seconds(20), "hello world");
  ASSERT_TRUE(s.status.ok()) << s.status;
  EXPECT_EQ(s.output, "hello world\n");
}

TEST(LineReader, KeepsBytesAcrossChunksAndLines) {
  sdfd::UniqueFd in = MemFdWith("one\ntwo\nthree");
  LineReader reader(in.get());
  std::string line;
  std::vector<std::string> lines;
  while (!reader.eof()) {
    ASSERT_TRUE(reader.Fill().ok());
    while (reader.TakeLine(&line)) lines.push_back(line);
  }
  EXPECT_THAT(lines, ::testing::ElementsAre("one\n", "two\n"));
  EXPECT_EQ(reader.TakeRest(), "three");
}

}  // namespace
}  // namespace foobar::client
