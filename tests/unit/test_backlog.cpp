// The backlog's store on real files and pipes: bytes in by splice(2), out in order, across the
// ring's end, kept across a reopen, never lost or doubled by a SIGKILL at any moment, and a damaged
// file never read as lines.
#include <doctest/doctest.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <optional>
#include <string>

#include "backlog.hpp"
#include "errors.hpp"

using namespace pj;

namespace {

struct Dir {
    std::filesystem::path path;
    Dir() {
        char name[] = "/tmp/pj-backlog-XXXXXX";
        REQUIRE(mkdtemp(name));
        path = name;
    }
    ~Dir() { std::filesystem::remove_all(path); }
    std::string str() const { return path.string(); }
};

// A non-blocking pipe standing in for the FIFO.
struct Pipe {
    int read_end = -1, write_end = -1;
    Pipe() {
        int fds[2];
        REQUIRE(pipe2(fds, O_NONBLOCK | O_CLOEXEC) == 0);
        read_end = fds[0];
        write_end = fds[1];
    }
    ~Pipe() {
        close(read_end);
        close(write_end);
    }
    void write(std::string_view text) const {
        REQUIRE(::write(write_end, text.data(), text.size()) == static_cast<ssize_t>(text.size()));
    }
};

std::string read_all(const Backlog& backlog, uint64_t from) {
    std::string text(backlog.written() - from, '\0');
    REQUIRE(backlog.read(from, text) == static_cast<ssize_t>(text.size()));
    return text;
}

std::string numbered(int from, int to) {
    std::string text;
    for (int i = from; i < to; ++i)
        text += "line " + std::to_string(i) + "\n";
    return text;
}

}  // namespace

TEST_CASE("backlog: bytes go in from a pipe and come out in order; sent moves on") {
    Dir dir;
    Backlog backlog = Backlog::open(dir.str(), "/run/pipejournal/in", 64 * 1024);
    CHECK(backlog.path() == dir.str() + "/run-pipejournal-in.backlog");
    CHECK(backlog.recovered() == 0);
    Pipe pipe;
    pipe.write("one\ntwo\n");
    CHECK(backlog.take_from(pipe.read_end, 4096) == 8);
    CHECK(backlog.take_from(pipe.read_end, 4096) == -EAGAIN);  // the pipe is empty
    CHECK(backlog.written() == 8);
    CHECK(read_all(backlog, 0) == "one\ntwo\n");
    backlog.mark_sent(4);
    CHECK(backlog.unsent() == 4);
    CHECK(read_all(backlog, 4) == "two\n");
    CHECK(backlog.read(2, std::span<char>()) == -EINVAL);  // before sent: gone
}

TEST_CASE("backlog: the ring wraps; a full ring refuses more (the FIFO then waits)") {
    Backlog backlog = Backlog::open("", "/x", 4096);  // anonymous, the smallest ring
    REQUIRE(backlog.room() == 4095);
    Pipe pipe;
    std::string first(3000, 'a'), second(3000, 'b');
    pipe.write(first);
    REQUIRE(backlog.take_from(pipe.read_end, 8192) == 3000);
    backlog.mark_sent(3000);
    pipe.write(second);
    // Up to the ring's end first, then from its start.
    ssize_t taken = 0;
    for (ssize_t n; (n = backlog.take_from(pipe.read_end, 8192)) > 0;)
        taken += n;
    CHECK(taken == 3000);
    CHECK(backlog.written() == 6000);
    CHECK(read_all(backlog, 3000) == second);  // across the end of the ring

    pipe.write(std::string(2000, 'c'));
    taken = 0;
    for (ssize_t n; (n = backlog.take_from(pipe.read_end, 8192)) > 0;)
        taken += n;
    CHECK(taken == 1095);  // 3000 + 1095 = 4095: full
    CHECK(backlog.take_from(pipe.read_end, 8192) == -ENOBUFS);
    char rest[4096];
    CHECK(::read(pipe.read_end, rest, sizeof rest) == 905);  // still in the pipe: nothing lost
}

