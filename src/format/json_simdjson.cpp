// pipejournal-json.so: JSON lines read with simdjson's On-Demand parser, behind the C interface of
// json_module.h. The daemon loads this module when the first line that may be JSON comes; its
// side (json.cpp) turns the results into reasons and the sink's calls into fields.
#include <simdjson.h>

#include <algorithm>
#include <cstring>
#include <memory>
#include <new>
#include <string>
#include <string_view>
#include <utility>

#include "format/json_module.h"
#include "pages.hpp"

namespace {

namespace od = simdjson::ondemand;

bool is_json_blank(char c) noexcept {
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

// On-Demand hands out a scalar's token with the blanks up to the next token.
std::string_view trim_token(std::string_view token) noexcept {
    while (!token.empty() && is_json_blank(token.back()))
        token.remove_suffix(1);
    return token;
}

// RFC 8259: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?  — checked on the token as written,
// because the value is kept as written and On-Demand does not look at a number it is not asked
// to convert (converting would also refuse valid ones, such as 1e400).
bool is_json_number(std::string_view token) noexcept {
    std::size_t i = 0, n = token.size();
    auto digits = [&] {
        std::size_t from = i;
        while (i < n && token[i] >= '0' && token[i] <= '9')
            ++i;
        return i - from;
    };
    if (i < n && token[i] == '-')
        ++i;
    if (i < n && token[i] == '0')
        ++i;
    else if (digits() == 0)
        return false;
    if (i < n && token[i] == '.') {
        ++i;
        if (digits() == 0)
            return false;
    }
    if (i < n && (token[i] == 'e' || token[i] == 'E')) {
        ++i;
        if (i < n && (token[i] == '+' || token[i] == '-'))
            ++i;
        if (digits() == 0)
            return false;
    }
    return i == n;
}

// A decoded string as compact JSON text again (for objects and arrays inside arrays).
void append_json_string(std::string& out, std::string_view text) {
    static constexpr char hex[] = "0123456789abcdef";
    out += '"';
    for (char c : text) {
        auto byte = static_cast<unsigned char>(c);
        switch (c) {
        case '"': out += "\\\""; break;
        case '\\': out += "\\\\"; break;
        case '\n': out += "\\n"; break;
        case '\t': out += "\\t"; break;
        case '\r': out += "\\r"; break;
        case '\b': out += "\\b"; break;
        case '\f': out += "\\f"; break;
        default:
            if (byte < 0x20) {
                out += "\\u00";
                out += hex[byte >> 4];
                out += hex[byte & 15];
            } else {
                out += c;
            }
        }
    }
    out += '"';
}

enum class Walk { ok, invalid, too_deep, stopped };

// Walks the line's object once, handing every value to the sink. Every value is visited, so
// On-Demand validates the whole line; the depth is checked before each descent, so the recursion
// is at most max_depth deep whatever the line holds.
class Walker {
public:
    Walker(const pj_json_sink& sink, std::string& scratch)
        : sink_(sink), max_depth_(sink.max_depth), scratch_(scratch) {}

    // The members of an object at `depth`, as fields named by their key path.
    Walk members(od::object& object, int depth) {
        for (auto member : object) {
            od::field field;
            std::string_view key;
            if (std::move(member).get(field) || field.unescaped_key().get(key))
                return Walk::invalid;
            if (!sink_.enter(sink_.context, key.data(), key.size()))
                return Walk::stopped;
            Walk walked = member_value(field.value(), depth);
            if (walked != Walk::ok)
                return walked;
            if (!sink_.leave(sink_.context))
                return Walk::stopped;
        }
        return Walk::ok;
    }

private:
    Walk member_value(od::value& value, int depth) {
        od::json_type type;
        if (value.type().get(type))
            return Walk::invalid;
        switch (type) {
        case od::json_type::object: {
            od::object object;
            if (depth + 1 > max_depth_)
                return Walk::too_deep;
            if (value.get_object().get(object))
                return Walk::invalid;
            if (!sink_.add_container(sink_.context))
                return Walk::stopped;
            return members(object, depth + 1);
        }
        case od::json_type::array: {
            od::array array;
            if (depth + 1 > max_depth_)
                return Walk::too_deep;
            if (value.get_array().get(array))
                return Walk::invalid;
            if (!sink_.add_container(sink_.context))
                return Walk::stopped;
            return elements(array, depth + 1);
        }
        case od::json_type::string: {
            std::string_view text;
            if (value.get_string().get(text))
                return Walk::invalid;
            return sink_.add_string(sink_.context, text.data(), text.size()) ? Walk::ok
                                                                             : Walk::stopped;
        }
        case od::json_type::null:
            if (trim_token(value.raw_json_token()) != "null")
                return Walk::invalid;
            return sink_.add_null(sink_.context) ? Walk::ok : Walk::stopped;
        case od::json_type::number:
        case od::json_type::boolean: {
            std::string_view text;
            if (!literal(value, type, text))
                return Walk::invalid;
            return sink_.add_literal(sink_.context, text.data(), text.size()) ? Walk::ok
                                                                              : Walk::stopped;
        }
        }
        return Walk::invalid;
    }

    // The elements of an array at `depth`: a field each, objects and arrays as compact JSON.
    Walk elements(od::array& array, int depth) {
        for (auto element : array) {
            od::value value;
            od::json_type type;
            if (std::move(element).get(value) || value.type().get(type))
                return Walk::invalid;
            bool added = true;
            switch (type) {
            case od::json_type::object:
            case od::json_type::array: {
                scratch_.clear();
                if (Walk walked = compact(value, type, depth + 1, scratch_); walked != Walk::ok)
                    return walked;
                added = sink_.add_element(sink_.context, scratch_.data(), scratch_.size());
                break;
            }
            case od::json_type::string: {
                std::string_view text;
                if (value.get_string().get(text))
                    return Walk::invalid;
                added = sink_.add_element(sink_.context, text.data(), text.size());
                break;
            }
            case od::json_type::null:
                if (trim_token(value.raw_json_token()) != "null")
                    return Walk::invalid;
                break;  // null gives no field
            case od::json_type::number:
            case od::json_type::boolean: {
                std::string_view text;
                if (!literal(value, type, text))
                    return Walk::invalid;
                added = sink_.add_element(sink_.context, text.data(), text.size());
                break;
            }
            }
            if (!added)
                return Walk::stopped;
        }
        return Walk::ok;
    }

    // `value` (an object or array at `depth`) as compact JSON text appended to out.
    Walk compact(od::value& value, od::json_type type, int depth, std::string& out) {
        if (depth > max_depth_)
            return Walk::too_deep;
        if (type == od::json_type::object) {
            od::object object;
            if (value.get_object().get(object))
                return Walk::invalid;
            out += '{';
            bool first = true;
            for (auto member : object) {
                od::field field;
                std::string_view key;
                if (std::move(member).get(field) || field.unescaped_key().get(key))
                    return Walk::invalid;
                if (!first)
                    out += ',';
                first = false;
                append_json_string(out, key);
                out += ':';
                if (Walk walked = compact_value(field.value(), depth, out); walked != Walk::ok)
                    return walked;
            }
            out += '}';
            return Walk::ok;
        }
        od::array array;
        if (value.get_array().get(array))
            return Walk::invalid;
        out += '[';
        bool first = true;
        for (auto element : array) {
            od::value item;
            if (std::move(element).get(item))
                return Walk::invalid;
            if (!first)
                out += ',';
            first = false;
            if (Walk walked = compact_value(item, depth, out); walked != Walk::ok)
                return walked;
        }
        out += ']';
        return Walk::ok;
    }

    // A value inside a container at `depth`, as compact JSON text.
    Walk compact_value(od::value& value, int depth, std::string& out) {
        od::json_type type;
        if (value.type().get(type))
            return Walk::invalid;
        switch (type) {
        case od::json_type::object:
        case od::json_type::array: return compact(value, type, depth + 1, out);
        case od::json_type::string: {
            std::string_view text;
            if (value.get_string().get(text))
                return Walk::invalid;
            append_json_string(out, text);
            return Walk::ok;
        }
        case od::json_type::null:
        case od::json_type::number:
        case od::json_type::boolean: {
            std::string_view text;
            if (!literal(value, type, text))
                return Walk::invalid;
            out += text;
            return Walk::ok;
        }
        }
        return Walk::invalid;
    }

    // A number, true, false or null exactly as written; false if the token is not one.
    static bool literal(od::value& value, od::json_type type, std::string_view& text) {
        text = trim_token(value.raw_json_token());
        switch (type) {
        case od::json_type::number: return is_json_number(text);
        case od::json_type::boolean: return text == "true" || text == "false";
        case od::json_type::null: return text == "null";
        default: return false;
        }
    }

    const pj_json_sink& sink_;
    const int max_depth_;
    std::string& scratch_;  // compact JSON text of a container in an array, copied by the sink
};

}  // namespace

struct pj_json_parser {
    od::parser parser;
    // The line, copied with the SIMDJSON_PADDING bytes simdjson may read past its end. Grows to the
    // longest line seen; trim() gives back the pages a long line used.
    pj::PageBuffer buffer;
    std::size_t used = 0;  // the most of buffer written since the last trim()
    std::string scratch;   // see Walker
    // Only for lines the sink stopped or too deep to walk: is the rest of the line valid JSON, and
    // how deep? (On-Demand validates only what is visited.)
    std::unique_ptr<simdjson::dom::parser> validator;

