#include <doctest/doctest.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "systemd/journal.hpp"

using pj::journal::is_valid_field_name;

// FieldName{"bad name"} must not compile; these are checked by the compiler.
static_assert(pj::journal::FieldName("PIPEJOURNAL_FIFO").view() == "PIPEJOURNAL_FIFO");
static_assert(is_valid_field_name("MESSAGE_ID"));

TEST_CASE("journal field names: A-Z 0-9 _, no leading _ or digit, at most 64") {
    CHECK(is_valid_field_name("MESSAGE"));
    CHECK(is_valid_field_name("PIPEJOURNAL_FIFO"));
    CHECK(is_valid_field_name("A1_"));
    CHECK(is_valid_field_name(std::string(64, 'A')));
    CHECK_FALSE(is_valid_field_name(std::string(65, 'A')));
    CHECK_FALSE(is_valid_field_name(""));
    CHECK_FALSE(is_valid_field_name("_SYSTEMD_UNIT"));
    CHECK_FALSE(is_valid_field_name("1ABC"));
    CHECK_FALSE(is_valid_field_name("message"));
    CHECK_FALSE(is_valid_field_name("MESS AGE"));
    CHECK_FALSE(is_valid_field_name("MESSAGE="));
    CHECK_FALSE(is_valid_field_name("MÉSSAGE"));
}

TEST_CASE("stderr is the journal only when JOURNAL_STREAM names fd 2's device and inode") {
    struct stat st {};
    REQUIRE(fstat(STDERR_FILENO, &st) == 0);
    std::string matching = std::to_string(st.st_dev) + ":" + std::to_string(st.st_ino);
    std::string other = std::to_string(st.st_dev) + ":" + std::to_string(st.st_ino + 1);

    unsetenv("JOURNAL_STREAM");
    CHECK_FALSE(pj::journal::stderr_is_journal());
    setenv("JOURNAL_STREAM", matching.c_str(), 1);
    CHECK(pj::journal::stderr_is_journal());
    setenv("JOURNAL_STREAM", other.c_str(), 1);
    CHECK_FALSE(pj::journal::stderr_is_journal());
    for (const std::string& bad :
         {std::string("garbage"), std::string(":"), matching + "x", ":" + std::to_string(st.st_ino),
          std::to_string(st.st_dev) + ":"}) {
        CAPTURE(bad);
        setenv("JOURNAL_STREAM", bad.c_str(), 1);
        CHECK_FALSE(pj::journal::stderr_is_journal());
    }
    unsetenv("JOURNAL_STREAM");
}

namespace {

using pj::journal::Field;

// A datagram socket bound in a temp dir: a journald stand-in that receives the real wire format.
struct Receiver {
    std::string dir, path;
    int fd = -1;
    bool own_dir = true;
    Receiver() {
        char name[] = "/tmp/pj-journal-XXXXXX";
        REQUIRE(mkdtemp(name));
        dir = name;
        path = dir + "/socket";
        bind_socket();
    }
    explicit Receiver(std::string at) : path(std::move(at)), own_dir(false) { bind_socket(); }
    void bind_socket() {
        fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        sockaddr_un address{};
        address.sun_family = AF_UNIX;
        std::strcpy(address.sun_path, path.c_str());
        REQUIRE(bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0);
    }
    ~Receiver() {
        if (fd >= 0)
            close(fd);
        unlink(path.c_str());
        if (own_dir)
            rmdir(dir.c_str());
    }
    // One datagram's payload, or the contents of the memfd it carried.
    std::string receive(bool* came_in_memfd = nullptr) const {
        std::string data(16 * 1024 * 1024, '\0');
        alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))];
        iovec io{data.data(), data.size()};
        msghdr message{};
        message.msg_iov = &io;
        message.msg_iovlen = 1;
        message.msg_control = control;
        message.msg_controllen = sizeof control;
        ssize_t n = recvmsg(fd, &message, MSG_CMSG_CLOEXEC);
        REQUIRE(n >= 0);
        cmsghdr* header = CMSG_FIRSTHDR(&message);
        if (came_in_memfd)
            *came_in_memfd = header && header->cmsg_type == SCM_RIGHTS;
        if (header && header->cmsg_type == SCM_RIGHTS) {
            int memfd;
            std::memcpy(&memfd, CMSG_DATA(header), sizeof memfd);
            CHECK((fcntl(memfd, F_GET_SEALS) & F_SEAL_WRITE) != 0);
            std::string content;
            char chunk[65536];
            for (ssize_t r;
                 (r = pread(memfd, chunk, sizeof chunk, static_cast<off_t>(content.size()))) > 0;)
                content.append(chunk, static_cast<std::size_t>(r));
            close(memfd);
            return content;
        }
        data.resize(static_cast<std::size_t>(n));
        return data;
    }
};

}  // namespace

