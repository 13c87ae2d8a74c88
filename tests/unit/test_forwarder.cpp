#include <doctest/doctest.h>
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <string>
#include <vector>

#include "forwarder.hpp"

using namespace pj;

namespace {

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
    void write_all(std::string_view text) const {
        REQUIRE(write(write_end, text.data(), text.size()) == static_cast<ssize_t>(text.size()));
    }
    std::string read_all() const {
        std::string out;
        char chunk[4096];
        for (ssize_t n; (n = read(read_end, chunk, sizeof chunk)) > 0;)
            out.append(chunk, static_cast<std::size_t>(n));
        return out;
    }
};

// Answers send() from a script of results, to drive the forwarder through refusals that the
// real journald gives only when it is restarting or broken.
class ScriptedSink final : public Sink {
public:
    std::vector<int> results;  // consumed front to back; 0 once empty
    std::vector<Entry> sent;
    std::vector<std::string> messages;

    int send(const Entry& entry) override {
        int r = 0;
        if (!results.empty()) {
            r = results.front();
            results.erase(results.begin());
        }
        if (r == 0) {
            sent.push_back(entry);
            messages.emplace_back(entry.message);
        }
        return r;
    }
    void set_origin(const Origin&) override {}
    std::string_view name() const override { return "script"; }
};

}  // namespace

TEST_CASE("text sink: one readable line per entry, priority and identifier first") {
    Pipe out;
    TextSink sink(out.write_end, {"app", "/run/x"});
    Pipe in;
    Forwarder forwarder(sink, 1024, 6);
    in.write_all("hello\n<3>disk full\n<9>odd\n");
    CHECK(forwarder.read_from(in.read_end) == 26);
    CHECK(forwarder.forward_lines() == Forwarder::Progress::done);
    CHECK(forwarder.flush() == 0);
    CHECK(out.read_all() == "<6>app: hello\n<3>app: disk full\n<6>app: <9>odd\n");
    CHECK(forwarder.counters().lines == 3);
    CHECK(forwarder.counters().bytes == 26);
}

TEST_CASE("read_from an empty pipe says EAGAIN") {
    Pipe in;
    ScriptedSink sink;
    Forwarder forwarder(sink, 1024, 6);
    CHECK(forwarder.read_from(in.read_end) == -EAGAIN);
}

TEST_CASE("a transient refusal keeps the line; it is sent again, nothing lost or doubled") {
    Pipe in;
    ScriptedSink sink;
    sink.results = {0, -ECONNREFUSED, -EAGAIN};
    Forwarder forwarder(sink, 1024, 6);
    in.write_all("a\nb\nc\n");
    forwarder.read_from(in.read_end);
    CHECK(forwarder.forward_lines() == Forwarder::Progress::blocked);
    CHECK(forwarder.last_error() == -ECONNREFUSED);
    CHECK(forwarder.forward_lines() == Forwarder::Progress::blocked);
    CHECK(forwarder.forward_lines() == Forwarder::Progress::done);
    CHECK(sink.messages == std::vector<std::string>{"a", "b", "c"});
    CHECK(forwarder.counters().lines == 3);
    CHECK(forwarder.counters().dropped == 0);
}

TEST_CASE("a permanent refusal drops that entry only, counted") {
    Pipe in;
    ScriptedSink sink;
    sink.results = {0, -EINVAL, 0};
    Forwarder forwarder(sink, 1024, 6);
    in.write_all("a\nb\nc\n");
    forwarder.read_from(in.read_end);
    CHECK(forwarder.forward_lines() == Forwarder::Progress::done);
    CHECK(sink.messages == std::vector<std::string>{"a", "c"});
    CHECK(forwarder.counters().dropped == 1);
    CHECK(forwarder.last_error() == -EINVAL);
}

TEST_CASE("transient and permanent errors are told apart") {
    for (int e : {EINTR, EAGAIN, ENOBUFS, ENOMEM, ECONNREFUSED, ENOENT})
        CHECK_MESSAGE(is_transient(-e), e);
    for (int e : {EINVAL, EMSGSIZE, EPERM, EBADF})
        CHECK_MESSAGE(!is_transient(-e), e);
}

TEST_CASE("over-long lines are split and counted; pieces are marked line-max") {
    Pipe in;
    ScriptedSink sink;
    Forwarder forwarder(sink, 1024, 6);
    in.write_all("<2>" + std::string(2500, 'x') + "\n");
    forwarder.read_from(in.read_end);
    forwarder.forward_lines();
    REQUIRE(sink.sent.size() == 3);
    CHECK(sink.sent[0].line_break == Line::Break::line_max);
    CHECK(sink.sent[1].line_break == Line::Break::line_max);
    CHECK(sink.sent[2].line_break == Line::Break::newline);
    CHECK(sink.messages[0].size() + sink.messages[1].size() + sink.messages[2].size() == 2500);
    for (const Entry& e : sink.sent)
        CHECK(e.priority == 2);
    CHECK(forwarder.counters().split == 2);
}

TEST_CASE("finish() forwards a last line without newline, marked eof") {
    Pipe in;
    ScriptedSink sink;
    Forwarder forwarder(sink, 1024, 6);
    in.write_all("done\nhalf");
    forwarder.read_from(in.read_end);
    forwarder.forward_lines();
    CHECK(forwarder.has_partial_line());
    forwarder.finish();
    forwarder.forward_lines();
    CHECK(sink.messages == std::vector<std::string>{"done", "half"});
    CHECK(sink.sent.back().line_break == Line::Break::eof);
}
