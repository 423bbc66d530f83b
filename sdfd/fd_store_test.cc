// FdNameIsValid and FdStoreMax, against the rules they quote: systemd's
// fdname_is_valid() (fd-util.c, 252 through 259) and $FDSTORE (man 5
// systemd.exec: "The maximum number of file descriptors that may be stored
// in the manager for the service. This variable is set when the file
// descriptor store is enabled for the service, i.e. FileDescriptorStoreMax=
// is set to a non-zero value", systemd 254).
#include "sdfd/fd_store.h"

#include <cerrno>
#include <optional>
#include <string>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "sdfd/errno_status.h"
#include "sdfd/testing/test_child.h"

namespace sdfd {
namespace {

TEST(FdNameIsValid, PrintableAsciiWithoutColonUpTo255) {
  EXPECT_TRUE(FdNameIsValid(""));  // "the empty string is explicitly allowed"
  EXPECT_TRUE(FdNameIsValid("web"));
  EXPECT_TRUE(FdNameIsValid(" ~"));  // 0x20 and 0x7e, the ends of the range
  EXPECT_TRUE(FdNameIsValid(std::string(255, 'x')));
  EXPECT_FALSE(FdNameIsValid(std::string(256, 'x')));
  EXPECT_FALSE(FdNameIsValid("a:b"));
  EXPECT_FALSE(FdNameIsValid("a\x1f"));
  EXPECT_FALSE(FdNameIsValid("a\x7f"));
  EXPECT_FALSE(FdNameIsValid("a\n"));
  EXPECT_FALSE(FdNameIsValid("caf\xc3\xa9"));  // bytes >= 0x80
  EXPECT_FALSE(FdNameIsValid(std::string("a\0b", 3)));
  for (int c = 0; c < 256; ++c) {
    const bool expected = c >= 0x20 && c < 0x7f && c != ':';
    EXPECT_EQ(FdNameIsValid(std::string(1, static_cast<char>(c))), expected)
        << c;
  }
}

// FdStoreIn runs FdStoreMax() with FDSTORE set to `value` (nullopt: unset)
// and describes the answer: "unknown", the number, or the errno.
std::string FdStoreIn(std::optional<std::string> value) {
  absl::StatusOr<std::string> out =
      test::RunInChild({}, {{"FDSTORE", value}}, [] {
        absl::StatusOr<std::optional<unsigned>> max = FdStoreMax();
        if (!max.ok()) {
          return absl::StrCat(
              max.status().code() == absl::StatusCode::kInvalidArgument
                  ? "invalid "
                  : "other ",
              ErrnoOf(max.status()));
        }
        return max->has_value() ? absl::StrCat(**max) : "unknown";
      });
  EXPECT_TRUE(out.ok()) << out.status();
  return out.ok() ? *out : "";
}

TEST(FdStoreMax, UnknownWithoutTheVariable) {
  // systemd 252 never sets it, and 254+ sets it only for an enabled store:
  // absence proves nothing either way.
  EXPECT_EQ(FdStoreIn(std::nullopt), "unknown");
}

TEST(FdStoreMax, ReadsTheSizeSystemdWrites) {
  // service_spawn() writes "FDSTORE=%u" of FileDescriptorStoreMax=.
  EXPECT_EQ(FdStoreIn("1"), "1");
  EXPECT_EQ(FdStoreIn("32768"), "32768");
  EXPECT_EQ(FdStoreIn("4294967295"), "4294967295");
  // systemd's number rules, as for every other variable libsdfd reads.
  EXPECT_EQ(FdStoreIn(" 0x10"), "16");
  EXPECT_EQ(FdStoreIn("+7"), "7");
}

TEST(FdStoreMax, MalformedValuesAreErrors) {
  EXPECT_EQ(FdStoreIn("0"), absl::StrCat("invalid ", EINVAL));
  EXPECT_EQ(FdStoreIn(""), absl::StrCat("invalid ", EINVAL));
  EXPECT_EQ(FdStoreIn("many"), absl::StrCat("invalid ", EINVAL));
  EXPECT_EQ(FdStoreIn("12 "), absl::StrCat("invalid ", EINVAL));
  EXPECT_EQ(FdStoreIn("-1"), absl::StrCat("invalid ", ERANGE));
  EXPECT_EQ(FdStoreIn("4294967296"), absl::StrCat("invalid ", ERANGE));
}

}  // namespace
}  // namespace sdfd
