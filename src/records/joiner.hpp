// Lines → records: joins the lines of a traceback, a stack trace or a Go panic into one record by
// the rules of Multiline= (records/rules.hpp). Pure: no I/O, no clock (time is passed in).
//
// Sits over the channel's LineBuffer and passes every call through, so it knows when the buffer's
// bytes can be overwritten or moved: the first line of a pending record is a view into the buffer
// until then, and copied into the joiner's own storage at free_space() and set_line_max(). A plain
// line that can start no record goes out straight from the buffer, uncopied; whether it can is
// decided from its first byte and the first bytes of the line after it (LineBuffer::after_front),
// so it costs next to nothing.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "format/prefix.hpp"
#include "lines.hpp"
#include "records/record.hpp"
#include "records/rules.hpp"

namespace pj {

// A record ends at this many lines or bytes of MESSAGE=; the next line is looked at afresh.
struct RecordLimits {
    std::size_t lines = 1000;
    std::size_t bytes = 1024 * 1024;
};

class RecordJoiner final : public RecordSource {
public:
    static constexpr std::uint64_t default_timeout_usec = 500'000;  // MultilineTimeoutSec=0.5

    // Whether the mapper maps this text (a whole line after its <N> prefix) as JSON or logfmt:
    // such a line never starts or continues a record. Asked only of lines a rule would take.
    using StructuredTest = std::function<bool(std::string_view text)>;

    // An empty rule list passes every line through as its own record (Multiline= empty).
    RecordJoiner(LineBuffer& lines, records::Rules rules,
                 std::uint64_t timeout_usec = default_timeout_usec, StructuredTest structured = {},
                 RecordLimits limits = {});

    // On reload: a pending record goes out as it is now (as at a timeout).
    void set_rules(records::Rules rules);
    void set_timeout(std::uint64_t timeout_usec);
    void set_structured_test(StructuredTest structured) { structured_ = std::move(structured); }
    const records::Rules& rules() const noexcept { return rules_; }

    std::span<char> free_space() override;
    void commit(std::size_t bytes, std::uint64_t now_usec) override;
    // The common case inline: nothing held, and a plain line that can start no record.
    const Record* front() override {
        if (state_ == State::idle) {
            const Line* line = lines_.peek();
            if (!line)
                return nullptr;
            if (goes_out_alone(*line)) {
                out_.line = *line;
                return &out_;
            }
        }
        return front_held();
    }
    void pop() override {
        if (state_ != State::emitting)
            lines_.pop();  // front() handed out the buffer's own line
        else
            pop_emitted();
    }
    void finish() override;
    void release_partial(Line::Break why) override { lines_.release_partial(why); }
    bool has_partial_line() const override { return lines_.has_partial_line(); }
    std::size_t line_max() const override { return lines_.line_max(); }
    void set_line_max(std::size_t line_max) override;
    std::optional<std::uint64_t> deadline() const override;
    void expire(std::uint64_t now_usec) override;

private:
    enum class State {
        idle,      // nothing held: the buffer's front line is looked at afresh
        building,  // a record (or a line that may start one) waits for its next line
        emitting,  // the record is complete: handing out it, then its trailing empty lines
    };
    // What the first bytes after a line say about the line after it.
    enum class Next { not_indented, maybe_indented };
    struct Start {
        MultilineRule rule = MultilineRule::none;  // none and !wait: the line starts nothing
        bool wait = false;  // a rule would take it if the next line is indented
    };

    // Certainly no record's first line, from its first byte (after a <N> prefix) and the next
    // line's: no header can begin so, and the next line is there and not indented.
    bool goes_out_alone(const Line& line) const noexcept {
        std::string_view text = line.text;
        std::size_t prefix = text.empty() || text[0] != '<' ? 0 : priority_prefix_size(text);
        if (prefix == text.size())
            return true;  // an empty line starts nothing
        const Start_by kind = start_by_[static_cast<unsigned char>(text[prefix])];
        if (kind == Start_by::nothing || line.end != Line::Break::newline || line.continues)
            return true;
        if (kind == Start_by::maybe) {
            if (records::may_be_header(text.substr(prefix)))
                return false;
            if (!looks_ahead_)
                return true;
        }
        std::string_view after = lines_.after_front();  // Start_by::next_line
        if (after.empty() || (after[0] == '<' && after.size() < 6))
            return false;  // not read yet, or maybe a prefix not read whole
        const char next = after[after[0] == '<' ? priority_prefix_size(after) : 0];
        return next != ' ' && next != '\t';
    }
    const Record* front_held();
    void pop_emitted();
    const Record* consider(const Line& line);  // idle: the line if it goes out now, or nullptr
    const Record* out(const Record& record) {
        out_ = record;
        return &out_;
    }
    Start decide(std::string_view rest, Next next) const;
    MultilineRule decide_with(std::string_view rest, const Line& next);
    bool take(const Line& line);  // building: adds the line to the record, or says it ends it
    void hold(const Line& line, MultilineRule rule);
    void begin_rule(MultilineRule rule);
    void close();
    const Record* emitted();
    void expire_if_due(std::uint64_t now_usec);
    void own_views();
    bool structured(std::string_view rest) const { return structured_ && structured_(rest); }
    Next next_line() const;
    void rebuild_start_table();

    LineBuffer& lines_;
    records::Rules rules_;
    std::uint64_t timeout_usec_;
    StructuredTest structured_;
    RecordLimits limits_;
    // What a line's first byte says about whether it may start a record, for goes_out_alone().
    enum class Start_by : std::uint8_t {
        nothing,    // no rule's record can start so (every byte when Multiline= is empty)
        maybe,      // a python or go header may begin so: look closer
        next_line,  // only java or indent could take it, if the next line is indented
    };
    std::array<Start_by, 256> start_by_{};
    bool looks_ahead_ = false;  // java or indent is on

    // What front() hands out. While idle its rule, priority and count are a single line's, so the
    // fast path sets only its line.
    Record out_ = Record::of(Line{});
    State state_ = State::idle;
    bool finished_ = false;
    std::uint64_t arrival_usec_ = 0;  // the last commit() that brought bytes

    // The record held (State::building and State::emitting).
    Line first_;                    // its first line as the buffer cut it, <N> prefix and all
    std::string first_copy_;        // first_.text once the buffer's bytes move
    bool first_owned_ = false;      // first_.text points into first_copy_
    std::size_t first_prefix_ = 0;  // bytes of first_.text that are its <N> prefix
    std::optional<int> first_priority_;
    records::RuleState rule_;  // rule none: the first line waits to see whether one takes it
    std::optional<int> priority_;
    std::string text_;  // MESSAGE= once a second line came
    std::size_t line_count_ = 1;
    uint64_t end_position_ = 0;  // of the last line taken
    // Empty lines after the last line taken, as they came (a <N> prefix and all).
    struct Empty {
        std::string text;
        uint64_t end_position;
    };
    std::vector<Empty> empties_;
    std::uint64_t line_arrival_usec_ = 0;
    std::size_t emit_next_ = 0;  // 0: the record (or its first line alone), i: empties_[i - 1]
};

}  // namespace pj
