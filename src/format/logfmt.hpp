// logfmt lines: `key=value key="quoted value" flag`, as Go's logfmt, logrus and slog's text
// handler write them. A small hand-written reader: there is no packaged one.
#pragma once

#include <string_view>

#include "format/fields.hpp"
#include "format/reader.hpp"

namespace pj {

// Reads `text` (the line after its <N> prefix) as logfmt into `builder`, which the caller has
// start()ed. Pairs are separated by blanks (space, tab); a value is bare (up to the next blank) or
// double-quoted with \" \\ \n \t escapes; a key without '=' among pairs is `true`. A line with no
// key=value pair at all is not logfmt. Values point into `text` or the builder's arena.
ReadResult read_logfmt(std::string_view text, FieldBuilder& builder);

}  // namespace pj
