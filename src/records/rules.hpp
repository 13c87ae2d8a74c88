// The rules of Multiline=: which line starts a record and which lines continue it. Each rule is a
// few comparisons on a line's text (after its <N> prefix); no regex engine (docs/design.md,
// "Records" has the measurement). Pure.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "records/record.hpp"

namespace pj::records {

using Rules = std::vector<MultilineRule>;  // in the order Multiline= lists them

// Every rule, in the order the contract lists them.
inline const Rules& all_rules() {
    static const Rules rules{MultilineRule::python, MultilineRule::java, MultilineRule::go,
                             MultilineRule::indent};
    return rules;
}

inline const Rules& default_rules() {
    static const Rules rules{MultilineRule::python, MultilineRule::java, MultilineRule::go};
    return rules;
}

// Multiline=: names separated by blanks, each once. Empty text: no rules. Returns the reason when
// the text is not a list of rule names.
std::optional<std::string> parse_rules(std::string_view text, Rules& rules);
std::string rules_text(const Rules& rules);  // as Multiline= writes it

constexpr bool begins_blank(std::string_view text) noexcept {
    return !text.empty() && (text[0] == ' ' || text[0] == '\t');
}

// python
enum class PythonHeader { none, traceback, stack, group };
PythonHeader python_header(std::string_view text) noexcept;
bool is_python_chain(std::string_view text) noexcept;
bool is_python_exception(std::string_view text) noexcept;  // `Name: text` or `Name`, Name dotted

// java: Exception, Error or Throwable directly followed by ':' or the end of the line. The rest of
// the start (the next line begins with a blank) is the joiner's to see.
bool is_java_exception(std::string_view text) noexcept;

// go
bool is_go_header(std::string_view text) noexcept;

// Whether `text` may be a python or go header, cheaply (a size or a few bytes compared): false
// means it is none, true that python_header() or is_go_header() must look.
constexpr bool may_be_header(std::string_view text) noexcept {
    if (text.empty())
        return false;
    switch (text[0]) {
    case 'T': return text.size() == 34;  // "Traceback (most recent call last):"
    case 'S': return text.size() == 30;  // "Stack (most recent call last):"
    case 'p': return text.starts_with("panic: ");
    case 'f': return text.starts_with("fatal error: ");
    default: return text.ends_with("Exception Group Traceback (most recent call last):");
    }
}

// Where a rule's record is after the lines it took so far.
struct RuleState {
    enum class Python {
        frames,           // after a header: frames, source lines, markers, empty lines
        after_chain,      // after "During handling ..." / "The above exception ...": a header
        after_exception,  // after the exception line: only empty lines and a chain line go on
    };
    MultilineRule rule = MultilineRule::none;
    Python python = Python::frames;
};

// Whether `text`, the next line, belongs to the record (an empty line may still turn out to be
// after its end: the joiner holds empty lines until a line that is part of it comes).
bool continues(RuleState& state, std::string_view text) noexcept;

}  // namespace pj::records
