// The backlog's recovery on any file a crash (or anything else) may have left. A header either is
// refused, or every position it gives lies inside the file and the ring, with fewer unsent bytes
// than the ring holds; the store opened on such a file takes over exactly those bytes (a refused
// one is moved aside and never read), so recovery never crashes and never invents lines.
#include <stdlib.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "backlog.hpp"

namespace {

void require(bool condition) {
    if (!condition)
        std::abort();
}

const std::string& directory() {
    static const std::string path = [] {
        char name[] = "/tmp/pj-fuzz-backlog-XXXXXX";
        require(mkdtemp(name) != nullptr);
        return std::string(name);
    }();
    return path;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size) {
    using pj::Backlog;
    if (size < sizeof(Backlog::Header) + sizeof(uint32_t) + 1)
        return 0;
    Backlog::Header header{};
    std::memcpy(&header, data, sizeof header);
    uint32_t file_size = 0;
    std::memcpy(&file_size, data + sizeof header, sizeof file_size);
    file_size %= 1 << 20;
    const uint8_t flags = data[size - 1];
    if (flags & 1) {  // mostly well-formed headers, so that the checks past the magic are reached
        std::memcpy(header.magic, Backlog::magic.data(), Backlog::magic.size());
        header.magic[Backlog::magic.size()] = '\0';
        header.version = 1;
    }
    const bool usable = Backlog::header_problem(header, file_size).empty();
    uint64_t unsent = 0;
    if (usable) {
        require(header.data_offset >= sizeof header);
        require(header.data_offset + header.capacity <= file_size);
        const uint64_t written = Backlog::written_from(header);
        require(written >= header.sent);
        unsent = written - header.sent;
        require(unsent < header.capacity);
    }
    if (!(flags & 2))
        return 0;

    // The same header as a file, the rest of the input as its bytes, and a store opened on it.
    std::string content(reinterpret_cast<const char*>(&header), sizeof header);
    content.append(reinterpret_cast<const char*>(data) + sizeof header + 4,
                   size - sizeof header - 5);
    content.resize(file_size, '\0');
    const std::string file = directory() + "/" + Backlog::file_name("/f");
    std::filesystem::remove(file + ".damaged");
    std::ofstream(file, std::ios::binary | std::ios::trunc) << content;
    Backlog backlog = Backlog::open(directory(), "/f", 4096);
    if (usable) {
        require(!backlog.damaged());
        require(backlog.recovered() == unsent);
        std::vector<char> bytes(unsent);
        require(backlog.read(backlog.sent(), bytes) == static_cast<ssize_t>(unsent));
        for (uint64_t i = 0; i < unsent; ++i) {
            uint64_t at = header.data_offset + (header.sent + i) % header.capacity;
            require(bytes[i] == content[at]);
        }
    } else {
        require(backlog.damaged() == (file_size > 0));
        require(backlog.recovered() == 0 && backlog.unsent() == 0);
    }
    return 0;
}
