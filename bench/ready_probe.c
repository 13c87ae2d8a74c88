/* exec → READY=1, measured the way systemd sees it.
 *
 *   pj-bench-ready [--settle-ms=N] -- PROGRAM [ARGS...]
 *
 * Binds a notify socket (abstract address) with SO_TIMESTAMPNS and passes it as NOTIFY_SOCKET.
 * The child takes CLOCK_REALTIME just before execve(2) and leaves it in a shared page; the
 * kernel's receive timestamp of the datagram holding READY=1 ends the interval (both are
 * CLOCK_REALTIME). After READY and N ms to settle (default 100) VmRSS is read from
 * /proc/PID/status, then the program gets SIGTERM and is reaped.
 *
 * Prints one JSON object: {"ready_us":…, "rss_kib":…, "hwm_kib":…, "exit":…, "ready":"…"}.
 * Exit 0 if READY=1 arrived within 10 s, else 1. */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static long status_kib(pid_t pid, const char* key) {
    char path[64];
    snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
    FILE* f = fopen(path, "re");
    if (!f)
        return -1;
    char line[256];
    long value = -1;
    size_t key_length = strlen(key);
    while (fgets(line, sizeof(line), f))
        if (strncmp(line, key, key_length) == 0 && line[key_length] == ':') {
            value = strtol(line + key_length + 1, NULL, 10);
            break;
        }
    fclose(f);
    return value;
}

static void json_string(const char* s) {
    putchar('"');
    for (; *s; ++s) {
        if (*s == '"' || *s == '\\')
            printf("\\%c", *s);
        else if (*s == '\n')
            fputs("\\n", stdout);
        else if ((unsigned char)*s < 0x20)
            printf("\\u%04x", *s);
        else
            putchar(*s);
    }
    putchar('"');
}

int main(int argc, char** argv) {
    int settle_ms = 100;
    int i = 1;
    for (; i < argc && strcmp(argv[i], "--") != 0; ++i)
        if (strncmp(argv[i], "--settle-ms=", 12) == 0)
            settle_ms = atoi(argv[i] + 12);
    if (i + 1 >= argc) {
        fprintf(stderr, "usage: %s [--settle-ms=N] -- PROGRAM [ARGS...]\n", argv[0]);
        return 2;
    }
    char** command = argv + i + 1;

    int sock = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    int on = 1;
    if (sock < 0 || setsockopt(sock, SOL_SOCKET, SO_TIMESTAMPNS, &on, sizeof(on)) < 0) {
        perror("notify socket");
        return 1;
    }
    struct sockaddr_un addr = {.sun_family = AF_UNIX};
    int name_length = snprintf(addr.sun_path + 1, sizeof(addr.sun_path) - 1,
                               "pj-bench-ready/%d/%ld", (int)getpid(), (long)time(NULL));
    socklen_t addr_length = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + name_length);
    if (bind(sock, (struct sockaddr*)&addr, addr_length) < 0) {
        perror("bind notify socket");
        return 1;
    }
    char notify_env[128];
    snprintf(notify_env, sizeof(notify_env), "@%s", addr.sun_path + 1);
    setenv("NOTIFY_SOCKET", notify_env, 1);

    struct timespec* exec_time =
        mmap(NULL, sizeof(struct timespec), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (exec_time == MAP_FAILED) {
        perror("mmap");
        return 1;
    }

    pid_t pid = fork();
    if (pid < 0) {
        perror("fork");
        return 1;
    }
    if (pid == 0) {
        clock_gettime(CLOCK_REALTIME, exec_time);
        execvp(command[0], command);
        fprintf(stderr, "exec %s: %s\n", command[0], strerror(errno));
        _exit(127);
    }

    char ready_text[4096] = "";
    double ready_us = -1;
    struct timespec deadline;
    clock_gettime(CLOCK_MONOTONIC, &deadline);
    deadline.tv_sec += 10;
    while (ready_us < 0) {
        struct timespec now;
        clock_gettime(CLOCK_MONOTONIC, &now);
        long left_ms = (deadline.tv_sec - now.tv_sec) * 1000 + (deadline.tv_nsec - now.tv_nsec) / 1000000;
        if (left_ms <= 0)
            break;
        struct pollfd p = {.fd = sock, .events = POLLIN};
        if (poll(&p, 1, (int)left_ms) <= 0)
            continue;
        char data[4096];
        union {
            struct cmsghdr align;
            char buf[CMSG_SPACE(sizeof(struct timespec)) + CMSG_SPACE(64)];
        } control;
        struct iovec iov = {data, sizeof(data) - 1};
        struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = &control,
                             .msg_controllen = sizeof(control)};
        ssize_t n = recvmsg(sock, &msg, MSG_DONTWAIT);
        if (n < 0)
            continue;
        data[n] = 0;
        struct timespec received = {0, 0};
        for (struct cmsghdr* c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c))
            if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_TIMESTAMPNS)
                memcpy(&received, CMSG_DATA(c), sizeof(received));
        /* READY=1 as a line of its own: at the start or after a '\n'. */
        const char* r = strstr(data, "READY=1");
        if (r && (r == data || r[-1] == '\n') && (r[7] == '\n' || r[7] == 0)) {
            snprintf(ready_text, sizeof(ready_text), "%s", data);
            ready_us = (double)(received.tv_sec - exec_time->tv_sec) * 1e6 +
                       (double)(received.tv_nsec - exec_time->tv_nsec) / 1e3;
        }
    }

    long rss = -1, hwm = -1;
    if (ready_us >= 0) {
        usleep((useconds_t)settle_ms * 1000);
        rss = status_kib(pid, "VmRSS");
        hwm = status_kib(pid, "VmHWM");
    }
    kill(pid, SIGTERM);
    int status = 0;
    waitpid(pid, &status, 0);
    int exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);

    printf("{\"ready_us\": %.1f, \"rss_kib\": %ld, \"hwm_kib\": %ld, \"exit\": %d, \"ready\": ",
           ready_us, rss, hwm, exit_code);
    json_string(ready_text);
    puts("}");
    return ready_us >= 0 ? 0 : 1;
}