TEST_CASE("native encoding: NAME=value lines, binary form for a value with a newline") {
    std::string wire;
    std::array<Field, 2> simple = {{{"MESSAGE", "hello"}, {"PRIORITY", "6"}}};
    REQUIRE(pj::journal::encode(simple, wire) == 0);
    CHECK(wire == "MESSAGE=hello\nPRIORITY=6\n");

    std::array<Field, 1> multi = {{{"MESSAGE", "a\nb"}}};
    REQUIRE(pj::journal::encode(multi, wire) == 0);
    CHECK(wire == std::string("MESSAGE\n\x03\0\0\0\0\0\0\0a\nb\n", 8 + 8 + 4));

    std::array<Field, 1> bad_name = {{{"_PID", "1"}}};
    CHECK(pj::journal::encode(bad_name, wire) == -EINVAL);
    std::array<Field, 1> lower = {{{"message", "x"}}};
    CHECK(pj::journal::encode(lower, wire) == -EINVAL);
}

TEST_CASE("native encoding decodes back to the same fields, NULs and newlines included") {
    std::string nul_value("a\0b", 3);
    std::array<Field, 4> fields = {
        {{"MESSAGE", "x=y"}, {"A", ""}, {"B", "l1\nl2\n"}, {"C", nul_value}}};
    std::string wire;
    REQUIRE(pj::journal::encode(fields, wire) == 0);
    std::vector<std::pair<std::string, std::string>> decoded;
    REQUIRE(pj::journal::decode(wire, decoded) == 0);
    REQUIRE(decoded.size() == fields.size());
    for (std::size_t i = 0; i < fields.size(); ++i) {
        CHECK(decoded[i].first == fields[i].name);
        CHECK(decoded[i].second == fields[i].value);
    }
    decoded.clear();
    CHECK(pj::journal::decode("MESSAGE\n\x05", decoded) == -EBADMSG);
    CHECK(pj::journal::decode("MESSAGE=no newline", decoded) == -EBADMSG);
}

TEST_CASE("journal socket: an entry arrives as one datagram in the native format") {
    Receiver journald;
    pj::journal::Socket socket(journald.path);
    std::array<Field, 3> entry = {
        {{"MESSAGE", "disk full"}, {"PRIORITY", "3"}, {"PIPEJOURNAL_FIFO", "/run/x"}}};
    REQUIRE(socket.send(entry) == 0);
    CHECK(journald.receive() == "MESSAGE=disk full\nPRIORITY=3\nPIPEJOURNAL_FIFO=/run/x\n");
}

TEST_CASE("journal socket: a missing or unbound socket is an error, not a silent success") {
    Receiver journald;
    pj::journal::Socket missing(journald.dir + "/nothing-here");
    std::array<Field, 1> entry = {{{"MESSAGE", "x"}}};
    CHECK(missing.send(entry) == -ENOENT);

    std::string path = journald.path;
    close(journald.fd);  // the socket file stays, nobody listens: journald stopped
    journald.fd = -1;
    pj::journal::Socket refused(path);
    CHECK(refused.send(entry) == -ECONNREFUSED);
}

