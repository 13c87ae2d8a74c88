#include "format/json.hpp"

#include <algorithm>
#include <exception>
#include <new>
#include <type_traits>

#include "format/json_module.h"
#include "format/json_module.hpp"

namespace pj {
namespace {

bool is_json_blank(char c) noexcept {
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

// The module walks a line into this; each call goes on to the builder. Nothing may throw back
// into the module: an exception (out of memory) is kept, the walk stopped, and it is thrown again
// once the module has returned.
struct SinkContext {
    FieldBuilder& builder;
    std::exception_ptr failure;

    template <typename Call>
    static int forward(void* context, Call call) noexcept {
        auto& self = *static_cast<SinkContext*>(context);
        try {
            if constexpr (std::is_void_v<decltype(call(self.builder))>) {
                call(self.builder);
                return 1;
            } else {
                return call(self.builder) ? 1 : 0;
            }
        } catch (...) {
            self.failure = std::current_exception();
            return 0;
        }
    }
};

pj_json_sink make_sink(SinkContext& context) {
    using View = std::string_view;
    return {
        .context = &context,
        .max_depth = max_json_depth,
        .enter =
            [](void* c, const char* key, size_t size) {
                return SinkContext::forward(c, [&](FieldBuilder& b) { b.enter(View(key, size)); });
            },
        .leave =
            [](void* c) { return SinkContext::forward(c, [](FieldBuilder& b) { b.leave(); }); },
        .add_string =
            [](void* c, const char* text, size_t size) {
                return SinkContext::forward(
                    c, [&](FieldBuilder& b) { return b.add_string(View(text, size)); });
            },
        .add_literal =
            [](void* c, const char* text, size_t size) {
                return SinkContext::forward(
                    c, [&](FieldBuilder& b) { return b.add_literal(View(text, size)); });
            },
        .add_null =
            [](void* c) { return SinkContext::forward(c, [](FieldBuilder& b) { b.add_null(); }); },
        .add_container =
            [](void* c) {
                return SinkContext::forward(c, [](FieldBuilder& b) { b.add_container(); });
            },
        // The module's text lives only until its next element: copied into the arena.
        .add_element =
            [](void* c, const char* text, size_t size) {
                return SinkContext::forward(c, [&](FieldBuilder& b) {
                    std::string& arena = b.arena();
                    std::size_t begin = arena.size();
                    arena.append(text, size);
                    return b.add_element_in_arena(begin);
                });
            },
    };
}

}  // namespace

JsonReader::JsonReader() = default;

JsonReader::~JsonReader() {
    if (parser_)
        module_->parser_free(parser_);
}

bool JsonReader::trim() noexcept {
    return parser_ && module_->trim(parser_, keep_bytes) != 0;
}

ReadResult JsonReader::read(std::string_view text, FieldBuilder& builder) {
    using Kind = ReadResult::Kind;
    // Most lines that are not JSON are told apart here, without loading the module, a copy or a
    // parse.
    auto first = std::find_if_not(text.begin(), text.end(), is_json_blank);
    if (first == text.end() || *first != '{')
        return {Kind::not_format, "not a JSON object"};

    if (!parser_) {
        if (!module_ && !(module_ = json_module::load(load_error_)))
            return {Kind::unreadable, load_error_};
        if (!(parser_ = module_->parser_new()))
            throw std::bad_alloc();
    }
    SinkContext context{builder, nullptr};
    const pj_json_sink sink = make_sink(context);
    const pj_json_result result = module_->read(parser_, text.data(), text.size(), &sink);
    if (context.failure)
        std::rethrow_exception(context.failure);
    switch (result) {
    case PJ_JSON_MAPPED: return {Kind::mapped, {}};
    case PJ_JSON_INVALID: return {Kind::not_format, "invalid JSON"};
    case PJ_JSON_INVALID_UTF8: return {Kind::not_format, "invalid UTF-8"};
    case PJ_JSON_TRAILING_TEXT: return {Kind::not_format, "text after the JSON object"};
    case PJ_JSON_TOO_DEEP: return {Kind::over_limit, "nested deeper than 16 levels"};
    case PJ_JSON_STOPPED: return {Kind::over_limit, builder.too_many_fields_reason()};
    case PJ_JSON_OUT_OF_MEMORY: throw std::bad_alloc();
    }
    return {Kind::not_format, "invalid JSON"};
}

}  // namespace pj
