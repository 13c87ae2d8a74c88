#include "systemd/notify.hpp"

#include <systemd/sd-daemon.h>

#include <cerrno>
#include <string>

namespace pj::notify {
namespace {

// A newline in STATUS= would end the assignment and start another one: fold it to a space.
std::string status_line(std::string_view text) {
    std::string line = "STATUS=";
    line.reserve(line.size() + text.size());
    for (char c : text)
        line += (c == '\n' || c == '\r') ? ' ' : c;
    return line;
}

}  // namespace

std::string ready(std::string_view text) {
    return "READY=1\n" + status_line(text);
}

std::string status(std::string_view text) {
    return status_line(text);
}

std::string reloading(uint64_t monotonic_usec, std::string_view text) {
    return "RELOADING=1\nMONOTONIC_USEC=" + std::to_string(monotonic_usec) + "\n" +
           status_line(text);
}

std::string stopping(std::string_view text) {
    return "STOPPING=1\n" + status_line(text);
}

std::string failed(int error, std::string_view text) {
    return "ERRNO=" + std::to_string(error) + "\n" + status_line(text);
}

int send(const std::string& message) noexcept {
    return sd_notify(0, message.c_str());
}

int store(int fd, std::string_view name) noexcept {
    try {
        if (int r = unstore(name); r <= 0)
            return r;
        const std::string message = "FDSTORE=1\nFDNAME=" + std::string(name);
        return sd_pid_notify_with_fds(0, 0, message.c_str(), &fd, 1);
    } catch (...) {
        return -ENOMEM;
    }
}

int unstore(std::string_view name) noexcept {
    try {
        return sd_notify(0, ("FDSTOREREMOVE=1\nFDNAME=" + std::string(name)).c_str());
    } catch (...) {
        return -ENOMEM;
    }
}

}  // namespace pj::notify
