/* tests/bench/cold_start.c: measures a server's cold start, the first round
 * trip through a fresh systemd-socket-activate (exec, init, accept, echo).
 *
 * For each repetition it starts `systemd-socket-activate [-a] -l SOCKET --
 * SERVER...`, waits until the activator is blocked in epoll_wait on its
 * listening socket (read from /proc/PID/syscall, so the activator's own
 * start-up is never in the figure), then times connect + write of one
 * message + read of its whole echo. The clock starts just before connect()
 * and stops when the last echoed byte is read, so every server is measured
 * over exactly the same path. It prints one line with the median:
 *
 *   cold_start --reps=30 --socket=/tmp/b.sk -- bazel-bin/tests/bench/ref_echo
 *   reps=30 size=64 median_us=812 p10_us=760 p90_us=905 min_us=741 max_us=990
 *   samples_us=741,745,...,990   (on the same line)
 *
 * With --before=CMD it spawns no activator: the socket is already listening
 * (a real systemd's foobar.socket) and CMD, run before each repetition, makes
 * the next round trip a cold one:
 *
 *   cold_start --reps=21 --socket=/run/foobar.sk \
 *       --before='systemctl stop foobar.service'
 *
 * Any failure (server never echoes, wrong bytes, activator dies) prints
 * "cold_start: <what failed>: <why>" and exits 1; bad arguments exit 2. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

enum {
  kMaxReps = 1000,
  kMaxSize = 65536,
  kTimeoutMs = 10000,
};

static void Die(const char *what) {
  fprintf(stderr, "cold_start: %s: %s\n", what, strerror(errno));
  exit(1);
}

static void DieMsg(const char *what) {
  fprintf(stderr, "cold_start: %s\n", what);
  exit(1);
}

static double NowUs(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

/* BlockedInEpoll reports whether pid sits in epoll_wait/epoll_pwait, which is
 * where systemd-socket-activate waits for the first connection. The first
 * field of /proc/PID/syscall is the number of the syscall it is blocked in. */
static int BlockedInEpoll(pid_t pid) {
  char path[64], line[256];
  snprintf(path, sizeof path, "/proc/%d/syscall", (int)pid);
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return 0;
  ssize_t n = read(fd, line, sizeof line - 1);
  close(fd);
  if (n <= 0) return 0;
  line[n] = '\0';
  long nr = strtol(line, NULL, 10);
#ifdef SYS_epoll_wait
  if (nr == SYS_epoll_wait) return 1;
#endif
  return nr == SYS_epoll_pwait || nr == SYS_epoll_pwait2;
}

/* StartActivator forks systemd-socket-activate for server_argv and waits
 * until it listens on socket_path, blocked in epoll. */
static pid_t StartActivator(const char *socket_path, int accept_mode,
                            char **server_argv, int server_argc) {
  if (unlink(socket_path) < 0 && errno != ENOENT) Die("unlink(socket)");
  pid_t pid = fork();
  if (pid < 0) Die("fork");
  if (pid == 0) {
    char **argv = calloc((size_t)server_argc + 6, sizeof *argv);
    int i = 0;
    argv[i++] = "systemd-socket-activate";
    if (accept_mode) argv[i++] = "--accept";
    argv[i++] = "-l";
    argv[i++] = (char *)socket_path;
    argv[i++] = "--";
    for (int j = 0; j < server_argc; j++) argv[i++] = server_argv[j];
    argv[i] = NULL;
    /* The activator logs every connection on stderr; keep the output to the
     * one result line. */
    int devnull = open("/dev/null", O_WRONLY);
    if (devnull >= 0) dup2(devnull, 2);
    execvp(argv[0], argv);
    _exit(127);
  }
  double deadline = NowUs() + kTimeoutMs * 1000.0;
  struct stat st;
  while (!(stat(socket_path, &st) == 0 && BlockedInEpoll(pid))) {
    int status;
    if (waitpid(pid, &status, WNOHANG) == pid) {
      DieMsg("systemd-socket-activate exited before listening");
    }
    if (NowUs() > deadline) DieMsg("systemd-socket-activate never listened");
    /* Nothing to wait on: the activator gives no signal when it is ready, so
     * poll /proc at a resolution well below the figure we measure. */
    struct timespec pause = {0, 50 * 1000};
    nanosleep(&pause, NULL);
  }
  return pid;
}

