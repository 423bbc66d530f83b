// client/test_memfd.h: memfds standing in for stdin/stdout in the client's
// mode tests. A file never blocks its writer, so a test needs no thread
// besides its echo server.
//
//   sdfd::UniqueFd in = MemFdWith("a\nb\n");   // read from the start
//   sdfd::UniqueFd out = MemFdWith("");
//   ASSERT_TRUE(RunLineMode(...).ok());
//   EXPECT_EQ(ReadAllFromStart(out.get()), "a\nb\n");  // failures are
//                                                       // test failures
#ifndef CLIENT_TEST_MEMFD_H_
#define CLIENT_TEST_MEMFD_H_

#include <string>

#include "sdfd/unique_fd.h"

namespace foobar::client {

// MemFdWith returns a memfd holding `content`, positioned at its start. A
// failing call is a test failure (EXPECT), and the fd may then be invalid.
sdfd::UniqueFd MemFdWith(const std::string& content);

// ReadAllFromStart returns everything in `fd` from offset 0.
std::string ReadAllFromStart(int fd);

}  // namespace foobar::client

#endif  // CLIENT_TEST_MEMFD_H_