    void load(std::string_view text) {
        std::size_t needed = text.size() + simdjson::SIMDJSON_PADDING;
        if (needed > buffer.size())
            buffer = pj::PageBuffer(std::max(needed, buffer.size() * 2));
        std::memcpy(buffer.data(), text.data(), text.size());
        std::memset(buffer.data() + text.size(), 0, simdjson::SIMDJSON_PADDING);
        used = std::max(used, needed);
    }

    // 0 valid, 1 too deep to tell (deeper than simdjson's own limit), -1 not valid JSON.
    int validate(std::size_t size) {
        if (!validator)
            validator = std::make_unique<simdjson::dom::parser>();
        simdjson::dom::element root;
        auto error = validator->parse(reinterpret_cast<const uint8_t*>(buffer.data()), size, false)
                         .get(root);
        if (error == simdjson::DEPTH_ERROR)
            return 1;
        return error ? -1 : 0;
    }

    pj_json_result read(std::string_view text, const pj_json_sink& sink) {
        load(text);
        od::document document;
        auto error = parser.iterate(buffer.data(), text.size(), buffer.size()).get(document);
        if (error)
            return error == simdjson::UTF8_ERROR ? PJ_JSON_INVALID_UTF8 : PJ_JSON_INVALID;
        od::object object;
        if (document.get_object().get(object))
            return PJ_JSON_INVALID;

        Walker walker(sink, scratch);
        switch (walker.members(object, 1)) {
        case Walk::ok: break;
        case Walk::invalid: return PJ_JSON_INVALID;
        case Walk::too_deep: return validate(text.size()) < 0 ? PJ_JSON_INVALID : PJ_JSON_TOO_DEEP;
        case Walk::stopped: {
            int valid = validate(text.size());
            if (valid < 0)
                return PJ_JSON_INVALID;
            return valid > 0 ? PJ_JSON_TOO_DEEP : PJ_JSON_STOPPED;
        }
        }
        // Past the object's '}' there must be nothing but blanks.
        if (document.current_location().error() != simdjson::OUT_OF_BOUNDS)
            return PJ_JSON_TRAILING_TEXT;
        return PJ_JSON_MAPPED;
    }

