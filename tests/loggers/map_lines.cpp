// Maps lines through LineMapper as the daemon does and prints each entry as one JSON object:
//
//   pj-map-lines [--format=auto|plain|json|logfmt] [--default-priority=N] [--max-fields=N] < lines
//   {"message": "...", "priority": 3, "structured": true, "format_error": "", "fields":
//   [["USER_ID", "17"], ...]}
//
// For the tests of real loggers' output (test_loggers.py), which check the mapping field by field.
// Exits 1 if any field name is not a valid journal field name.
#include <cstdio>
#include <cstring>
#include <iostream>
#include <string>
#include <string_view>

#include "format/mapper.hpp"
#include "systemd/journal.hpp"

namespace {

void print_json_string(std::string& out, std::string_view text) {
    out += '"';
    for (char c : text) {
        if (c == '"' || c == '\\') {
            out += '\\';
            out += c;
        } else if (static_cast<unsigned char>(c) < 0x20) {
            char escape[8];
            std::snprintf(escape, sizeof escape, "\\u%04x", static_cast<unsigned char>(c));
            out += escape;
        } else {
            out += c;  // bytes >= 0x80 as they are
        }
    }
    out += '"';
}

}  // namespace

int main(int argc, char** argv) {
    pj::FormatOptions options;
    for (int i = 1; i < argc; ++i) {
        std::string_view arg = argv[i];
        if (arg == "--format=auto")
            options.format = pj::LineFormat::automatic;
        else if (arg == "--format=plain")
            options.format = pj::LineFormat::plain;
        else if (arg == "--format=json")
            options.format = pj::LineFormat::json;
        else if (arg == "--format=logfmt")
            options.format = pj::LineFormat::logfmt;
        else if (arg.starts_with("--default-priority="))
            options.default_priority = std::stoi(std::string(arg.substr(19)));
        else if (arg.starts_with("--max-fields="))
            options.max_fields = std::stoul(std::string(arg.substr(13)));
        else {
            std::fprintf(stderr, "pj-map-lines: unknown argument %s\n", argv[i]);
            return 2;
        }
    }
    pj::LineMapper mapper(options);
    std::string line, out;
    int status = 0;
    while (std::getline(std::cin, line)) {
        if (!line.empty() && line.back() == '\r')
            line.pop_back();
        pj::Entry entry = mapper.map(pj::Line{line});
        out = "{\"message\": ";
        print_json_string(out, entry.message);
        out += ", \"priority\": ";
        out += std::to_string(entry.priority);
        out += ", \"requested_priority\": ";
        out += std::to_string(entry.requested_priority);
        out += entry.structured ? ", \"structured\": true" : ", \"structured\": false";
        out += ", \"format_error\": ";
        print_json_string(out, entry.format_error);
        out += ", \"fields\": [";
        for (std::size_t i = 0; i < entry.fields.size(); ++i) {
            const auto& field = entry.fields[i];
            if (!pj::journal::is_valid_field_name(field.name)) {
                std::fprintf(stderr, "pj-map-lines: invalid field name '%.*s'\n",
                             static_cast<int>(field.name.size()), field.name.data());
                status = 1;
            }
            out += i ? ", [" : "[";
            print_json_string(out, field.name);
            out += ", ";
            print_json_string(out, field.value);
            out += ']';
        }
        out += "]}\n";
        std::fwrite(out.data(), 1, out.size(), stdout);
    }
    return status;
}
