/* tests/bench/ref_echo.c: the benchmark's baseline, the tightest plain echo
 * server one core can run. foobard's throughput and cold-start targets are
 * ratios to this program measured in the same run (see docs/BENCHMARKS.md).
 *
 * It is the project's own copy of ../shared/bench/ref_epoll_echo.c: one
 * thread, level-triggered epoll on the listening socket systemd passes as
 * fd 3 (SD_LISTEN_FDS_START), one 64 KiB read buffer shared by every
 * connection, and a heap buffer only for the rest of a short write. It links
 * nothing but libc, so its cold start is the floor for any daemon.
 *
 *   systemd-socket-activate -l /tmp/echo.sk ref_echo
 *   # without activation it exits 2:
 *   ref_echo   ->  "ref_echo: LISTEN_FDS is not 1 ..." and exit status 2
 *
 * Deliberately not production code: no connection limit, no idle exit, no
 * notify. Anything it skips, foobard must pay for and still stay within 5%. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

enum {
  kListenFd = 3, /* SD_LISTEN_FDS_START */
  kMaxFds = 65536,
  kReadSize = 65536,
  kEvents = 256,
};

/* Pending is what a short write left over for one connection. */
typedef struct {
  char *buf;
  size_t len, off;
} Pending;

static Pending pending[kMaxFds];
static char read_buf[kReadSize];

static void Watch(int ep, int op, int fd, unsigned events) {
  struct epoll_event ev = {.events = events, .data.fd = fd};
  if (epoll_ctl(ep, op, fd, &ev) < 0) {
    fprintf(stderr, "ref_echo: epoll_ctl(%d): %s\n", fd, strerror(errno));
    exit(1);
  }
}

static void Drop(int fd) {
  free(pending[fd].buf);
  pending[fd] = (Pending){0};
  close(fd); /* close() also removes fd from the epoll set. */
}

/* AcceptAll drains the listening socket's queue. */
static void AcceptAll(int ep) {
  for (;;) {
    int c = accept4(kListenFd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (c < 0) return; /* EAGAIN, or EMFILE: retried on the next event. */
    if (c >= kMaxFds) {
      close(c);
      continue;
    }
    Watch(ep, EPOLL_CTL_ADD, c, EPOLLIN);
  }
}

/* Flush writes what a short write left; back to reading once it is all out. */
static void Flush(int ep, int fd) {
  Pending *p = &pending[fd];
  ssize_t w = write(fd, p->buf + p->off, p->len - p->off);
  if (w < 0) {
    if (errno != EAGAIN) Drop(fd);
    return;
  }
  p->off += (size_t)w;
  if (p->off < p->len) return;
  free(p->buf);
  *p = (Pending){0};
  Watch(ep, EPOLL_CTL_MOD, fd, EPOLLIN);
}

/* Echo reads once and writes it back; a short write parks the rest. */
static void Echo(int ep, int fd) {
  ssize_t r = read(fd, read_buf, sizeof read_buf);
  if (r <= 0) {
    if (r < 0 && errno == EAGAIN) return;
    Drop(fd);
    return;
  }
  ssize_t w = write(fd, read_buf, (size_t)r);
  if (w < 0) {
    if (errno != EAGAIN) {
      Drop(fd);
      return;
    }
    w = 0;
  }
  if (w == r) return;
  Pending *p = &pending[fd];
  p->len = (size_t)(r - w);
  p->off = 0;
  p->buf = malloc(p->len);
  if (p->buf == NULL) {
    Drop(fd);
    return;
  }
  memcpy(p->buf, read_buf + w, p->len);
  Watch(ep, EPOLL_CTL_MOD, fd, EPOLLOUT);
}

int main(void) {
  const char *n = getenv("LISTEN_FDS");
  if (n == NULL || strcmp(n, "1") != 0) {
    fprintf(stderr,
            "ref_echo: LISTEN_FDS is not 1; run it as: "
            "systemd-socket-activate -l /tmp/echo.sk ref_echo\n");
    return 2;
  }
  /* 10,000 connections need more than the usual 1024 descriptors. */
  struct rlimit rl;
  if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
    rl.rlim_cur = rl.rlim_max;
    (void)setrlimit(RLIMIT_NOFILE, &rl); /* best effort: the soft limit stays */
  }
  int flags = fcntl(kListenFd, F_GETFL);
  if (flags < 0 || fcntl(kListenFd, F_SETFL, flags | O_NONBLOCK) < 0) {
    fprintf(stderr, "ref_echo: fcntl(3, O_NONBLOCK): %s\n", strerror(errno));
    return 1;
  }
  int ep = epoll_create1(EPOLL_CLOEXEC);
  if (ep < 0) {
    fprintf(stderr, "ref_echo: epoll_create1: %s\n", strerror(errno));
    return 1;
  }
  Watch(ep, EPOLL_CTL_ADD, kListenFd, EPOLLIN);
  struct epoll_event evs[kEvents];
  for (;;) {
    int ready = epoll_wait(ep, evs, kEvents, -1);
    if (ready < 0) {
      if (errno == EINTR) continue;
      fprintf(stderr, "ref_echo: epoll_wait: %s\n", strerror(errno));
      return 1;
    }
    for (int i = 0; i < ready; i++) {
      int fd = evs[i].data.fd;
      if (fd == kListenFd) {
        AcceptAll(ep);
      } else if (pending[fd].len != 0) {
        Flush(ep, fd);
      } else {
        Echo(ep, fd);
      }
    }
  }
}
