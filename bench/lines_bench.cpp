// In-process: the line splitter (LineBuffer) and the priority parser (LineMapper) on 1 M lines.
//
//   pj-bench-lines [LINES] [REPEATS]
//
// The input is LINES lines of ~100 bytes (every 10th with a "<3>" prefix, every 100th ending in
// CRLF), fed to LineBuffer in 64 KiB pieces as reads from the pipe would be. Each repeat takes
// every line out and maps it to an Entry. For scale, the same input is also split by a bare
// memchr loop (what any splitter has to do at least). Prints one JSON object; times are
// steady_clock, best and median of REPEATS.
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "format/mapper.hpp"
#include "lines.hpp"

namespace {

std::string make_input(std::size_t lines) {
    std::string out;
    out.reserve(lines * 102);
    const std::string filler =
        "the quick brown fox jumps over the lazy dog 0123456789 "
        "the quick brown fox jumps over the lazy dog 0123456789 ";
    char head[32];
    for (std::size_t i = 0; i < lines; ++i) {
        if (i % 10 == 0)
            out += "<3>";
        int n = std::snprintf(head, sizeof(head), "line %07zu ", i);
        out.append(head, static_cast<std::size_t>(n));
        out.append(filler, 0, 100 - static_cast<std::size_t>(n));
        if (i % 100 == 0)
            out += '\r';
        out += '\n';
    }
    return out;
}

struct Totals {
    std::uint64_t lines = 0;
    std::uint64_t checksum = 0;
};

Totals run_linebuffer(const std::string& input) {
    pj::LineBuffer buffer(48 * 1024);
    pj::LineMapper mapper({.format = pj::LineFormat::plain});
    Totals totals;
    std::size_t offset = 0;
    while (offset < input.size()) {
        auto space = buffer.free_space();
        std::size_t n =
            std::min({space.size(), input.size() - offset, pj::LineBuffer::default_read_size});
        std::memcpy(space.data(), input.data() + offset, n);
        offset += n;
        buffer.commit(n);
        while (auto line = buffer.front()) {
            pj::Entry entry = mapper.map(*line);
            totals.checksum += entry.message.size() * 8 + static_cast<unsigned>(entry.priority);
            ++totals.lines;
            buffer.pop();
        }
    }
    return totals;
}

Totals run_memchr(const std::string& input) {
    Totals totals;
    const char* p = input.data();
    const char* end = p + input.size();
    while (const void* nl = std::memchr(p, '\n', static_cast<std::size_t>(end - p))) {
        totals.checksum += static_cast<std::size_t>(static_cast<const char*>(nl) - p) * 8 + 6;
        ++totals.lines;
        p = static_cast<const char*>(nl) + 1;
    }
    return totals;
}

template <class F>
std::vector<double> time_ns_per_line(F run, const std::string& input, std::size_t lines,
                                     int repeats, Totals& totals) {
    std::vector<double> out;
    for (int r = 0; r < repeats; ++r) {
        auto t0 = std::chrono::steady_clock::now();
        totals = run(input);
        auto t1 = std::chrono::steady_clock::now();
        out.push_back(std::chrono::duration<double, std::nano>(t1 - t0).count() /
                      static_cast<double>(lines));
    }
    std::sort(out.begin(), out.end());
    return out;
}

}  // namespace

int main(int argc, char** argv) {
    std::size_t lines = argc > 1 ? std::strtoull(argv[1], nullptr, 10) : 1'000'000;
    int repeats = argc > 2 ? std::atoi(argv[2]) : 7;
    if (lines == 0 || repeats <= 0) {
        std::fprintf(stderr, "usage: %s [LINES] [REPEATS]\n", argv[0]);
        return 2;
    }
    const std::string input = make_input(lines);

    Totals lb, mc;
    auto lb_ns = time_ns_per_line(run_linebuffer, input, lines, repeats, lb);
    auto mc_ns = time_ns_per_line(run_memchr, input, lines, repeats, mc);
    if (lb.lines != lines || mc.lines != lines) {
        std::fprintf(stderr, "line count wrong: LineBuffer %llu, memchr %llu, expected %zu\n",
                     static_cast<unsigned long long>(lb.lines),
                     static_cast<unsigned long long>(mc.lines), lines);
        return 1;
    }
    std::printf(
        "{\"lines\": %zu, \"bytes\": %zu, \"repeats\": %d, "
        "\"linebuffer_ns_per_line\": {\"best\": %.2f, \"median\": %.2f, \"worst\": %.2f}, "
        "\"memchr_ns_per_line\": {\"best\": %.2f, \"median\": %.2f, \"worst\": %.2f}, "
        "\"checksum\": %llu}\n",
        lines, input.size(), repeats, lb_ns.front(), lb_ns[lb_ns.size() / 2], lb_ns.back(),
        mc_ns.front(), mc_ns[mc_ns.size() / 2], mc_ns.back(),
        static_cast<unsigned long long>(lb.checksum));
    return 0;
}
