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
    std::optional<Record> front() override;
    void pop() override;
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

    std::optional<Record> consider(const Line& line);  // idle: goes out now, or is held
    Start decide(std::string_view rest, Next next) const;
    MultilineRule decide_with(std::string_view rest, const Line& next);
    bool take(const Line& line);  // building: adds the line to the record, or says it ends it
    void hold(const Line& line, MultilineRule rule);
    void begin_rule(MultilineRule rule);
    void close();
    Record emitted() const;
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
    // Per first byte of a line (after its prefix): may_start_definite: a python or go header may
    // begin so; conditional_: java or indent is on, which look at the next line.
    std::array<bool, 256> may_start_definite_{};
    bool conditional_ = false;

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
    std::vector<std::string> empties_;  // empty lines after the last line taken, as they came
    std::uint64_t line_arrival_usec_ = 0;
    std::size_t emit_next_ = 0;  // 0: the record (or its first line alone), i: empties_[i - 1]
};

}  // namespace pj
