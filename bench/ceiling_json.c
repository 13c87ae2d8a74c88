/* The ceiling for structured lines: the least a forwarder can do per entry once the line's fields
 * are known.
 *
 *   pj-bench-ceiling-json FIFO IDENTIFIER
 *
 * As pj-bench-ceiling (ceiling.c), but each line in the FIFO is one entry already split into its
 * fields: "NAME=value" pieces separated by the byte 0x1f (ASCII unit separator). The benchmark
 * writes, for each JSON line it gives pipejournal, the fields pipejournal maps that line to
 * (MESSAGE, PRIORITY and the line's own), so both send the same entries. One sd_journal_sendv per
 * line: SYSLOG_IDENTIFIER and PIPEJOURNAL_FIFO (as pipejournal sends them), then the line's
 * fields as they come. The only work per line is finding the separators: no parsing, no name
 * mapping. Values hold neither 0x1f nor a newline (the benchmark's never do); at most
 * MAX_FIELDS fields per line, further ones are not sent. No event loop, no watchdog, no stop
 * handling: SIGTERM kills it. */
#define _GNU_SOURCE
#define SD_JOURNAL_SUPPRESS_LOCATION /* only the fields given, no CODE_FILE/LINE/FUNC */
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
#define MAX_FIELDS 64
#define SEPARATOR '\x1f'

static char buffer[READ_SIZE + LINE_MAX_BYTES];

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
    struct iovec iov[2 + MAX_FIELDS];
    iov[0] = (struct iovec){identifier, strlen(identifier)};
    iov[1] = (struct iovec){fifo_field, strlen(fifo_field)};

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
            size_t count = 2;
            char* field = begin;
            while (field < nl && count < 2 + MAX_FIELDS) {
                char* stop = memchr(field, SEPARATOR, (size_t)(nl - field));
                if (!stop)
                    stop = nl;
                iov[count++] = (struct iovec){field, (size_t)(stop - field)};
                field = stop + 1;
            }
            int r;
            while ((r = sd_journal_sendv(iov, (int)count)) == -EAGAIN || r == -ENOBUFS ||
                   r == -EINTR)
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