TEST_CASE(
    "journal socket: a journald that stops reading gives EAGAIN at once, and EPOLLOUT on fd() "
    "when it reads again") {
    Receiver journald;  // never reads until the end
    pj::journal::Socket socket(journald.path);
    std::string message(1000, 'x');
    std::array<Field, 1> entry = {{{"MESSAGE", message}}};
    int sent = 0, r = 0;
    auto start = std::chrono::steady_clock::now();
    while ((r = socket.send(entry)) == 0 && sent < 100'000)
        ++sent;
    CHECK(r == -EAGAIN);  // the queue filled up and the send returned instead of blocking
    CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(2));
    CHECK(sent > 0);
    REQUIRE(socket.fd() >= 0);
    pollfd waiting{socket.fd(), POLLOUT, 0};
    CHECK(poll(&waiting, 1, 0) == 0);                          // full: not writable
    CHECK(journald.receive() == "MESSAGE=" + message + "\n");  // what was queued is intact
    for (int i = 0; i < sent * 3 / 4; ++i)  // EPOLLOUT once at most a quarter is queued
        journald.receive();
    CHECK(poll(&waiting, 1, 1000) == 1);  // journald read: writable again
    CHECK(socket.send(entry) == 0);
}

TEST_CASE("journal socket: SO_SNDBUF is send_buffer_bytes, below what journald's queue holds") {
    Receiver journald;
    pj::journal::Socket socket(journald.path);
    std::array<Field, 1> entry = {{{"MESSAGE", "x"}}};
    REQUIRE(socket.send(entry) == 0);
    int size = 0;
    socklen_t length = sizeof size;
    REQUIRE(getsockopt(socket.fd(), SOL_SOCKET, SO_SNDBUF, &size, &length) == 0);
    int wmem_max = 0;
    if (FILE* f = std::fopen("/proc/sys/net/core/wmem_max", "r")) {
        CHECK(std::fscanf(f, "%d", &wmem_max) == 1);
        std::fclose(f);
    }
    // The kernel doubles what it is asked for, up to wmem_max.
    CHECK(size == 2 * std::min(pj::journal::send_buffer_bytes, wmem_max));
    // journald's queue: 512 datagrams (systemd's max_dgram_qlen), each at least 768 bytes of skb.
    CHECK(2 * pj::journal::send_buffer_bytes < 512 * 768);
}

namespace {

// In a network namespace of its own whose max_dgram_qlen is systemd's 512 (the namespace
// journald's socket is made in when systemd boots): fills the socket with entries until EAGAIN,
// then reads like journald. 0 when our own buffer stopped the sender (fewer than 512 entries in
// flight), one datagram read did not make the socket writable, EPOLLOUT came only after most of
// the buffer was read, and every entry arrived once, in order; 77 when the namespace cannot be
// had (not root); another number says which check failed.
int fill_and_drain_with_journalds_queue() {
    if (unshare(CLONE_NEWNET) < 0)
        return 77;
    if (FILE* f = std::fopen("/proc/sys/net/unix/max_dgram_qlen", "w")) {
        bool written = std::fputs("512\n", f) >= 0;
        if (std::fclose(f) != 0 || !written)
            return 77;
    } else {
        return 77;
    }
    char name[] = "/tmp/pj-journal-XXXXXX";
    if (!mkdtemp(name))
        return 10;
    const std::string path = std::string(name) + "/socket";
    int result = 0;
    {
        int receiver = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        sockaddr_un address{};
        address.sun_family = AF_UNIX;
        std::strcpy(address.sun_path, path.c_str());
        if (bind(receiver, reinterpret_cast<sockaddr*>(&address), sizeof address) < 0)
            return 11;
        pj::journal::Socket socket(path);
        std::string message;
        int sent = 0, r = 0;
        for (; sent < 10'000; ++sent) {
            message = "entry " + std::to_string(sent) + " " + std::string(80, 'x');
            std::array<Field, 2> entry = {{{"MESSAGE", message}, {"PRIORITY", "6"}}};
            if ((r = socket.send(entry)) != 0)
                break;
        }
        int received = 0;
        auto receive_one = [&] {
            char data[512];
            ssize_t n = recv(receiver, data, sizeof data, 0);
            std::string expected = "MESSAGE=entry " + std::to_string(received) + " ";
            if (n <= 0 ||
                std::string_view(data, static_cast<std::size_t>(n)).substr(0, expected.size()) !=
                    expected)
                return false;
            ++received;
            return true;
        };
        pollfd waiting{socket.fd(), POLLOUT, 0};
        if (r != -EAGAIN)
            result = 1;
        else if (sent >= 512)
            result = 2;  // journald's queue, not our buffer, stopped us
        else if (!receive_one() || poll(&waiting, 1, 0) != 0)
            result = 3;  // one datagram read woke the sender
        else {
            while (poll(&waiting, 1, 0) == 0 && received < sent)
                if (!receive_one()) {
                    result = 4;
                    break;
                }
            if (result == 0 && received < sent / 2)
                result = 5;  // woken while more than half the buffer was still queued
            while (result == 0 && received < sent)
                if (!receive_one())
                    result = 6;
        }
        close(receiver);
    }
    unlink(path.c_str());
    rmdir(name);
    return result;
}

}  // namespace

