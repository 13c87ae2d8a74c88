#include "records/joiner.hpp"

#include <utility>

namespace pj {
namespace {

// Only a whole line ended by '\n' can be part of a record: never a piece cut at LineMax, a line
// the partial-line timeout released or the unfinished last line at stop.
bool joinable(const Line& line) noexcept {
    return line.end == Line::Break::newline && !line.continues;
}

struct Split {
    std::string_view rest;  // the text the rules look at
    std::optional<int> priority;
    std::size_t prefix = 0;
};

Split split_prefix(std::string_view text) noexcept {
    if (text.empty() || text[0] != '<')
        return {text, std::nullopt, 0};
    PriorityPrefix prefix = parse_priority_prefix(text);
    return {prefix.rest, prefix.priority, text.size() - prefix.rest.size()};
}

constexpr bool is_blank(char c) noexcept {
    return c == ' ' || c == '\t';
}

}  // namespace

RecordJoiner::RecordJoiner(LineBuffer& lines, records::Rules rules, std::uint64_t timeout_usec,
                           StructuredTest structured, RecordLimits limits)
    : lines_(lines),
      rules_(std::move(rules)),
      timeout_usec_(timeout_usec),
      structured_(std::move(structured)),
      limits_(limits) {
    rebuild_start_table();
}

void RecordJoiner::rebuild_start_table() {
    bool looks_ahead = false;  // java or indent
    for (MultilineRule rule : rules_)
        looks_ahead = looks_ahead || rule == MultilineRule::java || rule == MultilineRule::indent;
    looks_ahead_ = looks_ahead;
    start_by_.fill(looks_ahead ? Start_by::next_line : Start_by::nothing);
    if (rules_.empty())
        return;
    for (MultilineRule rule : rules_) {
        if (rule == MultilineRule::python)
            // "Traceback ...", "Stack ...", "Exception Group ..." also after blanks and "+ "
            for (unsigned char c : {'T', 'S', 'E', ' ', '\t', '+'})
                start_by_[c] = Start_by::maybe;
        if (rule == MultilineRule::go)
            for (unsigned char c : {'p', 'f'})  // "panic: ", "fatal error: "
                start_by_[c] = Start_by::maybe;
    }
}

void RecordJoiner::set_rules(records::Rules rules) {
    if (state_ == State::building)
        close();
    rules_ = std::move(rules);
    rebuild_start_table();
}

void RecordJoiner::set_timeout(std::uint64_t timeout_usec) {
    timeout_usec_ = timeout_usec;
}

std::optional<std::uint64_t> RecordJoiner::deadline() const {
    if (state_ != State::building)
        return std::nullopt;
    return line_arrival_usec_ + timeout_usec_;
}

void RecordJoiner::expire_if_due(std::uint64_t now_usec) {
    // A complete line waiting in the buffer came before the deadline (commit() closes the record
    // first otherwise): it is the record's to look at, however late the channel gets to it.
    if (state_ == State::building && now_usec >= line_arrival_usec_ + timeout_usec_ &&
        !lines_.front())
        close();
}

void RecordJoiner::expire(std::uint64_t now_usec) {
    expire_if_due(now_usec);
}

std::span<char> RecordJoiner::free_space() {
    own_views();  // the next read may overwrite the bytes of lines taken (pop() rewinds) or move
                  // them
    return lines_.free_space();
}

void RecordJoiner::commit(std::size_t bytes, std::uint64_t now_usec) {
    expire_if_due(now_usec);  // what comes now came too late for a record that timed out
    lines_.commit(bytes);
    if (bytes > 0)
        arrival_usec_ = now_usec;
}

void RecordJoiner::set_line_max(std::size_t line_max) {
    own_views();
    lines_.set_line_max(line_max);
}

void RecordJoiner::finish() {
    finished_ = true;
    lines_.finish();
}

void RecordJoiner::own_views() {
    if (state_ == State::idle || first_owned_)
        return;
    first_copy_.assign(first_.text);
    first_.text = first_copy_;
    first_owned_ = true;
}

const Record* RecordJoiner::front_held() {
    if (state_ == State::emitting)
        return emitted();
    if (rules_.empty()) {
        auto line = lines_.front();
        return line ? out(Record::of(*line)) : nullptr;
    }
    for (;;) {
        std::optional<Line> line = lines_.front();
        if (!line) {
            // No next line yet: a record waits for it until its deadline, unless none will come.
            if (state_ == State::building && finished_) {
                close();
                return emitted();
            }
            return nullptr;
        }
        if (state_ == State::idle) {
            if (const Record* alone = consider(*line))
                return alone;
            continue;  // held: the next line decides
        }
        if (take(*line)) {
            lines_.pop();
            if (state_ == State::emitting)  // a bound was reached
                return emitted();
            continue;
        }
        close();  // the line stays in the buffer and is looked at afresh after the record
        return emitted();
    }
}

void RecordJoiner::pop_emitted() {
    if (++emit_next_ <= empties_.size())
        return;
    state_ = State::idle;
    out_ = Record::of(Line{});  // front()'s fast path sets only out_.line
    rule_ = {};
    priority_.reset();
    first_owned_ = false;
    text_.clear();
    if (text_.capacity() > 64 * 1024)
        text_.shrink_to_fit();  // a 1 MiB record does not keep 1 MiB for ever
    empties_.clear();
    line_count_ = 1;
    emit_next_ = 0;
}

RecordJoiner::Next RecordJoiner::next_line() const {
    std::string_view after = lines_.after_front();
    if (after.empty())
        return Next::maybe_indented;  // not read yet
    if (after[0] == '<') {
        if (after.size() < 6)
            return Next::maybe_indented;  // "<3" may still become a prefix
        after = parse_priority_prefix(after.substr(0, 6)).rest;
    }
    return is_blank(after[0]) ? Next::maybe_indented : Next::not_indented;
}

const Record* RecordJoiner::consider(const Line& line) {
    if (!joinable(line))
        return out(Record::of(line));
    Split split = split_prefix(line.text);
    if (split.rest.empty())
        return out(Record::of(line));  // an empty line starts nothing
    const Start_by kind = start_by_[static_cast<unsigned char>(split.rest[0])];
    const bool definite = kind == Start_by::maybe;
    if (kind == Start_by::nothing)
        return out(Record::of(line));
    // The common plain line: no header can begin so, and the next line is not indented.
    Next next = next_line();
    if (!definite && next == Next::not_indented)
        return out(Record::of(line));
    Start start = decide(split.rest, next);
    if ((start.rule == MultilineRule::none && !start.wait) || structured(split.rest))
        return out(Record::of(line));
    first_ = line;
    first_owned_ = false;
    first_prefix_ = split.prefix;
    first_priority_ = split.priority;
    line_arrival_usec_ = arrival_usec_;
    state_ = State::building;
    begin_rule(start.rule);
    lines_.pop();  // first_ stays valid until free_space() or set_line_max()
    return nullptr;
}

// The first rule in Multiline='s order that takes the line; a conditional rule (java, indent)
// before it that may take it makes the line wait for the next one.
RecordJoiner::Start RecordJoiner::decide(std::string_view rest, Next next) const {
    for (MultilineRule rule : rules_) {
        switch (rule) {
        case MultilineRule::none: break;
        case MultilineRule::python:
            if (records::python_header(rest) != records::PythonHeader::none)
                return {rule, false};
            break;
        case MultilineRule::go:
            if (records::is_go_header(rest))
                return {rule, false};
            break;
        case MultilineRule::java:
            if (next == Next::maybe_indented && records::is_java_exception(rest))
                return {MultilineRule::none, true};
            break;
        case MultilineRule::indent:
            if (next == Next::maybe_indented)
                return {MultilineRule::none, true};
            break;
        }
    }
    return {};
}

// A held first line, now that the next line is here.
MultilineRule RecordJoiner::decide_with(std::string_view rest, const Line& next) {
    bool indented = false;
    if (joinable(next)) {
        std::string_view next_rest = split_prefix(next.text).rest;
        indented = records::begins_blank(next_rest) && !structured(next_rest);
    }
    for (MultilineRule rule : rules_) {
        switch (rule) {
        case MultilineRule::none: break;
        case MultilineRule::python:
            if (records::python_header(rest) != records::PythonHeader::none)
                return rule;
            break;
        case MultilineRule::go:
            if (records::is_go_header(rest))
                return rule;
            break;
        case MultilineRule::java:
            if (indented && records::is_java_exception(rest))
                return rule;
            break;
        case MultilineRule::indent:
            if (indented)
                return rule;
            break;
        }
    }
    return MultilineRule::none;
}

void RecordJoiner::begin_rule(MultilineRule rule) {
    rule_ = {rule, records::RuleState::Python::frames};
    if (rule == MultilineRule::none)
        return;
    // PRIORITY=: the first line's <N>, else err for a crash; a stack dump and an indented
    // continuation are no error and keep the first line's.
    bool crash = rule == MultilineRule::java || rule == MultilineRule::go ||
                 (rule == MultilineRule::python &&
                  records::python_header(std::string_view(first_.text).substr(first_prefix_)) !=
                      records::PythonHeader::stack);
    priority_ = first_priority_ ? first_priority_ : crash ? std::optional<int>(3) : std::nullopt;
}

bool RecordJoiner::take(const Line& line) {
    std::string_view first_rest = std::string_view(first_.text).substr(first_prefix_);
    if (rule_.rule == MultilineRule::none) {
        MultilineRule rule = decide_with(first_rest, line);
        if (rule == MultilineRule::none)
            return false;
        begin_rule(rule);
    }
    if (!joinable(line))
        return false;
    std::string_view rest = split_prefix(line.text).rest;
    records::RuleState state = rule_;
    if (!records::continues(state, rest))
        return false;
    const std::size_t message_size = line_count_ == 1 ? first_rest.size() : text_.size();
    if (line_count_ + empties_.size() + 1 > limits_.lines ||
        message_size + empties_.size() + 1 + rest.size() > limits_.bytes)
        return false;
    if (rest.empty()) {  // part of the record only if a line that is not empty follows
        empties_.push_back({std::string(line.text), line.end_position});
        rule_ = state;
        line_arrival_usec_ = arrival_usec_;
        return true;
    }
    if (structured(rest))
        return false;
    if (line_count_ == 1)
        text_.assign(first_rest);
    text_.append(empties_.size() + 1, '\n');
    text_.append(rest);
    line_count_ += empties_.size() + 1;
    end_position_ = line.end_position;
    empties_.clear();
    rule_ = state;
    line_arrival_usec_ = arrival_usec_;
    if (line_count_ >= limits_.lines)
        close();
    return true;
}

void RecordJoiner::close() {
    state_ = State::emitting;
    emit_next_ = 0;
}

const Record* RecordJoiner::emitted() {
    if (emit_next_ > 0) {
        const Empty& empty = empties_[emit_next_ - 1];
        return out(Record::of(Line{empty.text, Line::Break::newline, false, empty.end_position}));
    }
    if (line_count_ == 1)  // a header no line followed: the line goes out unchanged
        return out(Record::of(first_));
    return out(Record{Line{text_, Line::Break::newline, false, end_position_}, rule_.rule,
                      priority_, line_count_});
}

}  // namespace pj
