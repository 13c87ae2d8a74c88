// How much the daemon logs (LogLevel=, --log-level=). Apart from log.hpp so that the config, which
// only names the levels, builds without the logging API (<source_location> there needs a newer
// clang than the fuzz build's).
#pragma once

namespace pj {

enum class LogLevel { trace, debug, info, warning, error, critical, off };

}  // namespace pj
