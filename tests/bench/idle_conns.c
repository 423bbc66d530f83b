/* tests/bench/idle_conns.c: holds N idle connections open to an echo server,
 * so the benchmark can read the server's memory with N idle clients.
 *
 * Each connection first does one 1-byte round trip, so the server has
 * certainly accepted it and gone through its echo path once; then all stay
 * open and silent until stdin reaches EOF. It prints "ready N" on stdout once
 * every echo is back:
 *
 *   coproc idle_conns --socket=/tmp/b.sk --connections=10000
 *   read -r line <&"${COPROC[0]}"   # "ready 10000", or EOF on failure
 *
 * On any failure it prints "idle_conns: <what failed>: <why>" on stderr and
 * exits 1 without printing "ready"; bad arguments exit 2. */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

enum { kTimeoutMs = 30000 };

static void Die(const char *what, int n) {
  fprintf(stderr, "idle_conns: %s (connection %d): %s\n", what, n,
          strerror(errno));
  exit(1);
}

int main(int argc, char **argv) {
  const char *socket_path = NULL;
  int n = 0;
  for (int i = 1; i < argc; i++) {
    if (strncmp(argv[i], "--socket=", 9) == 0) {
      socket_path = argv[i] + 9;
    } else if (strncmp(argv[i], "--connections=", 14) == 0) {
      n = atoi(argv[i] + 14);
    } else {
      n = -1;
      break;
    }
  }
  struct sockaddr_un addr = {.sun_family = AF_UNIX};
  if (socket_path == NULL || n < 1 ||
      strlen(socket_path) >= sizeof addr.sun_path) {
    fprintf(stderr, "usage: idle_conns --socket=PATH --connections=N\n");
    return 2;
  }
  snprintf(addr.sun_path, sizeof addr.sun_path, "%s", socket_path);
  struct rlimit rl;
  if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
    rl.rlim_cur = rl.rlim_max;
    (void)setrlimit(RLIMIT_NOFILE, &rl); /* too few fds shows up at socket() */
  }
  int *fds = calloc((size_t)n, sizeof *fds);
  if (fds == NULL) Die("calloc", 0);
  /* Connect and send on all first, then collect the echoes: the server sees
   * the same burst of accepts a real fleet of clients would give it. */
  for (int i = 0; i < n; i++) {
    fds[i] = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fds[i] < 0) Die("socket", i);
    if (connect(fds[i], (struct sockaddr *)&addr, sizeof addr) < 0) {
      Die("connect", i);
    }
    if (write(fds[i], "x", 1) != 1) Die("write", i);
  }
  for (int i = 0; i < n; i++) {
    struct pollfd p = {.fd = fds[i], .events = POLLIN};
    int r = poll(&p, 1, kTimeoutMs);
    if (r == 0) errno = ETIMEDOUT;
    char c;
    if (r <= 0 || read(fds[i], &c, 1) != 1 || c != 'x') Die("echo", i);
  }
  printf("ready %d\n", n);
  fflush(stdout);
  char buf[256];
  while (read(0, buf, sizeof buf) > 0) {
  }
  return 0;
}
