#include "sdfd/listen_fds.h"

#include <fcntl.h>

#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "sdfd/testing/outcome.h"
#include "sdfd/testing/test_child.h"

namespace sdfd {
namespace {

using test::EnvSetting;
using test::FdKind;
using test::FdSetup;
using ::testing::HasSubstr;

// Outcome runs ListenFds() in a child holding `fds` at 3.. with `env`.
std::string Outcome(const std::vector<FdSetup>& fds,
                    const std::vector<EnvSetting>& env,
                    bool unset_environment = true) {
  const int slots = static_cast<int>(fds.size());
  absl::StatusOr<std::string> out =
      test::RunInChild(fds, env, [unset_environment, slots] {
        return test::SdfdListenOutcome(unset_environment, slots);
      });
  EXPECT_TRUE(out.ok()) << out.status();
  return out.ok() ? *out : "";
}

// Message runs ListenFds() in a child and returns its error message.
std::string Message(const std::vector<FdSetup>& fds,
                    const std::vector<EnvSetting>& env) {
  absl::StatusOr<std::string> out = test::RunInChild(fds, env, [] {
    absl::StatusOr<std::vector<ListenFd>> r = ListenFds();
    return r.ok() ? std::string("ok") : r.status().ToString();
  });
  EXPECT_TRUE(out.ok()) << out.status();
  return out.ok() ? *out : "";
}

const FdSetup kStream{FdKind::kUnixStreamListener};
const FdSetup kTcp{FdKind::kTcp4Listener};

TEST(ListenFds, EmptyWhenNotActivated) {
  EXPECT_EQ(Outcome({kStream}, {{"LISTEN_PID", std::nullopt},
                                {"LISTEN_FDS", std::nullopt}}),
            "r=0 names=[] cloexec=[0] env=[-|-|-]");
}

TEST(ListenFds, EmptyWhenPidDoesNotMatch) {
  EXPECT_EQ(Outcome({kStream}, {{"LISTEN_PID", "1"}, {"LISTEN_FDS", "1"}}),
            "r=0 names=[] cloexec=[0] env=[-|-|-]");
}

TEST(ListenFds, EmptyWhenListenFdsIsMissing) {
  EXPECT_EQ(Outcome({kStream}, {{"LISTEN_PID", "$PID"}}),
            "r=0 names=[] cloexec=[0] env=[-|-|-]");
}

TEST(ListenFds, ReturnsNamedFdsMarkedCloexec) {
  EXPECT_EQ(Outcome({kStream, kTcp}, {{"LISTEN_PID", "$PID"},
                                      {"LISTEN_FDS", "2"},
                                      {"LISTEN_FDNAMES", "web:admin"}}),
            "r=2 names=[web|admin] cloexec=[1|1] env=[-|-|-]");
}

TEST(ListenFds, NamesDefaultToUnknown) {
  EXPECT_EQ(
      Outcome({kStream, kTcp}, {{"LISTEN_PID", "$PID"}, {"LISTEN_FDS", "2"}}),
      "r=2 names=[unknown|unknown] cloexec=[1|1] env=[-|-|-]");
}

TEST(ListenFds, KeepsEnvironmentWhenAsked) {
  std::string out = Outcome(
      {kStream},
      {{"LISTEN_PID", "$PID"}, {"LISTEN_FDS", "1"}, {"LISTEN_FDNAMES", "x"}},
      /*unset_environment=*/false);
  EXPECT_THAT(out, HasSubstr("r=1 names=[x] cloexec=[1] env=[LISTEN_PID="));
  EXPECT_THAT(out, HasSubstr("|LISTEN_FDS=1|LISTEN_FDNAMES=x]"));
}

TEST(ListenFds, AlreadyCloexecFdStaysCloexec) {
  EXPECT_EQ(Outcome({{FdKind::kUnixStreamListener, /*cloexec=*/true}},
                    {{"LISTEN_PID", "$PID"}, {"LISTEN_FDS", "1"}}),
            "r=1 names=[unknown] cloexec=[1] env=[-|-|-]");
}

TEST(ListenFds, RejectsNonNumericCount) {
  EXPECT_EQ(Outcome({kStream}, {{"LISTEN_PID", "$PID"}, {"LISTEN_FDS", "abc"}}),
            "r=-22 names=[] cloexec=[0] env=[-|-|-]");
}

TEST(ListenFds, RejectsNegativeCount) {
  EXPECT_EQ(Outcome({kStream}, {{"LISTEN_PID", "$PID"}, {"LISTEN_FDS", "-1"}}),
            "r=-22 names=[] cloexec=[0] env=[-|-|-]");
}

TEST(ListenFds, RejectsZeroCount) {
  EXPECT_EQ(Outcome({kStream}, {{"LISTEN_PID", "$PID"}, {"LISTEN_FDS", "0"}}),
            "r=-22 names=[] cloexec=[0] env=[-|-|-]");
}

TEST(ListenFds, RejectsCountThatOverflowsInt) {
  EXPECT_EQ(Outcome({kStream},
                    {{"LISTEN_PID", "$PID"}, {"LISTEN_FDS", "99999999999"}}),
            "r=-34 names=[] cloexec=[0] env=[-|-|-]");
}

TEST(ListenFds, RejectsCountWhoseFdNumbersOverflow) {
  EXPECT_EQ(Outcome({kStream},
                    {{"LISTEN_PID", "$PID"}, {"LISTEN_FDS", "2147483645"}}),
            "r=-22 names=[] cloexec=[0] env=[-|-|-]");
}

TEST(ListenFds, RejectsPidWithTrailingGarbage) {
  EXPECT_EQ(Outcome({kStream}, {{"LISTEN_PID", "$PIDx"}, {"LISTEN_FDS", "1"}}),
            "r=-22 names=[] cloexec=[0] env=[-|-|-]");
}

TEST(ListenFds, RejectsPidZero) {
  EXPECT_EQ(Outcome({kStream}, {{"LISTEN_PID", "0"}, {"LISTEN_FDS", "1"}}),
            "r=-34 names=[] cloexec=[0] env=[-|-|-]");
}

TEST(ListenFds, RejectsMoreNamesThanFdsAfterMarkingCloexec) {
  // libsystemd marks the fds CLOEXEC before it compares the counts.
  EXPECT_EQ(Outcome({kStream, kTcp}, {{"LISTEN_PID", "$PID"},
                                      {"LISTEN_FDS", "2"},
                                      {"LISTEN_FDNAMES", "a:b:c"}}),
            "r=-22 names=[] cloexec=[1|1] env=[-|-|-]");
}

TEST(ListenFds, RejectsFewerNamesThanFds) {
  EXPECT_EQ(Outcome({kStream, kTcp}, {{"LISTEN_PID", "$PID"},
                                      {"LISTEN_FDS", "2"},
                                      {"LISTEN_FDNAMES", "a"}}),
            "r=-22 names=[] cloexec=[1|1] env=[-|-|-]");
}

TEST(ListenFds, KeepsEmptyNames) {
  EXPECT_EQ(Outcome({kStream, kTcp, kTcp}, {{"LISTEN_PID", "$PID"},
                                            {"LISTEN_FDS", "3"},
                                            {"LISTEN_FDNAMES", "a::"}}),
            "r=3 names=[a||] cloexec=[1|1|1] env=[-|-|-]");
}

TEST(ListenFds, FailsWithEbadfOnClosedFd) {
  EXPECT_EQ(Outcome({kStream, {FdKind::kClosed}},
                    {{"LISTEN_PID", "$PID"}, {"LISTEN_FDS", "2"}}),
            "r=-9 names=[] cloexec=[1|-] env=[-|-|-]");
}

TEST(ListenFds, PassesNonSocketFdsThrough) {
  // The protocol passes any fd (Sockets= can name FIFOs and files); checking
  // the kind is the caller's job (sdfd/socket_info.h).
  EXPECT_EQ(Outcome({{FdKind::kPipeRead}, {FdKind::kRegularFile}},
                    {{"LISTEN_PID", "$PID"}, {"LISTEN_FDS", "2"}}),
            "r=2 names=[unknown|unknown] cloexec=[1|1] env=[-|-|-]");
}

TEST(ListenFds, ErrorNamesTheVariableAndValue) {
  EXPECT_THAT(
      Message({kStream}, {{"LISTEN_PID", "$PID"}, {"LISTEN_FDS", "abc"}}),
      HasSubstr("LISTEN_FDS=\"abc\""));
  EXPECT_THAT(Message({kStream}, {{"LISTEN_PID", "12x"}, {"LISTEN_FDS", "1"}}),
              HasSubstr("LISTEN_PID=\"12x\""));
  EXPECT_THAT(Message({kStream, kStream}, {{"LISTEN_PID", "$PID"},
                                           {"LISTEN_FDS", "2"},
                                           {"LISTEN_FDNAMES", "a"}}),
              HasSubstr("LISTEN_FDNAMES has 1 names but LISTEN_FDS is 2"));
  EXPECT_THAT(Message({{FdKind::kClosed}},
                      {{"LISTEN_PID", "$PID"}, {"LISTEN_FDS", "1"}}),
              HasSubstr("fcntl(3, F_GETFD)"));
}

TEST(ListenFds, ReturnedFdsAreOwnedAndClosedWithTheVector) {
  absl::StatusOr<std::string> out = test::RunInChild(
      {kStream}, {{"LISTEN_PID", "$PID"}, {"LISTEN_FDS", "1"}}, [] {
        {
          absl::StatusOr<std::vector<ListenFd>> fds = ListenFds();
          if (!fds.ok() || fds->size() != 1) return std::string("bad result");
        }
        return std::string(::fcntl(3, F_GETFD) < 0 ? "closed" : "open");
      });
  ASSERT_TRUE(out.ok()) << out.status();
  EXPECT_EQ(*out, "closed");
}

TEST(FindByName, FindsFirstMatchOrNull) {
  std::vector<ListenFd> fds;
  fds.push_back(ListenFd{UniqueFd(), "web"});
  fds.push_back(ListenFd{UniqueFd(), "admin"});
  fds.push_back(ListenFd{UniqueFd(), "web"});
  EXPECT_EQ(FindByName(fds, "web"), &fds[0]);
  EXPECT_EQ(FindByName(fds, "admin"), &fds[1]);
  EXPECT_EQ(FindByName(fds, "none"), nullptr);
}

}  // namespace
}  // namespace sdfd
