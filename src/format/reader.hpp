// What a structured reader (JSON, logfmt) makes of one line.
#pragma once

#include <string_view>

namespace pj {

struct ReadResult {
    enum class Kind {
        mapped,      // the line's fields are in the FieldBuilder
        not_format,  // the line is not of this format: plain (with the reason in json/logfmt mode)
        over_limit,  // of this format, but too deep or too many fields: plain, always with the
                     // reason
        unreadable,  // may be of this format, but its reader could not be loaded: plain, always
                     // with the reason
    };
    Kind kind = Kind::mapped;
    std::string_view reason;  // static text or the builder's, for PIPEJOURNAL_FORMAT_ERROR=
};

}  // namespace pj
