#include <doctest/doctest.h>
#include <fcntl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <string>

#include "systemd/notify.hpp"

using namespace pj;

TEST_CASE("notify messages are exactly what sd_notify(3) expects") {
    CHECK(notify::ready("Forwarding /run/x: 0 lines") ==
          "READY=1\nSTATUS=Forwarding /run/x: 0 lines");
    CHECK(notify::status("busy") == "STATUS=busy");
    CHECK(notify::reloading(123456789, "Reloading configuration") ==
          "RELOADING=1\nMONOTONIC_USEC=123456789\nSTATUS=Reloading configuration");
    CHECK(notify::stopping("Stopping") == "STOPPING=1\nSTATUS=Stopping");
    CHECK(notify::failed(17, "Refusing /run/x") == "ERRNO=17\nSTATUS=Refusing /run/x");
}

TEST_CASE("a newline in a status cannot smuggle in another assignment") {
    CHECK(notify::status("a\nREADY=1") == "STATUS=a READY=1");
    CHECK(notify::ready("x\r\ny") == "READY=1\nSTATUS=x  y");
}

namespace {

// The service manager's end of the protocol: a datagram socket bound where NOTIFY_SOCKET says.
class Manager {
public:
    explicit Manager(const std::string& address) {
        fd_ = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        REQUIRE(fd_ >= 0);
        sockaddr_un un{};
        un.sun_family = AF_UNIX;
        std::memcpy(un.sun_path, address.data(), address.size());
        if (address[0] == '@')
            un.sun_path[0] = '\0';
        const auto size = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + address.size() +
                                                 (address[0] == '/'));
        REQUIRE(bind(fd_, reinterpret_cast<sockaddr*>(&un), size) == 0);
        setenv("NOTIFY_SOCKET", address.c_str(), 1);
    }
    ~Manager() {
        unsetenv("NOTIFY_SOCKET");
        close(fd_);
    }

    // The next datagram (sending is synchronous: it is queued already), and a descriptor it
    // carried (-1: none).
    std::string receive(int* passed = nullptr) {
        char data[4096];
        iovec iov{data, sizeof data};
        alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int) * 4)];
        msghdr header{};
        header.msg_iov = &iov;
        header.msg_iovlen = 1;
        header.msg_control = control;
        header.msg_controllen = sizeof control;
        ssize_t n = recvmsg(fd_, &header, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
        REQUIRE(n >= 0);
        if (passed) {
            *passed = -1;
            for (cmsghdr* c = CMSG_FIRSTHDR(&header); c; c = CMSG_NXTHDR(&header, c))
                if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS) {
                    REQUIRE(c->cmsg_len == CMSG_LEN(sizeof(int)));
                    std::memcpy(passed, CMSG_DATA(c), sizeof(int));
                }
        }
        return {data, static_cast<std::size_t>(n)};
    }
    bool empty() {
        char byte;
        return recv(fd_, &byte, 1, MSG_DONTWAIT) < 0 && errno == EAGAIN;
    }

private:
    int fd_ = -1;
};

}  // namespace

TEST_CASE("notify::send: one datagram, exactly the message, to a path or an abstract socket") {
    const std::string directory =
        std::filesystem::temp_directory_path() / ("pj-notify-" + std::to_string(getpid()));
    std::filesystem::create_directory(directory);
    for (const std::string& address :
         {directory + "/notify", "@pj-notify-test/" + std::to_string(getpid())}) {
        CAPTURE(address);
        Manager manager(address);
        const std::string ready = notify::ready("Forwarding /run/x: 0 lines");
        CHECK(notify::send(ready) > 0);
        CHECK(notify::send("WATCHDOG=1") > 0);
        CHECK(manager.receive() == ready);
        CHECK(manager.receive() == "WATCHDOG=1");
        CHECK(manager.empty());
    }
    std::filesystem::remove_all(directory);
}

TEST_CASE("notify::store: the old entry removed, then the descriptor passed under its name") {
    Manager manager("@pj-notify-store/" + std::to_string(getpid()));
    int pipe_fds[2];
    REQUIRE(pipe2(pipe_fds, O_CLOEXEC) == 0);
    CHECK(notify::store(pipe_fds[0], "stream-1") > 0);
    int passed = -1;
    CHECK(manager.receive(&passed) == "FDSTOREREMOVE=1\nFDNAME=stream-1");
    CHECK(passed == -1);
    CHECK(manager.receive(&passed) == "FDSTORE=1\nFDNAME=stream-1");
    REQUIRE(passed >= 0);
    struct stat ours {
    }, theirs{};
    REQUIRE(fstat(pipe_fds[0], &ours) == 0);
    REQUIRE(fstat(passed, &theirs) == 0);
    CHECK((ours.st_dev == theirs.st_dev && ours.st_ino == theirs.st_ino));
    CHECK(notify::unstore("stream-1") > 0);
    CHECK(manager.receive() == "FDSTOREREMOVE=1\nFDNAME=stream-1");
    close(passed);
    close(pipe_fds[0]);
    close(pipe_fds[1]);
}

TEST_CASE("notify::send without a service manager: 0; an address 252 cannot name: an error") {
    unsetenv("NOTIFY_SOCKET");
    CHECK(notify::send("READY=1") == 0);
    setenv("NOTIFY_SOCKET", "", 1);
    CHECK(notify::send("READY=1") == 0);
    setenv("NOTIFY_SOCKET", "vsock:2:999", 1);
    CHECK(notify::send("READY=1") == -EAFNOSUPPORT);
    setenv("NOTIFY_SOCKET", ("/" + std::string(200, 'x')).c_str(), 1);
    CHECK(notify::send("READY=1") == -EINVAL);
    // Nobody bound there: the error reaches the caller.
    setenv("NOTIFY_SOCKET", "@pj-notify-nobody-listens", 1);
    CHECK(notify::send("READY=1") == -ECONNREFUSED);
    unsetenv("NOTIFY_SOCKET");
}
