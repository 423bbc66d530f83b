// daemon/app.h: foobard's whole program, wiring flags, activation, the fd
// store handoff and the server. main.cc only calls Main().
//
// Exit codes: 0 clean, 1 runtime failure, 2 usage or environment error (a
// bad flag, malformed LISTEN_*/WATCHDOG_*, nothing to serve).
//
//   int main(int argc, char** argv) { return foobard::Main(argc, argv); }
//   // $ LISTEN_PID=$$ LISTEN_FDS=abc foobard   -> exit 2, and on stderr:
//   // <3>LISTEN_FDS=abc: ...  (the variable and why, from libsdfd)
#ifndef DAEMON_APP_H_
#define DAEMON_APP_H_

namespace foobard {

// Main runs foobard and returns its exit code.
int Main(int argc, char** argv);

}  // namespace foobard

#endif  // DAEMON_APP_H_
