// A channel driven as the daemon drives it: a real FIFO, a real sd-event loop, and a sink that
// answers from a script (the refusals real journald gives only while restarting or broken) or
// a real pipe nobody reads.
#include <doctest/doctest.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "channel.hpp"
#include "transport/text.hpp"

using namespace pj;
using namespace std::chrono_literals;

namespace {

struct Dir {
    std::filesystem::path path;
    Dir() {
        char name[] = "/tmp/pj-channel-XXXXXX";
        REQUIRE(mkdtemp(name));
        path = name;
    }
    ~Dir() { std::filesystem::remove_all(path); }
};

// One refusal or acceptance per send(); 0 once the script is used up.
class ScriptedSink final : public Sink {
public:
    std::vector<int> results;
    std::vector<std::string> messages;
    std::vector<Line::Break> breaks;
    std::vector<int> priorities;
    std::vector<std::string> rules;  // PIPEJOURNAL_MULTILINE= of each entry

    int send(const Entry& entry) override {
        int r = 0;
        if (!results.empty()) {
            r = results.front();
            results.erase(results.begin());
        }
        if (r == 0) {
            messages.emplace_back(entry.message);
            breaks.push_back(entry.line_break);
            priorities.push_back(entry.priority);
            rules.emplace_back(entry.multiline);
        }
        return r;
    }
    void set_origin(const Origin& origin) override { identifier = origin.identifier; }
    Kind kind() const noexcept override { return Kind::journal; }
    std::string identifier;
};

struct Recorder final : Channel::Listener {
    int changes = 0;
    bool finished = false;
    void channel_changed(Channel&) override { ++changes; }
    void channel_finished(Channel&) override { finished = true; }
};

// A FIFO in a temp dir, a writer on it, and a channel reading it into `sink`.
struct Rig {
    Dir dir;
    std::string path = (dir.path / "in").string();
    event::Loop loop;
    Recorder recorder;
    ScriptedSink* script = nullptr;
    std::unique_ptr<Channel> channel;
    int writer = -1;

    explicit Rig(std::unique_ptr<Sink> sink, ChannelSettings settings = plain(),
                 bool existing_fifo = false) {
        script = dynamic_cast<ScriptedSink*>(sink.get());
        if (existing_fifo)  // as systemd's or one that was there: it outlives the channel
            REQUIRE(::mkfifo(path.c_str(), 0600) == 0);
        Fifo fifo = Fifo::open_or_create(path, 0600);
        writer = ::open(path.c_str(), O_WRONLY | O_NONBLOCK | O_CLOEXEC);
        REQUIRE(writer >= 0);
        channel =
            std::make_unique<Channel>(loop, std::move(fifo), std::move(sink), settings, recorder);
    }
    explicit Rig(ChannelSettings settings = plain())
        : Rig(std::make_unique<ScriptedSink>(), settings) {}
    ~Rig() {
        channel.reset();
        ::close(writer);
    }

    static ChannelSettings plain() {
        ChannelSettings settings;
        settings.identifier = "test";
        settings.line_max = 1024;
        settings.format.format = LineFormat::plain;
        settings.wait_notice_usec = 0;  // every wait noticed at once (see the test of the delay)
        return settings;
    }

