#include "client/test_memfd.h"

#include <sys/mman.h>
#include <unistd.h>

#include "client/io.h"
#include "gtest/gtest.h"

namespace foobar::client {

sdfd::UniqueFd MemFdWith(const std::string& content) {
  sdfd::UniqueFd fd(memfd_create("client-test", MFD_CLOEXEC));
  EXPECT_TRUE(fd.valid());
  EXPECT_TRUE(WriteAll(fd.get(), content, "memfd").ok());
  EXPECT_EQ(lseek(fd.get(), 0, SEEK_SET), 0);
  return fd;
}

std::string ReadAllFromStart(int fd) {
  std::string all;
  char buffer[65536];
  ssize_t n;
  EXPECT_EQ(lseek(fd, 0, SEEK_SET), 0);
  while ((n = read(fd, buffer, sizeof(buffer))) > 0) all.append(buffer, n);
  return all;
}

}  // namespace foobar::client
