// JSON lines: one object per line, read with simdjson's On-Demand parser. Keeps its buffers from
// line to line; simdjson itself stays out of this header (it is large to compile).
#pragma once

#include <memory>
#include <string_view>

#include "format/fields.hpp"
#include "format/reader.hpp"

namespace pj {

class JsonReader {
public:
    JsonReader();
    ~JsonReader();
    JsonReader(const JsonReader&) = delete;
    JsonReader& operator=(const JsonReader&) = delete;

    // Reads `text` (the line after its <N> prefix) as one JSON object (RFC 8259, valid UTF-8, only
    // blanks after it) into `builder`, which the caller has start()ed. Values the builder gets stay
    // valid until the next read().
    ReadResult read(std::string_view text, FieldBuilder& builder);

    // Lines up to this long keep their memory from line to line.
    static constexpr std::size_t keep_bytes = 64 * 1024;
    // The last line's values are not needed any more: gives back what a line longer than
    // keep_bytes made the reader hold (to malloc, and the copy's pages to the kernel). True if
    // there was something to give back.
    bool trim() noexcept;

private:
    struct State;
    std::unique_ptr<State> state_;
};

}  // namespace pj
