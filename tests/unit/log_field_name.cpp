// Compiled by two tests (tests/unit/meson.build): with a valid name it must build, with a name the
// log call sets itself (PRIORITY, MESSAGE, CODE_*, ...) it must not.
#include "log.hpp"

void log_with_field() {
    pj::log::info("text", {{FIELD, "value"}});
}