TEST_CASE(
    "journal socket: with journald's queue of 512, our own buffer stops the sender and EPOLLOUT "
    "comes once most of it is read, not per datagram") {
    pid_t child = fork();
    REQUIRE(child >= 0);
    if (child == 0)
        _exit(fill_and_drain_with_journalds_queue());
    int status = 0;
    REQUIRE(waitpid(child, &status, 0) == child);
    REQUIRE(WIFEXITED(status));
    if (WEXITSTATUS(status) == 77) {
        MESSAGE("skipped: no network namespace of our own (needs root)");
        return;
    }
    CHECK_MESSAGE(
        WEXITSTATUS(status) == 0,
        "check " << WEXITSTATUS(status) << " of fill_and_drain_with_journalds_queue() failed");
}

TEST_CASE("journal socket: connected once; a peer that goes away is connected to again") {
    Receiver journald;
    std::string path = journald.path;
    pj::journal::Socket socket(path);
    std::array<Field, 1> entry = {{{"MESSAGE", "one"}}};
    REQUIRE(socket.send(entry) == 0);
    int connected = socket.fd();
    CHECK(journald.receive() == "MESSAGE=one\n");
    REQUIRE(socket.send(entry) == 0);
    CHECK(socket.fd() == connected);  // no new socket per entry
    journald.receive();
    close(journald.fd);  // journald's socket closed and removed (its socket unit stopped)
    journald.fd = -1;
    unlink(path.c_str());
    CHECK(socket.send(entry) == -ECONNREFUSED);
    CHECK(socket.send(entry) == -ENOENT);  // connecting again: nothing there yet
    Receiver again(path);
    REQUIRE(socket.send(entry) == 0);
    CHECK(again.receive() == "MESSAGE=one\n");
}

TEST_CASE("journal socket: an entry too large for a datagram goes in a sealed memfd") {
    Receiver journald;
    pj::journal::Socket socket(journald.path);
    // Larger than any socket buffer the kernel grants (wmem_max is at most a few MiB).
    std::string message(12 * 1024 * 1024, 'y');
    std::array<Field, 2> entry = {{{"MESSAGE", message}, {"PRIORITY", "6"}}};
    REQUIRE(socket.send(entry) == 0);
    bool came_in_memfd = false;
    std::string received = journald.receive(&came_in_memfd);
    CHECK(came_in_memfd);
    std::string expected = "MESSAGE=" + message + "\nPRIORITY=6\n";
    CHECK(received.size() == expected.size());
    CHECK_MESSAGE(received == expected, "the entry read back from the memfd differs");
}
