// Finding and loading pipejournal-json.so (json_module.h), the JSON reader: a start checks that it
// is there, the first line that may be JSON loads it. Loaded once per process, never unloaded.
#pragma once

#include <string>

struct pj_json_module;

namespace pj::json_module {

// Where the module is: looked for where dlopen() would look from this program (its RUNPATH, which
// names the build tree when run from there; LD_LIBRARY_PATH; the system's library directories),
// then in the package's private directory (PJ_JSON_MODULE_DIR), where it is installed. Nothing is
// loaded.
struct Location {
    enum class Kind {
        file,       // text: its path
        linked_in,  // the fuzzers link the module's code in
        missing,    // text: why, naming the directories searched
    };
    Kind kind;
    std::string text;
};
Location locate();

// The module, loaded on the first call; nullptr, with why in `error`, when it cannot be.
const pj_json_module* load(std::string& error);

}  // namespace pj::json_module
