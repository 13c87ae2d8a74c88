#include "transport/native.hpp"

#include <array>
#include <cerrno>
#include <new>
#include <utility>

namespace pj {
namespace {

constexpr std::array<std::string_view, 8> priority_values = {"0", "1", "2", "3",
                                                             "4", "5", "6", "7"};

}  // namespace

bool is_transient(int negative_errno) noexcept {
    switch (-negative_errno) {
    case EINTR:
    case EAGAIN:
    case ENOBUFS:
    case ENOMEM:
    case ECONNREFUSED:  // journald restarting: its socket exists, nobody listens yet
    case ENOENT:        // journald restarting: its socket is not there yet
        return true;
    default: return false;
    }
}

NativeSink::NativeSink(const Origin& origin, std::string socket_path)
    : socket_(std::move(socket_path)) {
    fields_.reserve(16);
    set_origin(origin);
}

void NativeSink::set_origin(const Origin& origin) {
    identifier_ = origin.identifier;
    fifo_ = origin.fifo_path;
}

int NativeSink::send(const Entry& entry) {
    try {
        fields_.clear();
        fields_.push_back({"MESSAGE", entry.message});
        fields_.push_back(
            {"PRIORITY", priority_values[static_cast<std::size_t>(entry.priority) & 7]});
        fields_.push_back({"SYSLOG_IDENTIFIER", identifier_});
        fields_.push_back({"PIPEJOURNAL_FIFO", fifo_});
        if (auto end = line_break_name(entry.line_break); !end.empty())
            fields_.push_back({"PIPEJOURNAL_LINE_BREAK", end});
        if (!entry.format_error.empty())
            fields_.push_back({"PIPEJOURNAL_FORMAT_ERROR", entry.format_error});
        fields_.insert(fields_.end(), entry.fields.begin(), entry.fields.end());
    } catch (const std::bad_alloc&) {
        return -ENOMEM;
    }
    return socket_.send(fields_);
}

}  // namespace pj
