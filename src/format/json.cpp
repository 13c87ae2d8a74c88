#include "format/json.hpp"

#include <simdjson.h>

#include <algorithm>
#include <cstring>
#include <utility>

#include "pages.hpp"

namespace pj {
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

enum class Walk { ok, invalid, too_deep, too_many };

// Walks the line's object once, handing every value to the builder. Every value is visited, so
// On-Demand validates the whole line; the depth is checked before each descent, so the recursion
// is at most max_json_depth deep whatever the line holds.
class Walker {
public:
    explicit Walker(FieldBuilder& builder) : builder_(builder) {}

    // The members of an object at `depth`, as fields named by their key path.
    Walk members(od::object& object, int depth) {
        for (auto member : object) {
            od::field field;
            std::string_view key;
            if (std::move(member).get(field) || field.unescaped_key().get(key))
                return Walk::invalid;
            builder_.enter(key);
            Walk walked = member_value(field.value(), depth);
            builder_.leave();
            if (walked != Walk::ok)
                return walked;
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
            if (depth + 1 > max_json_depth)
                return Walk::too_deep;
            if (value.get_object().get(object))
                return Walk::invalid;
            builder_.add_container();
            return members(object, depth + 1);
        }
        case od::json_type::array: {
            od::array array;
            if (depth + 1 > max_json_depth)
                return Walk::too_deep;
            if (value.get_array().get(array))
                return Walk::invalid;
            builder_.add_container();
            return elements(array, depth + 1);
        }
        case od::json_type::string: {
            std::string_view text;
            if (value.get_string().get(text))
                return Walk::invalid;
            return builder_.add_string(text) ? Walk::ok : Walk::too_many;
        }
        case od::json_type::null:
            if (trim_token(value.raw_json_token()) != "null")
                return Walk::invalid;
            builder_.add_null();
            return Walk::ok;
        case od::json_type::number:
        case od::json_type::boolean: {
            std::string_view text;
            if (!literal(value, type, text))
                return Walk::invalid;
            return builder_.add_literal(text) ? Walk::ok : Walk::too_many;
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
                std::string& arena = builder_.arena();
                std::size_t begin = arena.size();
                if (Walk walked = compact(value, type, depth + 1, arena); walked != Walk::ok)
                    return walked;
                added = builder_.add_element_in_arena(begin);
                break;
            }
            case od::json_type::string: {
                std::string_view text;
                if (value.get_string().get(text))
                    return Walk::invalid;
                added = builder_.add_element(text);
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
                added = builder_.add_element(text);
                break;
            }
            }
            if (!added)
                return Walk::too_many;
        }
        return Walk::ok;
    }

    // `value` (an object or array at `depth`) as compact JSON text appended to out.
    Walk compact(od::value& value, od::json_type type, int depth, std::string& out) {
        if (depth > max_json_depth)
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

    FieldBuilder& builder_;
};

}  // namespace

struct JsonReader::State {
    od::parser parser;
    // The line, copied with the SIMDJSON_PADDING bytes simdjson may read past its end. Grows to the
    // longest line seen; trim() gives back the pages a long line used.
    PageBuffer buffer;
    std::size_t used = 0;  // the most of buffer written since the last trim()
    // Only for lines over a limit: is the rest of the line valid JSON? (On-Demand validates only
    // what is visited, and the walk stopped at the limit.)
    std::unique_ptr<simdjson::dom::parser> validator;

    void load(std::string_view text) {
        std::size_t needed = text.size() + simdjson::SIMDJSON_PADDING;
        if (needed > buffer.size())
            buffer = PageBuffer(std::max(needed, buffer.size() * 2));
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
};

JsonReader::JsonReader() : state_(std::make_unique<State>()) {}
JsonReader::~JsonReader() = default;

bool JsonReader::trim() noexcept {
    State& state = *state_;
    if (state.used <= keep_bytes)
        return false;
    state.buffer.release(keep_bytes, state.used);
    state.used = 0;
    // simdjson's own buffers (structural indexes, decoded strings: several times the line) and
    // the validator's, back to what ordinary lines need; they grow again when a long line comes.
    if (state.parser.capacity() > keep_bytes && state.parser.allocate(keep_bytes))
        state.parser = od::parser();  // could not even allocate that much: start afresh
    state.validator.reset();
    return true;
}

ReadResult JsonReader::read(std::string_view text, FieldBuilder& builder) {
    using Kind = ReadResult::Kind;
    // Most lines that are not JSON are told apart here, without a copy or a parse.
    auto first = std::find_if_not(text.begin(), text.end(), is_json_blank);
    if (first == text.end() || *first != '{')
        return {Kind::not_format, "not a JSON object"};

    State& state = *state_;
    state.load(text);
    od::document document;
    auto error =
        state.parser.iterate(state.buffer.data(), text.size(), state.buffer.size()).get(document);
    if (error)
        return {Kind::not_format, error == simdjson::UTF8_ERROR ? "invalid UTF-8" : "invalid JSON"};
    od::object object;
    if (document.get_object().get(object))
        return {Kind::not_format, "invalid JSON"};

    Walker walker(builder);
    switch (walker.members(object, 1)) {
    case Walk::ok: break;
    case Walk::invalid: return {Kind::not_format, "invalid JSON"};
    case Walk::too_deep:
        if (state.validate(text.size()) < 0)
            return {Kind::not_format, "invalid JSON"};
        return {Kind::over_limit, "nested deeper than 16 levels"};
    case Walk::too_many: {
        int valid = state.validate(text.size());
        if (valid < 0)
            return {Kind::not_format, "invalid JSON"};
        if (valid > 0)
            return {Kind::over_limit, "nested deeper than 16 levels"};
        return {Kind::over_limit, builder.too_many_fields_reason()};
    }
    }
    // Past the object's '}' there must be nothing but blanks.
    if (document.current_location().error() != simdjson::OUT_OF_BOUNDS)
        return {Kind::not_format, "text after the JSON object"};
    return {Kind::mapped, {}};
}

}  // namespace pj