TEST_CASE("backlog: what was not sent is taken over by the next run, with its positions") {
    Dir dir;
    Pipe pipe;
    pipe.write(numbered(0, 100));
    uint64_t sent = 0;
    {
        Backlog backlog = Backlog::open(dir.str(), "/run/x", 64 * 1024);
        REQUIRE(backlog.take_from(pipe.read_end, 65536) > 0);
        sent = numbered(0, 40).size();
        backlog.mark_sent(sent);
    }  // the daemon is gone
    Backlog again = Backlog::open(dir.str(), "/run/x", 1024 * 1024);
    CHECK(again.sent() == sent);
    CHECK(again.recovered() == numbered(40, 100).size());
    CHECK(read_all(again, sent) == numbered(40, 100));
    CHECK(again.room() == 64 * 1024 - 1);  // its own size, until it is empty
    again.mark_sent(again.written());
}

TEST_CASE("backlog: an empty store starts over at the size configured now") {
    Dir dir;
    {
        Backlog backlog = Backlog::open(dir.str(), "/run/x", 64 * 1024);
        Pipe pipe;
        pipe.write("all sent\n");
        REQUIRE(backlog.take_from(pipe.read_end, 100) == 9);
        backlog.mark_sent(9);
    }
    Backlog again = Backlog::open(dir.str(), "/run/x", 1024 * 1024);
    CHECK(again.recovered() == 0);
    CHECK(again.room() == 1024 * 1024 - 1);
    CHECK(again.written() == 0);
}

TEST_CASE("backlog: a second daemon on the same FIFO cannot take the same store") {
    Dir dir;
    Backlog first = Backlog::open(dir.str(), "/run/x", 4096);
    try {
        Backlog second = Backlog::open(dir.str(), "/run/x", 4096);
        FAIL("the second open succeeded");
    } catch (const StartupError& e) {
        CHECK(e.error() == EBUSY);
        CHECK(std::string(e.what()).find("Failed to lock the backlog") != std::string::npos);
    }
}

TEST_CASE("backlog: a damaged file is moved aside, never read as lines, and a new one made") {
    Dir dir;
    std::string file = dir.str() + "/" + Backlog::file_name("/run/x");
    for (std::string content :
         {std::string("not a backlog at all, just text\n"), std::string(8192, '\0')}) {
        CAPTURE(content.size());
        std::ofstream(file, std::ios::binary | std::ios::trunc) << content;
        Backlog backlog = Backlog::open(dir.str(), "/run/x", 4096);
        CHECK(backlog.damaged());
        CHECK(backlog.recovered() == 0);
        CHECK(backlog.written() == 0);
        CHECK(std::filesystem::exists(file + ".damaged"));
        CHECK(std::filesystem::file_size(file + ".damaged") == content.size());
        std::filesystem::remove(file + ".damaged");
    }
    {  // a store cut short: the header says more than the file holds
        Backlog backlog = Backlog::open(dir.str(), "/run/x", 64 * 1024);
        Pipe pipe;
        pipe.write("unsent\n");
        REQUIRE(backlog.take_from(pipe.read_end, 100) == 7);
    }
    std::filesystem::resize_file(file, 8192);
    Backlog cut = Backlog::open(dir.str(), "/run/x", 4096);
    CHECK(cut.damaged());
    CHECK(cut.written() == 0);
}

