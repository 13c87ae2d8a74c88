// The stream sink against a real listening AF_UNIX stream socket, the kind journald's
// /run/systemd/journal/stdout is: the header, lines, a full socket (EAGAIN, partial writes), a
// receiver that closes or goes away, a new identifier; and a channel driving it on a real loop.
#include <doctest/doctest.h>
#include <fcntl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "channel.hpp"
#include "transport/stream.hpp"

using namespace pj;
using namespace std::chrono_literals;

namespace {

const std::string header_of_test = "test\n\n6\n1\n0\n0\n0\n";

// journald's stdout socket, stood in for: listens in a temp dir, accepts, reads what it is told.
struct Journald {
    std::filesystem::path dir;
    std::string path;
    int listener = -1;
    std::vector<int> connections;  // accepted, oldest first

    Journald() {
        char name[] = "/tmp/pj-stream-XXXXXX";
        REQUIRE(mkdtemp(name));
        dir = name;
        path = (dir / "stdout").string();
        listen_again();
    }
    ~Journald() {
        for (int fd : connections)
            ::close(fd);
        if (listener >= 0)
            ::close(listener);
        std::filesystem::remove_all(dir);
    }

    // Binds (and, unless told otherwise, listens on) the path anew.
    void listen_again(bool listening = true) {
        stop_listening();
        listener = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        REQUIRE(listener >= 0);
        sockaddr_un address{};
        address.sun_family = AF_UNIX;
        std::strcpy(address.sun_path, path.c_str());
        ::unlink(path.c_str());
        REQUIRE(::bind(listener, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0);
        if (listening)
            REQUIRE(::listen(listener, 16) == 0);
    }
    // The socket file stays, nobody listens: connect() gives ECONNREFUSED (journald stopped).
    void stop_listening() {
        if (listener >= 0)
            ::close(listener);
        listener = -1;
    }

    // Accepts what has connected so far; returns how many connections there are.
    std::size_t accept_all() {
        for (int fd; listener >= 0 && (fd = ::accept4(listener, nullptr, nullptr,
                                                      SOCK_CLOEXEC | SOCK_NONBLOCK)) >= 0;)
            connections.push_back(fd);
        return connections.size();
    }
    // Everything connection i holds now (non-blocking).
    std::string read_all(std::size_t i) {
        REQUIRE(i < connections.size());
        std::string data;
        char chunk[65536];
        for (ssize_t n; (n = ::read(connections[i], chunk, sizeof chunk)) > 0;)
            data.append(chunk, static_cast<std::size_t>(n));
        return data;
    }
    // Closes connection i without reading what it holds (journald torn down).
    void drop(std::size_t i) {
        ::close(connections[i]);
        connections[i] = -1;
    }
};

// A send buffer smaller than the default, so that a 40 KB line fills the socket.
StreamSink::Options options_for(const Journald& journald) {
    StreamSink::Options options;
    options.socket_path = journald.path;
    options.send_buffer_bytes = 16 * 1024;
    return options;
}

Entry entry(std::string_view message, int priority = 6) {
    Entry e;
    e.message = message;
    e.priority = priority;
    return e;
}

std::string numbered(int i, std::size_t width = 60) {
    std::string text = "line " + std::to_string(i) + " ";
    text.resize(width, '.');
    return text;
}

// The lines of a stream after its header, each "<N>text".
std::vector<std::string> lines_after_header(const std::string& data, const std::string& header) {
    REQUIRE_MESSAGE(data.compare(0, header.size(), header) == 0,
                    "expected the header " << header.size()
                                           << " bytes, seen: " << data.substr(0, header.size()));
    std::vector<std::string> lines;
    std::size_t at = header.size();
    for (std::size_t end; (end = data.find('\n', at)) != std::string::npos; at = end + 1)
        lines.push_back(data.substr(at, end - at));
    CHECK_MESSAGE(at == data.size(), "a line without its newline at the end of the stream");
    return lines;
}

}  // namespace

TEST_CASE("stream: the header as sd_journal_stream_fd writes it, then <PRIORITY>MESSAGE lines") {
    Journald journald;
    StreamSink::Options defaults;  // the daemon's send buffer
    defaults.socket_path = journald.path;
    StreamSink sink(defaults);
    sink.set_origin({"test", "/run/x"});
    CHECK(sink.connections() == 0);  // connects with the first line
    CHECK(sink.send(entry("hello")) == 0);
    CHECK(sink.send(entry("  leading blanks stay", 3)) == 0);
    CHECK(sink.send(entry("<8>not a prefix, text", 7)) == 0);
    CHECK(sink.flush() == 0);
    REQUIRE(journald.accept_all() == 1);
    std::string data = journald.read_all(0);
    CHECK(data ==
          header_of_test + "<6>hello\n<3>  leading blanks stay\n<7><8>not a prefix, text\n");
    CHECK(sink.connections() == 1);
}

TEST_CASE(
    "stream: empty lines are not sent; a NUL ends journald's line and the rest keeps the "
    "priority; a message longer than journald's LineMax is cut into lines of its own") {
    Journald journald;
    StreamSink::Options options = options_for(journald);
    options.journald_line_max = 16;  // 12 bytes of text per line
    StreamSink sink(options);
    sink.set_origin({"test", "/x"});
    CHECK(sink.send(entry("")) == 0);
    CHECK(sink.send(entry(std::string_view("a\0<3>b", 6), 4)) == 0);
    CHECK(sink.send(entry("0123456789abcdefghij", 2)) == 0);
    CHECK(sink.send(entry("0123456789ab")) == 0);  // exactly a line's worth: not cut
    CHECK(sink.flush() == 0);
    REQUIRE(journald.accept_all() == 1);
    std::string want = header_of_test + std::string("<4>a\0<4><3>b\n", 13) +
                       "<2>0123456789ab\n<2>cdefghij\n<6>0123456789ab\n";
    CHECK(journald.read_all(0) == want);
    CHECK(StreamSink::default_max_message_bytes == 48 * 1024 - 4);
}

TEST_CASE(
    "stream: a full socket refuses the entry with EAGAIN and names itself; once read, "
    "every line arrives once, in order, long lines whole") {
    Journald journald;
    StreamSink sink(options_for(journald));
    sink.set_origin({"test", "/x"});
    std::vector<std::string> sent;
    std::string received;
    int refusals = 0;
    // Lines of 60 bytes and, every 50th, one of 40,000: longer than a write the kernel takes
    // whole with a 16 KiB send buffer, so it is written in parts.
    for (int i = 0; sent.size() < 3000; ++i) {
        std::string text = i % 50 == 7 ? numbered(i, 40'000) : numbered(i);
        int r = sink.send(entry(text));
        if (r == -EAGAIN) {
            ++refusals;
            REQUIRE(sink.wait_fd() >= 0);
            journald.accept_all();
            received += journald.read_all(0);  // journald reads; the same entry is offered again
            --i;
            continue;
        }
        REQUIRE(r == 0);
        sent.push_back("<6>" + text);
    }
    for (int r; (r = sink.flush()) != 0;) {
        REQUIRE(r == -EAGAIN);
        received += journald.read_all(0);
    }
    received += journald.read_all(0);
    CHECK(refusals > 10);
    CHECK(journald.connections.size() == 1);
    std::vector<std::string> lines = lines_after_header(received, header_of_test);
    CHECK(lines.size() == sent.size());
    CHECK(lines == sent);
}

TEST_CASE(
    "stream: a receiver that read everything and closed: the sink connects again, sends "
    "the header again, and goes on with the next line; none lost or doubled") {
    Journald journald;
    StreamSink sink(options_for(journald));
    sink.set_origin({"test", "/x"});
    for (int i = 0; i < 100; ++i)
        REQUIRE(sink.send(entry(numbered(i))) == 0);
    REQUIRE(sink.flush() == 0);
    REQUIRE(journald.accept_all() == 1);
    std::string first = journald.read_all(0);
    journald.drop(0);  // journald gone after reading it all; its socket listens again
    for (int i = 100; i < 200; ++i)
        REQUIRE(sink.send(entry(numbered(i))) == 0);
    REQUIRE(sink.flush() == 0);
    REQUIRE(journald.accept_all() == 2);
    std::string second = journald.read_all(1);
    CHECK(sink.breaks() == 1);
    CHECK(sink.connections() == 2);
    std::vector<std::string> lines = lines_after_header(first, header_of_test);
    for (const std::string& line : lines_after_header(second, header_of_test))
        lines.push_back(line);
    std::vector<std::string> want;
    for (int i = 0; i < 200; ++i)
        want.push_back("<6>" + numbered(i));
    CHECK(lines == want);
}

TEST_CASE(
    "stream: a connection torn down with a line written in part: that line goes again, "
    "whole, on the next connection") {
    Journald journald;
    StreamSink sink(options_for(journald));
    sink.set_origin({"test", "/x"});
    const std::string big = numbered(1, 40'000);  // more than the socket takes while unread
    REQUIRE(sink.send(entry(numbered(0))) == 0);
    REQUIRE(sink.send(entry(big)) == 0);
    REQUIRE(sink.flush() == -EAGAIN);  // written in part, the socket is full
    REQUIRE(journald.accept_all() == 1);
    journald.drop(0);  // without reading: what was queued is lost with it
    std::string second;
    for (int r; (r = sink.send(entry(numbered(2)))) != 0;) {  // the next connection fills too
        REQUIRE(r == -EAGAIN);
        REQUIRE(journald.accept_all() == 2);
        second += journald.read_all(1);
    }
    for (int r; (r = sink.flush()) != 0;) {
        REQUIRE(r == -EAGAIN);
        REQUIRE(journald.accept_all() == 2);
        second += journald.read_all(1);
    }
    REQUIRE(journald.accept_all() == 2);
    second += journald.read_all(1);
    std::vector<std::string> lines = lines_after_header(second, header_of_test);
    CHECK(lines == std::vector<std::string>{"<6>" + big, "<6>" + numbered(2)});
    CHECK(sink.breaks() == 1);
}

TEST_CASE(
    "stream: journald away (socket file missing, then nobody listening): transient "
    "errors retried on a timer, then the lines not yet written arrive") {
    Journald journald;
    StreamSink sink(options_for(journald));
    sink.set_origin({"test", "/x"});
    REQUIRE(sink.send(entry("before")) == 0);
    REQUIRE(sink.flush() == 0);
    REQUIRE(journald.accept_all() == 1);
    std::string first = journald.read_all(0);
    journald.drop(0);
    journald.stop_listening();
    ::unlink(journald.path.c_str());
    CHECK(sink.send(entry("while away")) == 0);  // taken into the buffer
    int r = sink.flush();
    CHECK(r == -ENOENT);
    CHECK(is_transient(r));
    CHECK(sink.wait_fd() == -1);
    journald.listen_again(false);  // the file is back, nobody accepts yet
    r = sink.flush();
    CHECK(r == -ECONNREFUSED);
    CHECK(is_transient(r));
    journald.listen_again();
    CHECK(sink.flush() == 0);
    REQUIRE(journald.accept_all() == 2);
    CHECK(lines_after_header(first, header_of_test) == std::vector<std::string>{"<6>before"});
    CHECK(lines_after_header(journald.read_all(1), header_of_test) ==
          std::vector<std::string>{"<6>while away"});
}

TEST_CASE(
    "stream: a new identifier takes a new connection, opened once journald has read "
    "every line of the old one") {
    Journald journald;
    StreamSink sink(options_for(journald));
    sink.set_origin({"test", "/x"});
    REQUIRE(sink.send(entry("one")) == 0);
    REQUIRE(sink.send(entry("two")) == 0);
    REQUIRE(sink.flush() == 0);
    REQUIRE(journald.accept_all() == 1);
    sink.set_origin({"renamed", "/x"});
    REQUIRE(sink.send(entry("three")) == 0);
    CHECK(sink.flush() == -EAGAIN);  // "one" and "two" are not read yet
    CHECK(sink.wait_fd() == -1);     // nothing to poll for: a timer
    CHECK(journald.accept_all() == 1);
    std::string first = journald.read_all(0);
    CHECK(sink.flush() == 0);
    REQUIRE(journald.accept_all() == 2);
    CHECK(lines_after_header(first, header_of_test) ==
          std::vector<std::string>{"<6>one", "<6>two"});
    CHECK(lines_after_header(journald.read_all(1), "renamed\n\n6\n1\n0\n0\n0\n") ==
          std::vector<std::string>{"<6>three"});
    // The old connection was closed at a line's end: journald reads end of file after "two".
    char byte;
    CHECK(::read(journald.connections[0], &byte, 1) == 0);
}

TEST_CASE(
    "stream: identifiers set before a connection exists apply to the lines taken after "
    "them") {
    Journald journald;
    StreamSink sink(options_for(journald));
    sink.set_origin({"test", "/x"});
    sink.set_origin({"first", "/x"});
    REQUIRE(sink.send(entry("a")) == 0);
    sink.set_origin({"second", "/x"});
    sink.set_origin({"third", "/x"});  // nothing taken in between: "second" never applies
    REQUIRE(sink.send(entry("b")) == 0);
    int r = sink.flush();
    REQUIRE(journald.accept_all() == 1);
    std::string first = journald.read_all(0);
    while (r == -EAGAIN)
        r = sink.flush();
    REQUIRE(r == 0);
    REQUIRE(journald.accept_all() == 2);
    CHECK(lines_after_header(first, "first\n\n6\n1\n0\n0\n0\n") ==
          std::vector<std::string>{"<6>a"});
    CHECK(lines_after_header(journald.read_all(1), "third\n\n6\n1\n0\n0\n0\n") ==
          std::vector<std::string>{"<6>b"});
}

// ---------------------------------------------------------------------------------------------
// The channel driving the stream sink, as the daemon does: a real FIFO and loop.

namespace {

struct Recorder final : Channel::Listener {
    int changes = 0;
    bool finished = false;
    void channel_changed(Channel&) override { ++changes; }
    void channel_finished(Channel&) override { finished = true; }
};

struct StreamRig {
    Journald journald;
    std::filesystem::path dir;
    event::Loop loop;
    Recorder recorder;
    StreamSink* sink = nullptr;
    std::unique_ptr<Channel> channel;
    int writer = -1;

    explicit StreamRig(uint64_t wait_notice_usec, std::size_t backlog_max = 16 << 20) {
        dir = journald.dir;
        std::string path = (dir / "in").string();
        Fifo fifo = Fifo::open_or_create(path, 0600);
        writer = ::open(path.c_str(), O_WRONLY | O_NONBLOCK | O_CLOEXEC);
        REQUIRE(writer >= 0);
        auto owned = std::make_unique<StreamSink>(options_for(journald));
        owned->set_origin({"test", path});
        sink = owned.get();
        ChannelSettings settings;
        settings.identifier = "test";
        settings.format.format = LineFormat::plain;
        settings.wait_notice_usec = wait_notice_usec;
        settings.backlog_max = backlog_max;
        channel =
            std::make_unique<Channel>(loop, std::move(fifo), Backlog::open("", path, 32 << 20),
                                      std::move(owned), settings, recorder);
    }
    ~StreamRig() {
        channel.reset();
        ::close(writer);
    }
    void run_until(const std::function<bool()>& done, std::chrono::milliseconds limit = 10s) {
        auto deadline = std::chrono::steady_clock::now() + limit;
        while (!done()) {
            REQUIRE_MESSAGE(std::chrono::steady_clock::now() < deadline,
                            "the awaited state did not come within " << limit.count() << " ms");
            loop.run_once(5'000);
        }
    }
};

// Writes numbered lines into the rig's FIFO until it is full or `total` are in.
struct FifoWriter {
    int fd;
    int total;
    int written = 0;
    void more() {
        while (written < total) {
            std::string line = numbered(written) + "\n";
            if (::write(fd, line.data(), line.size()) < 0)
                return;  // the FIFO is full: the writer waits
            ++written;
        }
    }
};

void check_numbered(const std::string& received, int total) {
    std::vector<std::string> lines = lines_after_header(received, header_of_test);
    REQUIRE(lines.size() == static_cast<std::size_t>(total));
    for (std::size_t i = 0; i < lines.size(); ++i)
        if (lines[i] != "<6>" + numbered(static_cast<int>(i)))
            FAIL("line " << i << ": expected <6>" << numbered(static_cast<int>(i)) << ", seen "
                         << lines[i]);
}

}  // namespace

TEST_CASE(
    "channel + stream: far more lines than the pipe and the socket hold, read as they "
    "come: each arrives once, in order; the channel's many short waits go unnoticed") {
    StreamRig rig(1'000'000);
    const int total = 20'000;  // 1.2 MB: the socket is full again and again
    FifoWriter writer{rig.writer, total};
    std::string received;
    rig.run_until([&] {
        writer.more();
        if (rig.journald.accept_all() == 1)
            received += rig.journald.read_all(0);
        return std::count(received.begin(), received.end(), '\n') == total + 7;  // + header
    });
    check_numbered(received, total);
    CHECK(rig.channel->snapshot().counters.lines == static_cast<uint64_t>(total));
    CHECK(rig.channel->snapshot().counters.dropped == 0);
    CHECK(rig.recorder.changes == 0);  // never "Waiting for the journal"
    CHECK(rig.sink->connections() == 1);
}

TEST_CASE(
    "channel + stream: journald not reading for longer than wait_notice_usec is noticed "
    "(STATUS, log); with a backlog the writer does not wait, without one it waits in the pipe; "
    "once journald reads again every line arrives once, in order") {
    for (std::size_t backlog_max : {std::size_t{16} << 20, std::size_t{0}}) {
        CAPTURE(backlog_max);
        StreamRig rig(50'000, backlog_max);
        const int total = 5'000;  // 300 KB: more than the socket, our buffer and the pipe hold
        FifoWriter writer{rig.writer, total};
        rig.run_until([&] {
            writer.more();
            rig.journald.accept_all();
            return rig.channel->snapshot().refusal.has_value() &&
                   (backlog_max == 0 || writer.written == total);
        });
        CHECK(rig.channel->snapshot().refusal->error == -EAGAIN);
        CHECK(rig.recorder.changes == 1);
        if (backlog_max > 0) {
            CHECK(std::holds_alternative<Channel::Backlogged>(rig.channel->state()));
            auto waiting = rig.channel->snapshot().waiting;
            REQUIRE(waiting.has_value());
            CHECK(waiting->lines > 0);
            CHECK(waiting->lines < static_cast<uint64_t>(total));
        } else {
            CHECK(std::holds_alternative<Channel::Full>(rig.channel->state()));
            CHECK(writer.written < total);  // the writer waits in the pipe
        }
        std::string received;
        rig.run_until([&] {
            writer.more();
            rig.journald.accept_all();
            received += rig.journald.read_all(0);
            return std::count(received.begin(), received.end(), '\n') == total + 7;
        });
        check_numbered(received, total);
        CHECK_FALSE(rig.channel->snapshot().refusal.has_value());
        CHECK(rig.recorder.changes >= 2);  // the stall and its end (and maybe more of both)
        CHECK(rig.recorder.changes % 2 == 0);
    }
}
