// daemon/app.h: foobard's whole program, wiring flags, activation, the fd
// store handoff and the server. main.cc only calls Main().
//
// Exit codes: 0 clean, 1 runtime failure, 2 usage or environment error (a
// bad flag, malformed LISTEN_*/WATCHDOG_*, nothing to serve).
//
// main.cc is `return foobard::Main(argc, argv);`. An error path: run as
//   $ LISTEN_PID=$$ LISTEN_FDS=abc foobard
// it exits 2 and says on stderr "<3>LISTEN_FDS=abc: ..." (the variable and
// why, from libsdfd).
//
// Example:
//
//   char arg0[] = "foobard";
//   char arg1[] = "--version";
//   char* argv[] = {arg0, arg1, nullptr};
//   return foobard::Main(2, argv);  // prints the version, returns 0
#ifndef DAEMON_APP_H_
#define DAEMON_APP_H_

namespace foobard {

// Main runs foobard and returns its exit code.
int Main(int argc, char** argv);

}  // namespace foobard

#endif  // DAEMON_APP_H_
