/* The ceiling: the least a FIFO → journal forwarder can do per line.
 *
 *   pj-bench-ceiling FIFO IDENTIFIER
 *
 * Opens FIFO (created if missing) O_RDWR so it never sees EOF, sends READY=1, then reads with
 * blocking read(2) and calls sd_journal_sendv once per line with the same four fields pipejournal
 * sends: MESSAGE, PRIORITY (from a "<N>" prefix, else 6), SYSLOG_IDENTIFIER, PIPEJOURNAL_FIFO.
 * No event loop, no watchdog, no stop handling: SIGTERM kills it. Lines are assumed shorter than
 * the buffer (the benchmark writes ~100-byte lines). */
#define _GNU_SOURCE
#define SD_JOURNAL_SUPPRESS_LOCATION /* exactly the four fields, no CODE_FILE/LINE/FUNC */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <systemd/sd-daemon.h>
#include <systemd/sd-journal.h>
#include <unistd.h>

#define READ_SIZE (64 * 1024)
#define LINE_MAX_BYTES (48 * 1024)

static char buffer[READ_SIZE + LINE_MAX_BYTES];
static char message[sizeof("MESSAGE=") - 1 + READ_SIZE + LINE_MAX_BYTES];

int main(int argc, char** argv) {
    if (argc != 3) {
        fprintf(stderr, "usage: %s FIFO IDENTIFIER\n", argv[0]);
        return 2;
    }
    const char* path = argv[1];
    if (mkfifo(path, 0620) < 0 && errno != EEXIST) {
        fprintf(stderr, "Failed to create FIFO %s: %s\n", path, strerror(errno));
        return 1;
    }
    int fd = open(path, O_RDWR | O_CLOEXEC);
    if (fd < 0) {
        fprintf(stderr, "Failed to open FIFO %s: %s\n", path, strerror(errno));
        return 1;
    }

    char* identifier;
    char* fifo_field;
    if (asprintf(&identifier, "SYSLOG_IDENTIFIER=%s", argv[2]) < 0 ||
        asprintf(&fifo_field, "PIPEJOURNAL_FIFO=%s", path) < 0)
        return 1;
    static const char* const priorities[8] = {"PRIORITY=0", "PRIORITY=1", "PRIORITY=2",
                                              "PRIORITY=3", "PRIORITY=4", "PRIORITY=5",
                                              "PRIORITY=6", "PRIORITY=7"};
    memcpy(message, "MESSAGE=", 8);
    struct iovec iov[4];
    iov[2] = (struct iovec){identifier, strlen(identifier)};
    iov[3] = (struct iovec){fifo_field, strlen(fifo_field)};

    sd_notify(0, "READY=1");

    size_t have = 0;
    for (;;) {
        ssize_t n = read(fd, buffer + have, sizeof(buffer) - have);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            fprintf(stderr, "Failed to read FIFO %s: %s\n", path, strerror(errno));
            return 1;
        }
        have += (size_t)n;
        char* begin = buffer;
        char* end = buffer + have;
        char* nl;
        while ((nl = memchr(begin, '\n', (size_t)(end - begin)))) {
            const char* text = begin;
            size_t length = (size_t)(nl - begin);
            if (length > 0 && text[length - 1] == '\r')
                --length;
            int priority = 6;
            if (length >= 3 && text[0] == '<' && text[1] >= '0' && text[1] <= '7' && text[2] == '>') {
                priority = text[1] - '0';
                text += 3;
                length -= 3;
            }
            memcpy(message + 8, text, length);
            iov[0] = (struct iovec){message, 8 + length};
            iov[1] = (struct iovec){(void*)priorities[priority], strlen(priorities[priority])};
            int r;
            while ((r = sd_journal_sendv(iov, 4)) == -EAGAIN || r == -ENOBUFS || r == -EINTR)
                usleep(1000);
            if (r < 0)
                fprintf(stderr, "Failed to send entry: %s\n", strerror(-r));
            begin = nl + 1;
        }
        have = (size_t)(end - begin);
        memmove(buffer, begin, have);
        if (have == sizeof(buffer))
            have = 0; /* an over-long line: not this program's business */
    }
}
