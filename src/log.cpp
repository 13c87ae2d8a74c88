#include "log.hpp"

#include <spdlog/logger.h>
#include <spdlog/sinks/sink.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <deque>
#include <memory>
#include <string>
#include <vector>

#include "errors.hpp"

namespace pj::log {
namespace {

// What spdlog's log_msg cannot carry: the MESSAGE_ID and fields of the record being written.
// Set by write() for the duration of the synchronous spdlog call; single-threaded daemon.
struct Record {
    const MessageId* id;
    Fields fields;
};
const Record* current_record = nullptr;
int last_send_result = 0;  // of the record the journal sink sent last

constexpr std::string_view priority_values[] = {"0", "1", "2", "3", "4", "5", "6", "7"};

// Our own entries that journald did not take at once (busy, frozen, restarting): kept in order and
// sent before the next one, so that no log call ever waits for journald. Past the bound they are
// counted, and the count is said once journald takes entries again.
class Pending {
public:
    static constexpr std::size_t entries_max = 256;
    static constexpr std::size_t bytes_max = 256 * 1024;

    // 0 when sent or kept for later, a negative errno when journald cannot take it at all.
    int send(std::string&& wire) {
        flush();
        if (entries_.empty()) {
            int r = journal::send_wire(wire);
            if (r >= 0 || !is_transient(r))
                return r;
        }
        if (entries_.size() == entries_max || bytes_ + wire.size() > bytes_max) {
            ++dropped_;
            return -ENOBUFS;
        }
        bytes_ += wire.size();
        entries_.push_back(std::move(wire));
        return 0;
    }

    bool empty() const noexcept { return entries_.empty() && dropped_ == 0; }

