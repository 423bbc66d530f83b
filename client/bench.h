// client/bench.h: `foobar --bench`, a closed-loop load generator in the
// style of redis-benchmark, driving thousands of connections from one
// thread.
//
// Every connection sends a message, waits for its complete echo, checks
// every byte, and sends the next, until `messages` round trips (in total,
// over all connections) have been made. One epoll loop serves all
// connections: per round trip that is one send() and usually one recv(),
// with epoll_wait() amortised over many connections, so the generator
// costs about what a minimal echo server costs per message. Payloads are
// slices of one random pattern (nothing is copied per message), and each
// message starts at a different offset, so a stale, crossed or reordered
// echo is a mismatch. Latencies go into a LatencyHistogram.
//
// Connections are made before the clock starts, one after the other with
// a blocking connect(): when the server's backlog is full, the kernel
// parks connect() until the server accepts (no EAGAIN retry loop needed),
// and SO_SNDTIMEO bounds that wait by the timeout.
//
// Example:
//
//   absl::StatusOr<sdfd::SocketSpec> spec =
//       sdfd::ParseSocketSpec("unix:/run/foobar.sk");
//   if (!spec.ok()) return 2;
//   foobar::client::BenchOptions options;
//   options.connections = 10000;
//   absl::StatusOr<foobar::client::BenchResult> result =
//       foobar::client::RunBench(*spec, options);
//   if (!result.ok()) return 1;  // "cannot connect to ...", or too few fds
//   std::printf("%s\n", foobar::client::FormatSummary(*result).c_str());
//   return result->intact() ? 0 : 1;
#ifndef CLIENT_BENCH_H_
#define CLIENT_BENCH_H_

#include <cstddef>
#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "client/bench_options.h"
#include "client/latency_histogram.h"
#include "sdfd/socket_spec.h"

namespace foobar::client {

// BenchResult is what a run measured.
struct BenchResult {
  int connections = 0;
  uint64_t messages = 0;     // round trips whose whole echo came back
  uint64_t bytes = 0;        // echoed bytes received (messages * size)
  double seconds = 0;        // from the first send to the last echo
  uint64_t errors = 0;       // messages lost (connection closed, reset, stall)
  uint64_t mismatches = 0;   // echoes that came back but differed
  std::string first_error;   // what caused the first error, if any
  LatencyHistogram latency;  // round-trip time of each message, in ns
  uint64_t requested = 0;    // BenchOptions::messages

  // intact is true when every requested message came back unchanged.
  bool intact() const {
    return errors == 0 && mismatches == 0 && messages == requested;
  }
};

// RunBench connects `options.connections` times to `spec` and runs the
// closed loop. Failing to connect (or to get enough file descriptors) is
// an error; failures during the run are counted in the result.
absl::StatusOr<BenchResult> RunBench(const sdfd::SocketSpec& spec,
                                     const BenchOptions& options);

// FormatSummary is the one summary line, key=value, numbers only:
// "connections=1 messages=10 bytes=640 seconds=0.001 msgs_per_s=10000
//  mib_per_s=0.610 p50_us=80.0 p99_us=95.0 max_us=99.5 errors=0
//  mismatches=0". mib_per_s counts echoed bytes in one direction.
std::string FormatSummary(const BenchResult& result);

// RaiseFileLimit raises RLIMIT_NOFILE's soft limit to its hard limit and
// fails, saying how to fix it, when that is still below `needed`.
absl::Status RaiseFileLimit(uint64_t needed);

}  // namespace foobar::client

#endif  // CLIENT_BENCH_H_
