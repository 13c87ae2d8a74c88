// A channel driven as the daemon drives it: a real FIFO, a real sd-event loop, and a sink that
// answers from a script (the refusals real journald gives only while restarting or broken) or
// a real pipe nobody reads.
#include <doctest/doctest.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
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
    bool refusing = false;           // every send() -EAGAIN, as a frozen journald's queue

    int send(const Entry& entry) override {
        if (refusing)
            return -EAGAIN;
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

    // backlog_directory: where the backlog lives (it then outlives the channel), or empty for
    // one in memory.
    explicit Rig(std::unique_ptr<Sink> sink, ChannelSettings settings = plain(),
                 bool existing_fifo = false, const std::string& backlog_directory = "") {
        script = dynamic_cast<ScriptedSink*>(sink.get());
        if (existing_fifo)  // as systemd's or one that was there: it outlives the channel
            REQUIRE(::mkfifo(path.c_str(), 0600) == 0);
        Fifo fifo = Fifo::open_or_create(path, 0600);
        writer = ::open(path.c_str(), O_WRONLY | O_NONBLOCK | O_CLOEXEC);
        REQUIRE(writer >= 0);
        channel = std::make_unique<Channel>(loop, std::move(fifo),
                                            Backlog::open(backlog_directory, path, 32 << 20),
                                            std::move(sink), settings, recorder);
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
    rig.run_until([&] { return rig.snapshot().refusal.has_value(); });
    CHECK(rig.snapshot().refusal->error == -ECONNREFUSED);
    CHECK(rig.recorder.changes == 1);
    rig.write("d\n");  // waits in the pipe meanwhile
    rig.run_until([&] { return rig.script->messages.size() == 4; });
    CHECK(rig.script->messages == std::vector<std::string>{"a", "b", "c", "d"});
    CHECK_FALSE(rig.snapshot().refusal.has_value());
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
    CHECK_FALSE(rig.snapshot().refusal.has_value());

    rig.script->results.assign(8, -EAGAIN);  // 10+20+40+80+160+320+640 ms of refusals
    rig.write("b\n");
    rig.run_until([&] { return rig.snapshot().refusal.has_value(); });
    CHECK(rig.loop.now() - rig.snapshot().refusal->since_usec >= 150'000);
    CHECK(rig.recorder.changes == 1);
    CHECK(rig.snapshot().refusal->error == -EAGAIN);
    rig.run_until([&] { return rig.script->messages.size() == 2; });
    CHECK_FALSE(rig.snapshot().refusal.has_value());
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
    CHECK(rig.channel->finished());
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
    CHECK(std::holds_alternative<Channel::Draining>(rig.channel->state()));  // waiting for the rest
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
    rig.run_until([&] { return rig.snapshot().refusal.has_value(); });
    rig.channel->stop();
    CHECK_FALSE(rig.recorder.finished);
    CHECK(std::holds_alternative<Channel::Draining>(rig.channel->state()));
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
                return rig.snapshot().refusal.has_value();
            },
            10s);
        int ticks_at_wait = ticks;
        // The loop must keep running while stdout is full: five more ticks, still waiting.
        rig.run_until([&] { return ticks - ticks_at_wait >= 5; }, 2s);
        CHECK(rig.snapshot().refusal.has_value());

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

// --- the backlog: writers do not wait for a sink that refuses ----------------------------------

namespace {

std::string numbered(int from, int to) {
    std::string text;
    for (int i = from; i < to; ++i)
        text += "line " + std::to_string(100000 + i) + "\n";
    return text;
}

std::vector<std::string> numbered_messages(int from, int to) {
    std::vector<std::string> messages;
    for (int i = from; i < to; ++i)
        messages.push_back("line " + std::to_string(100000 + i));
    return messages;
}

// Writes as much of text as the FIFO takes now; returns how much.
std::size_t write_some(int fd, std::string_view text) {
    std::size_t done = 0;
    while (done < text.size()) {
        ssize_t n =
            ::write(fd, text.data() + done, std::min<std::size_t>(text.size() - done, 4096));
        if (n <= 0)
            break;
        done += static_cast<std::size_t>(n);
    }
    return done;
}

}  // namespace

TEST_CASE(
    "a refusing sink: the FIFO goes on being read into the backlog; once the sink takes "
    "entries again every line goes out once, in order") {
    Rig rig;
    rig.script->refusing = true;
    const std::string lines = numbered(0, 20'000);  // 240 KB: far more than the pipe holds
    std::size_t written = 0;
    rig.run_until([&] {
        written += write_some(rig.writer, std::string_view(lines).substr(written));
        return written == lines.size() && rig.snapshot().counters.bytes == lines.size();
    });
    CHECK(std::holds_alternative<Channel::Backlogged>(rig.channel->state()));
    auto waiting = rig.snapshot().waiting;
    REQUIRE(waiting.has_value());
    CHECK(waiting->lines == 20'000u);
    CHECK(waiting->bytes == lines.size());
    CHECK(rig.script->messages.empty());

    rig.script->refusing = false;
    rig.run_until([&] { return rig.script->messages.size() == 20'000; });
    CHECK(rig.script->messages == numbered_messages(0, 20'000));
    CHECK_FALSE(rig.snapshot().waiting.has_value());
    CHECK(std::holds_alternative<Channel::Forwarding>(rig.channel->state()));
    CHECK(rig.channel->backlog().unsent() == 0);
}

TEST_CASE("BacklogMax= reached: the FIFO is not read; writers wait in the pipe; nothing is lost") {
    ChannelSettings settings = Rig::plain();
    settings.backlog_max = 64 * 1024;
    Rig rig(settings);
    rig.script->refusing = true;
    const std::string lines = numbered(0, 30'000);  // 360 KB
    std::size_t written = 0;
    rig.run_until([&] {
        written += write_some(rig.writer, std::string_view(lines).substr(written));
        return std::holds_alternative<Channel::Full>(rig.channel->state());
    });
    for (int i = 0; i < 10; ++i) {  // the pipe fills up behind the full backlog
        written += write_some(rig.writer, std::string_view(lines).substr(written));
        rig.loop.run_once(10'000);
    }
    CHECK(written < lines.size());  // the writer waits
    CHECK(rig.channel->backlog().unsent() >= 64u * 1024);
    CHECK(rig.channel->backlog().unsent() < 64u * 1024 + 16 * 1024);  // BacklogMax + one read

    rig.script->refusing = false;
    rig.run_until([&] {
        written += write_some(rig.writer, std::string_view(lines).substr(written));
        return rig.script->messages.size() == 30'000;
    });
    CHECK(rig.script->messages == numbered_messages(0, 30'000));
}

TEST_CASE("BacklogMax=0: a refusing sink holds the FIFO at once, as without a backlog") {
    ChannelSettings settings = Rig::plain();
    settings.backlog_max = 0;
    Rig rig(settings);
    rig.script->refusing = true;
    rig.write("a\nb\n");
    rig.run_until([&] { return std::holds_alternative<Channel::Full>(rig.channel->state()); });
    rig.script->refusing = false;
    rig.run_until([&] { return rig.script->messages.size() == 2; });
}

TEST_CASE(
    "stop while the sink takes nothing: after stop_patience_usec the rest stays in the "
    "backlog; the next run takes it over and sends it first, nothing lost or doubled") {
    Dir store;
    ChannelSettings settings = Rig::plain();
    settings.multiline = {};
    settings.stop_patience_usec = 100'000;
    Rig rig(std::make_unique<ScriptedSink>(), settings, true, store.path.string());
    rig.write(numbered(0, 1000));
    rig.run_until([&] { return rig.script->messages.size() == 1000; });
    rig.script->refusing = true;
    rig.write(numbered(1000, 3000) + "a partial line");
    const std::size_t total = numbered(0, 3000).size() + 14;
    rig.run_until([&] { return rig.snapshot().counters.bytes == total; });
    rig.loop.run_once(0);
    const uint64_t start = rig.loop.now();
    rig.channel->stop();
    rig.run_until([&] { return rig.recorder.finished; });
    CHECK(rig.loop.now() - start >= 100'000);
    CHECK(rig.loop.now() - start < 1'000'000);
    const Channel::Finished left = std::get<Channel::Finished>(rig.channel->state());
    CHECK(left.left_lines == 2000u);
    CHECK(left.left_bytes == numbered(1000, 3000).size() + 14);
    CHECK_FALSE(rig.channel->close());  // the FIFO outlives us, as systemd's does
    rig.channel.reset();

    // The next start, on the same FIFO: the backlog is found by its path, and taken over.
    auto sink = std::make_unique<ScriptedSink>();
    ScriptedSink* next = sink.get();
    Recorder recorder;
    Channel channel(rig.loop, Fifo::open_or_create(rig.path, 0600),
                    Backlog::open(store.path.string(), rig.path, 32 << 20), std::move(sink),
                    settings, recorder);
    CHECK(channel.backlog().recovered() == left.left_bytes);
    rig.write(" ends here\n" + numbered(3000, 3010));
    rig.run_until([&] { return next->messages.size() == 2011; });
    std::vector<std::string> expected = numbered_messages(1000, 3000);
    expected.push_back("a partial line ends here");  // never cut by the restart
    for (const std::string& line : numbered_messages(3000, 3010))
        expected.push_back(line);
    CHECK(next->messages == expected);
}

namespace {

// journald stand-in for a daemon in a child process: each entry as "MESSAGE\n" into a pipe.
class PipeSink final : public Sink {
public:
    explicit PipeSink(int fd) : fd_(fd) {}
    int send(const Entry& entry) override {
        std::string line = std::string(entry.message) + "\n";
        return ::write(fd_, line.data(), line.size()) == static_cast<ssize_t>(line.size()) ? 0
                                                                                           : -EIO;
    }
    void set_origin(const Origin&) override {}
    Kind kind() const noexcept override { return Kind::journal; }

private:
    int fd_;
};

}  // namespace

TEST_CASE("a SIGKILL at any moment: every line reaches the sink, at most one of them twice") {
    for (int round = 0; round < 6; ++round) {
        CAPTURE(round);
        Dir dir;
        const std::string path = (dir.path / "in").string();
        const std::string store = (dir.path / "store").string();
        REQUIRE(::mkfifo(path.c_str(), 0600) == 0);
        REQUIRE(::mkdir(store.c_str(), 0700) == 0);
        int out[2];
        REQUIRE(pipe2(out, O_CLOEXEC) == 0);
        const int writer = ::open(path.c_str(), O_RDWR | O_NONBLOCK | O_CLOEXEC);
        REQUIRE(writer >= 0);
        ChannelSettings settings = Rig::plain();
        settings.multiline = {};
        pid_t child = fork();
        REQUIRE(child >= 0);
        if (child == 0) {  // the daemon that will be killed
            ::close(out[0]);
            event::Loop loop;
            Recorder recorder;
            Channel channel(loop, Fifo::open_or_create(path, 0600),
                            Backlog::open(store, path, 32 << 20),
                            std::make_unique<PipeSink>(out[1]), settings, recorder);
            loop.run();
            _exit(0);
        }
        ::close(out[1]);
        fcntl(out[0], F_SETFL, O_NONBLOCK);
        const int total = 20'000;
        const std::string lines = numbered(0, total);
        const std::size_t kill_after = lines.size() / 8 * static_cast<std::size_t>(1 + round);
        std::size_t written = 0;
        std::string delivered;
        char chunk[65536];
        while (written < kill_after) {
            written +=
                write_some(writer, std::string_view(lines).substr(written, kill_after - written));
            for (ssize_t n; (n = ::read(out[0], chunk, sizeof chunk)) > 0;)
                delivered.append(chunk, static_cast<std::size_t>(n));
        }
        REQUIRE(::kill(child, SIGKILL) == 0);
        int status = 0;
        REQUIRE(::waitpid(child, &status, 0) == child);
        fcntl(out[0], F_SETFL, 0);
        for (ssize_t n; (n = ::read(out[0], chunk, sizeof chunk)) > 0;)
            delivered.append(chunk, static_cast<std::size_t>(n));
        ::close(out[0]);
        const int before = static_cast<int>(std::count(delivered.begin(), delivered.end(), '\n'));
        REQUIRE(delivered == numbered(0, before));

        // The restart: the same FIFO (it kept what was not read) and the backlog.
        event::Loop loop;
        Recorder recorder;
        auto sink = std::make_unique<ScriptedSink>();
        ScriptedSink* script = sink.get();
        Channel channel(loop, Fifo::open_or_create(path, 0600),
                        Backlog::open(store, path, 32 << 20), std::move(sink), settings, recorder);
        auto deadline = std::chrono::steady_clock::now() + 10s;
        while (script->messages.empty() ||
               script->messages.back() != numbered_messages(total - 1, total)[0]) {
            REQUIRE(std::chrono::steady_clock::now() < deadline);
            written += write_some(writer, std::string_view(lines).substr(written));
            loop.run_once(10'000);
        }
        REQUIRE_FALSE(script->messages.empty());
        const std::string& first = script->messages.front();
        const int resumed = std::stoi(first.substr(5)) - 100000;
        CHECK_MESSAGE(
            (resumed == before || resumed == before - 1),
            "the killed run delivered " << before << " lines, the next began at " << resumed);
        CHECK(script->messages == numbered_messages(resumed, total));
        ::close(writer);
    }
}
