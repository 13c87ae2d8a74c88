// JSON lines: one object per line, read with simdjson's On-Demand parser in pipejournal-json.so
// (json_module.h), which the first line that may be JSON loads. Keeps its buffers from line to
// line.
#pragma once

#include <string>
#include <string_view>

#include "format/fields.hpp"
#include "format/reader.hpp"

struct pj_json_module;
struct pj_json_parser;

namespace pj {

class JsonReader {
public:
    JsonReader();
    ~JsonReader();
    JsonReader(const JsonReader&) = delete;
    JsonReader& operator=(const JsonReader&) = delete;

    // Reads `text` (the line after its <N> prefix) as one JSON object (RFC 8259, valid UTF-8, only
    // blanks after it) into `builder`, which the caller has start()ed. Values the builder gets stay
    // valid until the next read(). Kind::unreadable when the module cannot be loaded (the reason
    // is dlopen's); a later line does not try again.
    ReadResult read(std::string_view text, FieldBuilder& builder);

    // Lines up to this long keep their memory from line to line.
    static constexpr std::size_t keep_bytes = 64 * 1024;
    // The last line's values are not needed any more: gives back what a line longer than
    // keep_bytes made the reader hold (to malloc, and the copy's pages to the kernel). True if
    // there was something to give back.
    bool trim() noexcept;

private:
    const pj_json_module* module_ = nullptr;
    pj_json_parser* parser_ = nullptr;  // made with the first JSON line
    std::string load_error_;
};

}  // namespace pj
