#include "systemd/journal.hpp"

#include <sys/stat.h>
#include <systemd/sd-journal.h>
#include <unistd.h>

#include <cinttypes>
#include <cstdio>
#include <cstdlib>

namespace pj::journal {

int send(std::span<const iovec> fields) noexcept {
    // The parentheses stop sd-journal.h's function-like macro, which would add CODE_* fields
    // naming this file to every entry.
    return (sd_journal_sendv)(fields.data(), static_cast<int>(fields.size()));
}

bool socket_present() noexcept {
    struct stat st {};
    return stat("/run/systemd/journal/socket", &st) == 0 && S_ISSOCK(st.st_mode);
}

bool stderr_is_journal() noexcept {
    const char* value = std::getenv("JOURNAL_STREAM");
    if (!value)
        return false;
    uintmax_t device = 0, inode = 0;
    if (std::sscanf(value, "%ju:%ju", &device, &inode) != 2)
        return false;
    struct stat st {};
    if (fstat(STDERR_FILENO, &st) < 0)
        return false;
    return st.st_dev == device && st.st_ino == inode;
}

}  // namespace pj::journal
