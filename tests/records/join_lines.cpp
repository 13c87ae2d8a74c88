// Feeds stdin through LineBuffer → RecordJoiner → LineMapper as the channel does and prints each
// entry as one JSON object:
//
//   pj-join-lines [--multiline=RULES] [--format=auto|plain|json|logfmt] [--chunk=N[,N...]]
//                 [--line-max=N] < bytes
//   {"message": "...", "priority": 3, "multiline": "python", "lines": 17, "structured": false,
//    "format_error": ""}
//
// --chunk: the sizes of the reads, used in turn (default: one read of everything), so the tests can
// check that every chunking gives the same entries. The clock stands still: no record times out;
// the end of input is a stop (finish()), which forwards a pending record whole.
// For test_records.py, which runs real programs and checks their records.
#include <cstdio>
#include <cstring>
#include <iostream>
#include <iterator>
#include <string>
#include <string_view>
#include <vector>

#include "format/mapper.hpp"
#include "records/joiner.hpp"

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
            out += c;
        }
    }
    out += '"';
}

std::vector<std::size_t> parse_sizes(std::string_view text) {
    std::vector<std::size_t> sizes;
    while (!text.empty()) {
        std::size_t comma = text.find(',');
        sizes.push_back(std::stoul(std::string(text.substr(0, comma))));
        if (sizes.back() == 0)
            throw std::invalid_argument("chunk size 0");
        text = comma == std::string_view::npos ? std::string_view() : text.substr(comma + 1);
    }
    return sizes;
}

}  // namespace

int main(int argc, char** argv) {
    pj::FormatOptions options;
    pj::records::Rules rules = pj::records::default_rules();
    std::vector<std::size_t> chunks;
    std::size_t line_max = 1024 * 1024;
    for (int i = 1; i < argc; ++i) {
        std::string_view arg = argv[i];
        if (arg.starts_with("--multiline=")) {
            if (auto error = pj::records::parse_rules(arg.substr(12), rules)) {
                std::fprintf(stderr, "pj-join-lines: %s\n", error->c_str());
                return 2;
            }
        } else if (arg == "--format=auto") {
            options.format = pj::LineFormat::automatic;
        } else if (arg == "--format=plain") {
            options.format = pj::LineFormat::plain;
        } else if (arg == "--format=json") {
            options.format = pj::LineFormat::json;
        } else if (arg == "--format=logfmt") {
            options.format = pj::LineFormat::logfmt;
        } else if (arg.starts_with("--chunk=")) {
            chunks = parse_sizes(arg.substr(8));
        } else if (arg.starts_with("--line-max=")) {
            line_max = std::stoul(std::string(arg.substr(11)));
        } else {
            std::fprintf(stderr, "pj-join-lines: unknown argument %s\n", argv[i]);
            return 2;
        }
    }
    std::string input(std::istreambuf_iterator<char>(std::cin), {});
    if (chunks.empty())
        chunks.push_back(input.size() + 1);

    pj::LineMapper mapper(options);
    pj::LineBuffer buffer(line_max);
    pj::RecordJoiner joiner(
        buffer, rules, pj::RecordJoiner::default_timeout_usec,
        [&mapper](std::string_view text) { return mapper.maps_structured(text); });
    std::string out;
    auto take_all = [&] {
        while (const pj::Record* record = joiner.front()) {
            pj::Entry entry = mapper.map(*record);
            out = "{\"message\": ";
            print_json_string(out, entry.message);
            out += ", \"priority\": " + std::to_string(entry.priority);
            out += ", \"multiline\": ";
            print_json_string(out, entry.multiline);
            out += ", \"lines\": " + std::to_string(record->lines);
            out += entry.structured ? ", \"structured\": true" : ", \"structured\": false";
            out += ", \"format_error\": ";
            print_json_string(out, entry.format_error);
            out += "}\n";
            std::fwrite(out.data(), 1, out.size(), stdout);
            joiner.pop();
        }
    };
    std::size_t fed = 0;
    for (std::size_t i = 0; fed < input.size(); i = (i + 1) % chunks.size()) {
        auto space = joiner.free_space();
        std::size_t n = std::min({chunks[i], space.size(), input.size() - fed});
        std::memcpy(space.data(), input.data() + fed, n);
        joiner.commit(n, 0);
        fed += n;
        take_all();
    }
    joiner.finish();
    take_all();
    return 0;
}
