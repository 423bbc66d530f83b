// client/test_memfd.h: memfds standing in for stdin/stdout in the client's
// mode tests. A file never blocks its writer, so a test needs no thread
// besides its echo server.
//
// Example:
//   sdfd::UniqueFd in = foobar::client::MemFdWith("a\nb\n");  // stdin
//   sdfd::UniqueFd out = foobar::client::MemFdWith("");       // stdout
//   if (!in.valid() || !out.valid()) return 1;  // and the test has failed
//   // RunLineMode(socket, options) with in_fd = in.get(), out_fd = out.get()
//   std::string printed = foobar::client::ReadAllFromStart(out.get());
//   if (printed != "a\nb\n") return 1;  // in a test: EXPECT_EQ
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
