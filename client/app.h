// client/app.h: the whole foobar program; main.cc only calls Main().
//
// Exit codes: 0 success, 1 failure (cannot connect, reset, timeout, lost or
// corrupted messages), 2 usage error. Errors are one line on stderr that
// says what to do.
//
// Example:
//   // main.cc: int main(int argc, char** argv) { return Main(argc, argv); }
//   char arg0[] = "foobar", arg1[] = "--connect=unix:/nope";
//   char* argv[] = {arg0, arg1, nullptr};
//   return foobar::client::Main(2, argv);  // 1, and on stderr:
//   // foobar: cannot connect to /nope: No such file or directory (is ...)
#ifndef CLIENT_APP_H_
#define CLIENT_APP_H_

namespace foobar::client {

// Main runs foobar and returns its exit code.
int Main(int argc, char** argv);

}  // namespace foobar::client

#endif  // CLIENT_APP_H_
