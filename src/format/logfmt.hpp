// logfmt lines: `key=value key="quoted value" flag`, as Go's logfmt, logrus and slog's text
// handler write them. A small hand-written reader: there is no packaged one.
#pragma once

#include <string_view>

#include "format/fields.hpp"
#include "format/reader.hpp"

namespace pj {

// Reads `text` (the line after its <N> prefix) as logfmt into `builder`, which the caller has
// start()ed. Pairs are separated by blanks (space, tab); a value is bare (up to the next blank) or
// double-quoted with the escapes of Go's strconv.Quote (\" \\ \a \b \f \n \r \t \v \xHH \NNN
// \uHHHH \UHHHHHHHH: what logrus and slog write); a key without '=' among pairs is `true`; an empty
// key ("=v") gives the name F_. A line with no key=value pair at all is not logfmt. Values are
// untyped text (FieldBuilder::add_text): `level=30` and `level="30"` are both a number for
// PriorityKeys=, since logfmt's writers quote a value when it needs it, not by its type. Values
// point into `text` or the builder's arena.
ReadResult read_logfmt(std::string_view text, FieldBuilder& builder);

}  // namespace pj
