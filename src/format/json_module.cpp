#include "format/json_module.hpp"

#include <dlfcn.h>
#include <link.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "format/json_module.h"

// Defined only where the module's code is linked in (the fuzzers): then nothing is loaded.
extern "C" const pj_json_module* pipejournal_json_module() __attribute__((weak));

namespace pj::json_module {
namespace {

// Which library this program may dlopen(), in the ELF note systemd's binaries carry for theirs
// (https://systemd.io/ELF_DLOPEN_METADATA/), so that packaging tools can see the dependency
// without running it: `readelf -n pipejournal` shows it.
constexpr char dlopen_note_json[] =
    R"json([{"feature":"json",)json"
    R"json("description":"JSON lines (Format=auto, the default, and Format=json)",)json"
    R"json("priority":"required","soname":[")json" PJ_JSON_MODULE_FILE R"json("]}])json";
struct DlopenNote {
    std::uint32_t name_size = 4, description_size = sizeof(dlopen_note_json), type = 0x407c0c0a;
    char name[4] = "FDO";
    char description[(sizeof(dlopen_note_json) + 3) & ~std::size_t{3}];
};
[[gnu::used, gnu::retain,
  gnu::section(".note.dlopen")]] alignas(4) constexpr DlopenNote dlopen_note = [] {
    DlopenNote note{};
    for (std::size_t i = 0; i < sizeof(dlopen_note_json); ++i)
        note.description[i] = dlopen_note_json[i];
    return note;
}();

// A program run from the build tree carries a RUNPATH ($ORIGIN, where the module was built
// beside it), and LD_LIBRARY_PATH may point elsewhere: only then is the module looked for outside
// the directory it is installed in. The installed binary has neither: one access() at start-up,
// not one for each of dlopen()'s system directories, where the module never is.
bool search_path_overridden() {
    if (std::getenv("LD_LIBRARY_PATH"))
        return true;
    for (const ElfW(Dyn)* entry = _DYNAMIC; entry->d_tag != DT_NULL; ++entry)
        if (entry->d_tag == DT_RUNPATH || entry->d_tag == DT_RPATH)
            return true;
    return false;
}

// The directories dlopen() searches for a bare file name from this program, in its order.
std::vector<std::string> search_path() {
    std::vector<std::string> directories;
    void* self = dlopen(nullptr, RTLD_LAZY | RTLD_NOLOAD);
    if (!self)
        return directories;
    Dl_serinfo size;
    if (dlinfo(self, RTLD_DI_SERINFOSIZE, &size) == 0) {
        auto storage =
            std::make_unique<std::max_align_t[]>(size.dls_size / sizeof(std::max_align_t) + 1);
        auto* info = reinterpret_cast<Dl_serinfo*>(storage.get());
        *info = size;
        if (dlinfo(self, RTLD_DI_SERINFO, info) == 0)
            for (unsigned i = 0; i < info->dls_cnt; ++i)
                directories.emplace_back(info->dls_serpath[i].dls_name);
    }
    dlclose(self);
    return directories;
}

}  // namespace

Location locate() {
    if (pipejournal_json_module)
        return {Location::Kind::linked_in, {}};
    std::vector<std::string> directories;
    if (search_path_overridden())
        directories = search_path();
    directories.emplace_back(PJ_JSON_MODULE_DIR);
    std::string searched;
    for (const std::string& directory : directories) {
        std::string path = directory + "/" PJ_JSON_MODULE_FILE;
        if (access(path.c_str(), R_OK) == 0)
            return {Location::Kind::file, std::move(path)};
        if (access(directory.c_str(), F_OK) == 0)  // not meson's padding of a build-tree RUNPATH
            searched += (searched.empty() ? "" : ", ") + directory;
    }
    return {Location::Kind::missing,
            PJ_JSON_MODULE_FILE " (simdjson's JSON reader) is not in " +
                (searched.empty() ? std::string("any library directory") : searched)};
}

const pj_json_module* load(std::string& error) {
    // The result of the first call, whatever it was: a module that could not be loaded is not
    // tried again for every JSON line.
    static const struct Loaded {
        const pj_json_module* module = nullptr;
        std::string error;
    } loaded = [] {
        Loaded result;
        Location location = locate();
        switch (location.kind) {
        case Location::Kind::linked_in: result.module = pipejournal_json_module(); return result;
        case Location::Kind::missing: result.error = location.text; return result;
        case Location::Kind::file: break;
        }
        void* handle = dlopen(location.text.c_str(), RTLD_NOW | RTLD_LOCAL);
        if (!handle) {
            result.error = dlerror();
            return result;
        }
        auto entry =
            reinterpret_cast<const pj_json_module* (*)()>(dlsym(handle, PJ_JSON_MODULE_SYMBOL));
        const pj_json_module* module = entry ? entry() : nullptr;
        if (!module || module->abi != PJ_JSON_MODULE_ABI) {
            result.error = location.text + " is not this pipejournal's JSON reader (" +
                           (module ? "interface " + std::to_string(module->abi) + ", expected " +
                                         std::to_string(PJ_JSON_MODULE_ABI)
                                   : std::string("no " PJ_JSON_MODULE_SYMBOL "()")) +
                           ")";
            dlclose(handle);
            return result;
        }
        result.module = module;  // the handle stays open for the process's life
        return result;
    }();
    error = loaded.error;
    return loaded.module;
}

}  // namespace pj::json_module