    bool trim(std::size_t keep_bytes) noexcept {
        if (used <= keep_bytes)
            return false;
        buffer.release(keep_bytes, used);
        used = 0;
        // simdjson's own buffers (structural indexes, decoded strings: several times the line) and
        // the validator's, back to what ordinary lines need; they grow again when a long line
        // comes.
        if (parser.capacity() > keep_bytes && parser.allocate(keep_bytes))
            parser = od::parser();  // could not even allocate that much: start afresh
        validator.reset();
        std::string().swap(scratch);
        return true;
    }
};

namespace {

// Nothing may throw across the C interface: an exception here is out of memory.
pj_json_parser* parser_new() noexcept {
    try {
        return new pj_json_parser;
    } catch (...) {
        return nullptr;
    }
}

void parser_free(pj_json_parser* parser) noexcept {
    delete parser;
}

pj_json_result read(pj_json_parser* parser, const char* text, std::size_t size,
                    const pj_json_sink* sink) noexcept {
    try {
        return parser->read({text, size}, *sink);
    } catch (...) {
        return PJ_JSON_OUT_OF_MEMORY;
    }
}

int trim(pj_json_parser* parser, std::size_t keep_bytes) noexcept {
    return parser->trim(keep_bytes);
}

// simdjson.h writes its version as bare tokens: 3.0.1.
#define PJ_TEXT(tokens) #tokens
#define PJ_EXPANDED_TEXT(macro) PJ_TEXT(macro)

constexpr pj_json_module module = {
    .abi = PJ_JSON_MODULE_ABI,
    .simdjson_version = PJ_EXPANDED_TEXT(SIMDJSON_VERSION),
    .parser_new = parser_new,
    .parser_free = parser_free,
    .read = read,
    .trim = trim,
};

}  // namespace

extern "C" __attribute__((visibility("default"))) const pj_json_module* pipejournal_json_module() {
    return &module;
}