TEST_CASE("backlog: headers: what passes keeps every position inside the file") {
    Backlog::Header header{};
    std::memcpy(header.magic, Backlog::magic.data(), Backlog::magic.size());
    header.version = 1;
    header.data_offset = 4096;
    header.capacity = 8192;
    header.write_at = 4096;
    CHECK(Backlog::header_problem(header, 4096 + 8192) == "");
    CHECK(Backlog::header_problem(header, 4096 + 8191) == "the file is shorter than its ring");
    header.sent = 10'000;  // ring position 1808
    header.write_at = 4096 + 1000;
    CHECK(Backlog::written_from(header) == 10'000 + 8192 - 808);
    header.write_at = 4096 + 8192;  // the end of the ring is its start
    CHECK(Backlog::written_from(header) == 10'000 + 8192 - 1808);
    header.write_at = 4095;
    CHECK(Backlog::header_problem(header, 1 << 20) == "its write position is outside the ring");
    header.write_at = 4096;
    header.version = 2;
    CHECK(Backlog::header_problem(header, 1 << 20) == "a backlog of another version");
}

TEST_CASE("backlog: file names for FIFO paths, as systemd-escape --path writes them") {
    CHECK(Backlog::file_name("/run/pipejournal/in") == "run-pipejournal-in.backlog");
    CHECK(Backlog::file_name("/run/pipejournal/my-app") == "run-pipejournal-my\\x2dapp.backlog");
    CHECK(Backlog::file_name("/run/a b/.x") == "run-a\\x20b-.x.backlog");
    CHECK(Backlog::file_name("/.hidden") == "\\x2ehidden.backlog");
}

TEST_CASE("backlog: sent bytes give their memory back") {
    Dir dir;
    Backlog backlog = Backlog::open(dir.str(), "/run/x", 4 * 1024 * 1024);
    Pipe pipe;
    std::string chunk(60'000, 'm');
    for (int i = 0; i < 20; ++i) {
        pipe.write(chunk);
        for (ssize_t n; (n = backlog.take_from(pipe.read_end, 65536)) > 0;) {
        }
    }
    auto blocks = [&] {
        struct stat st {};
        REQUIRE(stat(backlog.path().c_str(), &st) == 0);
        return static_cast<uint64_t>(st.st_blocks) * 512;
    };
    CHECK(blocks() >= 20u * 60'000);
    backlog.mark_sent(backlog.written());
    backlog.release_sent();
    CHECK(blocks() <= 8192);  // the header page is all that is left
}

TEST_CASE("backlog: a SIGKILL at any moment loses no byte and doubles none") {
    // A child splices lines from a pipe into the store and marks them sent as it "forwards" them;
    // it is killed at some moment. Whatever the moment, the bytes left in the pipe plus the store's
    // unsent bytes are exactly the lines after the last one marked sent.
    Dir dir;
    for (int round = 0; round < 20; ++round) {
        CAPTURE(round);
        std::filesystem::remove_all(dir.path);
        std::filesystem::create_directory(dir.path);
        Pipe pipe;
        const std::string lines = numbered(0, 20'000);
        pid_t child = fork();
        REQUIRE(child >= 0);
        if (child == 0) {
            Backlog backlog = Backlog::open(dir.str(), "/run/x", 1024 * 1024);
            for (;;) {
                ssize_t n = backlog.take_from(pipe.read_end, 4096);
                if (n > 0 && backlog.written() - backlog.sent() > 100)
                    backlog.mark_sent(backlog.written() - 100);  // "sent" all but a tail
            }
        }
        // Feed the child, and kill it after a varying share of the lines.
        std::size_t fed = 0, kill_at = lines.size() / 20 * (round + 1) - 7 * round;
        while (fed < kill_at) {
            ssize_t n = ::write(pipe.write_end, lines.data() + fed,
                                std::min<std::size_t>(kill_at - fed, 4096));
            if (n > 0)
                fed += static_cast<std::size_t>(n);
        }
        REQUIRE(kill(child, SIGKILL) == 0);
        int status = 0;
        REQUIRE(waitpid(child, &status, 0) == child);
        REQUIRE(WIFSIGNALED(status));

        Backlog backlog = Backlog::open(dir.str(), "/run/x", 1024 * 1024);
        std::string recovered = read_all(backlog, backlog.sent());
        std::string in_pipe(fed, '\0');
        ssize_t left = ::read(pipe.read_end, in_pipe.data(), in_pipe.size());
        in_pipe.resize(left > 0 ? static_cast<std::size_t>(left) : 0);
        CHECK(backlog.sent() + recovered.size() + in_pipe.size() == fed);
        CHECK(recovered + in_pipe == lines.substr(backlog.sent(), fed - backlog.sent()));
    }
}
