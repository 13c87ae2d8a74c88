// Does sendmmsg(2) save the sender anything over one send(2) per native entry?
//
//     pj-bench-sendmmsg ENTRIES BATCH RECEIVER_US [SNDBUF]
//
// A receiver process (journald's stand-in) reads datagrams one recv(2) at a time and spends
// RECEIVER_US of CPU on each (journald spends ~10 µs per native entry); the sender sends ENTRIES
// entries of the size pipejournal sends for a benchmark line (~190 bytes) on a connected
// non-blocking socket with pipejournal's SO_SNDBUF (128 KiB, or SNDBUF bytes), BATCH at a time (1:
// send(2), as the daemon does; more: sendmmsg(2)), waiting in poll(2) for POLLOUT on EAGAIN. Prints
// one JSON line: the sender's CPU µs per entry, its waits and system calls per entry, and the wall
// time. Run it where max_dgram_qlen is systemd's 512 (`unshare -n sh -c 'sysctl -qw
// net.unix.max_dgram_qlen=512; ...'`), as in the benchmark's container. Built with the project,
// never run by a test.
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double now_us(clockid_t clock) {
    struct timespec t;
    clock_gettime(clock, &t);
    return (double)t.tv_sec * 1e6 + (double)t.tv_nsec / 1e3;
}

static void spin_us(double us) {
    double end = now_us(CLOCK_THREAD_CPUTIME_ID) + us;
    while (now_us(CLOCK_THREAD_CPUTIME_ID) < end) {
    }
}

int main(int argc, char** argv) {
    if (argc != 4 && argc != 5) {
        fprintf(stderr, "usage: %s ENTRIES BATCH RECEIVER_US [SNDBUF]\n", argv[0]);
        return 2;
    }
    long entries = atol(argv[1]);
    int batch = atoi(argv[2]);
    double receiver_us = atof(argv[3]);
    if (entries <= 0 || batch <= 0 || batch > 1024)
        return 2;
    // A bound socket, as journald's: a socketpair's peer is not limited by max_dgram_qlen.
    struct sockaddr_un address = {.sun_family = AF_UNIX};
    int path_len = snprintf(address.sun_path + 1, sizeof address.sun_path - 1,
                            "pj-bench-sendmmsg-%d", (int)getpid());
    socklen_t address_len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + path_len);
    int journald = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (journald < 0 || bind(journald, (struct sockaddr*)&address, address_len) < 0)
        return perror("bind"), 1;
    pid_t receiver = fork();
    if (receiver == 0) {
        char data[4096];
        for (long i = 0; i < entries; ++i) {
            if (recv(journald, data, sizeof data, 0) <= 0)
                _exit(1);
            spin_us(receiver_us);
        }
        _exit(0);
    }
    close(journald);
    int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    int size = argc == 5 ? atoi(argv[4]) : 128 * 1024;
    setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &size, sizeof size);
    if (connect(fd, (struct sockaddr*)&address, address_len) < 0)
        return perror("connect"), 1;

    static char wire[1024][256];
    static struct iovec io[1024];
    static struct mmsghdr messages[1024];
    const char* body =
        "the quick brown fox jumps over the lazy dog 0123456789 the quick brown "
        "fox jumps over the lazy.";
    long sent = 0, waits = 0, calls = 0;
    double cpu0 = now_us(CLOCK_PROCESS_CPUTIME_ID), wall0 = now_us(CLOCK_MONOTONIC);
    while (sent < entries) {
        int n = (int)(entries - sent < batch ? entries - sent : batch);
        for (int i = 0; i < n; ++i) {
            int len = snprintf(wire[i], sizeof wire[i],
                               "MESSAGE=bench %07ld %s\nPRIORITY=6\nSYSLOG_IDENTIFIER=pipejournal\n"
                               "PIPEJOURNAL_FIFO=/run/pipejournal/in\n",
                               sent + i, body);
            io[i] = (struct iovec){wire[i], (size_t)len};
            memset(&messages[i], 0, sizeof messages[i]);
            messages[i].msg_hdr.msg_iov = &io[i];
            messages[i].msg_hdr.msg_iovlen = 1;
        }
        int r;
        ++calls;
        if (batch == 1)
            r = send(fd, wire[0], io[0].iov_len, MSG_DONTWAIT | MSG_NOSIGNAL) < 0 ? -1 : 1;
        else
            r = sendmmsg(fd, messages, (unsigned)n, MSG_DONTWAIT | MSG_NOSIGNAL);
        if (r < 0 && errno == EAGAIN) {
            struct pollfd room = {fd, POLLOUT, 0};
            ++waits;
            poll(&room, 1, -1);
            continue;
        }
        if (r < 0)
            return perror("send"), 1;
        sent += r;  // a partial batch: the rest goes next time, in order
    }
    double cpu = now_us(CLOCK_PROCESS_CPUTIME_ID) - cpu0;
    int status = 0;
    waitpid(receiver, &status, 0);
    double wall = now_us(CLOCK_MONOTONIC) - wall0;
    printf(
        "{\"batch\": %d, \"sndbuf\": %d, \"entries\": %ld, \"receiver_us\": %.1f, "
        "\"sender_us_per_entry\": %.3f, "
        "\"waits_per_entry\": %.4f, \"calls_per_entry\": %.4f, \"wall_s\": %.3f, "
        "\"receiver_ok\": %s}\n",
        batch, size, entries, receiver_us, cpu / (double)entries, (double)waits / (double)entries,
        (double)calls / (double)entries, wall / 1e6,
        WIFEXITED(status) && WEXITSTATUS(status) == 0 ? "true" : "false");
    return 0;
}