    void write(std::string_view text) const {
        REQUIRE(::write(writer, text.data(), text.size()) == static_cast<ssize_t>(text.size()));
    }
    // Steps the loop until `done` holds; fails the test after `limit`.
    void run_until(const std::function<bool()>& done, std::chrono::milliseconds limit = 5s) {
        auto deadline = std::chrono::steady_clock::now() + limit;
        while (!done()) {
            REQUIRE_MESSAGE(std::chrono::steady_clock::now() < deadline,
                            "the awaited state did not come within " << limit.count() << " ms");
            loop.run_once(10'000);
        }
    }
    Channel::Snapshot snapshot() const { return channel->snapshot(); }
};

}  // namespace

TEST_CASE("lines go to the sink in order, counted") {
    Rig rig;
    rig.write("a\n<3>b\nc\n");
    rig.run_until([&] { return rig.script->messages.size() == 3; });
    CHECK(rig.script->messages == std::vector<std::string>{"a", "b", "c"});
    CHECK(rig.script->priorities == std::vector<int>{6, 3, 6});
    CHECK(rig.snapshot().counters.lines == 3);
    CHECK(rig.snapshot().counters.bytes == 9);
    CHECK(rig.script->identifier == "test");
}

TEST_CASE(
    "a transient refusal holds the FIFO, retries with backoff, then resumes; nothing lost "
    "or doubled") {
    Rig rig;
    rig.script->results = {0, -ECONNREFUSED, -EAGAIN, -ENOENT};
    rig.write("a\nb\nc\n");
    rig.run_until([&] { return rig.snapshot().waiting.has_value(); });
    CHECK(rig.snapshot().waiting->error == -ECONNREFUSED);
    CHECK(rig.recorder.changes == 1);
    rig.write("d\n");  // waits in the pipe meanwhile
    rig.run_until([&] { return rig.script->messages.size() == 4; });
    CHECK(rig.script->messages == std::vector<std::string>{"a", "b", "c", "d"});
    CHECK_FALSE(rig.snapshot().waiting.has_value());
    CHECK(rig.recorder.changes == 2);  // waiting started, waiting ended
    CHECK(rig.snapshot().counters.lines == 4);
    CHECK(rig.snapshot().counters.dropped == 0);
}

TEST_CASE(
    "a wait shorter than wait_notice_usec (a sink busy for a moment) is neither shown nor told; "
    "a longer one is, and so is its end") {
    ChannelSettings settings = Rig::plain();
    settings.wait_notice_usec = 150'000;
    Rig rig(settings);
    rig.script->results = {-EAGAIN, -EAGAIN};  // retried after 10 and 20 ms
    rig.write("a\n");
    rig.run_until([&] { return rig.script->messages.size() == 1; });
    CHECK(rig.recorder.changes == 0);
    CHECK_FALSE(rig.snapshot().waiting.has_value());

    rig.script->results.assign(8, -EAGAIN);  // 10+20+40+80+160+320+640 ms of refusals
    rig.write("b\n");
    rig.run_until([&] { return rig.snapshot().waiting.has_value(); });
    CHECK(rig.loop.now() - rig.snapshot().waiting->since_usec >= 150'000);
    CHECK(rig.recorder.changes == 1);
    CHECK(rig.snapshot().waiting->error == -EAGAIN);
    rig.run_until([&] { return rig.script->messages.size() == 2; });
    CHECK_FALSE(rig.snapshot().waiting.has_value());
    CHECK(rig.recorder.changes == 2);
}

TEST_CASE("a permanent refusal drops that entry only; the drop's own errno is kept") {
    Rig rig;
    // Defect: the errno reported was the last refused send's, a later transient one.
    rig.script->results = {0, -EBADF, -EAGAIN};
    rig.write("a\nb\nc\n");
    rig.run_until([&] { return rig.script->messages.size() == 2; });
    CHECK(rig.script->messages == std::vector<std::string>{"a", "c"});
    CHECK(rig.snapshot().counters.dropped == 1);
    CHECK(rig.snapshot().drop_error == -EBADF);
}

TEST_CASE("stop forwards what was in the pipe, a cut line as eof, and finishes") {
    Rig rig;
    rig.write("one\ntwo\nhalf");
    rig.channel->stop();
    rig.run_until([&] { return rig.recorder.finished; });
    CHECK(rig.script->messages == std::vector<std::string>{"one", "two", "half"});
    CHECK(rig.script->breaks.back() == Line::Break::eof);
    CHECK(rig.channel->phase() == Channel::Phase::finished);
    CHECK(rig.channel->close());  // the channel created the FIFO: removed
    CHECK_FALSE(std::filesystem::exists(rig.path));
}

TEST_CASE(
    "stop with a FIFO that outlives us: a cut line is completed from its rest, arriving "
    "later; the next line stays in the pipe") {
    Rig rig(std::make_unique<ScriptedSink>(), Rig::plain(), true);
    REQUIRE(rig.channel->fifo().origin() == Fifo::Origin::reused);
    rig.write("whole\nhead-");
    rig.channel->stop();
    CHECK(rig.channel->phase() == Channel::Phase::draining);  // waiting for the rest
    for (int i = 0; i < 3; ++i)
        rig.loop.run_once(10'000);
    rig.write("rest\nnext\n");  // a writer blocked on the full pipe goes on
    rig.run_until([&] { return rig.recorder.finished; });
    CHECK(rig.script->messages == std::vector<std::string>{"whole", "head-rest"});
    char left[16] = {};
    CHECK(::read(rig.channel->fifo().fd(), left, sizeof left) == 5);
    CHECK(std::string(left) == "next\n");
    CHECK_FALSE(rig.channel->close());  // not ours: it stays
    CHECK(std::filesystem::exists(rig.path));
}

TEST_CASE(
    "stop with a FIFO that outlives us: a cut line whose rest does not come goes out as eof "
    "after a bounded wait") {
    Rig rig(std::make_unique<ScriptedSink>(), Rig::plain(), true);
    rig.write("head-only");
    rig.loop.run_once(0);  // the loop's clock now, as stop() reads it
    const uint64_t start = rig.loop.now();
    rig.channel->stop();
    rig.run_until([&] { return rig.recorder.finished; });
    const uint64_t waited = rig.loop.now() - start;
    CHECK(rig.script->messages == std::vector<std::string>{"head-only"});
    CHECK(rig.script->breaks.back() == Line::Break::eof);
    CHECK(waited >= 500'000);  // the channel's wait for the rest, on the loop's clock
    CHECK(waited < 2'000'000);
}

TEST_CASE("stop while waiting: the drain goes on once the sink takes entries again") {
    Rig rig;
    rig.script->results = {-EAGAIN, -EAGAIN};
    rig.write("x\ny\n");
    rig.run_until([&] { return rig.snapshot().waiting.has_value(); });
    rig.channel->stop();
    CHECK_FALSE(rig.recorder.finished);
    CHECK(rig.channel->phase() == Channel::Phase::draining);
    rig.run_until([&] { return rig.recorder.finished; });
    CHECK(rig.script->messages == std::vector<std::string>{"x", "y"});
}

TEST_CASE("a partial line idle for PartialLineTimeoutSec= goes out alone, marked timeout") {
    ChannelSettings settings = Rig::plain();
    settings.partial_line_timeout_usec = 50'000;
    Rig rig(settings);
    rig.write("A-no-newline");
    rig.run_until([&] { return rig.script->messages.size() == 1; });
    CHECK(rig.script->messages[0] == "A-no-newline");
    CHECK(rig.script->breaks[0] == Line::Break::timeout);
    rig.write("B-line\n");  // another writer's line is not glued to A
    rig.run_until([&] { return rig.script->messages.size() == 2; });
    CHECK(rig.script->messages[1] == "B-line");
    CHECK(rig.script->breaks[1] == Line::Break::newline);
}

TEST_CASE("a partial line that keeps growing is not cut by the timeout") {
    ChannelSettings settings = Rig::plain();
    settings.partial_line_timeout_usec = 200'000;
    Rig rig(settings);
    // A slow writer on the loop's clock: a byte every 60 ms, six in all, then the newline.
    int written = 0;
    std::optional<event::TimerSource> slow_writer;
    slow_writer.emplace(rig.loop, event::TimerSource::Mode::periodic, 60'000, 1'000, [&] {
        rig.write(++written <= 6 ? "x" : "\n");
        if (written > 6)
            slow_writer->set_enabled(false);
    });
    rig.loop.run_once(0);
    const uint64_t start = rig.loop.now();
    rig.run_until([&] { return rig.script->messages.size() == 1; });
    CHECK(rig.loop.now() - start >= 360'000);  // longer than the timeout in all
    CHECK(rig.script->messages[0] == "xxxxxx");
    CHECK(rig.script->breaks[0] == Line::Break::newline);
}

TEST_CASE("reconfigure: identifier, priority and LineMax take effect for the next lines") {
    Rig rig;
    rig.write("before\n");
    rig.run_until([&] { return rig.script->messages.size() == 1; });
    ChannelSettings settings = Rig::plain();
    settings.identifier = "renamed";
    settings.format.default_priority = 3;
    settings.line_max = 2048;
    rig.channel->reconfigure(settings);
    rig.write(std::string(1500, 'z') + "\n");
    rig.run_until([&] { return rig.script->messages.size() == 2; });
    CHECK(rig.script->identifier == "renamed");
    CHECK(rig.script->priorities[1] == 3);
    CHECK(rig.script->messages[1].size() == 1500);  // not cut at the old 1024
}

TEST_CASE(
    "stdout nobody reads: the channel waits for EPOLLOUT, the loop stays free, and every "
    "line comes out once when it drains") {
    int out[2];
    REQUIRE(pipe2(out, O_CLOEXEC) == 0);  // blocking, as an inherited stdout usually is
    {
        Rig rig(std::make_unique<TextSink>(out[1]));
        int ticks = 0;
        event::TimerSource tick(rig.loop, event::TimerSource::Mode::periodic, 20'000, 1000,
                                [&] { ++ticks; });
        // Far more than the pipe holds (64 KiB), written while the channel forwards.
        const int total = 20'000;
        int written = 0;
        auto write_more = [&] {
            while (written < total) {
                std::string line =
                    "line " + std::to_string(written) + " " + std::string(40, '.') + "\n";
                if (::write(rig.writer, line.data(), line.size()) < 0)
                    break;  // the FIFO is full: writers wait
                ++written;
            }
        };
        rig.run_until(
            [&] {
                write_more();
                return rig.snapshot().waiting.has_value();
            },
            10s);
        int ticks_at_wait = ticks;
        // The loop must keep running while stdout is full: five more ticks, still waiting.
        rig.run_until([&] { return ticks - ticks_at_wait >= 5; }, 2s);
        CHECK(rig.snapshot().waiting.has_value());

        // Now read stdout while stepping the loop, until every line has come out.
        std::string seen;
        char chunk[65536];
        int lines = 0;
        int flags = fcntl(out[0], F_GETFL);
        fcntl(out[0], F_SETFL, flags | O_NONBLOCK);
        rig.run_until(
            [&] {
                write_more();
                for (ssize_t n; (n = ::read(out[0], chunk, sizeof chunk)) > 0;)
                    seen.append(chunk, static_cast<std::size_t>(n));
                lines = static_cast<int>(std::count(seen.begin(), seen.end(), '\n'));
                return lines == total;
            },
            20s);
        for (int i : {0, total / 2, total - 1})
            CHECK(seen.find("<6>test: line " + std::to_string(i) + " ") != std::string::npos);
        CHECK(rig.snapshot().counters.lines == static_cast<uint64_t>(total));
        CHECK(rig.snapshot().counters.dropped == 0);
    }
    // The sink gave the descriptor its blocking mode back.
    CHECK((fcntl(out[1], F_GETFL) & O_NONBLOCK) == 0);
    close(out[0]);
    close(out[1]);
}

// --- multi-line records through the channel, on the loop's clock -------------------------------

namespace {

ChannelSettings with_records(uint64_t timeout_usec = 100'000) {
    ChannelSettings settings = Rig::plain();
    settings.multiline = records::default_rules();
    settings.multiline_timeout_usec = timeout_usec;
    return settings;
}

// What Python 3.11 writes for an uncaught ZeroDivisionError (tests/records makes it for real).
const std::string traceback =
    "Traceback (most recent call last):\n"
    "  File \"/srv/app.py\", line 3, in <module>\n"
    "    1 / 0\n"
    "    ~~^~~\n"
    "ZeroDivisionError: division by zero\n";

}  // namespace

TEST_CASE("a traceback is one entry at err; the lines around it stay lines, in order") {
    Rig rig(with_records());
    rig.write("before\n" + traceback + "after\n");
    rig.run_until([&] { return rig.script->messages.size() == 3; });
    CHECK(rig.script->messages[0] == "before");
    CHECK(rig.script->messages[1] == traceback.substr(0, traceback.size() - 1));
    CHECK(rig.script->rules == std::vector<std::string>{"", "python", ""});
    CHECK(rig.script->priorities == std::vector<int>{6, 3, 6});
    CHECK(rig.script->messages[2] == "after");
    CHECK(rig.snapshot().counters.lines == 7);  // input lines, the record's five among them
    CHECK(rig.snapshot().counters.records == 1);
}

TEST_CASE(
    "a line that may start a record and gets no continuation goes out unchanged, after "
    "MultilineTimeoutSec= on the loop's clock") {
    Rig rig(with_records(150'000));
    rig.loop.run_once(0);
    const uint64_t start = rig.loop.now();
    rig.write("java.lang.IllegalStateException: no such order\n");
    rig.run_until([&] { return rig.script->messages.size() == 1; });
    CHECK(rig.loop.now() - start >= 150'000);
    CHECK(rig.script->messages[0] == "java.lang.IllegalStateException: no such order");
    CHECK(rig.script->rules[0] == "");
    CHECK(rig.script->priorities[0] == 6);
    // A continuation that comes after the timeout is a line of its own: nothing merged late.
    rig.write("\tat com.example.Shop.order(Shop.java:42)\n");
    rig.run_until([&] { return rig.script->messages.size() == 2; });
    CHECK(rig.script->messages[1] == "\tat com.example.Shop.order(Shop.java:42)");
    CHECK(rig.script->rules[1] == "");
}

TEST_CASE("a record whose writer pauses within the timeout stays one record") {
    Rig rig(with_records(300'000));
    std::size_t next = 0;
    std::vector<std::string> lines;
    for (std::size_t at = 0; at < traceback.size();) {
        std::size_t end = traceback.find('\n', at) + 1;
        lines.push_back(traceback.substr(at, end - at));
        at = end;
    }
    std::optional<event::TimerSource> writer;  // a line every 100 ms, on the loop's clock
    writer.emplace(rig.loop, event::TimerSource::Mode::periodic, 100'000, 1'000, [&] {
        rig.write(lines[next++]);
        if (next == lines.size())
            writer->set_enabled(false);
    });
    rig.run_until([&] { return rig.script->messages.size() == 1; });
    CHECK(rig.script->rules[0] == "python");
    CHECK(rig.script->messages[0] == traceback.substr(0, traceback.size() - 1));
}

TEST_CASE("stop forwards a pending record whole") {
    Rig rig(with_records(10'000'000));  // the timeout cannot be what ends it
    rig.write(
        "panic: runtime error: index out of range [5] with length 3\n\n"
        "goroutine 1 [running]:\n"
        "main.main()\n"
        "\t/srv/main.go:8 +0x1d\n");
    for (int i = 0; i < 5; ++i)
        rig.loop.run_once(10'000);
    CHECK(rig.script->messages.empty());  // the record waits for its next line
    rig.channel->stop();
    rig.run_until([&] { return rig.recorder.finished; });
    REQUIRE(rig.script->messages.size() == 1);
    CHECK(rig.script->rules[0] == "go");
    CHECK(rig.script->priorities[0] == 3);
    CHECK(rig.script->messages[0] ==
          "panic: runtime error: index out of range [5] with length 3\n\n"
          "goroutine 1 [running]:\n"
          "main.main()\n"
          "\t/srv/main.go:8 +0x1d");
}

TEST_CASE(
    "reload with Multiline= empty: a pending record goes out as it is, then every line is its "
    "own entry") {
    Rig rig(with_records(10'000'000));
    rig.write("Traceback (most recent call last):\n  File \"x.py\", line 1, in <module>\n");
    for (int i = 0; i < 5; ++i)
        rig.loop.run_once(10'000);
    CHECK(rig.script->messages.empty());
    ChannelSettings plain = Rig::plain();
    plain.multiline = {};
    rig.channel->reconfigure(plain);
    rig.run_until([&] { return rig.script->messages.size() == 1; });
    CHECK(rig.script->messages[0] ==
          "Traceback (most recent call last):\n  File \"x.py\", line 1, in <module>");
    CHECK(rig.script->rules[0] == "python");
    rig.write(traceback);
    rig.run_until([&] { return rig.script->messages.size() == 6; });
    for (std::size_t i = 1; i < 6; ++i)
        CHECK(rig.script->rules[i] == "");
}
