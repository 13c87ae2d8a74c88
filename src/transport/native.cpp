#include "transport/native.hpp"

#include <array>
#include <new>
#include <utility>

namespace pj {
namespace {

constexpr std::array<std::string_view, 8> priority_values = {"0", "1", "2", "3",
                                                             "4", "5", "6", "7"};

}  // namespace

NativeSink::NativeSink(std::string socket_path) : socket_(std::move(socket_path)) {
    fields_.reserve(16);
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
        if (!entry.multiline.empty())
            fields_.push_back({"PIPEJOURNAL_MULTILINE", entry.multiline});
        if (entry.requested_priority >= 0)
            fields_.push_back(
                {"PIPEJOURNAL_REQUESTED_PRIORITY",
                 priority_values[static_cast<std::size_t>(entry.requested_priority) & 7]});
        fields_.insert(fields_.end(), entry.fields.begin(), entry.fields.end());
    } catch (const std::bad_alloc&) {
        return -ENOMEM;
    }
    return socket_.send(fields_);
}

}  // namespace pj
