#include "records/rules.hpp"

#include <cstring>

namespace pj::records {
namespace {

constexpr std::string_view traceback_header = "Traceback (most recent call last):";
constexpr std::string_view stack_header = "Stack (most recent call last):";
constexpr std::string_view group_header = "Exception Group Traceback (most recent call last):";

constexpr bool is_blank(char c) noexcept {
    return c == ' ' || c == '\t';
}
constexpr bool is_digit(char c) noexcept {
    return c >= '0' && c <= '9';
}
constexpr bool is_identifier_start(char c) noexcept {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}
constexpr bool is_identifier_char(char c) noexcept {
    return is_identifier_start(c) || is_digit(c);
}

std::optional<MultilineRule> rule_named(std::string_view name) noexcept {
    for (MultilineRule rule :
         {MultilineRule::python, MultilineRule::java, MultilineRule::go, MultilineRule::indent})
        if (rule_name(rule) == name)
            return rule;
    return std::nullopt;
}

// `goroutine 1 [running]:`, `goroutine 18 [chan receive, 2 minutes]:`
bool is_goroutine_header(std::string_view text) noexcept {
    constexpr std::string_view head = "goroutine ";
    if (!text.starts_with(head) || !text.ends_with("]:"))
        return false;
    std::size_t i = head.size();
    std::size_t digits = i;
    while (i < text.size() && is_digit(text[i]))
        ++i;
    return i > digits && text.substr(i).starts_with(" [");
}

// `main.main()`, `main.(*T).Run(0xc000010000, ...)`, `panic({0x4960a0, 0x533050})`: no blank
// before the first '(', and the line ends in ')'.
bool is_go_function(std::string_view text) noexcept {
    if (text.size() < 3 || text.back() != ')')
        return false;
    std::size_t paren = text.find('(');
    if (paren == 0 || paren == std::string_view::npos)
        return false;
    for (std::size_t i = 0; i < paren; ++i)
        if (is_blank(text[i]))
            return false;
    return true;
}

}  // namespace

std::optional<std::string> parse_rules(std::string_view text, Rules& rules) {
    Rules parsed;
    std::size_t i = 0;
    while (i < text.size()) {
        if (is_blank(text[i])) {
            ++i;
            continue;
        }
        std::size_t end = i;
        while (end < text.size() && !is_blank(text[end]))
            ++end;
        std::string_view name = text.substr(i, end - i);
        auto rule = rule_named(name);
        if (!rule)
            return "unknown rule '" + std::string(name) + "'";
        for (MultilineRule seen : parsed)
            if (seen == *rule)
                return "rule '" + std::string(name) + "' given twice";
        parsed.push_back(*rule);
        i = end;
    }
    rules = std::move(parsed);
    return std::nullopt;
}

std::string rules_text(const Rules& rules) {
    std::string text;
    for (MultilineRule rule : rules) {
        if (!text.empty())
            text += ' ';
        text += rule_name(rule);
    }
    return text;
}

PythonHeader python_header(std::string_view text) noexcept {
    if (text == traceback_header)
        return PythonHeader::traceback;
    if (text == stack_header)
        return PythonHeader::stack;
    // An exception group's traceback, also as Python 3.11 nests it: "  + Exception Group ...".
    std::size_t i = 0;
    while (i < text.size() && is_blank(text[i]))
        ++i;
    text.remove_prefix(i);
    if (text.starts_with("+ "))
        text.remove_prefix(2);
    return text == group_header ? PythonHeader::group : PythonHeader::none;
}

bool is_python_chain(std::string_view text) noexcept {
    return text == "During handling of the above exception, another exception occurred:" ||
           text == "The above exception was the direct cause of the following exception:";
}

bool is_python_exception(std::string_view text) noexcept {
    std::size_t i = 0;
    for (;;) {  // one identifier, then '.' and another, ...
        if (i == text.size() || !is_identifier_start(text[i]))
            return false;
        while (i < text.size() && is_identifier_char(text[i]))
            ++i;
        if (i == text.size())
            return true;
        if (text[i] == ':')  // "Name: text" (Python writes ": "), not "INFO:root:message"
            return i + 1 == text.size() || text[i + 1] == ' ';
        if (text[i] != '.')
            return false;
        ++i;
    }
}

bool is_java_exception(std::string_view text) noexcept {
    auto names_before = [&](std::size_t end) {
        std::string_view head = text.substr(0, end);
        return head.ends_with("Exception") || head.ends_with("Error") ||
               head.ends_with("Throwable");
    };
    if (names_before(text.size()))
        return true;
    const char* begin = text.data();
    const char* end = begin + text.size();
    for (const char* p = begin; p < end;) {
        const void* colon = std::memchr(p, ':', static_cast<std::size_t>(end - p));
        if (!colon)
            return false;
        auto at = static_cast<std::size_t>(static_cast<const char*>(colon) - begin);
        if (names_before(at))
            return true;
        p = static_cast<const char*>(colon) + 1;
    }
    return false;
}

bool is_go_header(std::string_view text) noexcept {
    return text.starts_with("panic: ") || text.starts_with("fatal error: ");
}

bool continues(RuleState& state, std::string_view text) noexcept {
    switch (state.rule) {
    case MultilineRule::none: return false;
    case MultilineRule::python:
        if (text.empty())
            return true;
        if (is_python_chain(text)) {
            state.python = RuleState::Python::after_chain;
            return true;
        }
        if (state.python == RuleState::Python::after_exception)
            return false;
        if (state.python == RuleState::Python::after_chain &&
            python_header(text) != PythonHeader::none) {
            state.python = RuleState::Python::frames;
            return true;
        }
        if (begins_blank(text))
            return true;
        if (is_python_exception(text)) {
            state.python = RuleState::Python::after_exception;
            return true;
        }
        return false;
    case MultilineRule::java: return begins_blank(text) || text.starts_with("Caused by: ");
    case MultilineRule::go:
        return text.empty() || begins_blank(text) || text.starts_with("[signal ") ||
               text.starts_with("created by ") || is_goroutine_header(text) || is_go_function(text);
    case MultilineRule::indent: return begins_blank(text);
    }
    return false;
}

}  // namespace pj::records
