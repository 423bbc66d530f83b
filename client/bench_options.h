// client/bench_options.h: what `foobar --bench` measures, as plain values.
// Its own header so that the command line (client/cli.h) does not depend on
// the load generator that uses them (client/bench.h).
//
// Example:
//
//   foobar::client::BenchOptions options;
//   options.connections = 1000;                 // --connections=1000
//   options.size = 4096;                        // --size=4K
//   options.timeout = absl::Milliseconds(200);  // --timeout=200ms
#ifndef CLIENT_BENCH_OPTIONS_H_
#define CLIENT_BENCH_OPTIONS_H_

#include <cstddef>
#include <cstdint>

#include "absl/time/time.h"

namespace foobar::client {

// BenchOptions is what --bench measures.
struct BenchOptions {
  int connections = 50;
  uint64_t messages = 100000;  // round trips in total, over all connections
  size_t size = 64;            // bytes per message
  // A run in which no echo byte arrives for this long stops, counting every
  // outstanding message as an error.
  absl::Duration timeout = absl::Seconds(10);
  // When >= 0, a progress line is rewritten here once a second.
  int progress_fd = -1;
};

}  // namespace foobar::client

#endif  // CLIENT_BENCH_OPTIONS_H_