    // Sends what is kept, in order, until journald refuses again.
    void flush() {
        while (!entries_.empty()) {
            int r = journal::send_wire(entries_.front());
            if (r < 0 && is_transient(r))
                return;
            bytes_ -= entries_.front().size();
            entries_.pop_front();
        }
        if (dropped_ > 0) {
            uint64_t dropped = std::exchange(dropped_, 0);
            std::string text = "journald did not take " + std::to_string(dropped) +
                               " of pipejournal's own entries for a while; they are lost";
            std::string count = std::to_string(dropped);
            const journal::Field fields[] = {{"MESSAGE", text},
                                             {"PRIORITY", "4"},
                                             {"SYSLOG_IDENTIFIER", "pipejournal"},
                                             {"PIPEJOURNAL_DROPPED", count}};
            std::string wire;
            if (journal::encode(fields, wire) == 0 && journal::send_wire(wire) < 0)
                dropped_ += dropped;  // said next time
        }
    }

private:
    std::deque<std::string> entries_;
    std::size_t bytes_ = 0;
    uint64_t dropped_ = 0;
};

Pending& pending() {
    static Pending instance;
    return instance;
}

int syslog_priority(spdlog::level::level_enum level) {
    switch (level) {
    case spdlog::level::trace:
    case spdlog::level::debug: return 7;
    case spdlog::level::info: return 6;
    case spdlog::level::warn: return 4;
    case spdlog::level::err: return 3;
    default: return 2;
    }
}

// Our sinks write what they write themselves and take no pattern: spdlog's pattern_formatter,
// which base_sink and the stdout sinks build (compiling a pattern) in their constructors, is then
// never run, and its code never paged in at start-up (bench case startup).
class OwnFormatSink : public spdlog::sinks::sink {
public:
    void set_pattern(const std::string&) override {}
    void set_formatter(std::unique_ptr<spdlog::formatter>) override {}
    void flush() override {}
};

// Sends each record as one native journal entry with its MESSAGE_ID, fields and code location.
class StructuredJournalSink final : public OwnFormatSink {
public:
    void log(const spdlog::details::log_msg& msg) override {
        std::string line = std::to_string(msg.source.line);
        std::vector<journal::Field> fields;
        fields.reserve(8 + (current_record ? current_record->fields.size() : 0));
        fields.push_back({"MESSAGE", {msg.payload.data(), msg.payload.size()}});
        fields.push_back({"PRIORITY", priority_values[syslog_priority(msg.level)]});
        fields.push_back({"SYSLOG_IDENTIFIER", "pipejournal"});
        if (!msg.source.empty()) {
            fields.push_back({"CODE_FILE", msg.source.filename});
            fields.push_back({"CODE_LINE", line});
            fields.push_back({"CODE_FUNC", msg.source.funcname});
        }
        if (current_record) {
            if (current_record->id)
                fields.push_back({"MESSAGE_ID", current_record->id->id});
            for (const Field& field : current_record->fields)
                fields.push_back({field.name.view(), field.value});
        }
        std::string wire;
        last_send_result = journal::encode(fields, wire);
        if (last_send_result == 0)
            last_send_result = pending().send(std::move(wire));  // write() tells the caller
    }
};

// "pipejournal: warning: TEXT", one write(2) per record: stderr is unbuffered anyway, and a
// daemon's log is read while it runs.
class StderrTextSink final : public OwnFormatSink {
public:
    void log(const spdlog::details::log_msg& msg) override {
        const spdlog::string_view_t level = spdlog::level::to_string_view(msg.level);
        std::string text;
        text.reserve(msg.logger_name.size() + level.size() + msg.payload.size() + 5);
        text.append(msg.logger_name.data(), msg.logger_name.size()).append(": ");
        text.append(level.data(), level.size()).append(": ");
        text.append(msg.payload.data(), msg.payload.size()).push_back('\n');
        for (std::string_view left = text; !left.empty();) {
            ssize_t n = ::write(STDERR_FILENO, left.data(), left.size());
            if (n < 0 && errno == EINTR)
                continue;
            if (n <= 0)
                return;  // nowhere to say it
            left.remove_prefix(static_cast<std::size_t>(n));
        }
    }
};

spdlog::level::level_enum to_spdlog(LogLevel level) {
    switch (level) {
    case LogLevel::trace: return spdlog::level::trace;
    case LogLevel::debug: return spdlog::level::debug;
    case LogLevel::info: return spdlog::level::info;
    case LogLevel::warning: return spdlog::level::warn;
    case LogLevel::error: return spdlog::level::err;
    case LogLevel::critical: return spdlog::level::critical;
    case LogLevel::off: return spdlog::level::off;
    }
    return spdlog::level::info;
}

std::shared_ptr<spdlog::logger>& logger() {
    static std::shared_ptr<spdlog::logger> instance;
    return instance;
}

}  // namespace

Target detect_target() {
    return journal::stderr_is_journal() ? Target::journal : Target::stderr_text;
}

void setup(Target target, LogLevel level) {
    spdlog::sink_ptr sink;
    if (target == Target::journal)
        sink = std::make_shared<StructuredJournalSink>();
    else
        sink = std::make_shared<StderrTextSink>();
    logger() = std::make_shared<spdlog::logger>("pipejournal", std::move(sink));
    set_level(level);
}

void set_level(LogLevel level) {
    if (logger())
        logger()->set_level(to_spdlog(level));
}

void flush_pending(uint64_t timeout_usec) {
    const auto until = std::chrono::steady_clock::now() + std::chrono::microseconds(timeout_usec);
    for (;;) {
        pending().flush();
        if (pending().empty())
            return;
        auto now = std::chrono::steady_clock::now();
        if (now >= until)
            return;
        auto left = std::chrono::duration_cast<std::chrono::microseconds>(until - now).count();
        if (!journal::wait_writable(static_cast<uint64_t>(left)))
            return;
    }
}

bool write(LogLevel level, const MessageId* id, std::string_view text, Fields fields,
           const std::source_location& where) {
    auto& sink = logger();
    if (!sink) {  // before setup(): plain text, so nothing is ever lost
        setup(Target::stderr_text, LogLevel::info);
    }
    Record record{id, fields};
    current_record = &record;
    last_send_result = 0;
    sink->log(spdlog::source_loc{where.file_name(), static_cast<int>(where.line()),
                                 where.function_name()},
              to_spdlog(level), spdlog::string_view_t(text.data(), text.size()));
    current_record = nullptr;
    return last_send_result >= 0;
}

}  // namespace pj::log
