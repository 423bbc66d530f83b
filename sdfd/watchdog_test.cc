#include "sdfd/watchdog.h"

#include <cstdlib>
#include <string>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "sdfd/testing/test_child.h"

namespace sdfd {
namespace {

// Interval runs WatchdogInterval() in a child with the given variables and
// describes the result and what is left of the environment.
std::string Interval(std::optional<std::string> usec,
                     std::optional<std::string> pid, bool unset = false) {
  absl::StatusOr<std::string> out = test::RunInChild(
      {}, {{"WATCHDOG_USEC", usec}, {"WATCHDOG_PID", pid}}, [unset] {
        absl::StatusOr<absl::Duration> d = WatchdogInterval(unset);
        const bool left = std::getenv("WATCHDOG_USEC") != nullptr ||
                          std::getenv("WATCHDOG_PID") != nullptr;
        return absl::StrCat(d.ok() ? absl::FormatDuration(*d)
                                   : std::string(d.status().message()),
                            left ? " (env kept)" : " (env gone)");
      });
  EXPECT_TRUE(out.ok()) << out.status();
  return out.ok() ? *out : "";
}

TEST(WatchdogInterval, ZeroWithoutWatchdogUsec) {
  EXPECT_EQ(Interval(std::nullopt, std::nullopt), "0 (env gone)");
}

TEST(WatchdogInterval, IntervalForUs) {
  EXPECT_EQ(Interval("30000000", "$PID"), "30s (env kept)");
  EXPECT_EQ(Interval("1500", std::nullopt), "1.5ms (env kept)");
}

TEST(WatchdogInterval, ZeroWhenPidIsAnotherProcess) {
  EXPECT_EQ(Interval("30000000", "1"), "0 (env kept)");
}

TEST(WatchdogInterval, UnsetsEnvironmentWhenAsked) {
  EXPECT_EQ(Interval("30000000", "$PID", /*unset=*/true), "30s (env gone)");
  EXPECT_EQ(Interval("abc", "$PID", /*unset=*/true),
            "WATCHDOG_USEC=\"abc\" is not a valid number of "
            "microseconds: Invalid argument (env gone)");
}

TEST(WatchdogInterval, RejectsMalformedValues) {
  EXPECT_EQ(Interval("0", std::nullopt),
            "WATCHDOG_USEC=\"0\" must be a finite, non-zero "
            "interval: Invalid argument (env kept)");
  EXPECT_EQ(Interval("18446744073709551615", std::nullopt),
            "WATCHDOG_USEC=\"18446744073709551615\" must be a "
            "finite, non-zero interval: Invalid argument (env kept)");
  EXPECT_THAT(Interval("30000000", "$PIDx"),
              ::testing::MatchesRegex("WATCHDOG_PID=\"[0-9]+x\" is "
                                      "not a valid process id: Invalid "
                                      "argument \\(env kept\\)"));
}

TEST(WatchdogInterval, HugeIntervalIsExact) {
  // Beyond INT64_MAX microseconds; absl::Duration still holds it exactly.
  EXPECT_EQ(Interval("18446744073709551614", std::nullopt),
            "5124095576h1m49.551614s (env kept)");
}

}  // namespace
}  // namespace sdfd