/* RoundTrip times connect + send + full echo of size bytes, in microseconds. */
static double RoundTrip(const char *socket_path, size_t size) {
  static char out[kMaxSize], in[kMaxSize];
  for (size_t i = 0; i < size; i++) out[i] = (char)('a' + i % 26);
  struct sockaddr_un addr = {.sun_family = AF_UNIX};
  snprintf(addr.sun_path, sizeof addr.sun_path, "%s", socket_path);
  int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (s < 0) Die("socket");
  double t0 = NowUs();
  if (connect(s, (struct sockaddr *)&addr, sizeof addr) < 0) Die("connect");
  size_t sent = 0;
  while (sent < size) {
    ssize_t w = write(s, out + sent, size - sent);
    if (w < 0) Die("write");
    sent += (size_t)w;
  }
  size_t got = 0;
  while (got < size) {
    struct pollfd p = {.fd = s, .events = POLLIN};
    int r = poll(&p, 1, kTimeoutMs);
    if (r == 0) DieMsg("no echo within 10 s");
    if (r < 0) Die("poll");
    ssize_t n = read(s, in + got, size - got);
    if (n < 0) Die("read");
    if (n == 0) DieMsg("server closed before echoing everything");
    got += (size_t)n;
  }
  double t1 = NowUs();
  if (memcmp(in, out, size) != 0) DieMsg("echo differs from what was sent");
  close(s);
  return t1 - t0;
}

static void Stop(pid_t pid) {
  (void)kill(pid, SIGTERM); /* it may already be gone; waitpid tells */
  int status;
  if (waitpid(pid, &status, 0) < 0) Die("waitpid");
}

static int CompareDouble(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

static void Usage(void) {
  fprintf(stderr,
          "usage: cold_start [--reps=N] [--size=BYTES] [--accept] "
          "--socket=PATH -- SERVER [ARGS...]\n"
          "       cold_start [--reps=N] [--size=BYTES] --socket=PATH "
          "--before=CMD\n");
  exit(2);
}

int main(int argc, char **argv) {
  int reps = 30, accept_mode = 0, first_server_arg = -1;
  long size = 64;
  const char *socket_path = NULL, *before = NULL;
  for (int i = 1; i < argc; i++) {
    if (strcmp(argv[i], "--") == 0) {
      first_server_arg = i + 1;
      break;
    } else if (strncmp(argv[i], "--reps=", 7) == 0) {
      reps = atoi(argv[i] + 7);
    } else if (strncmp(argv[i], "--size=", 7) == 0) {
      size = atol(argv[i] + 7);
    } else if (strncmp(argv[i], "--socket=", 9) == 0) {
      socket_path = argv[i] + 9;
    } else if (strncmp(argv[i], "--before=", 9) == 0) {
      before = argv[i] + 9;
    } else if (strcmp(argv[i], "--accept") == 0) {
      accept_mode = 1;
    } else {
      Usage();
    }
  }
  int spawn = before == NULL;
  if (socket_path == NULL ||
      (spawn && (first_server_arg < 0 || first_server_arg >= argc)) ||
      (!spawn && first_server_arg >= 0) || reps < 1 || reps > kMaxReps ||
      size < 1 || size > kMaxSize ||
      strlen(socket_path) >= sizeof(((struct sockaddr_un *)0)->sun_path)) {
    Usage();
  }
  /* A server killed mid-write must not kill the prober. */
  signal(SIGPIPE, SIG_IGN);
  static double us[kMaxReps];
  for (int r = 0; r < reps; r++) {
    if (!spawn) {
      int rc = system(before);
      if (rc != 0) {
        fprintf(stderr, "cold_start: --before command failed (status %d): %s\n",
                rc, before);
        return 1;
      }
      us[r] = RoundTrip(socket_path, (size_t)size);
      continue;
    }
    pid_t pid =
        StartActivator(socket_path, accept_mode, argv + first_server_arg,
                       argc - first_server_arg);
    us[r] = RoundTrip(socket_path, (size_t)size);
    Stop(pid);
  }
  /* Leave no socket file of ours behind; systemd's socket is not ours. */
  if (spawn) (void)unlink(socket_path);
  qsort(us, (size_t)reps, sizeof us[0], CompareDouble);
  double median =
      reps % 2 ? us[reps / 2] : (us[reps / 2 - 1] + us[reps / 2]) / 2;
  printf(
      "reps=%d size=%ld median_us=%.0f p10_us=%.0f p90_us=%.0f "
      "min_us=%.0f max_us=%.0f samples_us=",
      reps, size, median, us[reps / 10], us[reps * 9 / 10], us[0],
      us[reps - 1]);
  /* Every sample, sorted, so runs can be pooled before taking a median. */
  for (int r = 0; r < reps; r++) printf("%s%.0f", r ? "," : "", us[r]);
  printf("\n");
  return 0;
}
